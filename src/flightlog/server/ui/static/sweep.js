/* flightlog web UI: the sweep panel of a parent run (trials table, optimization history,
 * parallel coordinates coloured by the objective, parameter importance). Data from
 * /ui-api/sweep and /ui-api/sweep/importance; charts from charts.js. User data only reaches the
 * page through FL.el (textContent / attributes). */
"use strict";

(function () {
  const section = document.getElementById("sweep-section");
  if (!section) return;
  const el = FL.el;
  const runId = section.dataset.runId;

  function bestSoFar(trials, direction) {
    let best = null;
    const points = [];
    for (const t of trials) {
      if (t.state === "COMPLETE" && typeof t.value === "number") {
        if (best === null || (direction === "maximize" ? t.value > best : t.value < best)) best = t.value;
      }
      if (best !== null && t.number !== null) points.push([t.number, best]);
    }
    return points;
  }

  function renderSummary(data) {
    const s = data.summary;
    const parts = [
      `${s.n_trials || data.trials.length} trials`,
      `${s.n_complete || 0} complete`,
      `${s.n_pruned || 0} pruned`,
      `${s.n_failed || 0} failed`,
    ];
    if (Number(s.n_killed)) parts.push(`${s.n_killed} killed`);
    const node = FL.clear(document.getElementById("sweep-summary"));
    node.appendChild(el("span", { text: parts.join(" · ") }));
    if (s.best_run_id) {
      node.appendChild(el("span", { text: ` · best ${data.objective} ${FL.formatValue(Number(s.best_value))} in ` }));
      const best = data.trials.find((t) => t.id === s.best_run_id);
      node.appendChild(el("a", { href: `/runs/${encodeURIComponent(s.best_run_id)}`, id: "sweep-best-link", text: best ? best.name || `trial ${best.number}` : s.best_run_id }));
    }
    node.dataset.trials = String(data.trials.length);
  }

  function renderHistory(data) {
    const container = FL.clear(document.getElementById("sweep-history"));
    const chart = new FL.LineChart(container, { axis: "step", height: 240 });
    const values = data.trials
      .filter((t) => t.state === "COMPLETE" && typeof t.value === "number" && t.number !== null)
      .map((t) => [t.number, t.value]);
    chart.setSeries([
      { name: `${data.objective} per trial`, color: "#94a3b8", points: values },
      { name: "best so far", color: "#2563eb", points: bestSoFar(data.trials, data.direction) },
    ]);
  }

  function renderParallel(data) {
    const container = FL.clear(document.getElementById("sweep-parallel"));
    const chart = new FL.ParallelCoordinates(container, { height: 300 });
    const done = data.trials.filter((t) => typeof t.value === "number");
    const axes = data.param_names.slice(0, 12).map((k) => ({
      key: `p:${k}`,
      label: k,
      values: Object.fromEntries(done.map((t) => [t.id, t.params[k]])),
    }));
    axes.push({ key: "objective", label: data.objective, values: Object.fromEntries(done.map((t) => [t.id, t.value])) });
    chart.setData({ axes, runs: done.map((t) => ({ id: t.id, name: t.name || `trial ${t.number}` })), colorKey: "objective" });
  }

  function renderTrials(data) {
    const body = FL.clear(document.querySelector("#sweep-trials tbody"));
    if (!data.trials.length) {
      body.appendChild(el("tr", {}, el("td", { colspan: 5, class: "empty", text: "No trials yet." })));
      return;
    }
    for (const t of data.trials) {
      const params = Object.entries(t.params).map(([k, v]) => `${k}=${v}`).join(", ");
      body.appendChild(
        el("tr", { data: { id: t.id, state: t.state } },
          el("td", { class: "num" }, el("a", { href: `/runs/${encodeURIComponent(t.id)}`, text: t.number === null ? "–" : t.number })),
          el("td", {}, el("span", { class: `status status-${t.status.toLowerCase()}`, title: t.error || null, text: t.state })),
          el("td", { class: "num", text: t.value === null ? "" : FL.formatValue(t.value) }),
          el("td", { class: "num", text: t.duration_s === null ? "" : FL.formatDuration(t.duration_s * 1000) }),
          el("td", { class: "break small", text: params }),
        ),
      );
    }
  }

  async function renderImportance() {
    const node = FL.clear(document.getElementById("sweep-importance"));
    try {
      const result = await FL.get("/ui-api/sweep/importance", { run_id: runId });
      document.getElementById("sweep-importance-method").textContent = result.method ? `(${result.method})` : "";
      const entries = Object.entries(result.scores || {});
      if (!entries.length) {
        node.appendChild(el("p", { class: "muted", text: result.note || "Not enough complete trials." }));
        return;
      }
      const table = el("table", { class: "table kv", id: "sweep-importance-table" });
      for (const [name, score] of entries) {
        const bar = el("div", { class: "bar", style: { width: `${Math.round(score * 100)}%`, background: "#2563eb", height: "8px" } });
        table.appendChild(el("tr", { data: { param: name } }, el("td", { text: name }), el("td", { class: "num", text: score.toFixed(3) }), el("td", { style: { width: "50%" } }, bar)));
      }
      node.appendChild(table);
    } catch (error) {
      FL.showError(node, error);
    }
  }

  async function load() {
    try {
      const data = await FL.get("/ui-api/sweep", { run_id: runId });
      renderSummary(data);
      renderTrials(data);
      renderHistory(data);
      renderParallel(data);
      section.dataset.loaded = "1";
      renderImportance();
      return data;
    } catch (error) {
      FL.showError(document.getElementById("sweep-summary"), error);
      return null;
    }
  }

  load().then((data) => {
    // While the sweep runs, refresh every few seconds (the summary is live).
    if (data && data.summary.status === "running") {
      const timer = setInterval(async () => {
        const again = await load();
        if (!again || again.summary.status !== "running") clearInterval(timer);
      }, 5000);
    }
  });
})();
