/* flightlog web UI: an experiment's runs table. Server-side search (MLflow's filter grammar)
 * and sorting, nested runs under their parent, column chooser, selection for Compare. */
"use strict";
(function () {
  const data = FL.initialData();
  const el = FL.el;
  const experimentId = data.experiment.id;
  const storageKey = `flightlog.columns.${experimentId}`;
  const BASE = [
    { id: "name", label: "Run name", order: "attributes.run_name" },
    { id: "status", label: "Status", order: "attributes.status" },
    { id: "start", label: "Started", order: "attributes.start_time" },
    { id: "duration", label: "Duration", order: null }, // sorted here: not a search attribute
  ];
  const state = {
    filter: data.filter || "",
    view: data.view || "active",
    sort: parseOrder(data.order_by),
    runs: data.runs || [],
    token: data.next_page_token,
    paramKeys: data.param_keys || [],
    metricKeys: data.metric_keys || [],
    selected: new Set(),
    expanded: new Set(),
    columns: loadColumns(),
  };

  function loadColumns() {
    try {
      const saved = JSON.parse(localStorage.getItem(storageKey) || "null");
      if (saved && Array.isArray(saved.params) && Array.isArray(saved.metrics)) return saved;
    } catch (e) { /* ignore */ }
    return { params: (data.param_keys || []).slice(0, 6), metrics: (data.metric_keys || []).slice(0, 6) };
  }

  function saveColumns() {
    try {
      localStorage.setItem(storageKey, JSON.stringify(state.columns));
    } catch (e) { /* private mode */ }
  }

  /* "metrics.`val acc` DESC" -> {col: "m:val acc", asc: false} */
  function parseOrder(text) {
    if (!text) return { col: null, asc: false };
    const match = /^\s*(attributes|params|metrics)\.(?:`([^`]+)`|([^\s]+))\s*(ASC|DESC)?\s*$/i.exec(text);
    if (!match) return { col: null, asc: false, raw: text };
    const kind = match[1].toLowerCase();
    const key = match[2] || match[3];
    const asc = !match[4] || match[4].toUpperCase() === "ASC";
    if (kind === "params") return { col: `p:${key}`, asc };
    if (kind === "metrics") return { col: `m:${key}`, asc };
    const base = BASE.find((b) => b.order === `attributes.${key}`);
    return { col: base ? base.id : null, asc };
  }

  function orderBy() {
    const { col, asc } = state.sort;
    if (!col) return state.sort.raw || "";
    let expr = null;
    if (col.startsWith("p:")) expr = FL.searchKey("params", col.slice(2));
    else if (col.startsWith("m:")) expr = FL.searchKey("metrics", col.slice(2));
    else expr = (BASE.find((b) => b.id === col) || {}).order;
    return expr ? `${expr} ${asc ? "ASC" : "DESC"}` : "";
  }

  function syncUrl() {
    const q = new URLSearchParams();
    if (state.filter) q.set("filter", state.filter);
    const order = orderBy();
    if (order) q.set("order_by", order);
    if (state.view !== "active") q.set("view", state.view);
    const qs = q.toString();
    history.replaceState(null, "", location.pathname + (qs ? `?${qs}` : ""));
  }

  let latestRequest = 0;

  async function load(append) {
    // The newest request wins: an answer to an older one (superseded by a quicker click on
    // another column, say) is dropped instead of overwriting the table.
    const request = ++latestRequest;
    const errorBox = document.getElementById("runs-error");
    try {
      const page = await FL.get("/ui-api/runs", {
        experiment_id: experimentId,
        filter: state.filter,
        order_by: orderBy(),
        view: state.view,
        page_token: append ? state.token : "",
        max_results: data.page_size || 100,
      });
      if (request !== latestRequest) return;
      state.runs = append ? state.runs.concat(page.runs) : page.runs;
      state.token = page.next_page_token;
      FL.showError(errorBox, null);
    } catch (e) {
      if (request !== latestRequest) return;
      if (!append) state.runs = [];
      state.token = null;
      FL.showError(errorBox, e);
    }
    render();
  }

  /* --- table ------------------------------------------------------------------------------- */
  function columnList() {
    const cols = BASE.map((b) => ({ id: b.id, label: b.label, kind: "base" }));
    for (const k of state.columns.params) cols.push({ id: `p:${k}`, label: k, kind: "param", key: k });
    for (const k of state.columns.metrics) cols.push({ id: `m:${k}`, label: k, kind: "metric", key: k });
    return cols;
  }

  function sortedRuns() {
    if (state.sort.col !== "duration") return state.runs;
    const sign = state.sort.asc ? 1 : -1;
    const d = (r) => FL.runDuration(r);
    return state.runs.slice().sort((a, b) => {
      const x = d(a);
      const y = d(b);
      if (x === null) return y === null ? 0 : 1;
      if (y === null) return -1;
      return sign * (x - y);
    });
  }

  function headerCell(col) {
    const active = state.sort.col === col.id;
    const arrow = active ? (state.sort.asc ? " ▲" : " ▼") : "";
    const th = el("th", { class: `col-${col.kind}${col.kind === "metric" ? " num" : ""}`, data: { col: col.id }, title: col.kind === "base" ? null : `${col.kind}: ${col.label}` });
    th.appendChild(el("button", { type: "button", class: `sort${active ? " active" : ""}`, text: col.label + arrow, on: { click: () => sortBy(col.id) } }));
    return th;
  }

  function sortBy(colId) {
    if (state.sort.col === colId) state.sort = { col: colId, asc: !state.sort.asc };
    else state.sort = { col: colId, asc: colId === "name" };
    syncUrl();
    if (colId === "duration") render();
    else load(false);
  }

  function render() {
    const table = document.getElementById("runs-table");
    const cols = columnList();
    const thead = FL.clear(table.querySelector("thead"));
    const groups = el("tr", { class: "group-row" }, el("th", { colspan: 1 + BASE.length }));
    if (state.columns.params.length) groups.appendChild(el("th", { colspan: state.columns.params.length, class: "group-param", text: "Parameters" }));
    if (state.columns.metrics.length) groups.appendChild(el("th", { colspan: state.columns.metrics.length, class: "group-metric", text: "Metrics" }));
    thead.appendChild(groups);
    const allBox = el("input", { type: "checkbox", "aria-label": "Select all runs", on: { change: (ev) => selectAll(ev.target.checked) } });
    allBox.checked = state.runs.length > 0 && state.runs.every((r) => state.selected.has(r.id));
    thead.appendChild(el("tr", {}, el("th", { class: "check" }, allBox), cols.map(headerCell)));

    const tbody = FL.clear(table.querySelector("tbody"));
    const runs = sortedRuns();
    const byId = new Map(runs.map((r) => [r.id, r]));
    const children = new Map();
    const roots = [];
    for (const r of runs) {
      if (r.parent && r.parent !== r.id && byId.has(r.parent)) {
        if (!children.has(r.parent)) children.set(r.parent, []);
        children.get(r.parent).push(r);
      } else roots.push(r);
    }
    const seen = new Set();
    const addRow = (r, depth) => {
      if (seen.has(r.id) || depth > 12) return;
      seen.add(r.id);
      const kids = children.get(r.id) || [];
      tbody.appendChild(row(r, depth, kids.length, cols));
      if (kids.length && state.expanded.has(r.id)) for (const k of kids) addRow(k, depth + 1);
    };
    for (const r of roots) addRow(r, 0);
    if (!runs.length) {
      const message = state.filter ? "No runs match this filter." : "No runs in this experiment yet.";
      tbody.appendChild(el("tr", {}, el("td", { colspan: cols.length + 1, class: "empty", text: message })));
    }
    const summary = document.getElementById("runs-summary");
    summary.textContent = `${state.runs.length} run${state.runs.length === 1 ? "" : "s"}${state.token ? " loaded, more available" : ""}` +
      (state.sort.col === "duration" && state.token ? " · duration sorts the loaded runs" : "");
    document.getElementById("load-more").hidden = !state.token;
    updateCompare();
    table.dataset.ready = "1";
    if (!window.__flightlogFirstRender) {
      window.__flightlogFirstRender = performance.now();
      performance.mark("flightlog-runs-table");
    }
  }

  function row(r, depth, childCount, cols) {
    const tr = el("tr", { class: `run-row depth-${Math.min(depth, 6)}${r.deleted ? " deleted" : ""}`, data: { runId: r.id, depth, parent: r.parent || "" } });
    const box = el("input", { type: "checkbox", class: "select-run", "aria-label": `Select ${r.name || r.id}` });
    box.checked = state.selected.has(r.id);
    box.addEventListener("change", () => {
      if (box.checked) state.selected.add(r.id);
      else state.selected.delete(r.id);
      updateCompare();
    });
    tr.appendChild(el("td", { class: "check" }, box));
    for (const col of cols) {
      if (col.id === "name") {
        const cell = el("td", { class: "name-cell" });
        cell.style.paddingLeft = `${8 + depth * 22}px`;
        if (childCount) {
          const open = state.expanded.has(r.id);
          cell.appendChild(el("button", { type: "button", class: "toggle", "aria-expanded": open ? "true" : "false", title: open ? "Hide child runs" : "Show child runs", text: `${open ? "▾" : "▸"} ${childCount}`, on: { click: () => toggle(r.id) } }));
        } else if (depth) cell.appendChild(el("span", { class: "child-mark", text: "└" }));
        cell.appendChild(el("a", { class: "run-link", href: `/runs/${encodeURIComponent(r.id)}`, text: r.name || r.id }));
        tr.appendChild(cell);
      } else if (col.id === "status") {
        tr.appendChild(el("td", {}, el("span", { class: `status status-${String(r.status).toLowerCase()}`, text: r.status })));
      } else if (col.id === "start") {
        tr.appendChild(el("td", { class: "nowrap", title: r.start ? new Date(r.start).toISOString() : "", text: FL.formatTime(r.start) }));
      } else if (col.id === "duration") {
        tr.appendChild(el("td", { class: "nowrap", text: FL.formatDuration(FL.runDuration(r)) }));
      } else if (col.kind === "param") {
        const v = r.params[col.key];
        tr.appendChild(el("td", { class: "param", title: v, text: v === undefined ? "" : v }));
      } else {
        const v = r.metrics[col.key];
        tr.appendChild(el("td", { class: "num metric", data: { key: col.key }, text: v === undefined ? "" : FL.formatValue(v) }));
      }
    }
    return tr;
  }

  function toggle(id) {
    if (state.expanded.has(id)) state.expanded.delete(id);
    else state.expanded.add(id);
    render();
  }

  function selectAll(on) {
    for (const r of state.runs) {
      if (on) state.selected.add(r.id);
      else state.selected.delete(r.id);
    }
    render();
  }

  function updateCompare() {
    const button = document.getElementById("compare-button");
    const n = state.selected.size;
    button.disabled = n < 2;
    button.textContent = n ? `Compare (${n})` : "Compare";
  }

  /* --- column chooser ------------------------------------------------------------------------ */
  function renderColumnsPanel() {
    const panel = FL.clear(document.getElementById("columns-panel"));
    const group = (title, keys, chosen, kind) => {
      const box = el("div", { class: "col-group" }, el("div", { class: "col-group-head" },
        el("strong", { text: title }),
        el("button", { type: "button", class: "btn small link", text: "all", on: { click: () => { state.columns[kind] = keys.slice(); saveColumns(); renderColumnsPanel(); render(); } } }),
        el("button", { type: "button", class: "btn small link", text: "none", on: { click: () => { state.columns[kind] = []; saveColumns(); renderColumnsPanel(); render(); } } })));
      if (!keys.length) box.appendChild(el("p", { class: "muted small", text: "none logged" }));
      for (const key of keys) {
        const input = el("input", { type: "checkbox", value: key });
        input.checked = chosen.includes(key);
        input.addEventListener("change", () => {
          const set = new Set(state.columns[kind]);
          if (input.checked) set.add(key);
          else set.delete(key);
          state.columns[kind] = keys.filter((k) => set.has(k));
          saveColumns();
          render();
        });
        box.appendChild(el("label", { class: "col-option" }, input, el("span", { text: key })));
      }
      return box;
    };
    panel.appendChild(group("Parameters", state.paramKeys, state.columns.params, "params"));
    panel.appendChild(group("Metrics", state.metricKeys, state.columns.metrics, "metrics"));
  }

  document.getElementById("columns-button").addEventListener("click", (ev) => {
    ev.stopPropagation();
    const panel = document.getElementById("columns-panel");
    panel.hidden = !panel.hidden;
    if (!panel.hidden) renderColumnsPanel();
  });
  document.addEventListener("click", (ev) => {
    const panel = document.getElementById("columns-panel");
    if (!panel.hidden && !panel.contains(ev.target)) panel.hidden = true;
  });

  /* --- toolbar ------------------------------------------------------------------------------- */
  const filterInput = document.getElementById("filter");
  document.getElementById("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.filter = filterInput.value.trim();
    syncUrl();
    load(false);
  });
  document.getElementById("clear-filter").addEventListener("click", () => {
    filterInput.value = "";
    state.filter = "";
    syncUrl();
    load(false);
  });
  const viewSelect = document.getElementById("view");
  viewSelect.value = state.view;
  viewSelect.addEventListener("change", () => {
    state.view = viewSelect.value;
    syncUrl();
    load(false);
  });
  document.getElementById("refresh").addEventListener("click", () => load(false));
  document.getElementById("load-more").addEventListener("click", () => load(true));
  document.getElementById("compare-button").addEventListener("click", () => {
    const ids = state.runs.map((r) => r.id).filter((id) => state.selected.has(id));
    location.href = `/compare?runs=${ids.map(encodeURIComponent).join(",")}`;
  });

  if (data.error) FL.showError(document.getElementById("runs-error"), new Error(data.error));
  render();
})();
