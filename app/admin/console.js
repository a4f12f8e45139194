// eventide admin console. Plain JS, no dependencies, works offline.
//
// Every second it polls /v1/stats, /v1/actors and /readyz (and /v1/cluster
// every five seconds). Rates and the latency percentiles come from the
// difference of two consecutive polls: the server exposes running totals
// only. Each panel shows "unavailable" when its endpoint fails and
// recovers by itself on the next successful poll.
"use strict";

const POLL_MS = 1000;
const CLUSTER_EVERY = 5;        // polls between /v1/cluster requests
const HISTORY_SECONDS = 120;    // width of the ingest rate chart
const REQUEST_TIMEOUT_MS = 4000;
const TAP_MAX_LINES = 200;

const $ = (id) => document.getElementById(id);

// -- formatting ---------------------------------------------------------

const intFmt = new Intl.NumberFormat("en-US");

function fmtInt(n) {
  return n == null || !Number.isFinite(n) ? "—" : intFmt.format(Math.round(n));
}

function fmtRate(n) {
  if (n == null || !Number.isFinite(n)) return "—";
  if (n >= 100) return intFmt.format(Math.round(n));
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(n === 0 ? 0 : 1);
}

function fmtCompact(n) {
  if (n == null || !Number.isFinite(n)) return "—";
  const abs = Math.abs(n);
  if (abs >= 1e9) return (n / 1e9).toFixed(1) + "G";
  if (abs >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (abs >= 1e4) return (n / 1e3).toFixed(1) + "k";
  return Number.isInteger(n) ? intFmt.format(n) : fmtRate(n);
}

function fmtBytes(n) {
  if (n == null || !Number.isFinite(n)) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(n >= 100 ? 0 : 1)) + " " + units[i];
}

function fmtMicros(us) {
  if (us == null || !Number.isFinite(us)) return "—";
  if (us >= 1e6) return (us / 1e6).toFixed(2) + " s";
  if (us >= 1e3) return (us / 1e3).toFixed(us >= 1e4 ? 0 : 1) + " ms";
  return Math.round(us) + " µs";
}

function fmtDuration(seconds) {
  if (seconds == null || !Number.isFinite(seconds)) return "—";
  seconds = Math.floor(seconds);
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const pad = (x) => String(x).padStart(2, "0");
  if (d > 0) return `${d}d ${pad(h)}h ${pad(m)}m`;
  if (h > 0) return `${h}h ${pad(m)}m ${pad(s)}s`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

function fmtTime(ms) {
  if (ms == null || !Number.isFinite(ms)) return "—";
  const d = new Date(ms);
  return d.toLocaleString(undefined, { hour12: false }) + "." +
    String(d.getMilliseconds()).padStart(3, "0");
}

/// Builds an element: el("td", {class: "num"}, "12", child, ...).
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c == null) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/// Sets a number's text and its raw value (data-value, read by tests).
function setNumber(node, value, text) {
  node.classList.remove("unavailable", "quiet");
  node.dataset.value = value == null ? "" : String(value);
  node.textContent = text;
}

function setUnavailable(node) {
  node.dataset.value = "";
  node.textContent = "unavailable";
  node.classList.add("unavailable");
}

/// A number with nothing to show right now (no acks in the interval).
function setQuiet(node, text) {
  setNumber(node, null, text);
  node.classList.add("quiet");
}

// -- HTTP ---------------------------------------------------------------

// -- authentication -----------------------------------------------------
// With auth.token-file the API wants "Authorization: Bearer TOKEN". The
// token lives in sessionStorage (this tab only, gone when it closes); a 401
// asks for it with a small form, "forget token" drops it.

const TOKEN_KEY = "eventide.token";

function storedToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (_) { return ""; }
}

/// Headers for every API call: the bearer token when there is one.
function authHeaders() {
  const token = storedToken();
  return token ? { Authorization: "Bearer " + token } : {};
}

function renderForget() {
  $("auth-forget").hidden = !storedToken();
}

/// A 401: show the token form (once; typing is not interrupted by polls).
function askForToken(detail) {
  const panel = $("auth-panel");
  $("auth-message").textContent = storedToken()
    ? "The server refused the token" + (detail ? ": " + detail : "") + "."
    : "This server requires a token for its API.";
  if (!panel.hidden) return;
  panel.hidden = false;
  $("auth-token").focus();
}

function useToken(token) {
  try { sessionStorage.setItem(TOKEN_KEY, token); } catch (_) { /* private mode */ }
  $("auth-panel").hidden = true;
  $("auth-token").value = "";
  renderForget();
  poll();
}

function forgetToken() {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch (_) { /* private mode */ }
  renderForget();
  stopTap();
  poll();
}

/// GET a JSON document; resolves {ok, status, data} and never rejects.
async function getJson(path) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), REQUEST_TIMEOUT_MS);
  try {
    const res = await fetch(path, { signal: ctl.signal, cache: "no-store", headers: authHeaders() });
    let data = null;
    try { data = await res.json(); } catch (_) { data = null; }
    if (res.status === 401) askForToken(data && data.detail);
    return { ok: res.ok, status: res.status, data };
  } catch (e) {
    return { ok: false, status: 0, data: null, error: String(e) };
  } finally {
    clearTimeout(timer);
  }
}

// -- state --------------------------------------------------------------

const state = {
  tick: 0,
  polling: false,
  stats: null,          // last /v1/stats
  prevStats: null,      // the one before, for deltas
  rates: [],            // [{t, rate}] for the chart
  actors: null,         // last /v1/actors list (null: unavailable)
  actorsAt: 0,
  prevActors: new Map(),// id -> {applied, busy_ns, t}
  actorRates: new Map(),// id -> {rate, busy}
  sort: { key: "id", dir: 1 },
  filter: "",
  kind: "",
  selected: null,       // actor id shown in the detail pane
  histogram: null,      // last latency histogram delta drawn
  heatMetric: "rate",
  hoveredShard: null,   // shard whose numbers the heat map's footer shows
  node: null,
};

// -- header -------------------------------------------------------------

function renderHeader(stats, ready, reachable) {
  const live = $("live");
  live.className = "live " + (reachable ? "ok" : "down");
  $("live-text").textContent = reachable ? "live" : "server unreachable";
  const pill = $("readiness");
  if (ready === true) {
    pill.className = "pill pill-ok"; pill.textContent = "ready";
  } else if (ready === false) {
    pill.className = "pill pill-bad"; pill.textContent = "not ready";
  } else {
    pill.className = "pill pill-unknown"; pill.textContent = "unknown";
  }
  pill.dataset.value = ready == null ? "" : String(ready);
  const node = state.node || (stats && stats.node) || null;
  $("node-name").textContent = node || "—";
  if (stats) {
    setNumber($("uptime"), stats.uptime_seconds, fmtDuration(stats.uptime_seconds));
    setNumber($("shard-total"), stats.shards, fmtInt(stats.shards));
  }
}

// -- overview -----------------------------------------------------------

/// Percentile q (0..1) of a non-cumulative histogram with upper bounds
/// `le` (one more count than bounds: the overflow bucket), interpolated
/// linearly inside the bucket that holds it.
function percentile(le, counts, q) {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] <= 0) continue;
    if (seen + counts[i] >= rank) {
      if (i >= le.length) return Infinity; // beyond the last bound
      const lo = i === 0 ? 0 : le[i - 1];
      const frac = (rank - seen) / counts[i];
      return lo + (le[i] - lo) * Math.min(1, Math.max(0, frac));
    }
    seen += counts[i];
  }
  return le[le.length - 1];
}

function fmtPercentile(us, le) {
  if (us === Infinity) return "> " + fmtMicros(le[le.length - 1]);
  return fmtMicros(us);
}

function histogramDelta(cur, prev) {
  if (!cur || !Array.isArray(cur.counts) || !Array.isArray(cur.le_us)) return null;
  const counts = cur.counts.map((c, i) =>
    Math.max(0, c - ((prev && prev.counts && prev.counts[i]) || 0)));
  const count = (cur.count || 0) - ((prev && prev.count) || 0);
  const sum = (cur.sum_us || 0) - ((prev && prev.sum_us) || 0);
  return { le: cur.le_us, counts, count, sum };
}

function renderTotals(stats) {
  const ids = ["accepted", "duplicates", "rejected", "keys"];
  if (!stats) {
    for (const k of ids.concat(["bytes", "connections", "rate", "p50", "p99"]))
      setUnavailable($("stat-" + k));
    return;
  }
  for (const k of ids) setNumber($("stat-" + k), stats[k], fmtInt(stats[k]));
  setNumber($("stat-bytes"), stats.bytes, fmtBytes(stats.bytes));
  const conns = stats.ingest && stats.ingest.connections;
  if (conns == null) setUnavailable($("stat-connections"));
  else setNumber($("stat-connections"), conns, fmtInt(conns));
}

function renderRate(stats, prev) {
  if (!stats || !prev) return;
  const dt = (stats._t - prev._t) / 1000;
  if (dt <= 0) return;
  // A restarted server resets its totals; never show a negative rate.
  const rate = Math.max(0, (stats.accepted - prev.accepted) / dt);
  state.rates.push({ t: stats._t, rate });
  const cutoff = stats._t - HISTORY_SECONDS * 1000;
  while (state.rates.length && state.rates[0].t < cutoff) state.rates.shift();
  setNumber($("stat-rate"), rate, fmtRate(rate));
  const peak = Math.max(...state.rates.map((r) => r.rate));
  setNumber($("rate-peak"), peak, fmtRate(peak) + "/s");
  drawRateChart();
}

function renderLatency(stats, prev) {
  const lat = stats && stats.ack_latency;
  if (!lat) {
    for (const id of ["stat-p50", "stat-p99", "lat-p50", "lat-p99", "lat-count", "lat-mean"])
      setUnavailable($(id));
    $("stat-p99").textContent = "";
    drawHistogram(null);
    return;
  }
  const d = histogramDelta(lat, prev && prev.ack_latency);
  if (!d || d.count <= 0) {
    for (const id of ["stat-p50", "lat-p50", "lat-p99", "lat-mean"])
      setQuiet($(id), "idle");
    setQuiet($("stat-p99"), "");
    setNumber($("lat-count"), 0, "0");
    drawHistogram(d);
    return;
  }
  const p50 = percentile(d.le, d.counts, 0.5);
  const p99 = percentile(d.le, d.counts, 0.99);
  setNumber($("stat-p50"), p50, fmtPercentile(p50, d.le));
  setNumber($("stat-p99"), p99, fmtPercentile(p99, d.le));
  setNumber($("lat-p50"), p50, fmtPercentile(p50, d.le));
  setNumber($("lat-p99"), p99, fmtPercentile(p99, d.le));
  setNumber($("lat-count"), d.count, fmtInt(d.count));
  setNumber($("lat-mean"), d.sum / d.count, fmtMicros(d.sum / d.count));
  drawHistogram(d);
}

function renderRejects(stats, prev) {
  const body = $("reject-rows");
  if (!stats || !stats.rejected_by_code) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 3, class: "unavailable" }, "unavailable")));
    return;
  }
  const dt = prev ? (stats._t - prev._t) / 1000 : 0;
  const rows = Object.entries(stats.rejected_by_code)
    .filter(([, total]) => total > 0)
    .map(([code, total]) => {
      const before = prev && prev.rejected_by_code ? prev.rejected_by_code[code] || 0 : total;
      return { code, total, rate: dt > 0 ? Math.max(0, (total - before) / dt) : 0 };
    })
    .sort((a, b) => b.rate - a.rate || b.total - a.total);
  if (!rows.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 3, class: "muted" }, "no rejects")));
    return;
  }
  body.replaceChildren(...rows.map((r) => el("tr", { "data-code": r.code },
    el("td", {}, r.code),
    el("td", { class: "num" }, fmtRate(r.rate)),
    el("td", { class: "num", "data-value": r.total }, fmtInt(r.total)))));
}

// -- canvas drawing -----------------------------------------------------

/// Sizes a canvas for the device pixel ratio; returns its 2D context and
/// CSS size.
function prepareCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/// A "nice" axis maximum (1, 2, 2.5, 5 times a power of ten) above v.
function niceMax(v) {
  if (v <= 0) return 10;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function drawRateChart() {
  const canvas = $("rate-chart");
  const { ctx, w, h } = prepareCanvas(canvas);
  const pad = { l: 52, r: 14, t: 10, b: 24 };
  const pw = w - pad.l - pad.r, ph = h - pad.t - pad.b;
  if (pw <= 0 || ph <= 0) return;
  const ink = cssVar("--muted"), line = cssVar("--line"), accent = cssVar("--accent");
  const now = state.rates.length ? state.rates[state.rates.length - 1].t : Date.now();
  const t0 = now - HISTORY_SECONDS * 1000;
  const max = niceMax(Math.max(1, ...state.rates.map((r) => r.rate)) * 1.1);
  const x = (t) => pad.l + ((t - t0) / (HISTORY_SECONDS * 1000)) * pw;
  const y = (v) => pad.t + ph - (v / max) * ph;

  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = ink;
  ctx.strokeStyle = line;
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4, yy = Math.round(y(v)) + 0.5;
    ctx.beginPath(); ctx.moveTo(pad.l, yy); ctx.lineTo(w - pad.r, yy); ctx.stroke();
    ctx.fillText(fmtCompact(v), pad.l - 8, yy);
  }
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (let s = 0; s <= HISTORY_SECONDS; s += 30) {
    const xx = x(now - s * 1000);
    ctx.fillText(s === 0 ? "now" : `-${s}s`, xx, h - pad.b + 7);
  }
  if (state.rates.length < 2) {
    ctx.textBaseline = "middle";
    ctx.fillText("collecting samples…", pad.l + pw / 2, pad.t + ph / 2);
    return;
  }
  const pts = state.rates.map((r) => [x(r.t), y(r.rate)]);
  const grad = ctx.createLinearGradient(0, pad.t, 0, pad.t + ph);
  grad.addColorStop(0, accent + "55");
  grad.addColorStop(1, accent + "05");
  ctx.beginPath();
  ctx.moveTo(pts[0][0], pad.t + ph);
  for (const [px, py] of pts) ctx.lineTo(px, py);
  ctx.lineTo(pts[pts.length - 1][0], pad.t + ph);
  ctx.closePath();
  ctx.fillStyle = grad;
  ctx.fill();
  ctx.beginPath();
  pts.forEach(([px, py], i) => (i ? ctx.lineTo(px, py) : ctx.moveTo(px, py)));
  ctx.strokeStyle = accent;
  ctx.lineWidth = 2;
  ctx.lineJoin = "round";
  ctx.stroke();
  const [lx, ly] = pts[pts.length - 1];
  ctx.fillStyle = accent;
  ctx.beginPath(); ctx.arc(lx, ly, 3.5, 0, Math.PI * 2); ctx.fill();
}

function drawHistogram(d) {
  state.histogram = d;
  const canvas = $("latency-hist");
  const { ctx, w, h } = prepareCanvas(canvas);
  const muted = cssVar("--muted"), accent = cssVar("--accent"), line = cssVar("--line");
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = muted;
  if (!d) {
    ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText("histogram unavailable", w / 2, h / 2);
    return;
  }
  const n = d.counts.length, gap = 2, bw = (w - gap * (n - 1)) / n;
  const max = Math.max(1, ...d.counts), base = h - 14;
  d.counts.forEach((c, i) => {
    const bh = c > 0 ? Math.max(2, (c / max) * (base - 4)) : 0;
    ctx.fillStyle = c > 0 ? accent : line;
    ctx.fillRect(i * (bw + gap), c > 0 ? base - bh : base - 1, bw, c > 0 ? bh : 1);
  });
  ctx.fillStyle = muted;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText("≤" + fmtMicros(d.le[0]), 0, base + 3);
  ctx.textAlign = "right";
  ctx.fillText("> " + fmtMicros(d.le[d.le.length - 1]), w, base + 3);
}

// -- actor table --------------------------------------------------------

const COLUMNS = [
  { key: "id", label: "id", num: true },
  { key: "name", label: "name", cls: "name" },
  { key: "kind", label: "kind" },
  { key: "shard", label: "shard", num: true },
  { key: "mailbox", label: "mailbox", num: true },
  { key: "processed", label: "processed", num: true },
  { key: "applied", label: "applied", num: true },
  { key: "rate", label: "applied/s", num: true },
  { key: "rejected", label: "rejected", num: true },
  { key: "keys", label: "keys", num: true },
  { key: "bytes", label: "bytes", num: true },
  { key: "busy_ns", label: "busy", num: true },
  { key: "last_error", label: "last error" },
  { key: "node", label: "node" },
];

/// Actor ids are per node: in a cluster a row is (node, id).
function uid(a) {
  return `${a.node || ""}#${a.id}`;
}

function cellText(col, a) {
  const v = a[col.key];
  switch (col.key) {
    case "shard": return v == null ? "" : String(v);
    case "bytes": return fmtBytes(v);
    case "busy_ns": return v == null ? "—" : fmtMicros(v / 1000);
    case "rate": return fmtRate(v);
    case "last_error": return v ? v.code : "";
    case "id": case "name": case "kind": case "node": return v == null ? "" : String(v);
    default: return fmtInt(v);
  }
}

function buildActorHead() {
  const head = $("actor-head");
  head.replaceChildren(...COLUMNS.map((c) => el("th", {
    class: c.num ? "num" : null,
    "data-key": c.key,
    title: "sort by " + c.label,
    onclick: () => {
      state.sort = state.sort.key === c.key
        ? { key: c.key, dir: -state.sort.dir }
        : { key: c.key, dir: c.num ? -1 : 1 };
      renderActors();
    },
  }, c.label, el("span", { class: "arrow" }))));
}

function compareBy(key, dir) {
  return (a, b) => {
    let x = a[key], y = b[key];
    if (key === "last_error") { x = x ? x.code : ""; y = y ? y.code : ""; }
    if (x == null && y == null) return a.id - b.id;
    if (x == null) return 1;   // empty values last in either direction
    if (y == null) return -1;
    const c = typeof x === "number" && typeof y === "number"
      ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
    return c !== 0 ? c * dir : a.id - b.id;
  };
}

function visibleActors() {
  const f = state.filter.trim().toLowerCase();
  return state.actors.filter((a) => {
    if (state.kind && a.kind !== state.kind) return false;
    if (!f) return true;
    return [a.id, a.name, a.kind, a.shard].some((v) =>
      v != null && String(v).toLowerCase().includes(f));
  }).sort(compareBy(state.sort.key, state.sort.dir));
}

/// One table row per actor, reused across polls so that updating does not
/// disturb the scroll position, hover or selection.
const actorRows = new Map();

function actorRow(a) {
  const key = uid(a);
  let tr = actorRows.get(key);
  if (!tr) {
    tr = el("tr", { "data-id": a.id, onclick: () => selectActor(key) },
      ...COLUMNS.map((c) => el("td", { class: [c.num ? "num" : "", c.cls || ""].join(" ").trim() || null })));
    actorRows.set(key, tr);
  }
  COLUMNS.forEach((c, i) => {
    const td = tr.children[i];
    if (c.key === "kind") {
      if (td.dataset.kind !== a.kind) {
        td.dataset.kind = a.kind;
        td.replaceChildren(el("span", { class: "kind kind-" + a.kind }, a.kind));
      }
      return;
    }
    const text = cellText(c, a);
    if (td.textContent !== text) td.textContent = text;
    if (c.key === "last_error") {
      td.className = "err-cell";
      td.title = a.last_error ? `${a.last_error.detail || ""} (${fmtMicros((a.last_error.age_ms || 0) * 1000)} ago)` : "";
    }
  });
  tr.classList.toggle("selected", key === state.selected);
  return tr;
}

function renderActors() {
  for (const th of $("actor-head").children) {
    const on = th.dataset.key === state.sort.key;
    th.classList.toggle("sorted", on);
    th.querySelector(".arrow").textContent = on ? (state.sort.dir > 0 ? "▲" : "▼") : "";
  }
  const body = $("actor-rows");
  const empty = $("actor-empty");
  if (!state.actors) {
    body.replaceChildren();
    empty.textContent = "unavailable: /v1/actors did not answer";
    setUnavailable($("actor-count"));
    setNumber($("actor-shown"), 0, "0");
    return;
  }
  const list = visibleActors();
  const ids = new Set(state.actors.map(uid));
  for (const id of actorRows.keys()) if (!ids.has(id)) actorRows.delete(id);
  const rows = list.map(actorRow);
  // Reorder only when needed: moving nodes resets hover and costs layout.
  const same = rows.length === body.children.length &&
    rows.every((r, i) => body.children[i] === r);
  if (!same) body.replaceChildren(...rows);
  empty.textContent = list.length ? "" : "no actor matches the filter";
  setNumber($("actor-count"), state.actors.length, fmtInt(state.actors.length));
  setNumber($("actor-shown"), list.length, fmtInt(list.length));
}

function updateKindOptions() {
  const select = $("actor-kind");
  const kinds = [...new Set(state.actors.map((a) => a.kind))].sort();
  const have = [...select.options].slice(1).map((o) => o.value);
  if (kinds.join() === have.join()) return;
  const current = select.value;
  select.replaceChildren(el("option", { value: "" }, "all kinds"),
    ...kinds.map((k) => el("option", { value: k }, k)));
  select.value = kinds.includes(current) ? current : "";
}

/// Per-actor rates (applied/s, busy fraction) from two polls.
function updateActorRates(actors, t) {
  const next = new Map();
  for (const a of actors) {
    const p = state.prevActors.get(uid(a));
    const dt = p ? (t - p.t) / 1000 : 0;
    let rate = null, busy = null;
    if (p && dt > 0) {
      rate = Math.max(0, ((a.applied || 0) - p.applied) / dt);
      busy = Math.max(0, ((a.busy_ns || 0) - p.busy_ns) / (dt * 1e9));
    }
    a.rate = rate;
    a.busy = busy;
    next.set(uid(a), { applied: a.applied || 0, busy_ns: a.busy_ns || 0, t });
  }
  state.prevActors = next;
}

// -- actor detail -------------------------------------------------------

async function selectActor(id) {
  state.selected = id;
  for (const [rid, tr] of actorRows) tr.classList.toggle("selected", rid === id);
  renderHeatmap();
  await loadDetail();
}

async function loadDetail() {
  const key = state.selected;
  if (key == null) return;
  const row = (state.actors || []).find((a) => uid(a) === key);
  const id = row ? row.id : key.slice(key.indexOf("#") + 1);
  // Another node's actor: /v1/actors/{id} looks up this node's ids only,
  // so show what the list says about it.
  const res = row && row.node && state.node && row.node !== state.node
    ? { ok: true, status: 200, data: row }
    : await getJson("/v1/actors/" + encodeURIComponent(id));
  if (key !== state.selected) return; // another row was clicked meanwhile
  const body = $("detail-body");
  $("detail-close").hidden = false;
  if (!res.ok || !res.data) {
    $("detail-title").textContent = "Actor " + id;
    body.className = "unavailable";
    body.textContent = res.status === 404
      ? "this actor no longer exists"
      : "unavailable" + (res.data && res.data.error ? `: ${res.data.error}` : "");
    return;
  }
  const a = res.data;
  $("detail-title").textContent = `${a.name} (#${a.id})`;
  body.className = "";
  body.replaceChildren(...detailContent(a));
}

function kvList(pairs) {
  return el("dl", { class: "kv" }, ...pairs.flatMap(([k, v, cls]) =>
    [el("dt", {}, k), el("dd", { class: cls || null }, v)]));
}

function countsTable(title, obj, keyLabel) {
  const rows = Object.entries(obj || {}).filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1]);
  return [el("h3", {}, title), rows.length
    ? el("table", { class: "mini" },
      el("thead", {}, el("tr", {}, el("th", {}, keyLabel), el("th", { class: "num" }, "count"))),
      el("tbody", {}, ...rows.map(([k, v]) =>
        el("tr", {}, el("td", {}, k), el("td", { class: "num" }, fmtInt(v))))))
    : el("div", { class: "muted" }, "none")];
}

function detailContent(a) {
  const out = [kvList([
    ["kind", a.kind], ["node", a.node || "—"], ["shard", a.shard == null ? "—" : a.shard],
    ["mailbox", fmtInt(a.mailbox)], ["processed", fmtInt(a.processed)],
    ["applied", fmtInt(a.applied)], ["rejected", fmtInt(a.rejected)],
    ["keys", fmtInt(a.keys)], ["bytes", fmtBytes(a.bytes)],
    ["busy", a.busy_ns == null ? "—" : fmtMicros(a.busy_ns / 1000)],
    ["uptime", a.uptime_ms == null ? "—" : fmtDuration(a.uptime_ms / 1000)],
    ["last error", a.last_error ? `${a.last_error.code}: ${a.last_error.detail || ""}` : "none",
      a.last_error ? "err" : null],
  ])];
  const d = a.detail || {};
  if (Array.isArray(d.hot_keys)) {
    out.push(el("h3", {}, "Hot keys"));
    out.push(d.hot_keys.length
      ? el("table", { class: "mini", "data-testid": "hot-keys" },
        el("thead", {}, el("tr", {}, el("th", {}, "key"), el("th", { class: "num" }, "events"))),
        el("tbody", {}, ...d.hot_keys.map((k) => el("tr", {},
          el("td", {}, el("a", { href: "#", onclick: (e) => { e.preventDefault(); lookupKey(k.key); } }, k.key)),
          el("td", { class: "num" }, fmtInt(k.events))))))
      : el("div", { class: "muted" }, "none yet"));
  }
  if (d.rejected_by_code) out.push(...countsTable("Rejects by code", d.rejected_by_code, "code"));
  const rest = Object.entries(d).filter(([k]) => k !== "hot_keys" && k !== "rejected_by_code");
  if (rest.length) {
    out.push(el("h3", {}, "Detail"));
    out.push(kvList(rest.map(([k, v]) => [k.replace(/_/g, " "),
      typeof v === "number" ? fmtInt(v)
        : v && typeof v === "object" ? Object.entries(v).map(([x, y]) => `${x} ${fmtInt(y)}`).join(" · ")
          : String(v)])));
  }
  return out;
}

function closeDetail() {
  state.selected = null;
  for (const tr of actorRows.values()) tr.classList.remove("selected");
  $("detail-title").textContent = "Actor detail";
  $("detail-close").hidden = true;
  const body = $("detail-body");
  body.className = "muted";
  body.textContent = "Click a row in the table or a shard in the heat map.";
  renderHeatmap();
}

// -- shard heat map -----------------------------------------------------

const HEAT_CAPTIONS = {
  rate: "colored by events applied per second",
  busy: "colored by share of time busy in handlers",
  keys: "colored by keys held",
};

/// Pale yellow through orange to deep red, by load fraction f in [0, 1]
/// (interpolated in RGB, so no stray hues appear between the stops).
const HEAT_STOPS = [[255, 244, 214], [253, 204, 128], [250, 146, 72], [232, 84, 48], [180, 24, 40]];

function heatColor(f) {
  f = Math.min(1, Math.max(0, f));
  const pos = f * (HEAT_STOPS.length - 1);
  const i = Math.min(HEAT_STOPS.length - 2, Math.floor(pos));
  const k = pos - i, a = HEAT_STOPS[i], b = HEAT_STOPS[i + 1];
  const mix = (j) => Math.round(a[j] + (b[j] - a[j]) * k);
  return `rgb(${mix(0)} ${mix(1)} ${mix(2)})`;
}

function shardActors() {
  const byShard = new Map();
  for (const a of state.actors || [])
    if (a.kind === "shard" && a.shard != null) {
      // In a cluster every node has an actor per shard; the owner's holds
      // the keys (the others forward), so show that one.
      const had = byShard.get(a.shard);
      if (!had || (a.keys || 0) > (had.keys || 0) || ((a.keys || 0) === (had.keys || 0) && a.node === state.node))
        byShard.set(a.shard, a);
    }
  return byShard;
}

function heatValue(a) {
  if (!a) return null;
  if (state.heatMetric === "busy") return a.busy;
  if (state.heatMetric === "keys") return a.keys;
  return a.rate;
}

function heatText(v) {
  if (v == null) return "—";
  if (state.heatMetric === "busy") return (v * 100).toFixed(v < 0.1 ? 1 : 0) + "%";
  return fmtCompact(v);
}

function renderHeatmap() {
  const map = $("heatmap");
  const shards = state.stats ? state.stats.shards : (state.actors ? shardActors().size : 0);
  if (!shards) {
    map.replaceChildren(el("div", { class: "unavailable" }, "unavailable"));
    return;
  }
  const byShard = shardActors();
  let max = 0;
  for (const a of byShard.values()) max = Math.max(max, heatValue(a) || 0);
  if (map.children.length !== shards || !map.children[0].classList.contains("cell")) {
    map.replaceChildren(...Array.from({ length: shards }, (_, i) => el("div", {
      class: "cell", "data-testid": "shard-cell", "data-shard": i,
      onmouseenter: () => { state.hoveredShard = i; showShard(i); }, onclick: () => {
        const a = shardActors().get(i);
        if (a) selectActor(uid(a));
      },
    }, el("div", { class: "cell-top" }, el("span", { class: "idx" }), el("span", { class: "val" })),
    el("span", { class: "keys" }))));
  }
  for (let i = 0; i < shards; i++) {
    const cell = map.children[i];
    const a = byShard.get(i);
    const v = heatValue(a);
    const f = max > 0 && v != null ? v / max : 0;
    cell.classList.toggle("nodata", !a);
    cell.classList.toggle("selected", a != null && uid(a) === state.selected);
    cell.style.backgroundColor = a ? heatColor(f) : "";
    cell.style.color = a ? (f > 0.6 ? "#fff" : "#3b2a12") : "";
    cell.querySelector(".idx").textContent = String(i);
    cell.querySelector(".val").textContent = a ? heatText(v) : "";
    cell.querySelector(".keys").textContent = a ? `${fmtCompact(a.keys)} keys` : "";
    cell.dataset.keys = a ? String(a.keys) : "";
    cell.title = a
      ? `shard ${i} · ${fmtInt(a.keys)} keys · ${fmtRate(a.rate)} events/s · ${a.busy == null ? "—" : (a.busy * 100).toFixed(1) + "%"} busy · mailbox ${fmtInt(a.mailbox)}`
      : `shard ${i} · no data`;
  }
  if (state.hoveredShard != null && state.hoveredShard < shards) showShard(state.hoveredShard);
}

function showShard(i) {
  const a = shardActors().get(i);
  $("heat-detail").textContent = a
    ? `shard ${i} (${a.name}, actor #${a.id}): ${fmtInt(a.keys)} keys, ${fmtBytes(a.bytes)}, ` +
      `${fmtRate(a.rate)} events/s, ${a.busy == null ? "—" : (a.busy * 100).toFixed(1) + "%"} busy, ` +
      `${fmtInt(a.applied)} applied, ${fmtInt(a.rejected)} rejected, mailbox ${fmtInt(a.mailbox)}`
    : `shard ${i}: no data (/v1/actors unavailable)`;
}

// -- key lookup ---------------------------------------------------------

async function lookupKey(key) {
  $("key-input").value = key;
  const out = $("key-result");
  out.replaceChildren(el("div", { class: "muted" }, "looking up…"));
  const res = await getJson("/v1/keys/" + encodeURIComponent(key));
  if (res.status === 404) {
    out.dataset.state = "not_found";
    out.replaceChildren(el("div", { class: "notfound", "data-testid": "key-not-found" },
      "not found: ", el("span", { class: "key-name" }, key)));
    return;
  }
  if (!res.ok || !res.data) {
    out.dataset.state = "error";
    out.replaceChildren(el("div", { class: "unavailable" },
      "unavailable" + (res.data && res.data.error ? `: ${res.data.error} ${res.data.detail || ""}` : "")));
    return;
  }
  const r = res.data;
  out.dataset.state = "found";
  const fields = Object.entries(r.fields || {});
  out.replaceChildren(
    el("div", { class: "key-name" }, r.key),
    el("div", { class: "meta" },
      el("span", {}, "version ", el("b", { "data-testid": "key-version" }, fmtInt(r.version))),
      el("span", {}, "events ", el("b", { "data-testid": "key-events" }, fmtInt(r.events))),
      el("span", { title: "first_ts → last_ts" }, "last ", el("b", {}, fmtTime(r.last_ts)))),
    fields.length
      ? el("table", { class: "mini", "data-testid": "key-fields" },
        el("thead", {}, el("tr", {}, el("th", {}, "field"), el("th", { class: "num" }, "value"))),
        el("tbody", {}, ...fields.map(([k, v]) => el("tr", {},
          el("td", {}, k),
          el("td", { class: "num", "data-field": k }, typeof v === "string" ? v : JSON.stringify(v))))))
      : el("div", { class: "muted" }, "no fields"));
}

// -- cluster ------------------------------------------------------------

const NODE_COLORS = ["#1f5fbf", "#13804b", "#b26a00", "#8e2a6f", "#5a35a6", "#c2342b", "#0f7b8a"];

function renderCluster(res) {
  const body = $("cluster-rows");
  const place = $("placement");
  if (!res.ok || !res.data || !Array.isArray(res.data.members)) {
    $("cluster-epoch").textContent = "—";
    body.replaceChildren(el("tr", {}, el("td", { colspan: 4, class: "unavailable" }, "unavailable")));
    place.replaceChildren(el("span", { class: "unavailable", style: "width:auto;height:auto" }, "unavailable"));
    return;
  }
  const c = res.data;
  if (c.self) state.node = c.self;
  $("cluster-epoch").textContent = fmtInt(c.epoch);
  const color = new Map(c.members.map((m, i) => [m.node, NODE_COLORS[i % NODE_COLORS.length]]));
  body.replaceChildren(...c.members.map((m) => el("tr", {},
    el("td", {}, m.node + (m.node === c.self ? " (self)" : "")),
    el("td", {}, m.address || "local"),
    el("td", { class: m.state === "up" ? "state-up" : "state-down" }, m.state),
    el("td", { class: "num" }, fmtInt(m.shards)))));
  const entries = Object.entries(c.placement || {}).sort((a, b) => Number(a[0]) - Number(b[0]));
  place.replaceChildren(...entries.map(([shard, node]) => el("span", {
    title: `shard ${shard} → ${node}`, style: `background:${color.get(node) || "#999"}`,
  })));
  place.after(legendFor(color));
}

function legendFor(color) {
  const old = document.querySelector(".placement-legend");
  if (old) old.remove();
  return el("div", { class: "placement-legend" }, ...[...color].map(([node, c]) =>
    el("span", {}, el("i", { style: `background:${c}` }), node)));
}

// -- tap ----------------------------------------------------------------

let tapAbort = null;

function tapLine(obj) {
  if (obj.tap) return { cls: "meta", text: `tapping ${obj.tap} ${obj.key != null ? obj.key + " " : ""}(shard ${obj.shard})` };
  if (obj.heartbeat != null) return { cls: "meta", text: `♥ ${fmtTime(obj.heartbeat)}` };
  if (obj.dropped != null) return { cls: "meta", text: `… ${fmtInt(obj.dropped)} events not sampled` };
  const t = new Date(obj.t_ms).toLocaleTimeString(undefined, { hour12: false });
  const outcome = obj.error ? `${obj.outcome} (${obj.error})` : obj.outcome;
  return {
    cls: obj.outcome,
    text: `${t}  ${outcome}  ${obj.op || ""} ${obj.key || ""}  id=${obj.id || ""}  shard ${obj.shard} #${obj.seq ?? "-"}`,
  };
}

function addTapLine(cls, text) {
  const list = $("tap-lines");
  list.prepend(el("li", { class: cls || null }, text));
  while (list.children.length > TAP_MAX_LINES) list.lastChild.remove();
}

function setTapRunning(running, status) {
  $("tap-start").disabled = running;
  $("tap-stop").disabled = !running;
  $("tap-status").textContent = status;
}

async function startTap() {
  stopTap();
  const mode = $("tap-mode").value;
  const target = $("tap-target").value.trim();
  const rate = Math.min(1000, Math.max(1, Number($("tap-rate").value) || 100));
  if (!target) return;
  const ctl = new AbortController();
  tapAbort = ctl;
  $("tap-lines").replaceChildren();
  setTapRunning(true, "connecting…");
  let count = 0;
  try {
    const res = await fetch(`/v1/tap?${mode}=${encodeURIComponent(target)}&rate=${rate}`,
      { signal: ctl.signal, cache: "no-store", headers: authHeaders() });
    if (!res.ok || !res.body) {
      let why = `HTTP ${res.status}`;
      try { const j = await res.json(); why = j.detail || j.error || why; } catch (_) { /* not JSON */ }
      if (res.status === 401) askForToken(why);
      throw new Error(why);
    }
    setTapRunning(true, "streaming");
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let parsed = null;
        try { parsed = tapLine(JSON.parse(line)); } catch (_) { parsed = { cls: "rejected", text: "unreadable: " + line }; }
        addTapLine(parsed.cls, parsed.text);
        count++;
      }
      $("tap-status").textContent = `streaming · ${fmtInt(count)} lines`;
    }
    if (tapAbort === ctl) setTapRunning(false, `ended by server · ${fmtInt(count)} lines`);
  } catch (e) {
    if (tapAbort !== ctl) return; // replaced by a newer tap
    if (ctl.signal.aborted) setTapRunning(false, `stopped · ${fmtInt(count)} lines`);
    else setTapRunning(false, "unavailable: " + (e.message || e));
  }
  if (tapAbort === ctl) tapAbort = null;
}

function stopTap() {
  if (!tapAbort) return;
  const ctl = tapAbort;
  ctl.abort();
  setTapRunning(false, "stopped");
}

// -- polling ------------------------------------------------------------

async function poll() {
  if (state.polling) return; // a slow server: skip rather than pile up
  state.polling = true;
  state.tick++;
  try {
    const wantCluster = state.tick % CLUSTER_EVERY === 1;
    const sentAt = Date.now();
    const [stats, actors, ready, cluster] = await Promise.all([
      getJson("/v1/stats"), getJson("/v1/actors"), getJson("/readyz"),
      wantCluster ? getJson("/v1/cluster") : Promise.resolve(null),
    ]);
    // The middle of the round trip is the best guess of when the server
    // took the snapshot; rates divide by the difference of two of these.
    const now = (sentAt + Date.now()) / 2;
    if (cluster) renderCluster(cluster);

    if (stats.ok && stats.data) {
      stats.data._t = now;
      state.prevStats = state.stats;
      state.stats = stats.data;
    } else {
      state.prevStats = state.stats = null;
    }
    if (actors.ok && actors.data && Array.isArray(actors.data.actors)) {
      state.actors = actors.data.actors;
      if (actors.data.node) state.node = state.node || actors.data.node;
      updateActorRates(state.actors, now);
      updateKindOptions();
    } else {
      state.actors = null;
      state.prevActors = new Map();
    }
    const reachable = stats.status !== 0 || ready.status !== 0;
    const readyValue = ready.status === 0 ? null : !!(ready.data && ready.data.ready);
    renderHeader(state.stats, readyValue, reachable);
    renderTotals(state.stats);
    renderRate(state.stats, state.prevStats);
    renderLatency(state.stats, state.prevStats);
    renderRejects(state.stats, state.prevStats);
    renderActors();
    renderHeatmap();
    if (state.selected != null && state.tick % 2 === 0) loadDetail();
    $("updated").textContent = new Date(now).toLocaleTimeString(undefined, { hour12: false });
    document.body.dataset.polls = String(state.tick);
  } finally {
    state.polling = false;
  }
}

function init() {
  buildActorHead();
  $("actor-filter").addEventListener("input", (e) => { state.filter = e.target.value; renderActors(); });
  $("actor-kind").addEventListener("change", (e) => { state.kind = e.target.value; renderActors(); });
  $("detail-close").addEventListener("click", closeDetail);
  for (const b of document.querySelectorAll("[data-heat]")) {
    b.addEventListener("click", () => {
      state.heatMetric = b.dataset.heat;
      for (const o of document.querySelectorAll("[data-heat]")) o.classList.toggle("on", o === b);
      $("heat-caption").textContent = HEAT_CAPTIONS[state.heatMetric];
      renderHeatmap();
    });
  }
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const key = $("key-input").value;
    if (key) lookupKey(key);
  });
  $("tap-form").addEventListener("submit", (e) => { e.preventDefault(); startTap(); });
  $("auth-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("auth-token").value.trim();
    if (token) useToken(token);
  });
  $("auth-forget").addEventListener("click", forgetToken);
  renderForget();
  $("tap-stop").addEventListener("click", stopTap);
  $("tap-mode").addEventListener("change", (e) => {
    $("tap-target").placeholder = e.target.value === "shard" ? "shard number, e.g. 3" : "user:42";
  });
  window.addEventListener("resize", () => { drawRateChart(); drawHistogram(state.histogram); });
  drawRateChart();
  poll();
  setInterval(poll, POLL_MS);
}

init();
