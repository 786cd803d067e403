/* flightlog web UI: helpers shared by every page.
 *
 * Rule for all page scripts: user data (names, params, tags, values) only ever reaches the
 * page through textContent or setAttribute, never through innerHTML; FL.el enforces it. */
"use strict";

const FL = (window.FL = {});

/* el("a", {class: "x", href: "/y", text: "label", on: {click: fn}, data: {id: 1}}, child...) */
FL.el = function (tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "class") node.className = value;
    else if (name === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else if (name === "data") for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    else if (name === "style") Object.assign(node.style, value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
};

FL.clear = function (node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
};

FL.initialData = function () {
  const node = document.getElementById("initial-data");
  return node ? JSON.parse(node.textContent) : {};
};

/* Every request from the UI carries X-Flightlog-UI: with it, the session cookie may also
 * authenticate writes (see flightlog/server/auth.py). */
FL.request = async function (method, path, body) {
  const options = { method, headers: { "X-Flightlog-UI": "1" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401) {
    const next = location.pathname + location.search;
    location.href = "/login?next=" + encodeURIComponent(next);
    throw new Error("Not signed in");
  }
  return response;
};

FL.api = async function (method, path, body) {
  const response = await FL.request(method, path, body);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : {};
  } catch (e) {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.message) || `${response.status} ${response.statusText}`;
    const error = new Error(message);
    error.status = response.status;
    error.code = data && data.error_code;
    throw error;
  }
  return data;
};

FL.get = function (path, params) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") query.append(k, v);
  }
  const qs = query.toString();
  return FL.api("GET", qs ? `${path}?${qs}` : path);
};

/* --- formatting --------------------------------------------------------------------------- */
FL.formatTime = function (ms) {
  if (ms === null || ms === undefined || ms === "") return "";
  const d = new Date(Number(ms));
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

FL.formatRelative = function (ms) {
  if (ms === null || ms === undefined || ms === "") return "";
  const seconds = (Date.now() - Number(ms)) / 1000;
  if (seconds < 0) return FL.formatTime(ms);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  if (seconds < 86400 * 30) return `${Math.floor(seconds / 86400)} days ago`;
  return FL.formatTime(ms).slice(0, 10);
};

FL.formatDuration = function (ms) {
  if (ms === null || ms === undefined || isNaN(ms) || ms < 0) return "";
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
};

FL.formatValue = function (v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v; // "NaN", "Infinity", or a param value
  if (!isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
};

FL.runDuration = function (run) {
  if (!run.start) return null;
  const end = run.end || (run.status === "RUNNING" ? Date.now() : null);
  return end ? end - run.start : null;
};

FL.localizeTimes = function (root) {
  for (const node of (root || document).querySelectorAll("time[data-ms]")) {
    const ms = node.dataset.ms;
    if (!ms) continue;
    node.title = new Date(Number(ms)).toISOString();
    node.textContent = node.dataset.relative ? FL.formatRelative(ms) : FL.formatTime(ms);
  }
};

/* A key as the search grammar wants it: plain when it can be, else in backticks. */
FL.searchKey = function (kind, key) {
  return /^[A-Za-z0-9_.\/:-]+$/.test(key) ? `${kind}.${key}` : `${kind}.\`${key}\``;
};

FL.palette = [
  "#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
  "#ea580c", "#4f46e5", "#0d9488", "#be123c", "#a16207", "#9333ea", "#0369a1", "#15803d",
];
FL.color = (i) => FL.palette[i % FL.palette.length];

let toastTimer = null;
FL.toast = function (message, kind) {
  const node = document.getElementById("toast");
  if (!node) return;
  node.textContent = message;
  node.className = "toast" + (kind ? ` toast-${kind}` : "");
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (node.hidden = true), kind === "error" ? 8000 : 4000);
};

FL.showError = function (node, error) {
  if (!node) return FL.toast(String(error && error.message ? error.message : error), "error");
  node.textContent = error ? String(error.message || error) : "";
  node.hidden = !error;
};

/* Run async tasks at most `limit` at a time (browsers queue past ~6 per host anyway). */
FL.pool = async function (tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  async function worker() {
    while (next < tasks.length) {
      const i = next++;
      try {
        results[i] = await tasks[i]();
      } catch (e) {
        results[i] = e;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
};

document.addEventListener("DOMContentLoaded", () => FL.localizeTimes(document));
