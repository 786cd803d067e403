/* flightlog web UI: the run page's Evaluation and Drift sections (flightlog.evaluate and
 * flightlog.log_drift results). Both read the run's own artifacts: evaluation_summary.json
 * and the plots; <folder>/report.json for drift, whose report.html opens in a sandboxed
 * frame (no scripts; it is self-contained, so nothing is fetched from anywhere). */
"use strict";
(function () {
  const el = FL.el;
  const run = FL.initialData().run;
  const SVG = "http://www.w3.org/2000/svg";

  function fileUrl(path) {
    return `/ui-api/artifacts/file?${new URLSearchParams({ run_id: run.id, path })}`;
  }

  async function fetchFile(path, as) {
    const response = await FL.request("GET", fileUrl(path));
    if (!response.ok) throw new Error(`${path}: ${response.status} ${response.statusText}`);
    if (response.headers.get("X-Flightlog-Truncated") === "1") throw new Error(`${path} is too large to show`);
    return as === "blob" ? response.blob() : as === "json" ? JSON.parse(await response.text()) : response.text();
  }

  function number(v) {
    if (v === null || v === undefined) return "—";
    return typeof v === "number" ? FL.formatValue(v) : String(v);
  }

  function verdict(ok, yes, no) {
    return el("span", { class: `status ${ok ? "status-finished" : "status-failed"}`, text: ok ? yes : no });
  }

  /* --- Evaluation --------------------------------------------------------------------------- */
  async function showEvaluation(section) {
    const body = section.querySelector("#evaluation");
    let summary;
    try {
      summary = await fetchFile("evaluation_summary.json", "json");
    } catch (e) {
      FL.clear(body).appendChild(el("p", { class: "error-box", text: e.message }));
      return;
    }
    FL.clear(body);
    const baseline = summary.baseline_metrics || {};
    const hasBaseline = Object.keys(baseline).length > 0;
    const rows = Object.keys(summary.metrics).sort().map((k) =>
      el("tr", { data: { key: k } }, el("td", { text: k }), el("td", { class: "num", text: number(summary.metrics[k]) }),
        hasBaseline ? el("td", { class: "num", text: number(baseline[k]) }) : null));
    body.appendChild(el("p", { class: "muted small", text: `${summary.model_type}` + (summary.labels ? ` · labels ${summary.labels.join(", ")}` : "") }));
    body.appendChild(el("table", { class: "table kv", id: "evaluation-metrics" },
      el("thead", {}, el("tr", {}, el("th", { text: "Metric" }), el("th", { class: "num", text: "Value" }),
        hasBaseline ? el("th", { class: "num", text: "Baseline" }) : null)),
      el("tbody", {}, rows)));
    const validation = Object.values(summary.validation || {});
    if (validation.length) {
      body.appendChild(el("h3", { text: "Validation" }));
      body.appendChild(el("table", { class: "table", id: "evaluation-validation" },
        el("thead", {}, el("tr", {}, ...["Metric", "Candidate", "Baseline", "Result", "Why"].map((t) => el("th", { text: t })))),
        el("tbody", {}, validation.map((v) => el("tr", {},
          el("td", { text: v.metric }), el("td", { class: "num", text: number(v.candidate) }),
          el("td", { class: "num", text: number(v.baseline) }), el("td", {}, verdict(v.passed, "pass", "fail")),
          el("td", { class: "small", text: (v.reasons || []).join("; ") }))))));
    }
    const plots = Object.entries(summary.artifacts || {}).filter(([, file]) => /\.png$/i.test(file));
    if (!plots.length) return;
    const grid = el("div", { class: "chart-grid", id: "evaluation-plots" });
    body.appendChild(grid);
    for (const [name, file] of plots) {
      const card = el("figure", { class: "card chart-card", data: { plot: name } }, el("h3", { class: "chart-title", text: name }));
      grid.appendChild(card);
      try {
        const blob = await fetchFile(file, "blob");
        card.appendChild(el("img", { class: "preview-image", alt: name, src: URL.createObjectURL(blob) }));
      } catch (e) {
        card.appendChild(el("p", { class: "error-box", text: e.message }));
      }
    }
  }

  /* --- Drift -------------------------------------------------------------------------------- */
  function distributionChart(column) {
    const d = column.distribution || {};
    const ref = d.reference || [];
    const cur = d.current || [];
    const wrap = el("div", { class: "card chart-card", id: "drift-distribution", data: { column: column.column } },
      el("h3", { class: "chart-title", text: `${column.column}: reference vs current` }));
    if (!ref.length) {
      wrap.appendChild(el("p", { class: "muted", text: "No values to draw." }));
      return wrap;
    }
    const labels = d.type === "histogram" ? ref.map((_, i) => Number(d.edges[i]).toPrecision(3)) : d.labels;
    const W = 640, H = 200, left = 40, bottom = 40, plotW = W - left - 8, plotH = H - bottom - 10;
    const top = Math.max(...ref, ...cur, 1e-12);
    const slot = plotW / ref.length, bar = Math.max(slot * 0.4, 1);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("class", "chart-svg");
    const add = (tag, attrs, text) => {
      const n = document.createElementNS(SVG, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
      if (text !== undefined) n.textContent = text;
      svg.appendChild(n);
      return n;
    };
    add("line", { x1: left, y1: 10 + plotH, x2: W - 8, y2: 10 + plotH, stroke: "#c5ccd6" });
    add("text", { x: left - 4, y: 16, "text-anchor": "end", "font-size": 10 }, top.toPrecision(2));
    const every = Math.max(1, Math.ceil(ref.length / 10));
    ref.forEach((r, i) => {
      const x = left + i * slot + slot * 0.1;
      [[0, r, "#98a2b3", "reference"], [bar, cur[i] || 0, "#2e6ee6", "current"]].forEach(([off, share, color, which]) => {
        const h = (plotH * share) / top;
        const rect = add("rect", { x: x + off, y: 10 + plotH - h, width: bar, height: h, fill: color, "data-series": which });
        const title = document.createElementNS(SVG, "title");
        title.textContent = `${labels[i]} (${which}): ${(share * 100).toFixed(2)}%`;
        rect.appendChild(title);
      });
      if (i % every === 0) add("text", { x: x + bar, y: H - bottom + 16, "text-anchor": "middle", "font-size": 10 }, String(labels[i]).slice(0, 12));
    });
    wrap.appendChild(svg);
    wrap.appendChild(el("p", { class: "muted small", text: "grey: reference · blue: current" }));
    return wrap;
  }

  async function showDrift(section) {
    const folder = section.dataset.folder || "drift";
    const body = section.querySelector("#drift");
    let report;
    try {
      report = await fetchFile(`${folder}/report.json`, "json");
    } catch (e) {
      FL.clear(body).appendChild(el("p", { class: "error-box", text: e.message }));
      return;
    }
    FL.clear(body);
    body.appendChild(el("p", { id: "drift-summary" },
      verdict(!report.dataset_drifted, "no dataset drift", "dataset drift"), " ",
      `${report.number_of_drifted_columns} of ${report.number_of_columns} columns drifted ` +
      `(${(report.share_of_drifted_columns * 100).toFixed(0)}%; dataset drift at ${(report.drift_share * 100).toFixed(0)}%) · ` +
      `${report.reference_rows} reference rows, ${report.current_rows} current rows`));
    const chartSlot = el("div", { id: "drift-chart-slot" });
    const select = el("select", { id: "drift-column", "aria-label": "column" },
      report.columns.map((c) => el("option", { value: c.column, text: c.column })));
    const show = (name) => {
      const column = report.columns.find((c) => c.column === name);
      select.value = name;
      for (const tr of body.querySelectorAll("#drift-table tbody tr")) tr.classList.toggle("selected", tr.dataset.column === name);
      FL.clear(chartSlot).appendChild(distributionChart(column));
    };
    select.addEventListener("change", () => show(select.value));
    const quality = new Map(((report.quality || {}).columns || []).map((q) => [q.column, q]));
    const findings = (q) => {
      if (!q) return "";
      const out = [];
      if (q.missing_share) out.push(`${(q.missing_share * 100).toFixed(1)}% missing`);
      if (q.constant) out.push("constant");
      else if (q.almost_constant) out.push("almost constant");
      if (q.out_of_range_share) out.push(`${(q.out_of_range_share * 100).toFixed(1)}% out of range`);
      if (q.new_category_share) out.push(`new: ${q.new_categories.slice(0, 3).join(", ")}`);
      return out.join("; ");
    };
    body.appendChild(el("div", { class: "table-wrap" }, el("table", { class: "table", id: "drift-table" },
      el("thead", {}, el("tr", {}, ...["Column", "Type", "Test", "Score", "Threshold", "Drifted", "Quality"].map((t) => el("th", { text: t })))),
      el("tbody", {}, report.columns.map((c) => el("tr", { data: { column: c.column }, style: { cursor: "pointer" }, on: { click: () => show(c.column) } },
        el("td", { text: c.column }), el("td", { text: c.kind }), el("td", { text: c.test_title }),
        el("td", { class: "num", text: number(c.score) }), el("td", { class: "num", text: number(c.threshold) }),
        el("td", {}, verdict(!c.drifted, "no", "drift")), el("td", { class: "small", text: findings(quality.get(c.column)) })))))));
    const frameSlot = el("div", { id: "drift-report-slot" });
    const open = el("button", { type: "button", class: "btn small", id: "drift-open-report", text: "Open HTML report" });
    open.addEventListener("click", async () => {
      try {
        const html = await fetchFile(`${folder}/report.html`, "text");
        // sandbox="" : no scripts, no navigation, an opaque origin; the page is self-contained.
        FL.clear(frameSlot).appendChild(el("iframe", { sandbox: "", title: "Drift report", id: "drift-report-frame",
          srcdoc: html, style: { width: "100%", height: "640px", border: "1px solid #d9dee8", borderRadius: "8px" } }));
      } catch (e) {
        FL.clear(frameSlot).appendChild(el("p", { class: "error-box", text: e.message }));
      }
    });
    body.appendChild(el("div", { class: "toolbar" }, el("label", { class: "small" }, "Distribution of ", select), open));
    body.appendChild(chartSlot);
    body.appendChild(frameSlot);
    const first = report.columns.find((c) => c.drifted) || report.columns[0];
    if (first) show(first.column);
  }

  const evaluation = document.getElementById("evaluation-section");
  if (evaluation && !evaluation.hidden && evaluation.dataset.evaluated === "1") showEvaluation(evaluation);
  const drift = document.getElementById("drift-section");
  if (drift && !drift.hidden) showDrift(drift);
})();
