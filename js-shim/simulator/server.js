'use strict';
// The Qualys VM API simulator: HTTP + HTTPS listeners on 127.0.0.1 serving the KnowledgeBase,
// host list and host detection list APIs from the deterministic model, with Qualys's limits,
// paging, errors, injected faults, and a request log. See README.md.
const http = require('http');
const https = require('https');
const fs = require('fs');
const path = require('path');
const { createModel, toMs } = require('./generate');
const { ENDPOINTS, ParamError, interpretParams, mergePairs } = require('./params');
const { renderList, simpleReturn, genericReturn, http5xxBody } = require('./render');
const { Limits } = require('./limits');
const { Faults, delayMs } = require('./faults');
const { RequestLog, redactParams } = require('./log');
const { BodyPump, sleep } = require('./stream');
const { handleControl } = require('./control');

const CERT_DIR = path.join(__dirname, 'certs');
const PATH_TO_ENDPOINT = new Map(Object.entries(ENDPOINTS).map(([k, e]) => [e.path, k]));
const MAX_BODY = 8 * 1024 * 1024;

const DEFAULT_OPTIONS = {
  host: '127.0.0.1',
  port: 0,
  httpsPort: 0,
  https: true,
  username: 'simuser',
  password: 'simpass',
  keepAliveEvery: 250,
  evaluationComments: true,
  dtdHost: 'qualysapi.qualys.com',
  chunkBytes: 65536,
  recordServed: true,
  logLimit: 100000,
  requireRequestedWith: true,
};

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let len = 0;
    req.on('data', (c) => {
      len += c.length;
      if (len > MAX_BODY) { reject(new Error('request body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function pairsOf(searchParams) { return Array.from(searchParams.entries()); }

function parseBasicAuth(h) {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h || '');
  if (!m) return null;
  const s = Buffer.from(m[1], 'base64').toString('utf8');
  const i = s.indexOf(':');
  return i === -1 ? null : { user: s.slice(0, i), pass: s.slice(i + 1) };
}

function canonicalKey(endpoint, pairs) {
  return endpoint + '?' + pairs.slice().sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * Start the simulator.
 * @param {object} [options] see README.md "Options" (model: seed, hosts, detectionsPerHost, detectionsSpread,
 *   kb, dataEnd, scanHistoryDays, kbHistoryDays; server: host, port, httpsPort, https, tls, username, password,
 *   now, rateLimit, concurrency, faults, keepAliveEvery, evaluationComments, dtdHost, warningBaseUrl,
 *   chunkBytes, recordServed, logLimit, requireRequestedWith)
 * @returns {Promise<{url:string, httpsUrl:string|null, port:number, httpsPort:number|null, caCertPem:string|null,
 *   caPath:string|null, close:()=>Promise<void>, log:RequestLog, control:object, model:object, options:object}>}
 */
async function startSimulator(options = {}) {
  const opts = { ...DEFAULT_OPTIONS, ...options };
  const model = createModel(opts);
  const initialNow = opts.now === undefined ? model.dataEndMs : opts.now;
  const state = {
    now: null, // fixed ms, or null for wall clock
    limits: new Limits({ rateLimit: opts.rateLimit, concurrency: opts.concurrency }),
    faults: new Faults(opts.faults || []),
    log: new RequestLog({ limit: opts.logLimit }),
    counters: { global: 0, kb: 0, hosts: 0, detections: 0 },
    pageOf: new Map(),
  };
  const setNow = (t) => { state.now = t === 'real' ? null : toMs(t, 'now'); return nowMs(); };
  const nowMs = () => (state.now === null ? Date.now() : state.now);
  setNow(initialNow);

  const sockets = new Set();
  const track = (server) => server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });

  async function handle(req, res, scheme) {
    let u;
    try { u = new URL(req.url, 'http://localhost'); } catch (e) { res.statusCode = 400; res.end(); return; }
    if (u.pathname === '/__control' || u.pathname.startsWith('/__control/')) {
      return handleControl(req, res, u, control, readBody);
    }
    const m = /^\/api\/(\d+(?:\.\d+)?)\/(.+?)\/?$/.exec(u.pathname);
    const endpoint = m ? PATH_TO_ENDPOINT.get(m[2]) : undefined;
    const version = m ? m[1] : null;
    const entry = state.log.start({ method: req.method, path: u.pathname, version, endpoint });
    res.on('close', () => entry.finish());
    res.setHeader('Server', 'Qualys');
    const fail = (status, code, text, extra = {}) => {
      entry.status = status; entry.code = code; entry.complete = true;
      res.statusCode = status;
      res.setHeader('Content-Type', 'text/xml;charset=UTF-8');
      for (const [k, v] of Object.entries(extra.headers || {})) res.setHeader(k, v);
      res.end(simpleReturn({ code, text, now: nowMs(), items: extra.items, declaration: extra.declaration,
        dtdHost: opts.dtdHost, version: version || '2.0' }));
    };
    if (!endpoint) {
      entry.status = 404; entry.complete = true;
      res.statusCode = 404;
      res.setHeader('Content-Type', 'text/html; charset=iso-8859-1');
      res.end('<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>404 Not Found</title>\n' +
        '</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.setHeader('Allow', 'GET, POST');
      return fail(405, 1920, `HTTP method ${req.method} is not supported for this API.`, { declaration: false });
    }
    let pairs;
    try {
      const body = req.method === 'POST' ? await readBody(req) : '';
      const ct = String(req.headers['content-type'] || '');
      const bodyPairs = body && (ct === '' || /x-www-form-urlencoded/i.test(ct)) ? pairsOf(new URLSearchParams(body)) : [];
      pairs = mergePairs(pairsOf(u.searchParams), bodyPairs);
    } catch (e) {
      res.statusCode = 413; entry.status = 413; res.end(); return;
    }
    entry.params = redactParams(pairs);
    const limitHeadersNow = () => state.limits.headers(endpoint);

    const auth = parseBasicAuth(req.headers.authorization);
    if (!auth || auth.user !== opts.username || auth.pass !== opts.password) {
      return fail(401, 2000, 'Bad Login/Password',
        { headers: { 'WWW-Authenticate': 'Basic realm="Qualys API"', ...limitHeadersNow() } });
    }
    if (opts.requireRequestedWith && !req.headers['x-requested-with']) {
      return fail(400, 1906, 'Missing required header X-Requested-With', { declaration: false, headers: limitHeadersNow() });
    }
    const slot = state.limits.acquire(endpoint);
    if (!slot.ok) {
      const hdr = { ...slot.headers };
      return fail(409, slot.code, slot.text, { items: slot.items, headers: hdr });
    }
    res.on('close', slot.release);
    for (const [k, v] of Object.entries(slot.headers)) res.setHeader(k, v);

    let p;
    try {
      p = interpretParams(endpoint, pairs);
    } catch (e) {
      if (e instanceof ParamError) return fail(400, e.code, e.message, { declaration: false });
      throw e;
    }

    state.counters.global++;
    state.counters[endpoint]++;
    const key = canonicalKey(endpoint, pairs);
    const page = state.pageOf.get(key) || 1;
    entry.page = page;
    entry.requestNo = state.counters[endpoint];
    const chosen = state.faults.select({ endpoint, requestNo: state.counters[endpoint], globalRequestNo: state.counters.global, page });
    const faultNames = [];
    if (chosen.delay) {
      faultNames.push('delay');
      entry.fault = 'delay'; // visible in the log while the delay runs
      await sleep(delayMs(chosen.delay));
      if (res.destroyed || res.writableEnded) { entry.fault = faultNames.join('+'); return; }
    }
    const f = chosen.main;
    if (f) faultNames.push(f.type);
    entry.fault = faultNames.length ? faultNames.join('+') : null;
    const now = nowMs();

    if (f && f.type === 'http5xx') {
      entry.status = f.status; entry.complete = true;
      res.statusCode = f.status;
      res.setHeader('Content-Type', f.body === 'text' ? 'text/plain' : 'text/html; charset=iso-8859-1');
      res.end(http5xxBody(f.status, f.body));
      return;
    }
    if (f && f.type === 'generic_return') {
      entry.status = f.status; entry.code = 999; entry.complete = true;
      res.statusCode = f.status;
      res.setHeader('Content-Type', 'text/xml;charset=UTF-8');
      res.end(genericReturn({ now, username: opts.username, apiName: `api/${version}/${ENDPOINTS[endpoint].path}/`,
        errorId: `sim-${entry.seq}`, dtdHost: opts.dtdHost }));
      return;
    }
    if (f && f.type === 'expired') {
      return fail(200, 2001, 'This account has expired.');
    }

    const base = opts.warningBaseUrl ? opts.warningBaseUrl.replace(/\/$/, '')
      : `${scheme}://${req.headers.host || `${opts.host}:${scheme === 'https' ? httpsPort : port}`}`;
    const served = entry.served;
    const pump = new BodyPump(res, {
      fault: f, chunkBytes: opts.chunkBytes,
      onCommit: opts.recordServed ? (kind, a, b) => served.add(kind, a, b) : () => {},
    });
    const ctx = {
      model, endpoint, version, p, pairs, now,
      urlBase: base + u.pathname,
      dtdHost: opts.dtdHost,
      keepAliveEvery: opts.keepAliveEvery,
      evaluationComments: opts.evaluationComments,
      inject: f && (f.type === 'bad_utf8' || f.type === 'huge_record') ? f : undefined,
      mark: pump.mark,
      onNextPage: (nextId, url) => {
        entry.nextIdMin = nextId; entry.nextUrl = url;
        const nextPairs = pairs.filter(([k]) => k !== 'id_min').concat([['id_min', String(nextId)]]);
        if (state.pageOf.size > 200000) state.pageOf.clear();
        state.pageOf.set(canonicalKey(endpoint, nextPairs), page + 1);
      },
    };
    entry.status = 200;
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/xml');
    const result = await pump.run(renderList(ctx));
    entry.complete = result.complete;
    entry.bytes = result.bytes;
  }

  const onRequest = (scheme) => (req, res) => {
    handle(req, res, scheme).catch((err) => {
      try {
        if (!res.headersSent) { res.statusCode = 500; res.end(`simulator error: ${err && err.message}\n`); } else res.destroy(err);
      } catch (e) { /* ignore */ }
      if (!opts.quiet) console.error('[qualys-simulator]', err); // eslint-disable-line no-console
    });
  };

  const httpServer = http.createServer(onRequest('http'));
  track(httpServer);
  let httpsServer = null;
  let caCertPem = null;
  let caPath = null;
  if (opts.https !== false) {
    const tls = opts.tls || {};
    const key = tls.key || fs.readFileSync(path.join(CERT_DIR, 'server-key.pem'));
    const cert = tls.cert || fs.readFileSync(path.join(CERT_DIR, 'server-cert.pem'));
    caPath = tls.ca ? null : path.join(CERT_DIR, 'ca-cert.pem');
    caCertPem = String(tls.ca || fs.readFileSync(caPath));
    httpsServer = https.createServer({ key, cert }, onRequest('https'));
    track(httpsServer);
  }
  const listen = (server, p) => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, opts.host, () => { server.removeListener('error', reject); resolve(server.address().port); });
  });
  const port = await listen(httpServer, opts.port);
  const httpsPort = httpsServer ? await listen(httpsServer, opts.httpsPort) : null;

  const control = {
    model,
    /** Current simulated time (ms). */
    now: nowMs,
    /** Set the simulated "now" (ISO string, ms, Date, or 'real' for the wall clock). */
    setNow,
    /** Mark hosts/QIDs modified: {hostIds?, qids?, at? (default now)}. */
    touch: (t = {}) => model.touch({ ...t, at: t.at === undefined ? nowMs() : t.at }),
    clearTouches: () => model.clearTouches(),
    /** Replace the fault list. */
    setFaults: (specs) => { state.faults.set(specs); return state.faults.describe(); },
    addFault: (spec) => { state.faults.add(spec); return state.faults.describe(); },
    clearFaults: () => { state.faults.clear(); return []; },
    faults: () => state.faults.describe(),
    /** Change limits: {rateLimit?, concurrency?} (counters restart). */
    setLimits: (l) => { state.limits.configure(l); return state.limits.describe(); },
    limits: () => state.limits.describe(),
    log: () => state.log,
    clearLog: () => state.log.clear(),
    counters: () => ({ ...state.counters }),
    /** Back to the startup state: log, counters, limits, faults, touches, now, page tracking. */
    reset: () => {
      state.log.clear();
      state.counters = { global: 0, kb: 0, hosts: 0, detections: 0 };
      state.pageOf.clear();
      state.limits = new Limits({ rateLimit: opts.rateLimit, concurrency: opts.concurrency });
      state.faults.set(opts.faults || []);
      model.clearTouches();
      setNow(initialNow);
    },
    info: () => ({
      urls: { http: `http://${opts.host}:${port}`, https: httpsServer ? `https://${opts.host}:${httpsPort}` : null },
      credentials: { username: opts.username },
      apis: Object.fromEntries(Object.entries(ENDPOINTS).map(([k, e]) => [k, `/api/<version>/${e.path}/`])),
      model: {
        seed: model.seed, hosts: model.hostCount, kb: model.kbCount, detectionsPerHost: model.detectionsPerHost,
        detectionsSpread: model.detectionsSpread, dataEnd: new Date(model.dataEndMs).toISOString(),
        firstHostId: model.hostIds.firstId, lastHostId: model.hostIds.lastId,
        firstQid: model.qids.firstId, lastQid: model.qids.lastId,
        touchedHosts: model.touchedHosts.size, touchedQids: model.touchedQids.size,
      },
      now: new Date(nowMs()).toISOString(),
      limits: state.limits.describe(),
      faults: state.faults.describe(),
      counters: { ...state.counters },
      logEntries: state.log.entries.length,
    }),
  };

  let closed = false;
  async function close() {
    if (closed) return;
    closed = true;
    const closeOne = (s) => new Promise((resolve) => s.close(() => resolve()));
    const waits = [closeOne(httpServer)];
    if (httpsServer) waits.push(closeOne(httpsServer));
    for (const s of sockets) s.destroy();
    await Promise.all(waits);
  }

  return {
    url: `http://${opts.host}:${port}`,
    httpsUrl: httpsServer ? `https://${opts.host}:${httpsPort}` : null,
    port,
    httpsPort,
    caCertPem,
    caPath,
    close,
    log: state.log,
    control,
    model,
    options: opts,
  };
}

module.exports = { startSimulator, DEFAULT_OPTIONS, CERT_DIR };
