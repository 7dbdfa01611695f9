// The flowchart editor (process_editor.html): the process definition is the model, drawflow
// (vendored) draws it and reports drags and new or removed lines. Every change is checked by
// the server (`POST /api/v1/processes/validate`) and its problems are shown on the node or line
// they name. Saving puts the definition back on the draft — with every node's position
// (`positions`: the top-left corner of its box on the canvas at zoom 1), so the drawing opens
// again as it was left and the server's pictures follow it; publishing saves, then publishes.
// The page hands in each node's box: its stored position, else the server's layout.
// Names are set with textContent only: a stage named <script> stays text.
"use strict";
(() => {
  const root = document.getElementById("flow-editor");
  if (!root || typeof window.Drawflow !== "function") return;
  const T = JSON.parse(root.dataset.texts);
  // What an exit criterion can name, from the domain: [value, label] pairs.
  const CHOICES = JSON.parse(root.dataset.choices);
  const issueText = Object.fromEntries(T.issues);
  const base = `/api/v1/processes/${root.dataset.process}`;
  const versionUrl = `${base}/versions/${root.dataset.version}`;
  const statusLine = root.querySelector(".flow-status");
  const nodeForm = root.querySelector('[data-testid="node-form"]');
  const edgeForm = root.querySelector('[data-testid="edge-form"]');
  const hint = root.querySelector('[data-testid="select-hint"]');
  const issueList = root.querySelector(".flow-issues");
  const button = (action) => root.querySelector(`[data-action="${action}"]`);

  let model = JSON.parse(root.dataset.definition);
  // Positions live in `pos` while editing (with undo/redo) and go back into the definition
  // when it is sent.
  delete model.positions;
  let pos = {};
  for (const [id, box] of Object.entries(JSON.parse(root.dataset.layout))) pos[id] = { x: box.x, y: box.y, w: box.width };

  const editor = new window.Drawflow(document.getElementById("flow-canvas"));
  editor.reroute = false;
  // A line dropped anywhere on a node connects to it (its input dot is small).
  editor.force_first_input = true;
  editor.start();

  let dfOf = {}; // model node id → drawflow id
  let idOf = {}; // drawflow id → model node id
  let rendering = false;
  let selected = null; // { node } or { edge }
  let issues = [];

  // ------------------------------------------------------------------ undo / redo
  const history = [];
  let future = [];
  let batching = false;
  const snapshot = () => JSON.stringify({ model, pos });
  /** Remembers the state before a change; changes made in one tick (a node and its lines
   * removed together) are one step. */
  function remember() {
    if (batching) return;
    history.push(snapshot());
    if (history.length > 200) history.shift();
    future = [];
    batching = true;
    setTimeout(() => { batching = false; }, 0);
    updateButtons();
  }
  function restore(state) {
    ({ model, pos } = JSON.parse(state));
    // The panel stays on what it showed if that is still there (undoing a panel edit).
    const kept =
      selected &&
      ((selected.node && model.nodes.some((n) => n.id === selected.node)) ||
        (selected.edge && model.edges.some((e) => e.id === selected.edge)));
    if (!kept) selected = null;
    render();
    changed();
  }
  function undo() {
    if (!history.length) return;
    future.push(snapshot());
    restore(history.pop());
  }
  function redo() {
    if (!future.length) return;
    history.push(snapshot());
    restore(future.pop());
  }
  function updateButtons() {
    button("undo").disabled = history.length === 0;
    button("redo").disabled = future.length === 0;
  }

  // ------------------------------------------------------------------ drawing
  const ports = (kind) => (kind === "won" || kind === "lost" ? [1, 0] : [1, 1]);
  const nodeEl = (id) => document.getElementById(`node-${dfOf[id]}`);
  const edgeEl = (e) =>
    root.querySelector(`svg.connection.node_out_node-${dfOf[e.from]}.node_in_node-${dfOf[e.to]}`);

  function render() {
    rendering = true;
    editor.clear();
    dfOf = {};
    idOf = {};
    let fallbackY = 20;
    for (const n of model.nodes) {
      const p = pos[n.id] || { x: 40, y: (fallbackY += 90) };
      const [inputs, outputs] = ports(n.kind);
      const df = editor.addNode(n.kind, inputs, outputs, p.x, p.y, `sf-node sf-${n.kind}`, { id: n.id }, "");
      dfOf[n.id] = df;
      idOf[df] = n.id;
      const el = document.getElementById(`node-${df}`);
      el.dataset.node = n.id;
      if (p.w) el.style.width = `${Math.max(120, Math.min(240, p.w))}px`;
      const content = el.querySelector(".drawflow_content_node");
      const name = document.createElement("div");
      name.className = "sf-name";
      name.textContent = n.name;
      const problem = document.createElement("div");
      problem.className = "sf-problem";
      content.append(name, problem);
    }
    for (const e of model.edges) {
      if (dfOf[e.from] === undefined || dfOf[e.to] === undefined) continue;
      editor.addConnection(dfOf[e.from], dfOf[e.to], "output_1", "input_1");
    }
    rendering = false;
    fit();
    labelEdges();
    showIssues();
    showPanel();
  }

  /** Zooms out (never in) so that the whole drawing fits the canvas; nodes left above or to
   * the left of the origin stay in view. */
  function fit() {
    const canvas = document.getElementById("flow-canvas");
    let left = 0;
    let top = 0;
    let right = 0;
    let bottom = 0;
    for (const id of Object.keys(dfOf)) {
      const info = editor.getNodeFromId(dfOf[id]);
      const el = nodeEl(id);
      left = Math.min(left, info.pos_x - 10);
      top = Math.min(top, info.pos_y - 10);
      right = Math.max(right, info.pos_x + (el ? el.offsetWidth : 160));
      bottom = Math.max(bottom, info.pos_y + (el ? el.offsetHeight : 60));
    }
    const zoom = Math.max(
      0.5,
      Math.min(1, (canvas.clientWidth - 20) / (right - left), (canvas.clientHeight - 20) / (bottom - top)),
    );
    editor.zoom = zoom;
    editor.canvas_x = 0;
    editor.canvas_y = 0;
    editor.zoom_refresh();
    // Scaling happens around the canvas centre; move the drawing back to the top-left corner.
    editor.canvas_x = -(canvas.clientWidth * (1 - zoom)) / 2 - left * zoom;
    editor.canvas_y = -(canvas.clientHeight * (1 - zoom)) / 2 - top * zoom;
    editor.zoom_refresh();
  }

  /** Each line's label at its middle, and its edge id on the line for tests and styles. */
  function labelEdges() {
    for (const e of model.edges) {
      const svg = edgeEl(e);
      if (!svg) continue;
      svg.dataset.edge = e.id;
      let text = svg.querySelector("text.sf-label");
      if (!text) {
        text = document.createElementNS("http://www.w3.org/2000/svg", "text");
        text.setAttribute("class", "sf-label");
        text.setAttribute("text-anchor", "middle");
        // A label is easier to hit than a thin line: clicking it selects the line.
        text.addEventListener("click", (event) => {
          event.stopPropagation();
          root.querySelectorAll("svg.connection .main-path.selected").forEach((p) => p.classList.remove("selected"));
          const line = svg.querySelector("path.main-path");
          if (line) line.classList.add("selected");
          selected = { edge: e.id };
          showPanel();
        });
        text.addEventListener("mousedown", (event) => event.stopPropagation());
        svg.appendChild(text);
      }
      text.textContent = e.label;
      const path = svg.querySelector("path.main-path");
      if (path && path.getTotalLength) {
        const mid = path.getPointAtLength(path.getTotalLength() / 2);
        text.setAttribute("x", mid.x);
        text.setAttribute("y", mid.y - 4);
      }
    }
  }

  // ------------------------------------------------------------------ model changes
  const unique = (prefix, taken) => {
    let i = 1;
    while (taken.has(`${prefix}${i}`)) i += 1;
    return `${prefix}${i}`;
  };
  const nodeIds = () => new Set(model.nodes.map((n) => n.id));

  function freeSpot() {
    const ys = Object.values(pos).map((p) => p.y);
    const canvas = document.getElementById("flow-canvas");
    const below = (ys.length ? Math.max(...ys) : 0) + 110;
    const visible = (canvas.clientHeight - 90) / editor.zoom;
    return { x: Math.max(40, canvas.clientWidth / 2 / editor.zoom - 80), y: Math.min(below, visible) };
  }

  function addNode(kind) {
    remember();
    const id = unique(kind === "stage" ? "stage_" : "decision_", nodeIds());
    const node =
      kind === "stage"
        ? { id, kind, name: T.new_stage, goal: "", steps: [], tools: [], exit_criteria: [], probability: 50, sla_days: 7 }
        : { id, kind, name: T.new_decision };
    model.nodes.push(node);
    pos[id] = { ...freeSpot(), w: 160 };
    selected = { node: id };
    render();
    changed();
    const input = nodeForm.querySelector('[name="name"]');
    input.focus();
    input.select();
  }

  editor.on("nodeMoved", (df) => {
    const id = idOf[df];
    const el = document.getElementById(`node-${df}`);
    const info = editor.drawflow.drawflow[editor.module].data[df];
    if (!id || !el || !info) return;
    // The place drawn (style left/top) is what a reload reproduces; drawflow's own pos_x/pos_y
    // are read after the move and can be off by the last step, so they are corrected to it.
    const x = parseFloat(el.style.left);
    const y = parseFloat(el.style.top);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    info.pos_x = x;
    info.pos_y = y;
    remember();
    pos[id] = { ...(pos[id] || {}), x, y };
    labelEdges();
  });

  editor.on("connectionCreated", (c) => {
    if (rendering) return;
    const from = idOf[c.output_id];
    const to = idOf[c.input_id];
    if (!from || !to || model.edges.some((e) => e.from === from && e.to === to)) return;
    remember();
    const target = model.nodes.find((n) => n.id === to);
    // Ids are at most 64 letters, digits, `_` or `-`.
    const prefix = `${from}_to_${to}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 56);
    const id = unique(`${prefix}_`, new Set(model.edges.map((e) => e.id)));
    model.edges.push({ id, from, to, label: target ? target.name : to });
    selected = { edge: id };
    labelEdges();
    showPanel();
    changed();
  });

  editor.on("connectionRemoved", (c) => {
    if (rendering) return;
    const from = idOf[c.output_id];
    const to = idOf[c.input_id];
    const i = model.edges.findIndex((e) => e.from === from && e.to === to);
    if (i < 0) return;
    remember();
    const [gone] = model.edges.splice(i, 1);
    if (selected && selected.edge === gone.id) selected = null;
    showPanel();
    changed();
  });

  editor.on("nodeRemoved", (df) => {
    if (rendering) return;
    const id = idOf[df];
    if (!id) return;
    remember();
    model.nodes = model.nodes.filter((n) => n.id !== id);
    model.edges = model.edges.filter((e) => e.from !== id && e.to !== id);
    delete pos[id];
    delete dfOf[id];
    delete idOf[df];
    selected = null;
    showPanel();
    changed();
  });

  editor.on("nodeSelected", (df) => {
    selected = { node: idOf[df] };
    showPanel();
  });
  editor.on("connectionSelected", (c) => {
    const e = model.edges.find((x) => x.from === idOf[c.output_id] && x.to === idOf[c.input_id]);
    selected = e ? { edge: e.id } : null;
    showPanel();
  });

  // ------------------------------------------------------------------ the side panel
  const field = (form, name) => form.querySelector(`[name="${name}"]`);
  const criteriaList = nodeForm.querySelector('[data-testid="criteria-list"]');
  const criteriaNone = nodeForm.querySelector('[data-testid="criteria-none"]');

  function showPanel() {
    const node = selected && selected.node && model.nodes.find((n) => n.id === selected.node);
    const edge = selected && selected.edge && model.edges.find((e) => e.id === selected.edge);
    nodeForm.hidden = !node;
    edgeForm.hidden = !edge;
    hint.hidden = Boolean(node || edge);
    if (node) {
      field(nodeForm, "name").value = node.name;
      const stage = node.kind === "stage";
      nodeForm.querySelector(".stage-only").hidden = !stage;
      if (stage) {
        field(nodeForm, "goal").value = node.goal || "";
        field(nodeForm, "steps").value = (node.steps || []).map((s) => s.name).join("\n");
        field(nodeForm, "tools").value = (node.tools || [])
          .map((t) => (t.link ? `${t.name} | ${t.link}` : t.name))
          .join("\n");
        renderCriteria(node);
        field(nodeForm, "probability").value = node.probability;
        field(nodeForm, "sla_days").value = node.sla_days;
      }
    }
    if (edge) field(edgeForm, "label").value = edge.label;
  }

  // ---- exit criteria: one row per criterion (gate, kind, target, label, remove)
  const KINDS = ["field", "step", "needs"];
  const kindOf = (c) => KINDS.find((k) => typeof c[k] === "string") || "field";
  /** [value, label] pairs a criterion of `kind` can point at in `node`. */
  function targets(kind, node) {
    if (kind === "step") return (node.steps || []).map((s) => [s.id, s.name]);
    return kind === "needs" ? CHOICES.needs : CHOICES.fields;
  }

  function select(role, options, value, labelText) {
    const label = document.createElement("label");
    label.className = `criterion-${role}`;
    const caption = document.createElement("span");
    caption.textContent = labelText;
    const el = document.createElement("select");
    el.dataset.criterion = role;
    for (const [v, text] of options) {
      const o = document.createElement("option");
      o.value = v;
      o.textContent = text;
      el.appendChild(o);
    }
    el.value = value;
    label.append(caption, el);
    return { label, el };
  }

  /** The criteria rows of `node`; `focus` ({ row, role }) puts the focus back after a redraw. */
  function renderCriteria(node, focus) {
    const criteria = node.exit_criteria || [];
    criteriaList.replaceChildren();
    criteriaNone.hidden = criteria.length > 0;
    criteria.forEach((c, i) => {
      const li = document.createElement("li");
      li.className = "criterion";
      li.dataset.row = String(i);
      li.dataset.criterionId = c.id;
      const kind = kindOf(c);
      const gate = select("gate", CHOICES.gates, c.gate, T.criterion_gate);
      const kinds = select(
        "kind",
        KINDS.map((k) => [k, T[`kind_${k}`]]),
        kind,
        T.criterion_kind,
      );
      let options = targets(kind, node);
      // A step that was renamed or removed: kept, shown as missing (the server flags it too).
      const missing = !options.some(([v]) => v === c[kind]);
      if (missing) options = [[c[kind] || "", T.missing_step.replace("{step}", c[kind] || "")], ...options];
      const target = select("target", options, c[kind] || "", T.criterion_target);
      if (missing) {
        li.classList.add("invalid");
        target.el.setAttribute("aria-invalid", "true");
      }
      const label = document.createElement("label");
      label.className = "criterion-label";
      const caption = document.createElement("span");
      caption.textContent = T.criterion_label;
      const input = document.createElement("input");
      input.dataset.criterion = "label";
      input.value = c.label || "";
      label.append(caption, input);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "danger";
      remove.dataset.criterion = "remove";
      remove.textContent = T.remove_criterion;
      li.append(gate.label, kinds.label, target.label, label, remove);
      criteriaList.appendChild(li);
    });
    if (focus) {
      const rows = criteriaList.querySelectorAll("li.criterion");
      const row = rows[Math.min(focus.row, rows.length - 1)];
      const el = row ? row.querySelector(`[data-criterion="${focus.role}"]`) : nodeForm.querySelector('[data-action="add-criterion"]');
      if (el) el.focus();
    }
  }

  /** Every criterion id in the process (new ones are unique across stages). */
  const criterionIds = () => new Set(model.nodes.flatMap((n) => (n.exit_criteria || []).map((c) => c.id)));

  function addCriterion() {
    const node = selected && model.nodes.find((n) => n.id === selected.node);
    if (!node || node.kind !== "stage") return;
    remember();
    node.exit_criteria = node.exit_criteria || [];
    const first = CHOICES.fields[0];
    node.exit_criteria.push({ id: unique("c_", criterionIds()), field: first[0], gate: "hard", label: "" });
    renderCriteria(node, { row: node.exit_criteria.length - 1, role: "gate" });
    changed();
  }

  /** A change in a criterion row: the criterion keeps its id. */
  function changeCriterion(node, el) {
    const li = el.closest("li.criterion");
    const i = Number(li.dataset.row);
    const c = node.exit_criteria && node.exit_criteria[i];
    if (!c) return;
    remember();
    const role = el.dataset.criterion;
    if (role === "remove") {
      node.exit_criteria.splice(i, 1);
      renderCriteria(node, { row: i, role: "remove" });
    } else if (role === "gate") c.gate = el.value;
    else if (role === "label") c.label = el.value;
    else if (role === "target") c[kindOf(c)] = el.value;
    else if (role === "kind") {
      for (const k of KINDS) delete c[k];
      const first = targets(el.value, node)[0];
      c[el.value] = first ? first[0] : "";
      // Key order as the server writes it: id, requirement, gate, label.
      node.exit_criteria[i] = { id: c.id, [el.value]: c[el.value], gate: c.gate, label: c.label };
      renderCriteria(node, { row: i, role: "kind" });
    }
    if (role === "target") renderCriteria(node, { row: i, role: "target" });
    changed();
  }

  const lines = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean);

  /** Steps by name; a line whose old name is gone from the same place is that step renamed
   * (it keeps its id, so criteria on it stay attached). */
  function parseSteps(text, old) {
    const taken = new Set(old.map((s) => s.id));
    const names = lines(text);
    const used = new Set();
    return names.map((name, i) => {
      const same = old.find((s) => s.name === name && !used.has(s.id));
      if (same) {
        used.add(same.id);
        return same;
      }
      const before = old[i];
      if (before && !used.has(before.id) && !names.includes(before.name)) {
        used.add(before.id);
        return { ...before, name };
      }
      const id = unique("step_", taken);
      taken.add(id);
      return { id, name };
    });
  }

  function parseTools(text, old) {
    return lines(text).map((line) => {
      const [name, link] = line.split("|").map((x) => x.trim());
      const tool = { name };
      if (link) tool.link = link;
      const same = old.find((t) => t.name === name);
      if (same && same.template) tool.template = same.template;
      return tool;
    });
  }

  nodeForm.addEventListener("change", (event) => {
    const node = selected && model.nodes.find((n) => n.id === selected.node);
    if (!node) return;
    if (event.target.dataset.criterion) {
      changeCriterion(node, event.target);
      return;
    }
    const name = event.target.name;
    const value = event.target.value;
    remember();
    if (name === "name") {
      node.name = value;
      const el = nodeEl(node.id);
      if (el) el.querySelector(".sf-name").textContent = value;
    } else if (name === "goal") node.goal = value;
    else if (name === "steps") {
      node.steps = parseSteps(value, node.steps || []);
      renderCriteria(node);
    }
    else if (name === "tools") node.tools = parseTools(value, node.tools || []);
    else if (name === "probability") node.probability = Math.max(0, Math.min(255, Number(value) || 0));
    else if (name === "sla_days") node.sla_days = Math.max(0, Number(value) || 0);
    changed();
  });

  edgeForm.addEventListener("change", (event) => {
    const edge = selected && model.edges.find((e) => e.id === selected.edge);
    if (!edge || event.target.name !== "label") return;
    remember();
    edge.label = event.target.value;
    labelEdges();
    changed();
  });

  nodeForm.addEventListener("click", (event) => {
    const node = selected && model.nodes.find((n) => n.id === selected.node);
    if (node && event.target.dataset.criterion === "remove") changeCriterion(node, event.target);
  });
  button("add-criterion").addEventListener("click", addCriterion);

  button("delete").addEventListener("click", () => {
    if (selected && selected.node) editor.removeNodeId(`node-${dfOf[selected.node]}`);
  });
  button("delete-edge").addEventListener("click", () => {
    const edge = selected && model.edges.find((e) => e.id === selected.edge);
    if (edge) editor.removeSingleConnection(dfOf[edge.from], dfOf[edge.to], "output_1", "input_1");
  });

  // ------------------------------------------------------------------ the server's word
  /** The model with every node's place, as it is checked and saved. */
  function definition() {
    const round = (v) => Math.round(v * 10) / 10;
    const positions = {};
    for (const n of model.nodes) {
      const p = pos[n.id];
      if (p && Number.isFinite(p.x) && Number.isFinite(p.y)) positions[n.id] = { x: round(p.x), y: round(p.y) };
    }
    return { ...model, positions };
  }

  async function call(method, url, body) {
    const res = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": window.salesflowCsrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (_) {
      json = null;
    }
    return { ok: res.ok, status: res.status, json };
  }

  let timer = null;
  function changed() {
    updateButtons();
    clearTimeout(timer);
    root.dataset.checking = "true";
    timer = setTimeout(validate, 250);
  }

  let asked = 0;
  async function validate() {
    const mine = ++asked;
    const r = await call("POST", "/api/v1/processes/validate", definition());
    if (mine !== asked) return; // a later change is being checked: this answer is stale
    root.dataset.checking = "false";
    if (r.ok && r.json) {
      issues = r.json.issues || [];
    } else if (r.json && Array.isArray(r.json.issues)) {
      issues = r.json.issues;
    } else if (r.json && r.json.detail) {
      issues = [{ code: "", message: r.json.detail }];
    }
    showIssues();
  }

  const nameOf = (id) => {
    const n = model.nodes.find((x) => x.id === id);
    return n ? n.name : id;
  };
  const message = (i) => issueText[i.code] || i.message;

  function showIssues() {
    root.querySelectorAll(".drawflow-node.invalid").forEach((el) => {
      el.classList.remove("invalid");
      el.querySelector(".sf-problem").textContent = "";
    });
    root.querySelectorAll("svg.connection.invalid").forEach((el) => el.classList.remove("invalid"));
    issueList.replaceChildren();
    const listed = new Set();
    for (const i of issues) {
      const key = `${i.node || ""}|${i.edge || ""}|${message(i)}`;
      if (listed.has(key)) continue;
      listed.add(key);
      const li = document.createElement("li");
      if (i.node) {
        li.dataset.node = i.node;
        li.textContent = `${nameOf(i.node)}: ${message(i)}`;
        const el = dfOf[i.node] !== undefined ? nodeEl(i.node) : null;
        if (el) {
          el.classList.add("invalid");
          el.querySelector(".sf-problem").textContent = message(i);
        }
      } else if (i.edge) {
        li.dataset.edge = i.edge;
        const e = model.edges.find((x) => x.id === i.edge);
        li.textContent = `${e ? `${nameOf(e.from)} → ${nameOf(e.to)}` : i.edge}: ${message(i)}`;
        const el = e && edgeEl(e);
        if (el) el.classList.add("invalid");
      } else {
        li.textContent = message(i);
      }
      issueList.appendChild(li);
    }
    root.dataset.valid = issues.length === 0 ? "true" : "false";
    status(issues.length === 0 ? T.valid : `${T.problems}: ${listed.size}`, issues.length === 0 ? "ok" : "bad");
  }

  function status(text, kind) {
    statusLine.textContent = text;
    statusLine.dataset.kind = kind;
  }

  async function save() {
    const r = await call("PUT", versionUrl, definition());
    if (r.ok) {
      status(T.saved, "ok");
      root.dataset.saved = "true";
      return true;
    }
    if (r.json && Array.isArray(r.json.issues) && r.json.issues.length) {
      issues = r.json.issues;
      showIssues();
    }
    const detail = r.json && (r.json.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    status(`${T.not_saved}${detail ? ` (${detail})` : r.json && r.json.detail ? ` (${r.json.detail})` : ""}`, "bad");
    return false;
  }

  async function publish() {
    if (!(await save())) return;
    const r = await call("POST", `${versionUrl}/publish`);
    if (r.ok) {
      status(T.published, "ok");
      window.location.assign(`/processes/${root.dataset.process}/versions/${root.dataset.version}`);
    } else {
      if (r.json && Array.isArray(r.json.issues)) {
        issues = r.json.issues;
        showIssues();
      }
      status(`${T.not_saved}${r.json && r.json.detail ? ` (${r.json.detail})` : ""}`, "bad");
    }
  }

  /** Every node placed afresh by the server's layered layout; the next save stores it. */
  async function autoLayout() {
    const r = await call("POST", "/api/v1/processes/layout", model);
    if (!r.ok || !r.json) return;
    remember();
    for (const [id, box] of Object.entries(r.json.nodes)) pos[id] = { x: box.x, y: box.y, w: box.width };
    render();
  }

  button("add-stage").addEventListener("click", () => addNode("stage"));
  button("add-decision").addEventListener("click", () => addNode("decision"));
  button("undo").addEventListener("click", undo);
  button("redo").addEventListener("click", redo);
  button("layout").addEventListener("click", autoLayout);
  button("save").addEventListener("click", save);
  button("publish").addEventListener("click", publish);
  document.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    if (typing) return;
    if (event.key === "Delete" && selected) {
      // drawflow only hears keys while its canvas has the focus.
      event.preventDefault();
      if (selected.node) button("delete").click();
      else button("delete-edge").click();
      return;
    }
    if (!(event.ctrlKey || event.metaKey)) return;
    const key = event.key.toLowerCase();
    if (key === "z" && !event.shiftKey) {
      event.preventDefault();
      undo();
    } else if (key === "y" || (key === "z" && event.shiftKey)) {
      event.preventDefault();
      redo();
    }
  });

  render();
  validate();
})();
