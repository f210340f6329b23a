'use strict';
// Shared helpers of the shim tests (tests/js/shim-*.test.js): the bundle built into a temp dir,
// the Qualys simulator, small scripted HTTP servers, a fake clock, vm sandboxes like Archer's, a
// forward proxy in its own process, and a self-signed certificate made with openssl.
// Every server listens on 127.0.0.1 and is closed by the test that started it.

const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { execFileSync, fork } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SHIM = path.join(ROOT, 'js-shim');
const lib = require(path.join(SHIM, 'src', 'index.js'));
const { startSimulator } = require(path.join(SHIM, 'simulator', 'server.js'));
const { runArcherScript, runArcherInProcess } = require(path.join(ROOT, 'tools', 'archer-host.js'));

const USER = 'simuser';
const PASS = 'simpass';

const API = {
  kb: '/api/4.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=<LastRunTime>',
  hosts: '/api/5.0/fo/asset/host/?action=list&details=All&vm_scan_since=<LastRunTime>',
  detections: '/api/5.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>',
};
const URL_KEY = { kb: 'kbUrl', hosts: 'hostsUrl', hostDetections: 'detectionUrl', detections: 'detectionUrl' };

/** Custom Parameters for a data source at a base URL. */
function paramsFor(base, source, extra = {}) {
  const api = source === 'hostDetections' ? API.detections : API[source];
  return Object.assign({ dataSource: source, [URL_KEY[source]]: base + api, username: USER, password: PASS }, extra);
}

/** The simulator, small and quiet, with whatever options the test adds. */
function sim(options = {}) {
  return startSimulator(Object.assign({ hosts: 40, detectionsPerHost: 3, kb: 30, quiet: true }, options));
}

/** A writer that keeps every item. */
function collector() {
  const items = [];
  return { items, writeItem: (c) => { items.push(c); }, text: () => items.join('') };
}

/** A log sink that keeps every line. */
function logSink() {
  const lines = [];
  const fn = (level, text) => { lines.push(`${level} :: ${text}`); };
  fn.lines = lines;
  return fn;
}

/** A fake clock: now() and sleep(ms) that advances it at once. */
function fakeClock(start = Date.parse('2024-06-01T00:00:00Z')) {
  let t = start;
  const sleeps = [];
  return {
    now: () => t,
    sleep: async (ms, reason) => { sleeps.push({ at: t, ms, reason }); t += ms; },
    advance: (ms) => { t += ms; },
    sleeps,
  };
}

/** The IDs of the records in an output text (the element name given, e.g. HOST's <ID>). */
function recordKeys(text, element) {
  const re = new RegExp(`<${element}>([\\s\\S]*?)</${element}>`, 'g');
  const out = [];
  let m;
  while ((m = re.exec(text))) out.push(m[1]);
  return out;
}

/** Detections' unique keys (ARCHER_DETECTION_KEY) in an output text. */
const detectionKeys = (text) => recordKeys(text, 'ARCHER_DETECTION_KEY');

/**
 * A scripted HTTP server: handler(req, res, n) with n = 1-based request number. Records each
 * request's arrival time, method, url and headers, and the connections opened.
 */
async function scriptedServer(handler) {
  const requests = [];
  let connections = 0;
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const n = requests.length + 1;
    requests.push({ n, at: Date.now(), method: req.method, url: req.url, headers: req.headers });
    Promise.resolve(handler(req, res, n)).catch((e) => { res.destroy(e); });
  });
  server.on('connection', (s) => { connections++; sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    connections: () => connections,
    close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/** Forwards a request to the simulator and returns {status, headers, body} (whole; for fixtures). */
function fetchWhole(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const auth = 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64');
    http.get(url, { headers: Object.assign({ Authorization: auth, 'X-Requested-With': 'test' }, headers) }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** A reverse proxy in front of the simulator that lets the test answer some requests itself. */
async function frontOf(target, script) {
  return scriptedServer(async (req, res, n) => {
    const own = script ? await script(req, res, n) : 'pass';
    if (own !== 'pass') return;
    // The Host header stays the front's, so the simulator's next-page URLs point at the front.
    const up = http.request(target + req.url, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => res.destroy(e));
    req.pipe(up);
  });
}

let bundleDir = null;
/** Builds the single file (and dist/npm) into a temp dir once per test process; returns the dir. */
function buildBundle() {
  if (bundleDir) return bundleDir;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-dist-'));
  // QVT_WASM_PKG: embed another wasm-bindgen output (e.g. one built with other flags).
  const extra = process.env.QVT_WASM_PKG ? ['--wasm-pkg', process.env.QVT_WASM_PKG] : [];
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle.js'), '--quiet', '--dist', dir, ...extra], { stdio: 'inherit' });
  bundleDir = dir;
  process.on('exit', () => { try { fs.rmSync(dir, { recursive: true, force: true }); } catch (e) { /* gone */ } });
  return dir;
}

function bundlePath() {
  return path.join(buildBundle(), 'qualys-vm-transporter.js');
}

const SIGNATURE_BLOCK = [
  '// SIG // Begin signature block',
  '// SIG // MIIkBwYJKoZIhvcNAQcCoIIj+DCCI/QCAQExDzANBglghkgBZQMEAgEFADB3Bgor',
  '// SIG // BgEEAYI3AgEEoGkwZzAyBgorBgEEAYI3AgEeMCQCAQEEEBDgyQbOONQRoqMAEEvT',
  '// SIG // UJQCAQACAQACAQACAQACAQAwMTANBglghkgBZQMEAgEFAAQgQJ3zC1Yv2Br8bKQd',
  '// SIG // End signature block',
  '',
].join('\r\n');

/**
 * Runs the single file as Archer would (tools/archer-host.js): a fresh vm context with only
 * context, callback, console, Buffer, timers, process, WebAssembly and a restricted require.
 * @param {object} o
 * @param {'6x'|'2025'|'node'} o.mode 6x: require resolves request (and the other whitelisted
 *        names); 2025: global fetch and no request
 * @param {object} o.params CustomParameters
 * @param {object} [o.tokens]
 * @param {boolean} [o.outputWriter=true] false: no context.OutputWriter (6.4/6.5)
 * @param {boolean} [o.signed=true] append a signature block
 * @param {number} [o.timeoutMs=30000]
 * @returns {Promise<{calls: Array, err, result, items: string[], creates: Array, logs: string[], requires: string[]}>}
 */
function runInSandbox(o) {
  const code = fs.readFileSync(o.file || bundlePath(), 'utf8') + (o.signed === false ? '' : SIGNATURE_BLOCK);
  return runArcherScript({ ...o, code, timeoutMs: o.timeoutMs || 30000 });
}

/** Starts the forward proxy (tests/js/helpers/shim-proxy.js) in its own process. */
function startProxy(options = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'shim-proxy.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const pending = new Map();
    let seq = 0;
    child.on('message', (m) => {
      if (m.type === 'listening') {
        resolve({
          port: m.port,
          url: `http://127.0.0.1:${m.port}`,
          log: () => new Promise((r) => { const id = ++seq; pending.set(id, r); child.send({ type: 'log', id }); }),
          close: () => new Promise((r) => { child.once('exit', () => r()); child.send({ type: 'close' }); }),
        });
      } else if (m.type === 'log') {
        const r = pending.get(m.id);
        pending.delete(m.id);
        if (r) r(m.entries);
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`proxy exited early (${code})`)));
    child.send({ type: 'start', username: options.username, password: options.password });
  });
}

/** A self-signed certificate for 127.0.0.1/localhost (openssl CLI), or null without openssl. */
function selfSignedCert() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-cert-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    return { key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } catch (e) {
    return null;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A Qualys SIMPLE_RETURN body (409 limits and other errors). */
function simpleReturn(code, text, items = {}) {
  const list = Object.entries(items).map(([k, v]) => `<ITEM><KEY>${k}</KEY><VALUE>${v}</VALUE></ITEM>`).join('');
  return '<?xml version="1.0" encoding="UTF-8" ?>\n' +
    '<!DOCTYPE SIMPLE_RETURN SYSTEM "https://qualysapi.qualys.com/api/2.0/simple_return.dtd">\n' +
    `<SIMPLE_RETURN><RESPONSE><DATETIME>2024-06-01T00:00:00Z</DATETIME><CODE>${code}</CODE><TEXT>${text}</TEXT>` +
    (list ? `<ITEM_LIST>${list}</ITEM_LIST>` : '') + '</RESPONSE></SIMPLE_RETURN>\n';
}

/** Runs a feed with the library and never rejects: {ok, error, summary, items, logs, actions}. */
async function run(options) {
  const writer = options.writer || collector();
  const log = options.log || logSink();
  const actions = [];
  const userAction = options.onAction;
  try {
    const r = await lib.runFeed(Object.assign({}, options, {
      writer,
      log,
      onAction: (a) => { actions.push(a); if (userAction) userAction(a); },
    }));
    return { ok: true, summary: r.summary, previousRunContext: r.previousRunContext, items: writer.items, text: writer.items.join(''), logs: log.lines, actions };
  } catch (e) {
    return { ok: false, error: e, summary: e.summary, items: writer.items, text: writer.items.join(''), logs: log.lines, actions };
  }
}

module.exports = {
  ROOT, SHIM, lib, USER, PASS, API, paramsFor, sim, collector, logSink, fakeClock, recordKeys, detectionKeys,
  scriptedServer, fetchWhole, frontOf, buildBundle, bundlePath, runInSandbox, SIGNATURE_BLOCK,
  startProxy, selfSignedCert, run, simpleReturn, runArcherInProcess,
};
