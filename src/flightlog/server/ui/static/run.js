/* flightlog web UI: the run page. Live status, metrics and charts while the run is RUNNING,
 * the artifact browser with previews, logged models and "Register model". */
"use strict";
(function () {
  const data = FL.initialData();
  const run = data.run;
  const el = FL.el;
  const state = {
    axis: "step",
    status: run.status,
    charts: new Map(), // metric key -> LineChart
    latest: {}, // metric key -> {value, step}
    polling: false,
  };

  /* --- charts --------------------------------------------------------------------------- */
  const chartsNode = document.getElementById("charts");

  function addChart(key) {
    if (state.charts.has(key)) return state.charts.get(key);
    const empty = document.getElementById("no-metrics");
    if (empty) empty.remove();
    const card = el("div", { class: "card chart-card", data: { key } }, el("h3", { class: "chart-title", text: key }));
    // keep charts in key order
    const after = Array.from(chartsNode.children).find((c) => c.dataset.key && c.dataset.key > key);
    chartsNode.insertBefore(card, after || null);
    const chart = new FL.LineChart(card, { axis: state.axis });
    chart.key = key;
    state.charts.set(key, chart);
    return chart;
  }

  async function loadSeries(chart) {
    const axis = state.axis;
    const series = await FL.get("/ui-api/metric-series", {
      run_id: run.id,
      key: chart.key,
      x: axis,
      width: chart.plotWidth(),
    });
    if (axis !== state.axis) return; // the axis changed meanwhile: a newer request follows
    chart.setAxis(axis);
    chart.setSeries([
      { name: chart.key, color: FL.color(0), points: series.points, buckets: series.buckets, total: series.total },
    ]);
    chart.root.dataset.total = String(series.total);
  }

  function loadAllSeries() {
    return FL.pool(Array.from(state.charts.values()).map((c) => () => loadSeries(c)), 4);
  }

  for (const button of document.querySelectorAll(".segmented .seg")) {
    button.addEventListener("click", () => {
      for (const b of document.querySelectorAll(".segmented .seg")) b.classList.toggle("active", b === button);
      state.axis = button.dataset.axis;
      loadAllSeries();
    });
  }

  /* --- live updates ---------------------------------------------------------------------- */
  function setStatus(status) {
    const badge = document.getElementById("run-status");
    badge.textContent = status;
    badge.dataset.status = status;
    badge.className = `status status-${status.toLowerCase()}`;
    state.status = status;
  }

  function updateDuration(info) {
    const node = document.getElementById("run-duration");
    const start = info.start_time ? Number(info.start_time) : null;
    const end = info.end_time ? Number(info.end_time) : null;
    if (!start) return;
    node.textContent = FL.formatDuration((end || Date.now()) - start) + (end ? "" : " (running)");
  }

  function updateMetricsTable(metrics) {
    const body = document.getElementById("metrics-body");
    FL.clear(body);
    const sorted = metrics.slice().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const m of sorted) {
      const value = typeof m.value === "number" ? FL.formatValue(m.value) : String(m.value);
      body.appendChild(el("tr", { data: { key: m.key } }, el("td", { text: m.key }), el("td", { class: "num", text: value }), el("td", { class: "num", text: m.step })));
    }
    if (!sorted.length) body.appendChild(el("tr", {}, el("td", { colspan: 3, class: "empty", text: "No metrics." })));
    document.getElementById("metrics-count").textContent = String(sorted.length);
  }

  async function refresh() {
    const started = performance.now();
    const response = await FL.get("/api/2.0/mlflow/runs/get", { run_id: run.id });
    const info = response.run.info;
    const metrics = (response.run.data && response.run.data.metrics) || [];
    updateMetricsTable(metrics);
    for (const m of metrics) addChart(m.key);
    updateDuration(info);
    await loadAllSeries();
    if (info.status !== state.status) setStatus(info.status);
    return performance.now() - started;
  }

  async function live() {
    if (state.polling) return;
    state.polling = true;
    const indicator = document.getElementById("live-indicator");
    indicator.hidden = false;
    while (state.status === "RUNNING" || state.status === "SCHEDULED") {
      let took = 0;
      try {
        took = await refresh();
      } catch (e) {
        FL.toast(`Live update failed: ${e.message}`, "error");
        took = 5000;
      }
      // Poll about once a second, less often when the server is slow (huge histories).
      const wait = Math.max(1000, 3 * took);
      await new Promise((r) => setTimeout(r, document.hidden ? Math.max(wait, 5000) : wait));
    }
    indicator.hidden = true;
    state.polling = false;
  }

  /* --- artifacts --------------------------------------------------------------------------- */
  const tree = document.getElementById("artifact-tree");
  const preview = document.getElementById("artifact-preview");
  const TEXT_EXT = /\.(txt|log|md|py|cfg|ini|toml|yaml|yml|json|jsonl|csv|tsv|sh|xml|html|htm|js|ts|r|sql|ipynb|gitignore|in|out|err)$/i;
  const TEXT_NAMES = /^(MLmodel|requirements\.txt|conda\.yaml|python_env\.yaml|LICENSE|README|Dockerfile)$/;
  const IMAGE_EXT = /\.(png|jpe?g|gif|webp|bmp|ico)$/i;

  function fileUrl(path, extra) {
    const q = new URLSearchParams(Object.assign({ run_id: run.id, path }, extra || {}));
    return `/ui-api/artifacts/file?${q}`;
  }

  function downloadUrl(path) {
    const q = new URLSearchParams({ run_id: run.id, path });
    return `/ui-api/artifacts/download?${q}`;
  }

  async function listFolder(path, container, depth) {
    let listing;
    try {
      listing = await FL.get("/ui-api/artifacts/list", { run_id: run.id, path });
    } catch (e) {
      container.appendChild(el("div", { class: "error-box", text: e.message }));
      return;
    }
    if (!listing.files.length && depth === 0) {
      container.appendChild(el("p", { class: "muted", text: "No artifacts." }));
      return;
    }
    const list = el("ul", { class: "tree" });
    for (const f of listing.files) {
      const item = el("li", { class: f.is_dir ? "dir" : "file" });
      const label = el("button", { type: "button", class: "tree-item", data: { path: f.path }, title: f.path },
        el("span", { class: "tree-icon", text: f.is_dir ? "▸" : "·" }),
        el("span", { class: "tree-name", text: f.name }),
        f.is_dir ? null : el("span", { class: "tree-size", text: formatSize(f.size) }));
      item.appendChild(label);
      if (f.is_dir) {
        let loaded = false;
        const children = el("div", { class: "tree-children", hidden: true });
        item.appendChild(children);
        label.addEventListener("click", async () => {
          const open = children.hidden;
          children.hidden = !open;
          label.querySelector(".tree-icon").textContent = open ? "▾" : "▸";
          if (open && !loaded) {
            loaded = true;
            await listFolder(f.path, children, depth + 1);
          }
          selectItem(label);
          if (open && children.querySelector('.tree-item[data-path$="/MLmodel"], .tree-item[data-path="MLmodel"]')) showModel(f.path);
        });
      } else {
        label.addEventListener("click", () => {
          selectItem(label);
          showFile(f);
        });
      }
      list.appendChild(item);
    }
    container.appendChild(list);
  }

  function selectItem(label) {
    for (const n of tree.querySelectorAll(".tree-item.selected")) n.classList.remove("selected");
    label.classList.add("selected");
  }

  function formatSize(n) {
    if (n === null || n === undefined) return "";
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
    return `${(n / 1024 / 1024).toFixed(1)} MB`;
  }

  function previewHeader(f, truncated) {
    return el("div", { class: "preview-head" },
      el("strong", { class: "break", text: f.path }),
      el("span", { class: "muted small", text: formatSize(f.size) }),
      truncated ? el("span", { class: "muted small", text: "(showing the beginning)" }) : null,
      el("a", { class: "btn small", href: downloadUrl(f.path), download: f.name, text: "Download" }));
  }

  let previewRequest = 0;

  async function showFile(f) {
    // Only the last file clicked may fill the preview, however long earlier ones take.
    const request = ++previewRequest;
    const current = () => request === previewRequest;
    FL.clear(preview);
    const name = f.name;
    if (name === "MLmodel") {
      const folder = f.path.includes("/") ? f.path.slice(0, f.path.lastIndexOf("/")) : "";
      showModel(folder);
      return;
    }
    preview.appendChild(el("p", { class: "muted", text: "Loading…" }));
    try {
      if (IMAGE_EXT.test(name) || /\.svg$/i.test(name)) {
        const response = await FL.request("GET", fileUrl(f.path));
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
        let blob = await response.blob();
        if (!current()) return;
        // SVG comes back as text (never active content); shown through <img>, it cannot run.
        if (/\.svg$/i.test(name)) blob = new Blob([await blob.text()], { type: "image/svg+xml" });
        const url = URL.createObjectURL(blob);
        FL.clear(preview);
        preview.appendChild(previewHeader(f, false));
        preview.appendChild(el("img", { class: "preview-image", src: url, alt: name }));
        return;
      }
      if (!(TEXT_EXT.test(name) || TEXT_NAMES.test(name)) && f.size > 0) {
        // Unknown type: look at the first bytes and preview it if it is text.
        const head = await FL.request("GET", fileUrl(f.path, { limit: 4096 }));
        const bytes = new Uint8Array(await head.arrayBuffer());
        if (!current()) return;
        if (bytes.includes(0)) {
          FL.clear(preview);
          preview.appendChild(previewHeader(f, false));
          preview.appendChild(el("p", { class: "muted", text: "Binary file: no preview." }));
          return;
        }
      }
      const response = await FL.request("GET", fileUrl(f.path));
      if (!response.ok) {
        let message = `${response.status} ${response.statusText}`;
        try {
          message = (await response.json()).message || message;
        } catch (e) { /* not JSON */ }
        throw new Error(message);
      }
      const truncated = response.headers.get("X-Flightlog-Truncated") === "1";
      const text = await response.text();
      if (!current()) return;
      FL.clear(preview);
      preview.appendChild(previewHeader(f, truncated));
      if (/\.json$/i.test(name) && !truncated) {
        let shown = text;
        try {
          shown = JSON.stringify(JSON.parse(text), null, 2);
        } catch (e) { /* show as is */ }
        preview.appendChild(el("pre", { class: "preview-text", text: shown }));
      } else if (/\.(csv|tsv)$/i.test(name)) {
        preview.appendChild(csvTable(text, /\.tsv$/i.test(name) ? "\t" : ","));
      } else {
        preview.appendChild(el("pre", { class: "preview-text", text }));
      }
    } catch (e) {
      if (!current()) return;
      FL.clear(preview);
      preview.appendChild(el("p", { class: "error-box", text: e.message }));
    }
  }

  /* RFC 4180-style CSV: quoted fields, doubled quotes, newlines inside quotes. */
  function parseCsv(text, sep, maxRows) {
    const rows = [];
    let row = [];
    let field = "";
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else quoted = false;
        } else field += c;
      } else if (c === '"' && field === "") quoted = true;
      else if (c === sep) {
        row.push(field);
        field = "";
      } else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i++;
        row.push(field);
        rows.push(row);
        row = [];
        field = "";
        if (rows.length >= maxRows) return { rows, more: i < text.length - 1 };
      } else field += c;
    }
    if (field !== "" || row.length) {
      row.push(field);
      rows.push(row);
    }
    return { rows, more: false };
  }

  function csvTable(text, sep) {
    const MAX = 1000;
    const { rows, more } = parseCsv(text, sep, MAX + 1);
    const wrap = el("div", { class: "table-wrap preview-table" });
    if (!rows.length) {
      wrap.appendChild(el("p", { class: "muted", text: "Empty file." }));
      return wrap;
    }
    const table = el("table", { class: "table csv-table" });
    const head = el("tr", {}, rows[0].map((h) => el("th", { text: h })));
    table.appendChild(el("thead", {}, head));
    const body = el("tbody");
    for (const r of rows.slice(1, MAX + 1)) body.appendChild(el("tr", {}, r.map((v) => el("td", { text: v }))));
    table.appendChild(body);
    wrap.appendChild(table);
    if (more || rows.length > MAX + 1) wrap.appendChild(el("p", { class: "muted small", text: `Showing the first ${MAX} rows.` }));
    return wrap;
  }

  /* --- logged models ----------------------------------------------------------------------- */
  let registeredNames = null;

  async function modelNames() {
    if (registeredNames) return registeredNames;
    const found = await FL.get("/api/2.0/mlflow/registered-models/search", { max_results: 1000 });
    registeredNames = (found.registered_models || []).map((m) => m.name);
    return registeredNames;
  }

  /* MLflow's column types: "double", {type: "array", items}, {type: "object", properties},
   * {type: "tensor", "tensor-spec": {dtype, shape}}. */
  function colType(c) {
    if (!c || typeof c !== "object") return "";
    if (c.type === "tensor" && c["tensor-spec"]) return `tensor ${c["tensor-spec"].dtype} ${JSON.stringify(c["tensor-spec"].shape)}`;
    if (c.type === "array") return `array<${colType(c.items)}>`;
    if (c.type === "object" && c.properties) return `object{${Object.entries(c.properties).map(([k, v]) => `${k}: ${colType(v)}`).join(", ")}}`;
    return String(c.type || "");
  }

  function signatureTable(title, columns) {
    if (!columns || !columns.length) return null;
    const table = el("table", { class: "table kv small" },
      el("thead", {}, el("tr", {}, el("th", { text: "Name" }), el("th", { text: "Type" }), el("th", { text: "" }))));
    const body = el("tbody");
    columns.forEach((c, i) => {
      const type = colType(c);
      body.appendChild(el("tr", {}, el("td", { text: c.name !== undefined ? c.name : `[${i}]` }), el("td", { class: "mono", text: type }), el("td", { class: "muted", text: c.required === false ? "optional" : "" })));
    });
    table.appendChild(body);
    return el("div", { class: "sig-block" }, el("h4", { text: title }), table);
  }

  function exampleView(example) {
    if (!example) return null;
    const box = el("div", { class: "sig-block example" }, el("h4", { text: "Input example" }));
    if (example.error) {
      box.appendChild(el("p", { class: "muted", text: example.error }));
      return box;
    }
    const json = example.json;
    if (json && Array.isArray(json.columns) && Array.isArray(json.data)) {
      const table = el("table", { class: "table small" },
        el("thead", {}, el("tr", {}, json.columns.map((c) => el("th", { text: c })))));
      const body = el("tbody");
      for (const r of json.data.slice(0, 20)) body.appendChild(el("tr", {}, (Array.isArray(r) ? r : [r]).map((v) => el("td", { text: FL.formatValue(v) }))));
      table.appendChild(body);
      box.appendChild(el("div", { class: "table-wrap" }, table));
      if (json.data.length > 20) box.appendChild(el("p", { class: "muted small", text: `${json.data.length} rows; showing 20.` }));
    } else {
      const text = json !== undefined ? JSON.stringify(json, null, 2) : example.text;
      box.appendChild(el("pre", { class: "preview-text small", text: text.length > 5000 ? text.slice(0, 5000) + "\n…" : text }));
    }
    return box;
  }

  /* which: {path} for a folder of the run's artifacts, {modelId, name} for an MLflow 3 model */
  function modelRef(which) {
    return which.modelId ? { model_id: which.modelId } : { run_id: run.id, path: which.path };
  }

  function registerForm(which, registeredList) {
    const form = el("form", { class: "register-form" });
    const label = which.modelId ? which.name || "model" : which.path.split("/").pop();
    const defaultName = (label || run.name || "model").replace(/\s+/g, "-");
    const group = `mode-${which.modelId || which.path}`;
    const newRadio = el("input", { type: "radio", name: group, value: "new", checked: true });
    const oldRadio = el("input", { type: "radio", name: group, value: "existing" });
    const nameInput = el("input", { type: "text", class: "register-name", value: defaultName, maxlength: 500, "aria-label": "New model name" });
    const select = el("select", { class: "register-existing", "aria-label": "Existing model", disabled: true });
    const button = el("button", { type: "submit", class: "btn primary register-button", text: "Register model" });
    const message = el("p", { class: "register-message small", hidden: true });
    form.appendChild(el("h4", { text: "Register model" }));
    form.appendChild(el("label", { class: "radio" }, newRadio, " new model ", nameInput));
    form.appendChild(el("label", { class: "radio" }, oldRadio, " new version of ", select));
    form.appendChild(button);
    form.appendChild(message);
    const sync = () => {
      nameInput.disabled = !newRadio.checked;
      select.disabled = newRadio.checked;
    };
    newRadio.addEventListener("change", sync);
    oldRadio.addEventListener("change", sync);
    const fillSelect = () =>
      modelNames().then((names) => {
        const chosen = select.value;
        FL.clear(select);
        for (const n of names) select.appendChild(el("option", { value: n, text: n }));
        if (names.includes(chosen)) select.value = chosen;
        oldRadio.disabled = !names.length;
        if (!names.length) select.appendChild(el("option", { value: "", text: "(no registered models yet)" }));
      }).catch(() => {});
    fillSelect();
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const create = newRadio.checked;
      const name = create ? nameInput.value.trim() : select.value;
      if (!name) return;
      button.disabled = true;
      message.hidden = true;
      try {
        const result = await FL.api("POST", "/ui-api/register-model", Object.assign(modelRef(which), { name, create }));
        registeredNames = null;
        fillSelect();
        message.className = "register-message small ok";
        FL.clear(message);
        message.appendChild(document.createTextNode("Registered "));
        message.appendChild(el("a", { href: `/models/${encodeURIComponent(result.name)}`, text: `${result.name} version ${result.version}` }));
        message.hidden = false;
        registeredList.appendChild(el("a", { class: "chip", href: `/models/${encodeURIComponent(result.name)}`, text: `${result.name} v${result.version}` }));
        FL.toast(`Registered ${result.name} version ${result.version}`);
      } catch (e) {
        message.className = "register-message small error-box";
        message.textContent = e.message;
        message.hidden = false;
      } finally {
        button.disabled = false;
      }
    });
    return form;
  }

  async function modelCard(which, card) {
    FL.clear(card);
    const title = which.modelId ? `${which.name || "model"} (${which.modelId})` : which.path || "(artifact root)";
    card.appendChild(el("h3", { text: title }));
    let info;
    try {
      info = await FL.get("/ui-api/artifacts/model", modelRef(which));
    } catch (e) {
      card.appendChild(el("p", { class: "error-box", text: e.message }));
      return;
    }
    card.appendChild(el("div", { class: "chips" },
      Object.keys(info.flavors).map((f) => el("span", { class: "chip flavor", text: f })),
      info.created ? el("span", { class: "muted small", text: `created ${info.created} UTC` }) : null));
    const body = el("div", { class: "model-body" });
    const sig = info.signature;
    const parts = sig
      ? [signatureTable("Inputs", sig.inputs), signatureTable("Outputs", sig.outputs), signatureTable("Params", sig.params)]
      : [el("p", { class: "muted", text: "No signature." })];
    parts.push(exampleView(info.input_example));
    for (const part of parts) if (part) body.appendChild(part);
    card.appendChild(body);
    const registered = el("div", { class: "chips registered" });
    for (const r of info.registered || []) {
      registered.appendChild(el("a", { class: "chip", href: `/models/${encodeURIComponent(r.name)}`, text: `${r.name} v${r.version}` }));
    }
    card.appendChild(el("div", { class: "registered-row" }, el("span", { class: "muted small", text: "Registered as: " }), registered));
    card.appendChild(registerForm(which, registered));
  }

  function showModel(path) {
    previewRequest++;
    FL.clear(preview);
    const card = el("div", { class: "model-card", data: { path } });
    preview.appendChild(card);
    modelCard({ path }, card);
  }

  /* --- start -------------------------------------------------------------------------------- */
  for (const key of data.metric_keys) addChart(key);
  loadAllSeries();
  for (const card of document.querySelectorAll("#models .model-card")) {
    const which = card.dataset.modelId ? { modelId: card.dataset.modelId, name: card.dataset.name } : { path: card.dataset.path };
    modelCard(which, card);
  }
  if (tree) listFolder("", tree, 0);
  if (state.status === "RUNNING" || state.status === "SCHEDULED") live();
})();
