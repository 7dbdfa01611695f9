// The analytics page: draws the charts with the vendored ECharts from the data in
// #analytics-charts[data-charts], and filters the stuck-deals table to the stage clicked on
// the heat map.
"use strict";
(() => {
  function chart(el, option) {
    if (!window.echarts) return;
    const c = window.echarts.init(el, null, { renderer: "svg" });
    c.setOption(Object.assign({ animation: false, tooltip: { trigger: "axis" }, grid: { left: 48, right: 16, bottom: 72, top: 36 } }, option));
    window.addEventListener("resize", () => c.resize());
  }

  const axis = (names) => ({ type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 4 ? 30 : 0 } });

  function draw(root) {
    const d = JSON.parse(root.dataset.charts);
    const l = d.labels;
    const at = (name) => root.querySelector(`[data-chart="${name}"]`);
    chart(at("funnel"), {
      legend: { top: 0 }, xAxis: axis(d.funnel.stages), yAxis: { type: "value" },
      series: [{ name: l.any, type: "bar", data: d.funnel.any }, { name: l.strict, type: "bar", data: d.funnel.strict }],
    });
    chart(at("time"), {
      legend: { top: 0 }, xAxis: axis(d.time.stages), yAxis: { type: "value" },
      series: [{ name: l.median, type: "bar", data: d.time.median }, { name: l.p90, type: "bar", data: d.time.p90 }],
    });
    chart(at("lost"), {
      legend: { top: 0, type: "scroll" }, xAxis: axis(d.lost.stages), yAxis: { type: "value", minInterval: 1 },
      series: d.lost.series.map((s) => ({ name: s.name, type: "bar", stack: "lost", data: s.data })),
    });
    chart(at("trend"), {
      legend: { top: 0 }, xAxis: { type: "category", data: d.trend.weeks }, yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: l.started, type: "line", data: d.trend.started },
        { name: l.won, type: "line", data: d.trend.won },
        { name: l.lost, type: "line", data: d.trend.lost },
      ],
    });
  }

  function showStuck(node) {
    const rows = document.querySelectorAll("#stuck tr[data-stuck-node]");
    for (const row of rows) row.hidden = node !== null && row.dataset.stuckNode !== node;
    for (const g of document.querySelectorAll("#analytics [data-flow-node]")) {
      g.classList.toggle("selected", g.dataset.flowNode === node);
    }
    const all = document.getElementById("stuck-all");
    if (all) all.hidden = node === null;
  }

  /** Sends the chosen event-log file to the import API (session cookie + CSRF header) and
   * shows how many deals came in, or every row the server refused. */
  async function importLog(form, result) {
    const file = form.elements.file.files[0];
    if (!file) return;
    const params = new URLSearchParams();
    for (const el of form.querySelectorAll("input[type=text]")) if (el.value.trim()) params.set(el.name, el.value.trim());
    const xes = /\.(xes|xml)$/i.test(file.name);
    const csrf = document.querySelector('meta[name="csrf-token"]');
    const res = await fetch(`/api/v1/processes/${form.dataset.process}/import?${params}`, {
      method: "POST",
      headers: { "Content-Type": xes ? "application/xml" : "text/csv", "X-CSRF-Token": csrf ? csrf.content : "" },
      body: await file.text(),
    });
    const body = await res.json().catch(() => ({}));
    result.replaceChildren();
    if (res.ok) {
      const p = document.createElement("p");
      p.textContent = form.dataset.done.replace("{deals}", body.deals).replace("{events}", body.events);
      result.append(p);
      return;
    }
    const p = document.createElement("p");
    p.className = "error";
    p.textContent = `${form.dataset.failed} ${body.detail || res.status}`;
    const list = document.createElement("ul");
    for (const e of body.errors || []) {
      const li = document.createElement("li");
      li.textContent = `${e.field}: ${e.message}`;
      list.append(li);
    }
    result.append(p, list);
  }

  function init() {
    const page = document.getElementById("analytics");
    if (!page) return;
    const root = document.getElementById("analytics-charts");
    if (root) draw(root);
    for (const g of page.querySelectorAll("[data-flow-node]")) {
      g.addEventListener("click", () => {
        showStuck(g.dataset.flowNode);
        document.getElementById("stuck").scrollIntoView({ behavior: "smooth", block: "start" });
      });
    }
    const all = document.getElementById("stuck-all");
    if (all) all.addEventListener("click", () => showStuck(null));
    const form = document.getElementById("import-form");
    if (form) {
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        importLog(form, document.getElementById("import-result"));
      });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
