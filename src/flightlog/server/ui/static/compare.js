/* flightlog web UI: compare runs. Overlaid curves per metric, parallel coordinates
 * (params -> a chosen metric) and a params/metrics difference table. */
"use strict";
(function () {
  const data = FL.initialData();
  const el = FL.el;
  const runs = data.runs;
  const colorOf = new Map(runs.map((r, i) => [r.id, FL.color(i)]));
  let axis = "step";

  for (const chip of document.querySelectorAll(".legend-chip")) {
    chip.querySelector(".swatch").style.background = colorOf.get(chip.dataset.runId);
  }

  /* --- overlaid curves ------------------------------------------------------------------------ */
  const chartsNode = document.getElementById("charts");
  const charts = [];
  for (const key of data.metric_keys) {
    const card = el("div", { class: "card chart-card", data: { key } }, el("h3", { class: "chart-title", text: key }));
    chartsNode.appendChild(card);
    charts.push({ key, chart: new FL.LineChart(card, { axis }) });
  }
  if (!charts.length) chartsNode.appendChild(el("p", { class: "empty", text: "These runs have no metrics." }));

  async function loadCharts() {
    const requested = axis;
    const tasks = [];
    for (const { key, chart } of charts) {
      const withKey = runs.filter((r) => key in r.metrics);
      const series = new Array(withKey.length);
      withKey.forEach((r, i) => {
        tasks.push(async () => {
          const s = await FL.get("/ui-api/metric-series", { run_id: r.id, key, x: requested, width: chart.plotWidth() });
          series[i] = { name: r.name || r.id, color: colorOf.get(r.id), points: s.points, buckets: s.buckets, total: s.total };
        });
      });
      chart.pending = series;
    }
    await FL.pool(tasks, 6);
    if (requested !== axis) return; // superseded by a newer axis choice
    for (const { chart } of charts) {
      chart.setAxis(axis);
      chart.setSeries(chart.pending.filter(Boolean));
    }
  }

  for (const button of document.querySelectorAll(".segmented .seg")) {
    button.addEventListener("click", () => {
      for (const b of document.querySelectorAll(".segmented .seg")) b.classList.toggle("active", b === button);
      axis = button.dataset.axis;
      loadCharts();
    });
  }

  /* --- parallel coordinates ------------------------------------------------------------------- */
  const select = document.getElementById("pc-metric");
  for (const key of data.metric_keys) select.appendChild(el("option", { value: key, text: key }));
  const parallel = new FL.ParallelCoordinates(document.getElementById("parallel"));

  function varies(values) {
    const seen = new Set(values.map((v) => (v === undefined ? "\u0000missing" : String(v))));
    return seen.size > 1;
  }

  function renderParallel() {
    const metric = select.value;
    let params = data.param_keys.filter((k) => varies(runs.map((r) => r.params[k])));
    if (!params.length) params = data.param_keys.slice();
    params = params.slice(0, 12);
    const axes = params.map((k) => ({ key: `p:${k}`, label: k, values: Object.fromEntries(runs.map((r) => [r.id, r.params[k]])) }));
    if (metric) {
      const values = {};
      for (const r of runs) {
        const v = r.metrics[metric];
        if (typeof v === "number") values[r.id] = v;
      }
      axes.push({ key: `m:${metric}`, label: metric, values });
    }
    parallel.setData({ axes, runs: runs.map((r) => ({ id: r.id, name: r.name })), colorKey: metric ? `m:${metric}` : null });
  }
  select.addEventListener("change", renderParallel);

  /* --- difference table ----------------------------------------------------------------------- */
  const onlyDiff = document.getElementById("only-diff");

  function renderDiff() {
    const table = document.getElementById("diff-table");
    const thead = FL.clear(table.querySelector("thead"));
    const tbody = FL.clear(table.querySelector("tbody"));
    thead.appendChild(el("tr", {}, el("th", { text: "" }), runs.map((r) => el("th", {}, el("span", { class: "swatch", style: { background: colorOf.get(r.id) } }), el("a", { href: `/runs/${encodeURIComponent(r.id)}`, text: r.name || r.id })))));
    const addRow = (label, values, cls, always) => {
      const differs = varies(values);
      if (onlyDiff.checked && !differs && !always) return;
      tbody.appendChild(el("tr", { class: `${cls}${differs ? " differs" : ""}`, data: { key: label } }, el("th", { text: label }), values.map((v) => el("td", { class: cls === "metric" ? "num" : "", text: v === undefined ? "—" : FL.formatValue(v) }))));
    };
    addRow("Status", runs.map((r) => r.status), "attr", true);
    addRow("Duration", runs.map((r) => FL.formatDuration(FL.runDuration(r))), "attr", true);
    tbody.appendChild(el("tr", { class: "section-row" }, el("th", { colspan: runs.length + 1, text: "Parameters" })));
    for (const k of data.param_keys) addRow(k, runs.map((r) => r.params[k]), "param", false);
    tbody.appendChild(el("tr", { class: "section-row" }, el("th", { colspan: runs.length + 1, text: "Metrics" })));
    for (const k of data.metric_keys) addRow(k, runs.map((r) => r.metrics[k]), "metric", false);
  }
  onlyDiff.addEventListener("change", renderDiff);

  renderDiff();
  renderParallel();
  loadCharts();
})();
