// The viewer page's own code: what Bokeh does not do. Bokeh draws the figure, zooms and
// pans it; this places each lane in its band of the y axis, asks the server for the
// visible range at the plot's width (min/max envelopes, raw samples once they fit) and
// shows the values under the cursor. In a snapshot (config.live false) nothing is
// fetched: the page zooms into the envelopes it holds.
"use strict";
window.VitalViewer = (function () {
  const S = {ready: false, seq: 0, fetches: 0, errors: [], inflight: 0, timer: null,
             controller: null, waiters: []};

  function init(m) {
    S.times = {init: performance.now()};
    Object.assign(S, m);
    S.cfg = JSON.parse(document.getElementById("vitalproc-config").textContent);
    S.lanes = S.cfg.lanes;
    const B = window.Bokeh.Models;
    S.sources = [];
    S.markers = [];
    const lines = [];
    for (const lane of S.lanes) {
      if (lane.kind === "string") {  // drawn from S.marks, all string lanes together
        S.sources.push(null);
        S.markers.push(null);
        continue;
      }
      const src = new B.ColumnDataSource({data: {x: [], y: [], v: []}});
      lines.push(new B.GlyphRenderer({data_source: src, glyph: new B.Line({
        x: {field: "x"}, y: {field: "y"}, line_color: lane.color,
        line_width: lane.kind === "wave" ? 1.0 : 1.2})}));
      S.sources.push(src);
      S.markers.push(null);  // dots for single samples: made when first needed
    }
    S.fig.renderers = [...S.fig.renderers, ...lines];
    S.data = S.lanes.map(() => ({mode: "none", x: [], v: []}));
    const blob = atob(document.getElementById("vitalproc-overview").textContent.trim());
    const bytes = new Uint8Array(blob.length);
    for (let k = 0; k < blob.length; k++) bytes[k] = blob.charCodeAt(k);
    take(decode(bytes.buffer));
    S.visible = new Set(S.picker.active);
    relayout();
    S.ready = true;
    S.times.ready = performance.now();
    // The page holds an overview of cfg.columns columns: enough unless the plot is wider.
    if (S.cfg.live && width() > S.cfg.columns) refresh();
  }

  function take(head) {
    for (const e of head.lanes) {
      S.data[e.lane] = e.mode === "marks" ? {mode: "marks", x: e.x, text: e.text}
        : {mode: e.mode, x: e.x, v: e.v};
      if (S.ready) apply(e.lane);
    }
  }

  // -- lanes ------------------------------------------------------------------------

  function relayout() {
    S.visible = new Set(S.picker.active);
    let units = 0;
    for (const lane of S.lanes) if (S.visible.has(lane.index)) units += lane.height;
    units = Math.max(units, 1);
    S.bases = {};
    let top = units;
    for (const lane of S.lanes) {
      if (!S.visible.has(lane.index)) continue;
      top -= lane.height;
      S.bases[lane.index] = top;
    }
    S.fig.y_range.start = 0;
    S.fig.y_range.end = units;
    S.fig.height = Math.round(units * S.cfg.pxPerUnit) + 60;
    for (const lane of S.lanes) apply(lane.index);
    labels(null);
    if (S.ready && S.cfg.live) refresh();
  }

  function apply(i) {
    const lane = S.lanes[i], d = S.data[i], src = S.sources[i];
    const shown = S.visible.has(i);
    const base = S.bases[i], h = lane.height, pad = S.cfg.pad * h;
    if (lane.kind === "string") {
      applyMarks();
      return;
    }
    if (!shown) {
      src.data = {x: [], y: [], v: []};
      if (S.markers[i] !== null) S.markers[i].visible = false;
      return;
    }
    const n = d.x.length, y = new Float64Array(n);
    const lo = lane.lo, span = lane.hi - lane.lo, inner = h - 2 * pad;
    for (let k = 0; k < n; k++) {
      const f = (d.v[k] - lo) / span;  // NaN stays NaN: a break in the line
      y[k] = base + pad + Math.min(1, Math.max(0, f)) * inner;
    }
    src.data = {x: d.x, y: y, v: d.v};
    // Dots once samples are a few pixels apart: single samples are seen as such.
    const dots = d.mode === "raw" && n < width() / 5;
    if (dots && S.markers[i] === null) {
      const B = window.Bokeh.Models;
      S.markers[i] = new B.GlyphRenderer({data_source: src, glyph: new B.Scatter({
        x: {field: "x"}, y: {field: "y"}, size: 3.5, fill_color: lane.color,
        line_color: lane.color})});
      S.fig.renderers = [...S.fig.renderers, S.markers[i]];
    }
    if (S.markers[i] !== null) S.markers[i].visible = dots;
  }

  function applyMarks() {
    const m = {x: [], y0: [], y1: [], text: [], color: []};
    for (const lane of S.lanes) {
      if (lane.kind !== "string" || !S.visible.has(lane.index)) continue;
      const d = S.data[lane.index], base = S.bases[lane.index];
      const pad = S.cfg.pad * lane.height;
      for (let k = 0; k < d.x.length; k++) {
        m.x.push(d.x[k]); m.y0.push(base + pad); m.y1.push(base + lane.height - pad);
        m.text.push(d.text[k]); m.color.push(lane.color);
      }
    }
    S.marks.data = m;
  }

  function pick(which) {
    const all = S.lanes.map((l) => l.index);
    S.picker.active = which === "all" ? all : which === "none" ? []
      : S.lanes.filter((l) => l.kind === "wave").map((l) => l.index);
  }

  // -- range queries ----------------------------------------------------------------

  function width() {
    return Math.max(50, Math.round(S.fig.inner_width || 1200));
  }

  function rangeChanged() {
    if (!S.ready) return;
    if (!S.cfg.live) { for (const lane of S.lanes) if (lane.kind === "numeric") apply(lane.index); return; }
    clearTimeout(S.timer);
    S.timer = setTimeout(refresh, 30);
  }

  async function refresh() {
    clearTimeout(S.timer);
    S.timer = null;
    const lanes = S.lanes.filter((l) => S.visible.has(l.index)).map((l) => l.index);
    const start = S.fig.x_range.start, end = S.fig.x_range.end, seq = ++S.seq;
    if (S.controller) S.controller.abort();
    const controller = new AbortController();
    S.controller = controller;
    const q = new URLSearchParams({start: start, end: end, px: width(), lanes: lanes.join(",")});
    if (S.cfg.case !== null) q.set("case", S.cfg.case);
    S.inflight++;
    try {
      const r = await fetch(`${S.cfg.api}/api/view?${q}`, {signal: controller.signal});
      if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
      const buf = await r.arrayBuffer();
      if (seq !== S.seq) return;  // a newer range was asked for meanwhile
      const head = decode(buf);
      take(head);
      S.fetches++;
      if (S.fetches === 1) S.times.first = performance.now();
      S.last = {start: head.start, end: head.end, px: head.px,
                modes: head.lanes.map((e) => [e.lane, e.mode, e.x.length])};
      labels(S.cursorX);
    } catch (err) {
      if (err.name !== "AbortError") {
        S.errors.push(String(err));
        S.info.text = `<span style="color:#f66">${String(err)}</span>`;
      }
    } finally {
      S.inflight--;
      if (S.inflight === 0 && seq === S.seq) { const w = S.waiters; S.waiters = []; w.forEach((f) => f()); }
    }
  }

  // The server's reply: u32 header length n, JSON header, padding to 8 bytes, then
  // the arrays at the offsets the header names: float64, or float32 with x counted
  // from head.x0 (the snapshot).
  function decode(buf) {
    const n = new DataView(buf).getUint32(0, true);
    const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
    const at = Math.ceil((4 + n) / 8) * 8;
    for (const e of head.lanes) {
      if (head.f32) {
        const x = new Float32Array(buf, at + e.xo, e.n);
        e.x = new Float64Array(e.n);
        for (let k = 0; k < e.n; k++) e.x[k] = x[k] + head.x0;
        if (e.mode !== "marks") e.v = Float64Array.from(new Float32Array(buf, at + e.vo, e.n));
      } else {
        e.x = new Float64Array(buf, at + e.xo, e.n);
        if (e.mode !== "marks") e.v = new Float64Array(buf, at + e.vo, e.n);
      }
    }
    return head;
  }

  function whenIdle() {
    if (S.inflight === 0 && S.timer === null) return Promise.resolve();
    return new Promise((resolve) => S.waiters.push(resolve));
  }

  // -- the cursor -------------------------------------------------------------------

  function nearest(x, t) {
    // Index of the last point at or before t (x is sorted but for NaN breaks).
    let lo = 0, hi = x.length - 1, best = -1;
    while (lo <= hi) {
      let mid = (lo + hi) >> 1, m = mid;
      while (m >= lo && Number.isNaN(x[m])) m--;
      if (m < lo) { lo = mid + 1; continue; }
      if (x[m] <= t) { best = m; lo = mid + 1; } else hi = m - 1;
    }
    return best;
  }

  function fmt(v) {
    if (!Number.isFinite(v)) return "";
    const a = Math.abs(v);
    return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toPrecision(3);
  }

  function value(lane, d, t) {
    if (!d.x || d.x.length === 0) return "";
    const px = (S.fig.x_range.end - S.fig.x_range.start) / width();
    if (lane.kind === "string") {
      const k = nearest(d.x, t + 4 * px);
      return k >= 0 && t - d.x[k] <= 8 * px ? ` ${d.text[k]}` : "";
    }
    const k = nearest(d.x, t);
    if (d.mode === "envelope") {
      // The column under the cursor: the min and max drawn there.
      let lo = Infinity, hi = -Infinity;
      for (let j = Math.max(0, k - 2); j < Math.min(d.x.length, k + 4); j++) {
        if (Math.abs(d.x[j] - t) <= px && Number.isFinite(d.v[j])) {
          lo = Math.min(lo, d.v[j]); hi = Math.max(hi, d.v[j]);
        }
      }
      return lo <= hi ? `  ${fmt(lo)}\u2026${fmt(hi)} ${lane.unit}` : "";
    }
    if (k < 0) return "";
    // Raw samples and numerics: the last value at or before the cursor, if near.
    const gap = lane.kind === "numeric" ? Infinity : 4 * Math.max(px, 1);
    return t - d.x[k] <= gap && Number.isFinite(d.v[k]) ? `  ${fmt(d.v[k])} ${lane.unit}` : "";
  }

  function labels(t) {
    const ys = [], texts = [];
    for (const lane of S.lanes) {
      const shown = S.visible.has(lane.index);
      ys.push(shown ? S.bases[lane.index] + lane.height - 0.02 : -10);
      texts.push(shown ? lane.name + (t === null || t === undefined ? ""
        : value(lane, S.data[lane.index], t)) : "");
    }
    S.labels.data = {y: ys, text: texts, color: S.lanes.map((l) => l.color)};
  }

  function cursor(t) {
    S.cursorX = t;
    labels(t);
    const span = (S.fig.x_range.end - S.fig.x_range.start) / 1000;
    const when = t === null ? "" : new Date(t).toISOString().replace("T", " ").replace("Z", "");
    S.info.text = `${when}&nbsp;&nbsp; view ${span < 120 ? span.toFixed(3) + " s" : (span / 60).toFixed(1) + " min"}`;
  }

  function openCase(id) {
    window.location.search = "?case=" + encodeURIComponent(id);
  }

  return {init, relayout, rangeChanged, cursor, pick, openCase, whenIdle, refresh,
          state: S};
})();
