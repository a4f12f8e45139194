#!/usr/bin/env node
// End-to-end test of the /admin console in headless Chromium (issue 4).
//
// Starts the real eventide binary on ephemeral ports, opens /admin in
// Debian's chromium through playwright-core, streams NDJSON events into
// the TCP ingest port while the page is open, and checks that the numbers
// the page shows match the HTTP API. Saves a screenshot to --out (and, with
// --docs, to docs/admin-console.png for the README).
//
//   node tests/browser/admin_console_test.js --binary build/eventide \
//     [--out DIR] [--chromium /usr/bin/chromium] [--docs]
//
// Exits 0 when every check passed, 1 on a failure, 77 (ctest's skip code)
// when chromium or playwright-core is missing.
"use strict";

const fs = require("fs");
const http = require("http");
const net = require("net");
const os = require("os");
const path = require("path");
const { spawn } = require("child_process");

const SKIP = 77;
const TEST_TIMEOUT_MS = 100_000;       // under ctest's 120 s
const DOCS_TEST_TIMEOUT_MS = 150_000;
const START_TIMEOUT_MS = 20_000;
const LOAD_SECONDS = 14;
const DOCS_LOAD_SECONDS = 50;  // a fuller rate graph for the README picture
const SHARDS = 32;
const PROBE_KEY = "probe:ünï code/42"; // needs percent-encoding
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
  "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync",
];

// -- arguments and prerequisites ------------------------------------------

function parseArgs(argv) {
  const opts = { out: process.cwd(), chromium: process.env.CHROMIUM || "/usr/bin/chromium", docs: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--binary") opts.binary = argv[++i];
    else if (a === "--out") opts.out = argv[++i];
    else if (a === "--chromium") opts.chromium = argv[++i];
    else if (a === "--docs") opts.docs = true;
    else throw new Error("unknown argument " + a);
  }
  if (!opts.binary) throw new Error("--binary PATH is required");
  return opts;
}

function skip(why) {
  console.log("SKIPPED: " + why);
  process.exit(SKIP);
}

function loadPlaywright() {
  try {
    return require("playwright-core");
  } catch (_) {
    return skip("playwright-core is not installed (run npm ci in tests/browser)");
  }
}

// -- results --------------------------------------------------------------

let passed = 0, failed = 0;

function check(ok, what, detail) {
  if (ok) { passed++; console.log("ok   " + what); }
  else { failed++; console.log("FAIL " + what + (detail !== undefined ? ": " + detail : "")); }
  return ok;
}

// -- the server -----------------------------------------------------------

const LISTEN_RE = /listening ingest=(\S+) http=(\S+)/;

function splitHostPort(text) {
  const i = text.lastIndexOf(":");
  let host = text.slice(0, i).replace(/^\[|\]$/g, "");
  if (host === "" || host === "0.0.0.0" || host === "::") host = "127.0.0.1";
  return { host, port: Number(text.slice(i + 1)) };
}

class Server {
  constructor(binary, args) {
    this.stderr = "";
    this.exit = null;
    this.proc = spawn(path.resolve(binary), args,
      { stdio: ["ignore", "ignore", "pipe"], cwd: os.tmpdir() });
    this.exited = new Promise((resolve) => {
      this.proc.on("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.proc.on("error", (e) => {
        this.stderr += String(e) + "\n";
        this.exit = { code: null, signal: null, error: String(e) };
        resolve(this.exit);
      });
    });
    this.started = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(
        `no 'listening ingest=… http=…' line within ${START_TIMEOUT_MS / 1000} s\n${this.tail()}`)),
      START_TIMEOUT_MS);
      this.proc.stderr.on("data", (d) => {
        this.stderr += d.toString();
        const m = LISTEN_RE.exec(this.stderr);
        if (m && !this.ingest) {
          clearTimeout(timer);
          this.ingest = splitHostPort(m[1]);
          this.http = splitHostPort(m[2]);
          resolve(this);
        }
      });
      this.exited.then((e) => {
        clearTimeout(timer);
        if (!this.ingest) reject(new Error(`server exited (${JSON.stringify(e)}) before listening\n${this.tail()}`));
      });
    });
  }

  tail(n = 30) {
    return this.stderr.split("\n").slice(-n).join("\n");
  }

  url(p) {
    return `http://${this.http.host}:${this.http.port}${p}`;
  }

  /// SIGTERM, then SIGKILL after 10 s; resolves the exit status.
  async stop() {
    if (this.exit) return this.exit;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
    const e = await this.exited;
    clearTimeout(timer);
    return e;
  }

  kill() {
    if (!this.exit) this.proc.kill("SIGKILL");
  }
}

function getJson(server, p, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(server.url(p), { headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        let data = null;
        try { data = JSON.parse(body); } catch (_) { /* not JSON */ }
        resolve({ status: res.statusCode, data });
      });
    });
    req.setTimeout(5000, () => req.destroy(new Error("timeout " + p)));
    req.on("error", reject);
  });
}

/// Whether a streaming endpoint answers 200 (closes it right after the
/// headers).
function streams(server, p) {
  return new Promise((resolve) => {
    const req = http.get(server.url(p), (res) => {
      resolve(res.statusCode === 200);
      req.destroy();
    });
    req.setTimeout(3000, () => { req.destroy(); resolve(false); });
    req.on("error", () => resolve(false));
  });
}

// -- load -----------------------------------------------------------------

/// Streams paced NDJSON events over one TCP connection for `seconds`,
/// with a varying rate and a few bad lines; half-closes and resolves once
/// the final ack covers every line. Returns what was sent.
function streamEvents(server, seconds) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.ingest.port, server.ingest.host);
    const sent = { lines: 0, good: 0, bad: 0, probe: 0 };
    let lastAck = 0, replies = "", errors = 0, ended = false;
    sock.setEncoding("utf8");
    sock.on("data", (d) => {
      replies += d;
      let nl;
      while ((nl = replies.indexOf("\n")) >= 0) {
        const line = replies.slice(0, nl);
        replies = replies.slice(nl + 1);
        const msg = JSON.parse(line);
        if (msg.ack != null) lastAck = msg.ack;
        if (msg.error) errors++;
      }
    });
    sock.on("error", reject);
    sock.on("close", () => {
      if (!ended) return reject(new Error("ingest connection closed early"));
      if (lastAck !== sent.lines) return reject(new Error(`final ack ${lastAck}, sent ${sent.lines}`));
      resolve({ ...sent, errors });
    });
    const start = Date.now();
    const tickMs = 50;
    let n = 0;
    const timer = setInterval(() => {
      const t = (Date.now() - start) / 1000;
      if (t >= seconds) {
        clearInterval(timer);
        ended = true;
        sock.end();
        return;
      }
      // A rate that swells and ebbs (1.5k..6.5k events/s) draws a readable
      // graph; the first keys are hotter than the rest.
      const rate = 4000 + 2500 * Math.sin(t / 2.2);
      const count = Math.round((rate * tickMs) / 1000);
      let batch = "";
      for (let i = 0; i < count; i++, n++) {
        sent.lines++;
        if (n % 97 === 13) { // a bad line now and then: rejects by code
          sent.bad++;
          batch += n % 2 ? `{"id":"bad-${n}","op":"incr","data":{"x":1}}\n` : "not json\n";
          continue;
        }
        sent.good++;
        if (n % 50 === 0) {
          sent.probe++;
          batch += JSON.stringify({ id: `p-${n}`, key: PROBE_KEY, op: "incr", data: { clicks: 1 } }) + "\n";
          continue;
        }
        const k = n % 3 === 0 ? n % 8 : n % 400;
        batch += `{"id":"e-${n}","key":"user:${k}","op":"incr","data":{"clicks":1,"spent":2.5}}\n`;
      }
      sock.write(batch);
    }, tickMs);
  });
}

// -- page helpers ---------------------------------------------------------

async function valueOf(page, testid) {
  return page.$eval(`[data-testid="${testid}"]`, (e) => e.dataset.value ?? "");
}

/// Polls `fn` until it returns a truthy value or `ms` pass; returns the last
/// value.
async function eventually(fn, ms = 8000, every = 250) {
  const deadline = Date.now() + ms;
  let v;
  for (;;) {
    v = await fn();
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, every));
  }
}

// -- the test -------------------------------------------------------------

async function run(opts, server, context) {
  const page = context.pages()[0] || await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const external = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(server.url("/"))) external.push(r.url());
  });

  const resp = await page.goto(server.url("/admin"));
  check(resp && resp.status() === 200, "GET /admin answers 200", resp && resp.status());
  check(await page.title() === "eventide console", "page title");
  await page.waitForSelector('[data-testid="readiness"][data-value="true"]', { timeout: 10_000 })
    .then(() => check(true, "header shows the node ready"))
    .catch(() => check(false, "header shows the node ready"));

  const api = {
    actors: (await getJson(server, "/v1/actors")).status === 200,
    cluster: (await getJson(server, "/v1/cluster")).status === 200,
    tap: await streams(server, "/v1/tap?shard=0"),
  };
  console.log("server endpoints: " + JSON.stringify(api));

  const loadSeconds = opts.docs ? DOCS_LOAD_SECONDS : LOAD_SECONDS;
  const loadStart = Date.now();
  const load = streamEvents(server, loadSeconds);
  load.catch(() => {}); // awaited below; a failure must not crash the process first
  // While the load runs: the rate tile and the chart move.
  const sawRate = await eventually(async () => Number(await valueOf(page, "stat-rate")) > 0, 8000);
  check(sawRate, "ingest rate is shown while events stream in");
  const loadStats = (await getJson(server, "/v1/stats")).data;
  if (loadStats.ack_latency) {
    const p50 = await eventually(async () => Number(await valueOf(page, "stat-p50")) > 0, 5000);
    check(p50, "ack latency p50 is shown under load", await valueOf(page, "stat-p50"));
    const [lo, hi] = await page.evaluate(() => ["stat-p50", "stat-p99"].map((id) =>
      Number(document.getElementById(id).dataset.value)));
    check(hi >= lo, "ack latency p99 is at least p50", `${lo} ${hi}`);
  }
  if (loadStats.ingest) {
    const conns = await eventually(async () =>
      Number(await valueOf(page, "stat-connections")) === loadStats.ingest.connections, 5000);
    check(conns, "open connections match /v1/stats ingest.connections", loadStats.ingest.connections);
  }
  if (api.tap) {
    await page.selectOption("#tap-mode", "key");
    await page.fill('[data-testid="tap-target"]', PROBE_KEY);
    await page.click('[data-testid="tap-start"]');
    const count = () => page.$$eval('[data-testid="tap-lines"] li', (l) => l.length);
    await eventually(async () => (await count()) >= 3, 8000);
    const lines = await count();
    check(lines >= 3, "tap pane streams lines for the probe key", lines);
    const probe = await page.$$eval('[data-testid="tap-lines"] li', (l) => l.map((x) => x.textContent));
    check(probe.slice(0, -1).every((t) => t.includes(PROBE_KEY)), "tap lines are the probe key's events", probe[0]);
  }
  // The picture is taken under load, with a shard, a key and the tap open.
  await prepareScreenshot(page, api);
  await page.waitForTimeout(Math.max(0, loadStart + (loadSeconds - 2) * 1000 - Date.now()));
  await screenshotUnderLoad(opts, page, api);
  const sent = await load;
  console.log(`sent ${sent.lines} lines (${sent.good} good, ${sent.bad} bad); ${sent.errors} error replies`);
  check(sent.errors === sent.bad, "every bad line was reported", `${sent.errors} vs ${sent.bad}`);
  if (api.tap) {
    await page.click('[data-testid="tap-stop"]');
    const status = await eventually(async () => {
      const s = await page.textContent('[data-testid="tap-status"]');
      return s.startsWith("stopped") && s;
    }, 3000);
    check(!!status, "tap stops on the stop button", status);
  }

  // Once the load has stopped, the page's totals settle on the API's.
  const stats = (await getJson(server, "/v1/stats")).data;
  check(stats.accepted === sent.good, "API accepted equals the good lines sent", `${stats.accepted} vs ${sent.good}`);
  const accepted = await eventually(async () => {
    const v = await valueOf(page, "stat-accepted");
    return Number(v) === stats.accepted ? v : null;
  });
  check(accepted !== null, "page accepted total equals /v1/stats accepted",
    `${await valueOf(page, "stat-accepted")} vs ${stats.accepted}`);
  check(Number(await valueOf(page, "stat-rejected")) === stats.rejected,
    "page rejected total equals /v1/stats rejected");
  check(Number(await valueOf(page, "stat-keys")) === stats.keys, "page key count equals /v1/stats keys");
  const rejectCodes = await page.$$eval("#reject-rows tr[data-code]", (rows) =>
    Object.fromEntries(rows.map((r) => [r.dataset.code, Number(r.cells[2].dataset.value)])));
  const apiCodes = Object.fromEntries(Object.entries(stats.rejected_by_code).filter(([, v]) => v > 0));
  check(JSON.stringify(rejectCodes, Object.keys(rejectCodes).sort()) ===
    JSON.stringify(apiCodes, Object.keys(apiCodes).sort()),
  "reject table matches rejected_by_code", JSON.stringify({ page: rejectCodes, api: apiCodes }));
  check(Number(await valueOf(page, "uptime")) >= 1, "uptime is shown");
  check(Number(await valueOf(page, "shard-total")) === stats.shards, "header shows the shard count");

  const cells = await page.$$('[data-testid="shard-cell"]');
  check(cells.length === stats.shards, "heat map has one cell per shard", `${cells.length} vs ${stats.shards}`);

  // Key lookup, percent-encoded, found and not found.
  const record = (await getJson(server, "/v1/keys/" + encodeURIComponent(PROBE_KEY))).data;
  check(record && record.fields.clicks === sent.probe, "API probe counter", JSON.stringify(record));
  await page.fill('[data-testid="key-input"]', "no such key");
  await page.click('[data-testid="key-submit"]');
  check(await page.waitForSelector('[data-testid="key-not-found"]', { timeout: 5000 }).then(() => true, () => false),
    "key lookup shows not found for a missing key");
  await page.fill('[data-testid="key-input"]', PROBE_KEY);
  await page.click('[data-testid="key-submit"]');
  const clicks = await eventually(() => page.$eval('[data-testid="key-result"]', (e) => {
    const f = e.querySelector('[data-field="clicks"]');
    return f ? f.textContent : null;
  }), 5000);
  check(Number(clicks) === record.fields.clicks, "key lookup shows the probe counter", `${clicks} vs ${record.fields.clicks}`);

  if (api.actors) await checkActors(page, server);
  else check(await page.textContent("#actor-empty") === "unavailable: /v1/actors did not answer",
    "actor table says unavailable without /v1/actors");

  if (api.cluster) {
    const cluster = (await getJson(server, "/v1/cluster")).data;
    const members = await eventually(() => page.$$eval('[data-testid="cluster-members"] tbody tr', (r) =>
      r.filter((x) => !x.querySelector(".unavailable,.muted")).length), 7000);
    check(members === cluster.members.length, "cluster table lists every member", `${members} vs ${cluster.members.length}`);
    const placed = await page.$$eval('[data-testid="placement"] span', (s) => s.length);
    check(placed === Object.keys(cluster.placement).length, "placement shows every shard");
  }

  check(pageErrors.length === 0, "no JavaScript errors on the page", pageErrors.join("; "));
  check(external.length === 0, "the page loads nothing from outside the server", external.join(", "));

  await screenshot(opts, page, "admin-console-final.png");

  // With the server gone the page says so instead of showing stale numbers.
  const exit = await server.stop();
  check(exit.code === 0, "server exits 0 on SIGTERM", JSON.stringify(exit) + "\n" + server.tail());
  const down = await eventually(async () =>
    (await page.textContent("#live-text")) === "server unreachable" &&
    (await page.textContent('[data-testid="stat-accepted"]')) === "unavailable", 8000);
  check(down, "page shows the server unreachable and its numbers unavailable");
}

async function screenshot(opts, page, name) {
  // The header is sticky: scroll back up so the full-page shot shows it on top.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(200);
  fs.mkdirSync(opts.out, { recursive: true });
  const shot = path.join(opts.out, name);
  await page.screenshot({ path: shot, fullPage: true });
  console.log("screenshot: " + shot);
  return shot;
}

async function prepareScreenshot(page, api) {
  if (api.actors) {
    await page.selectOption('[data-testid="actor-kind"]', "shard");
    await page.click('#actor-head th[data-key="applied"]');
    await page.click('[data-testid="actor-rows"] tr:first-child');
    await page.waitForSelector('[data-testid="hot-keys"]', { timeout: 3000 }).catch(() => {});
  }
  await page.fill('[data-testid="key-input"]', "user:3");
  await page.click('[data-testid="key-submit"]');
  await page.waitForSelector('[data-testid="key-result"][data-state]', { timeout: 3000 }).catch(() => {});
}

async function screenshotUnderLoad(opts, page, api) {
  await page.hover('[data-testid="shard-cell"][data-shard="3"]');
  const shot = await screenshot(opts, page, "admin-console.png");
  if (opts.docs) {
    const docs = path.join(__dirname, "..", "..", "docs", "admin-console.png");
    fs.mkdirSync(path.dirname(docs), { recursive: true });
    fs.copyFileSync(shot, docs);
    console.log("copied to " + docs);
  }
  if (api.actors) { // back to the defaults the checks expect
    await page.selectOption('[data-testid="actor-kind"]', "");
    await page.click('#actor-head th[data-key="id"]');
    if (await page.$eval('#actor-head th[data-key="id"] .arrow', (e) => e.textContent) !== "▲")
      await page.click('#actor-head th[data-key="id"]');
  }
}

async function checkActors(page, server) {
  const actors = (await getJson(server, "/v1/actors")).data.actors;
  const count = await eventually(async () => {
    const v = Number(await valueOf(page, "actor-count"));
    return v === actors.length ? v : null;
  }, 5000);
  check(count !== null, "actor count equals /v1/actors length",
    `${await valueOf(page, "actor-count")} vs ${actors.length}`);
  const rows = await page.$$eval('[data-testid="actor-rows"] tr', (r) => r.length);
  check(rows === actors.length, "actor table has one row per actor", `${rows} vs ${actors.length}`);

  // Filter by kind and text; sort by keys, descending.
  await page.selectOption('[data-testid="actor-kind"]', "shard");
  const shards = actors.filter((a) => a.kind === "shard").length;
  check(Number(await valueOf(page, "actor-shown")) === shards, "kind filter keeps the shards", shards);
  await page.click('#actor-head th[data-key="keys"]');
  const keys = await page.$$eval('[data-testid="actor-rows"] tr', (r) =>
    r.map((x) => Number(x.cells[9].textContent.replace(/,/g, ""))));
  check(keys.every((k, i) => i === 0 || keys[i - 1] >= k), "sorting by keys orders the rows", keys.join(","));
  await page.fill('[data-testid="actor-filter"]', "shard-1");
  const filtered = actors.filter((a) => a.kind === "shard" && a.name.includes("shard-1")).length;
  check(Number(await valueOf(page, "actor-shown")) === filtered, "text filter narrows the rows", filtered);
  await page.fill('[data-testid="actor-filter"]', "");

  // Sort and filter survive the next poll.
  const polls = Number(await page.getAttribute("body", "data-polls"));
  await eventually(async () => Number(await page.getAttribute("body", "data-polls")) >= polls + 2, 5000);
  check(Number(await valueOf(page, "actor-shown")) === shards, "filter survives polling");
  check(await page.$eval('#actor-head th[data-key="keys"]', (e) => e.classList.contains("sorted")),
    "sort survives polling");

  // The busiest shard's detail shows its hot keys.
  await page.click('[data-testid="actor-rows"] tr:first-child');
  const hot = await page.waitForSelector('[data-testid="hot-keys"] tbody tr', { timeout: 5000 })
    .then(() => true, () => false);
  check(hot, "shard detail lists hot keys");
}

// -- with auth.token-file ---------------------------------------------------

const AUTH_TOKEN = "console-test-token-0123456789";

/// A second server with a token file: the page asks for a token, accepts
/// it, renders the actors, and "forget token" asks again.
async function runAuth(opts, context, profile) {
  const tokens = path.join(profile, "tokens");
  fs.writeFileSync(tokens, `# browser test\nread,write,admin ${AUTH_TOKEN}\n`, { mode: 0o600 });
  const server = new Server(opts.binary, [
    "--ingest.listen=127.0.0.1:0", "--http.listen=127.0.0.1:0",
    "--storage.mode=memory", "--engine.shards=4", `--auth.token-file=${tokens}`,
  ]);
  try {
    await server.started;
    const page = await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    const resp = await page.goto(server.url("/admin"));
    check(resp && resp.status() === 200, "auth: GET /admin is open without a token", resp && resp.status());
    const asked = await page.waitForSelector('[data-testid="auth-panel"]', { state: "visible", timeout: 8000 })
      .then(() => true, () => false);
    check(asked, "auth: the console shows the token form after a 401");
    check(await page.$eval('[data-testid="actor-count"]', (e) => e.textContent).then((t) => !/^[1-9]/.test(t)),
      "auth: no actors are shown without a token");

    await page.fill('[data-testid="auth-token"]', "wrong-token-but-long-enough");
    await page.click('[data-testid="auth-submit"]');
    const refusedMsg = await eventually(async () => {
      const visible = await page.isVisible('[data-testid="auth-panel"]');
      const msg = await page.textContent('[data-testid="auth-message"]');
      return visible && /refused the token/.test(msg) ? msg : null;
    }, 5000);
    check(refusedMsg, "auth: a wrong token brings the form back saying it was refused");

    await page.fill('[data-testid="auth-token"]', AUTH_TOKEN);
    await page.click('[data-testid="auth-submit"]');
    const actors = (await getJson(server, "/v1/actors", { Authorization: `Bearer ${AUTH_TOKEN}` })).data.actors;
    const count = await eventually(async () => {
      const v = Number(await valueOf(page, "actor-count"));
      return v === actors.length ? v : null;
    }, 8000);
    check(count !== null, "auth: with the token the console renders the actors",
      `${await valueOf(page, "actor-count")} vs ${actors.length}`);
    check(!(await page.isVisible('[data-testid="auth-panel"]')), "auth: the form is gone");
    const kept = await page.evaluate(() => sessionStorage.getItem("eventide.token"));
    check(kept === AUTH_TOKEN, "auth: the token is kept in sessionStorage");

    await page.click('[data-testid="auth-forget"]');
    const again = await page.waitForSelector('[data-testid="auth-panel"]', { state: "visible", timeout: 8000 })
      .then(() => true, () => false);
    const dropped = await page.evaluate(() => sessionStorage.getItem("eventide.token"));
    check(again && dropped === null, "auth: forget token drops it and asks again");
    check(pageErrors.length === 0, "auth: no JavaScript errors", pageErrors.join("\n"));
    await page.close();
  } finally {
    const exit = await server.stop();
    check(exit.code === 0, "auth: server exits 0 on SIGTERM", JSON.stringify(exit) + "\n" + server.tail());
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(opts.chromium)) skip(`no chromium at ${opts.chromium} (apt-get install chromium)`);
  const { chromium } = loadPlaywright();

  const server = new Server(opts.binary, [
    "--ingest.listen=127.0.0.1:0", "--http.listen=127.0.0.1:0",
    "--storage.mode=memory", `--engine.shards=${SHARDS}`, "--cluster.node-name=console-test",
  ]);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "eventide-chromium-"));
  let context = null;
  const cleanup = () => {
    server.kill();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  const limit = opts.docs ? DOCS_TEST_TIMEOUT_MS : TEST_TIMEOUT_MS;
  const watchdog = setTimeout(() => {
    console.log(`FAIL the test did not finish within ${limit / 1000} s`);
    process.exit(1);
  }, limit);
  try {
    await server.started;
    console.log(`server: ingest ${server.ingest.port}, http ${server.url("/admin")}`);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: opts.chromium,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 900 },
      deviceScaleFactor: 1,
    });
    await run(opts, server, context);
    if (!opts.docs) await runAuth(opts, context, profile);
  } catch (e) {
    check(false, "test ran to the end", (e && e.stack || e) + "\n--- server stderr ---\n" + server.tail());
  } finally {
    if (context) await context.close().catch(() => {});
    if (!server.exit) {
      const exit = await server.stop();
      check(exit.code === 0, "server exits 0 on SIGTERM", JSON.stringify(exit) + "\n" + server.tail());
    }
    clearTimeout(watchdog);
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log("FAIL " + (e && e.stack || e));
  process.exit(1);
});
