/* flightlog web UI: SVG line charts and parallel coordinates, no dependencies.
 *
 * LineChart draws series of raw points ([x, y], y null for NaN) or of downsampled buckets
 * ([x0, x1, min, max, mean, count]: a min/max band with the mean line through it). Its <svg>
 * carries data-points (raw points drawn, or points the buckets stand for) and data-sampled. */
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const HUGE = 1e300; // +/-inf is stored clipped to +/-1.8e308: keep it out of the axis range

  function s(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceStep(span, count) {
    const raw = span / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const norm = raw / mag;
    const nice = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
    return nice * mag;
  }

  function numberTicks(min, max, count, integer) {
    if (!(max > min)) return [min];
    let step = niceStep(max - min, count);
    if (integer) step = Math.max(1, Math.round(step));
    const out = [];
    for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
      if (out.length > 50) break;
    }
    return out;
  }

  const TIME_STEPS = [
    1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 108e5, 216e5,
    432e5, 864e5, 1728e5, 6048e5,
  ];

  function timeTicks(min, max, count) {
    const span = max - min;
    if (!(span > 0)) return [min];
    const step = TIME_STEPS.find((t) => span / t <= count) || niceStep(span, count);
    const offset = new Date(min).getTimezoneOffset() * 60000; // align ticks to local time
    const out = [];
    for (let v = Math.ceil((min - offset) / step) * step + offset; v <= max; v += step) {
      out.push(v);
      if (out.length > 50) break;
    }
    return out;
  }

  function formatTimeTick(ms, span) {
    const d = new Date(ms);
    const pad = (n) => String(n).padStart(2, "0");
    const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
    if (span < 3 * 60e3) return `${hm}:${pad(d.getSeconds())}`;
    if (span < 2 * 864e5) return hm;
    return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
  }

  function formatTick(v) {
    const a = Math.abs(v);
    if (a === 0) return "0";
    if (a >= 1e6 || a < 1e-3) return v.toExponential(1);
    return String(Number(v.toPrecision(4)));
  }

  function extent(values) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of values) {
      if (v === null || v === undefined || !isFinite(v) || Math.abs(v) > HUGE) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    return [lo, hi];
  }

  function clampY(v) {
    return Math.max(-HUGE, Math.min(HUGE, v));
  }

  /* Index of the item whose x is nearest to `x` in a list sorted by x. */
  function nearest(items, x, xOf) {
    let lo = 0;
    let hi = items.length - 1;
    if (hi < 0) return -1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xOf(items[mid]) < x) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && Math.abs(xOf(items[lo - 1]) - x) <= Math.abs(xOf(items[lo]) - x)) return lo - 1;
    return lo;
  }

  const bucketX = (b) => (b[0] + b[1]) / 2;
  const pointX = (p) => p[0];

  class LineChart {
    /* options: {axis: "step"|"time", height, title} */
    constructor(container, options) {
      this.options = Object.assign({ axis: "step", height: 220 }, options || {});
      this.series = [];
      this.root = FL.el("div", { class: "chart" });
      this.tooltip = FL.el("div", { class: "chart-tooltip", hidden: true });
      this.root.appendChild(this.tooltip);
      container.appendChild(this.root);
      this.lastWidth = 0;
      if (window.ResizeObserver) {
        this.observer = new ResizeObserver(() => {
          if (Math.abs(this.root.clientWidth - this.lastWidth) > 4) this.render();
        });
        this.observer.observe(this.root);
      }
    }

    /* The plot area's width in pixels: what the server downsamples to. */
    plotWidth() {
      return Math.max(50, Math.round((this.root.clientWidth || 400) - 64));
    }

    setAxis(axis) {
      this.options.axis = axis;
    }

    /* series: [{name, color, points?, buckets?, total}] */
    setSeries(series) {
      this.series = series;
      this.render();
    }

    render() {
      const width = Math.max(120, this.root.clientWidth || 400);
      this.lastWidth = width;
      const height = this.options.height;
      const m = { left: 56, right: 12, top: 10, bottom: 26 };
      const pw = width - m.left - m.right;
      const ph = height - m.top - m.bottom;
      const old = this.root.querySelector("svg");
      if (old) old.remove();
      const svg = s("svg", {
        width,
        height,
        viewBox: `0 0 ${width} ${height}`,
        class: "chart-svg",
        role: "img",
      });
      let total = 0;
      let sampled = false;
      const xs = [];
      const ys = [];
      for (const series of this.series) {
        if (series.buckets) {
          sampled = true;
          total += series.total || 0;
          for (const b of series.buckets) {
            xs.push(b[0], b[1]);
            ys.push(b[2], b[3]);
          }
        } else if (series.points) {
          total += series.points.length;
          for (const p of series.points) {
            xs.push(p[0]);
            ys.push(p[1]);
          }
        }
      }
      svg.dataset.points = String(total);
      svg.dataset.sampled = sampled ? "1" : "0";
      svg.dataset.series = String(this.series.length);
      let [x0, x1] = extent(xs);
      let [y0, y1] = extent(ys);
      if (!isFinite(x0) || !isFinite(y0)) {
        svg.appendChild(s("text", { x: width / 2, y: height / 2, class: "chart-empty", "text-anchor": "middle" }, "no data yet"));
        this.root.insertBefore(svg, this.tooltip);
        return;
      }
      if (x1 === x0) {
        x0 -= this.options.axis === "time" ? 1000 : 1;
        x1 += this.options.axis === "time" ? 1000 : 1;
      }
      if (y1 === y0) {
        const pad = Math.abs(y0) * 0.1 || 1;
        y0 -= pad;
        y1 += pad;
      } else {
        const pad = (y1 - y0) * 0.05;
        y0 -= pad;
        y1 += pad;
      }
      const sx = (x) => m.left + ((x - x0) / (x1 - x0)) * pw;
      const sy = (y) => m.top + (1 - (clampY(y) - y0) / (y1 - y0)) * ph;

      // grid and axes
      const grid = s("g", { class: "chart-grid" });
      for (const t of numberTicks(y0, y1, Math.max(2, Math.floor(ph / 40)))) {
        const y = sy(t);
        grid.appendChild(s("line", { x1: m.left, x2: m.left + pw, y1: y, y2: y }));
        grid.appendChild(s("text", { x: m.left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, formatTick(t)));
      }
      const xCount = Math.max(2, Math.floor(pw / 90));
      const timeAxis = this.options.axis === "time";
      const xTicks = timeAxis ? timeTicks(x0, x1, xCount) : numberTicks(x0, x1, xCount, true);
      for (const t of xTicks) {
        const x = sx(t);
        if (x < m.left - 0.5 || x > m.left + pw + 0.5) continue;
        grid.appendChild(s("line", { x1: x, x2: x, y1: m.top, y2: m.top + ph, class: "vgrid" }));
        const label = timeAxis ? formatTimeTick(t, x1 - x0) : formatTick(t);
        grid.appendChild(s("text", { x, y: height - 8, "text-anchor": "middle", class: "tick" }, label));
      }
      grid.appendChild(s("rect", { x: m.left, y: m.top, width: pw, height: ph, class: "chart-frame" }));
      svg.appendChild(grid);

      // data
      const clipId = `clip-${Math.random().toString(36).slice(2)}`;
      const defs = s("defs");
      const clip = s("clipPath", { id: clipId });
      clip.appendChild(s("rect", { x: m.left, y: m.top - 2, width: pw, height: ph + 4 }));
      defs.appendChild(clip);
      svg.appendChild(defs);
      const plot = s("g", { "clip-path": `url(#${clipId})` });
      for (const series of this.series) {
        const color = series.color || "#2563eb";
        if (series.buckets && series.buckets.length) {
          const upper = series.buckets.map((b) => `${sx(bucketX(b)).toFixed(1)},${sy(b[3]).toFixed(1)}`);
          const lower = series.buckets.map((b) => `${sx(bucketX(b)).toFixed(1)},${sy(b[2]).toFixed(1)}`).reverse();
          plot.appendChild(s("polygon", { points: upper.concat(lower).join(" "), fill: color, class: "band" }));
          const d = series.buckets.map((b, i) => `${i ? "L" : "M"}${sx(bucketX(b)).toFixed(1)} ${sy(b[4]).toFixed(1)}`).join("");
          plot.appendChild(s("path", { d, stroke: color, class: "line", "data-buckets": series.buckets.length }));
        } else if (series.points && series.points.length) {
          let d = "";
          let pen = false;
          for (const p of series.points) {
            if (p[1] === null || p[1] === undefined) {
              pen = false;
              continue;
            }
            d += `${pen ? "L" : "M"}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`;
            pen = true;
          }
          plot.appendChild(s("path", { d, stroke: color, class: "line", "data-points": series.points.length }));
          if (series.points.length <= 60) {
            for (const p of series.points) {
              if (p[1] === null || p[1] === undefined) continue;
              plot.appendChild(s("circle", { cx: sx(p[0]).toFixed(1), cy: sy(p[1]).toFixed(1), r: 2.5, fill: color, class: "dot" }));
            }
          }
        }
      }
      svg.appendChild(plot);

      // hover: a crosshair and the nearest value of each series
      const cross = s("line", { y1: m.top, y2: m.top + ph, class: "crosshair", visibility: "hidden" });
      svg.appendChild(cross);
      const overlay = s("rect", { x: m.left, y: m.top, width: pw, height: ph, class: "overlay" });
      overlay.addEventListener("mousemove", (ev) => {
        const box = svg.getBoundingClientRect();
        const px = ev.clientX - box.left;
        const x = x0 + ((px - m.left) / pw) * (x1 - x0);
        const lines = [];
        let snapX = null;
        for (const series of this.series) {
          if (series.buckets && series.buckets.length) {
            const b = series.buckets[nearest(series.buckets, x, bucketX)];
            snapX = snapX === null ? bucketX(b) : snapX;
            lines.push([series, `${FL.formatValue(b[4])}  (min ${FL.formatValue(b[2])}, max ${FL.formatValue(b[3])}, ${b[5]} pts)`, b[0] === b[1] ? b[0] : null, b]);
          } else if (series.points && series.points.length) {
            const p = series.points[nearest(series.points, x, pointX)];
            snapX = snapX === null ? p[0] : snapX;
            lines.push([series, p[1] === null ? "NaN" : FL.formatValue(p[1]), p[0], null]);
          }
        }
        if (!lines.length) return;
        cross.setAttribute("x1", sx(snapX));
        cross.setAttribute("x2", sx(snapX));
        cross.setAttribute("visibility", "visible");
        FL.clear(this.tooltip);
        const head = timeAxis ? FL.formatTime(snapX) : `step ${Math.round(snapX)}`;
        this.tooltip.appendChild(FL.el("div", { class: "tt-head", text: head }));
        for (const [series, text] of lines.slice(0, 12)) {
          const row = FL.el("div", { class: "tt-row" });
          row.appendChild(FL.el("span", { class: "swatch", style: { background: series.color } }));
          row.appendChild(FL.el("span", { class: "tt-name", text: series.name }));
          row.appendChild(FL.el("span", { class: "tt-value", text }));
          this.tooltip.appendChild(row);
        }
        this.tooltip.hidden = false;
        const left = Math.min(px + 12, width - this.tooltip.offsetWidth - 4);
        this.tooltip.style.left = `${Math.max(0, left)}px`;
        this.tooltip.style.top = `${m.top}px`;
      });
      overlay.addEventListener("mouseleave", () => {
        cross.setAttribute("visibility", "hidden");
        this.tooltip.hidden = true;
      });
      svg.appendChild(overlay);
      this.root.insertBefore(svg, this.tooltip);
    }
  }

  /* A colour between blue (low) and orange-red (high) for t in [0, 1]. */
  function heat(t) {
    const stops = [
      [37, 99, 235],
      [20, 184, 166],
      [234, 179, 8],
      [220, 38, 38],
    ];
    const x = (isFinite(t) ? Math.max(0, Math.min(1, t)) : 0.5) * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(x));
    const f = x - i;
    const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  class ParallelCoordinates {
    constructor(container, options) {
      this.options = Object.assign({ height: 320 }, options || {});
      this.root = FL.el("div", { class: "chart parallel" });
      this.tooltip = FL.el("div", { class: "chart-tooltip", hidden: true });
      this.root.appendChild(this.tooltip);
      container.appendChild(this.root);
      this.data = null;
      if (window.ResizeObserver) {
        let last = 0;
        new ResizeObserver(() => {
          if (this.data && Math.abs(this.root.clientWidth - last) > 4) {
            last = this.root.clientWidth;
            this.render();
          }
        }).observe(this.root);
      }
    }

    /* data: {axes: [{key, label, values: {runId: value}}], runs: [{id, name}], colorKey} */
    setData(data) {
      this.data = data;
      this.render();
    }

    render() {
      const old = this.root.querySelector("svg");
      if (old) old.remove();
      const { axes, runs, colorKey } = this.data;
      const width = Math.max(300, this.root.clientWidth || 600);
      const height = this.options.height;
      const m = { left: 40, right: 70, top: 34, bottom: 16 };
      const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "chart-svg" });
      if (!axes.length || !runs.length) {
        svg.appendChild(s("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "chart-empty" }, "nothing to compare: no params or metrics"));
        this.root.insertBefore(svg, this.tooltip);
        svg.dataset.lines = "0";
        return;
      }
      const ph = height - m.top - m.bottom;
      const gap = axes.length > 1 ? (width - m.left - m.right) / (axes.length - 1) : 0;
      const scales = axes.map((axis, i) => {
        const raw = runs.map((r) => axis.values[r.id]).filter((v) => v !== undefined && v !== null && v !== "");
        const numbers = raw.map((v) => (typeof v === "number" ? v : Number(v)));
        const numeric = raw.length > 0 && numbers.every((v) => isFinite(v));
        const x = m.left + i * gap + (axes.length === 1 ? (width - m.left - m.right) / 2 : 0);
        if (numeric) {
          let [lo, hi] = extent(numbers);
          // Values spanning orders of magnitude (learning rates) read better on a log axis.
          const log = lo > 0 && hi / lo >= 20;
          const t = log ? Math.log10 : (v) => v;
          let tlo = t(lo);
          let thi = t(hi);
          if (tlo === thi) {
            tlo -= 1;
            thi += 1;
          }
          const inset = 10; // keep lines off the axis ends
          return {
            x,
            numeric: true,
            log,
            lo,
            hi,
            y: (v) => {
              const n = typeof v === "number" ? v : Number(v);
              if (!isFinite(n) || (log && n <= 0)) return null;
              return m.top + inset + (1 - (t(n) - tlo) / (thi - tlo)) * (ph - 2 * inset);
            },
          };
        }
        const cats = Array.from(new Set(raw.map(String))).sort();
        const step = cats.length > 1 ? ph / (cats.length - 1) : 0;
        return {
          x,
          numeric: false,
          cats,
          y: (v) => {
            const k = cats.indexOf(String(v));
            return k < 0 ? null : m.top + (cats.length > 1 ? k * step : ph / 2);
          },
        };
      });
      const colorAxis = axes.findIndex((a) => a.key === colorKey);
      const colorScale = colorAxis >= 0 && scales[colorAxis].numeric ? scales[colorAxis] : null;

      const lines = s("g", { class: "pc-lines" });
      let drawn = 0;
      for (const run of runs) {
        let d = "";
        let pen = false;
        axes.forEach((axis, i) => {
          const y = scales[i].y(axis.values[run.id]);
          if (y === null || axis.values[run.id] === undefined) {
            pen = false;
            return;
          }
          d += `${pen ? "L" : "M"}${scales[i].x.toFixed(1)} ${y.toFixed(1)}`;
          pen = true;
        });
        if (!d) continue;
        drawn++;
        let color = "#64748b";
        if (colorScale) {
          const v = Number(axes[colorAxis].values[run.id]);
          const span = colorScale.hi - colorScale.lo;
          if (isFinite(v)) color = heat(span > 0 ? (v - colorScale.lo) / span : 0.5);
        }
        const path = s("path", { d, stroke: color, class: "pc-line", "data-run-id": run.id });
        path.addEventListener("mouseenter", (ev) => {
          path.classList.add("hover");
          lines.appendChild(path); // on top
          FL.clear(this.tooltip);
          this.tooltip.appendChild(FL.el("div", { class: "tt-head", text: run.name || run.id }));
          for (const axis of axes) {
            const v = axis.values[run.id];
            this.tooltip.appendChild(FL.el("div", { class: "tt-row" }, FL.el("span", { class: "tt-name", text: axis.label }), FL.el("span", { class: "tt-value", text: v === undefined ? "—" : FL.formatValue(v) })));
          }
          this.tooltip.hidden = false;
          const box = this.root.getBoundingClientRect();
          this.tooltip.style.left = `${Math.min(ev.clientX - box.left + 12, width - 220)}px`;
          this.tooltip.style.top = `${m.top}px`;
        });
        path.addEventListener("mouseleave", () => {
          path.classList.remove("hover");
          this.tooltip.hidden = true;
        });
        path.addEventListener("click", () => (location.href = `/runs/${encodeURIComponent(run.id)}`));
        lines.appendChild(path);
      }
      svg.dataset.lines = String(drawn);
      svg.appendChild(lines);

      axes.forEach((axis, i) => {
        const sc = scales[i];
        const g = s("g", { class: "pc-axis" });
        g.appendChild(s("line", { x1: sc.x, x2: sc.x, y1: m.top, y2: m.top + ph }));
        const title = s("text", { x: sc.x, y: 14, "text-anchor": "middle", class: "pc-title" }, axis.label.length > 22 ? axis.label.slice(0, 21) + "…" : axis.label);
        title.appendChild(s("title", {}, axis.label));
        g.appendChild(title);
        let labels;
        if (sc.numeric && sc.log) {
          labels = [];
          for (let e = Math.floor(Math.log10(sc.lo)); e <= Math.ceil(Math.log10(sc.hi)); e++) {
            const v = Math.pow(10, e);
            if (v >= sc.lo * 0.999 && v <= sc.hi * 1.001) labels.push([v, formatTick(v)]);
          }
          for (const v of [sc.lo, sc.hi]) if (!labels.some((l) => Math.abs(Math.log10(l[0] / v)) < 0.05)) labels.push([v, formatTick(v)]);
        } else if (sc.numeric) {
          labels = (sc.lo === sc.hi ? [sc.lo] : numberTicks(sc.lo, sc.hi, 5)).map((v) => [v, formatTick(v)]);
        } else {
          labels = sc.cats.slice(0, 20).map((c) => [c, c.length > 14 ? c.slice(0, 13) + "…" : c]);
        }
        for (const [v, label] of labels) {
          const y = sc.y(v);
          if (y === null) continue;
          g.appendChild(s("line", { x1: sc.x - 3, x2: sc.x + 3, y1: y, y2: y }));
          g.appendChild(s("text", { x: sc.x + 6, y: y + 4, class: "tick" }, label));
        }
        svg.appendChild(g);
      });
      this.root.insertBefore(svg, this.tooltip);
    }
  }

  FL.LineChart = LineChart;
  FL.ParallelCoordinates = ParallelCoordinates;
})();
