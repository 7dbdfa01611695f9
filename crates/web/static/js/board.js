// The pipeline board: drag a card onto another column (or use the "Move to" form on the card)
// → POST /board/move. The card moves on the page only once the server has accepted the move;
// a refusal shows the server's explanation (missing criteria, the override or lost-reason form)
// above the board. Loaded on every page: does nothing where there is no board.
"use strict";
(() => {
  const board = document.querySelector("[data-board]");
  if (!board) return;
  const notice = document.getElementById("board-notice");
  const status = document.getElementById("board-status");
  let dragged = null;
  // The card the pointer went down on: the one a drag moves, even if the page scrolled before
  // the drag began and the browser picked the element now under that point.
  let pressed = null;
  let returnFocus = null;

  const columns = () => board.querySelectorAll("section[data-stage]");
  const column = (node) => board.querySelector(`section[data-stage="${CSS.escape(node)}"]`);
  const cardOf = (id) => board.querySelector(`article[data-deal="${CSS.escape(String(id))}"]`);

  function fragment(html) {
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content;
  }

  function showPanel(content) {
    returnFocus = document.activeElement;
    notice.replaceChildren(content);
    notice.hidden = false;
    const panel = notice.firstElementChild;
    if (!panel) return;
    const field = panel.querySelector("textarea, select, button:not([data-board-close])");
    (field || panel).focus();
    panel.scrollIntoView({ block: "nearest" });
  }

  /** A plain message in the panel (network errors, unexpected answers). */
  function showMessage(text) {
    const panel = document.createElement("div");
    panel.className = "board-panel";
    panel.dataset.reason = "error";
    panel.tabIndex = -1;
    panel.setAttribute("role", "alert");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "board-panel-close";
    close.dataset.boardClose = "";
    close.textContent = board.dataset.msgClose || "×";
    const p = document.createElement("p");
    p.className = "board-panel-heading";
    p.textContent = text;
    panel.append(close, p);
    showPanel(panel);
  }

  function clearPanel(restore) {
    notice.replaceChildren();
    notice.hidden = true;
    if (restore && returnFocus && document.contains(returnFocus)) returnFocus.focus();
    returnFocus = null;
  }

  function setStat(col, testid, text, value) {
    const el = col.querySelector(`[data-testid="${testid}"]`);
    if (!el) return;
    el.textContent = text;
    if (value !== undefined) el.dataset.value = value;
  }

  function updateStats(stats) {
    for (const c of stats || []) {
      const col = column(c.node);
      if (!col) continue;
      setStat(col, "column-count", String(c.count));
      setStat(col, "column-amount", c.amount, c.amount_value);
      setStat(col, "column-weighted", c.weighted, c.weighted_value);
    }
  }

  /** Shows "no deals" in a column left without cards (and without pages still to load). */
  function markEmpty(col) {
    if (!col) return;
    const list = col.querySelector("[data-cards]");
    if (!list || list.querySelector("article[data-deal], .board-loading, .board-more, [data-empty]")) return;
    const p = document.createElement("p");
    p.className = "board-empty";
    p.dataset.empty = "";
    p.textContent = board.dataset.msgEmpty || "";
    list.append(p);
  }

  /** Keeps one card per deal (the newest version) when a lazily loaded page repeats a moved one. */
  function dedupe() {
    const seen = new Map();
    for (const card of board.querySelectorAll("article[data-deal]")) {
      const other = seen.get(card.dataset.deal);
      if (!other) {
        seen.set(card.dataset.deal, card);
      } else if (Number(card.dataset.version) > Number(other.dataset.version)) {
        other.remove();
        seen.set(card.dataset.deal, card);
      } else {
        card.remove();
      }
    }
  }

  let busy = false;

  async function move(fields, fromKeyboard) {
    if (busy) return;
    busy = true;
    board.setAttribute("aria-busy", "true");
    let data = null;
    try {
      const res = await fetch("/board/move", {
        method: "POST",
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/x-www-form-urlencoded",
          "X-CSRF-Token": window.salesflowCsrf ? window.salesflowCsrf() : "",
        },
        body: new URLSearchParams(fields),
      });
      if (res.redirected && new URL(res.url).pathname === "/login") {
        // The session ended: sign in again (nothing was moved).
        window.location.assign(res.url);
        return;
      }
      data = await res.json();
    } catch (_) {
      data = null;
    } finally {
      busy = false;
      board.removeAttribute("aria-busy");
    }
    if (data && data.moved === true) {
      const old = cardOf(data.deal);
      const from = old ? old.closest("section[data-stage]") : null;
      const target = column(data.to);
      if (old) old.remove();
      let card = null;
      if (target) {
        const list = target.querySelector("[data-cards]");
        list.querySelectorAll("[data-empty]").forEach((e) => e.remove());
        list.prepend(fragment(data.card));
        card = list.querySelector(`article[data-deal="${CSS.escape(String(data.deal))}"]`);
      }
      markEmpty(from);
      updateStats(data.columns);
      clearPanel(false);
      status.textContent = data.message || "";
      if (card && fromKeyboard) {
        const link = card.querySelector("a");
        (link || card).focus();
      }
    } else if (data && data.panel) {
      showPanel(fragment(data.panel));
    } else {
      showMessage((data && (data.detail || data.title)) || board.dataset.msgNetwork);
    }
  }

  // Drag and drop: every other column accepts a drop; the server says whether an edge leads there.
  function endDrag() {
    if (dragged) dragged.classList.remove("is-dragged");
    dragged = null;
    board.classList.remove("is-dragging");
    for (const col of columns()) col.classList.remove("drop-allowed", "drop-over");
  }

  board.addEventListener("pointerdown", (e) => {
    pressed = e.target instanceof Element ? e.target.closest("article[data-deal]") : null;
  });
  document.addEventListener("pointerup", () => {
    pressed = null;
  });

  board.addEventListener("dragstart", (e) => {
    const card = pressed || (e.target instanceof Element ? e.target.closest("article[data-deal]") : null);
    pressed = null;
    if (!card) return;
    dragged = card;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.deal);
    card.classList.add("is-dragged");
    board.classList.add("is-dragging");
    const targets = (card.dataset.targets || "").split(" ").filter(Boolean);
    for (const col of columns()) col.classList.toggle("drop-allowed", targets.includes(col.dataset.stage));
  });

  board.addEventListener("dragover", (e) => {
    if (!dragged) return;
    const col = e.target instanceof Element ? e.target.closest("section[data-stage]") : null;
    if (!col || col.dataset.stage === dragged.dataset.node) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    col.classList.add("drop-over");
  });

  board.addEventListener("dragleave", (e) => {
    const col = e.target instanceof Element ? e.target.closest("section[data-stage]") : null;
    if (col && !(e.relatedTarget instanceof Node && col.contains(e.relatedTarget))) col.classList.remove("drop-over");
  });

  board.addEventListener("drop", (e) => {
    const col = e.target instanceof Element ? e.target.closest("section[data-stage]") : null;
    const card = dragged;
    if (!col || !card) return;
    e.preventDefault();
    endDrag();
    if (col.dataset.stage === card.dataset.node) return;
    move({ deal: card.dataset.deal, version: card.dataset.version, to: col.dataset.stage }, false);
  });

  board.addEventListener("dragend", endDrag);

  // The card's "Move to" form and the panel's retry forms (override reason, lost reason, route).
  document.addEventListener("submit", (e) => {
    const form = e.target instanceof Element ? e.target.closest("form[data-board-move]") : null;
    if (!form) return;
    e.preventDefault();
    const data = new FormData(form);
    if (e.submitter && e.submitter.name && !data.has(e.submitter.name)) data.append(e.submitter.name, e.submitter.value);
    const fields = {};
    for (const [k, v] of data) if (k !== "_csrf") fields[k] = String(v);
    move(fields, true);
  });

  document.addEventListener("click", (e) => {
    if (e.target instanceof Element && e.target.closest("[data-board-close]")) clearPanel(true);
  });

  notice.addEventListener("keydown", (e) => {
    if (e.key === "Escape") clearPanel(true);
  });

  document.body.addEventListener("htmx:afterSwap", dedupe);
})();
