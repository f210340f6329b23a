'use strict';
// The Qualys VM API simulator: HTTP + HTTPS listeners on 127.0.0.1 serving the KnowledgeBase,
// host list and host detection list APIs from the deterministic model, with Qualys's limits,
// paging, errors, injected faults, and a request log. See README.md.
const http = require('http');
const https = require('https');
const fs = require('fs');
const zlib = require('zlib');
const { createModel, toMs } = require('./generate');
const { ENDPOINTS, ParamError, interpretParams, mergePairs } = require('./params');
const { renderList, renderEmptyPage, withExtraWarnings, bigSimpleReturn, urlFromPairs, simpleReturn, genericReturn, http5xxBody, pageHosts, header, footer } = require('./render');
const { Limits } = require('./limits');
const { Faults, delayMs } = require('./faults');
const { RequestLog, redactParams } = require('./log');
const { BodyPump, sleep, waitDrain } = require('./stream');
const { handleControl } = require('./control');

const { generateTestCertificates } = require('./tls-cert');
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
  // A request target (path and query) longer than this is answered 414, as Apache's default
  // LimitRequestLine (8190 bytes) does in front of an API; 0 = no limit.
  maxUrlBytes: 8190,
  // Compress list answers with gzip when the request asks for it (Accept-Encoding: gzip).
  gzip: false,
  requireRequestedWith: true,
  retireVersions: [],
  retireStatus: 404,
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

/**
 * The status fault: a raw status line (101 Switching Protocols with Upgrade headers by default, or
 * any 100-999) written on the socket, then the socket kept open or closed.
 */
function writeRawStatus(req, f) {
  const reason = f.reason || http.STATUS_CODES[f.status] || 'Unknown';
  const headers = f.headers || (f.status === 101 ? [['Upgrade', 'websocket'], ['Connection', 'Upgrade']] : [['Content-Type', 'text/plain']]);
  const body = f.body === undefined ? '' : String(f.body);
  let head = `HTTP/1.1 ${f.status} ${reason}\r\n`;
  for (const [k, v] of headers) head += `${k}: ${v}\r\n`;
  if (f.status >= 200 && !headers.some(([k]) => /^content-length$/i.test(k))) head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  const sock = req.socket;
  sock.write(`${head}\r\n${body}`);
  if (f.close) sock.end();
}

/** "2" and "2.0" are one version. */
function normVersion(v) { return v.includes('.') ? v : `${v}.0`; }

/**
 * The retired API versions (retireVersions: e.g. ['2.0']) as a set, checked with retireStatus
 * (404 or 410): every API answers that status on a retired version's paths.
 */
function retiredVersions(opts) {
  const list = opts.retireVersions || [];
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string' && /^\d+(\.\d+)?$/.test(v))) {
    throw new Error(`retireVersions wants API versions like ["2.0"], got ${JSON.stringify(list)}`);
  }
  if (opts.retireStatus !== 404 && opts.retireStatus !== 410) {
    throw new Error(`retireStatus wants 404 or 410, got ${JSON.stringify(opts.retireStatus)}`);
  }
  return new Set(list.map(normVersion));
}

/**
 * The key of a page in its chain: the endpoint and the parameters, sorted, without
 * truncation_limit (a client asking again for fewer hosts from the same place, or growing its
 * pages back, is at the same place in the chain).
 */
/**
 * A gzip stream piped into `res` (Content-Encoding: gzip); the compressed bytes are counted in the
 * log entry's wireBytes. Destroyed when the client goes away.
 */
function gzipTo(res, entry) {
  const gz = zlib.createGzip();
  res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Vary', 'Accept-Encoding');
  entry.encoding = 'gzip';
  entry.wireBytes = 0;
  gz.on('data', (c) => { entry.wireBytes += c.length; });
  gz.pipe(res);
  res.on('close', () => gz.destroy());
  return gz;
}

/** One gzip member of 16 MiB of spaces (about 16 KiB), built once: the bomb's repeated part. */
let bombMember = null;
const BOMB_MEMBER_BYTES = 16 * 1024 * 1024;

/**
 * gzip_bomb: 200, Content-Encoding: gzip, Content-Length, a body of concatenated gzip members (a
 * valid gzip stream) that decodes to the start of a document, then `decoded` bytes of spaces,
 * then its end. Resolves to the bytes sent and what they decode to.
 */
async function sendGzipBomb(res, decoded, ctx) {
  const start = header(ctx);
  if (!bombMember) bombMember = zlib.gzipSync(Buffer.alloc(BOMB_MEMBER_BYTES, 0x20), { level: 9 });
  const head = zlib.gzipSync(Buffer.from(start));
  const tail = zlib.gzipSync(Buffer.from(footer(ctx)));
  const members = Math.max(1, Math.ceil(decoded / BOMB_MEMBER_BYTES));
  res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Content-Length', String(head.length + members * bombMember.length + tail.length));
  let wire = 0;
  let closed = false;
  res.on('close', () => { closed = true; });
  const write = async (b) => {
    wire += b.length;
    if (!res.write(b)) await waitDrain(res);
  };
  await write(head);
  for (let i = 0; i < members && !closed; i++) await write(bombMember);
  if (closed) return { complete: false, wire, decoded: 0 };
  await write(tail);
  await new Promise((resolve) => res.end(resolve));
  return { complete: true, wire, decoded: members * BOMB_MEMBER_BYTES };
}

function canonicalKey(endpoint, pairs) {
  return endpoint + '?' + pairs.filter(([k]) => k !== 'truncation_limit').sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
}

/**
 * Start the simulator.
 * @param {object} [options] see README.md "Options" (model: seed, hosts, detectionsPerHost, detectionsSpread,
 *   kb, dataEnd, scanHistoryDays, kbHistoryDays; server: host, port, httpsPort, https, tls, caFile, username, password,
 *   now, rateLimit, concurrency, faults, keepAliveEvery, evaluationComments, dtdHost, warningBaseUrl,
 *   chunkBytes, recordServed, logLimit, requireRequestedWith, retireVersions, retireStatus)
 * @returns {Promise<{url:string, httpsUrl:string|null, port:number, httpsPort:number|null, caCertPem:string|null,
 *   caPath:string|null, close:()=>Promise<void>, log:RequestLog, control:object, model:object, options:object}>}
 */
async function startSimulator(options = {}) {
  const opts = { ...DEFAULT_OPTIONS, ...options };
  const retired = retiredVersions(opts);
  const model = createModel(opts);
  const initialNow = opts.now === undefined ? model.dataEndMs : opts.now;
  const state = {
    now: /** @type {number | null} */ (null), // fixed ms, or null for wall clock
    limits: new Limits({ rateLimit: opts.rateLimit, concurrency: opts.concurrency }),
    faults: new Faults(opts.faults || []),
    log: new RequestLog({ limit: opts.logLimit }),
    counters: { global: 0, kb: 0, hosts: 0, detections: 0 },
    pageOf: new Map(),
    chainOf: new Map(), // next-page key -> the parameters of its chain's first page (page_cycle)
    cycles: 0,
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
    const urlBytes = Buffer.byteLength(req.url || '');
    const entry = state.log.start({ method: req.method, path: u.pathname, version, endpoint, urlBytes,
      contentType: req.headers['content-type'], contentLength: req.headers['content-length'] });
    res.on('close', () => entry.finish());
    res.setHeader('Server', 'Qualys');
    if (opts.maxUrlBytes > 0 && urlBytes > opts.maxUrlBytes) {
      // Like Apache in front of the API (LimitRequestLine): refused before anything else.
      entry.status = 414; entry.complete = true;
      res.statusCode = 414;
      res.setHeader('Content-Type', 'text/html; charset=iso-8859-1');
      res.end('<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>414 Request-URI Too Long</title>\n' +
        '</head><body>\n<h1>Request-URI Too Long</h1>\n<p>The requested URL\'s length exceeds the capacity\nlimit for this server.<br />\n</p>\n</body></html>\n');
      return;
    }
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
    if (version !== null && retired.has(normVersion(version))) {
      // A retired API version (retireVersions): the path is gone, whatever the request.
      entry.status = opts.retireStatus; entry.complete = true;
      res.statusCode = opts.retireStatus;
      res.setHeader('Content-Type', 'text/html; charset=iso-8859-1');
      const title = `${opts.retireStatus} ${http.STATUS_CODES[opts.retireStatus]}`;
      res.end(`<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>${title}</title>\n` +
        `</head><body>\n<h1>${http.STATUS_CODES[opts.retireStatus]}</h1>\n<p>The requested URL is no longer available on this server.</p>\n</body></html>\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.setHeader('Allow', 'GET, POST');
      return fail(405, 1920, `HTTP method ${req.method} is not supported for this API.`, { declaration: false });
    }
    let pairs;
    try {
      const body = req.method === 'POST' ? await readBody(req) : '';
      if (req.method === 'POST') entry.bodyBytes = Buffer.byteLength(body);
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
      p = interpretParams(/** @type {'kb'|'hosts'|'detections'} */ (endpoint), pairs);
    } catch (e) {
      if (e instanceof ParamError) return fail(400, e.code, e.message, { declaration: false });
      throw e;
    }

    state.counters.global++;
    state.counters[endpoint]++;
    const key = canonicalKey(endpoint, pairs);
    const page = state.pageOf.get(key) || 1;
    const firstPairs = state.chainOf.get(key) || pairs;
    entry.page = page;
    entry.requestNo = state.counters[endpoint];
    // empty_pages: the chain's state rides in its URL (sim_empty=K.N: K empty pages sent of N, 0 =
    // forever); such a request gets the next empty page without a fault being selected.
    const emptyMark = /^(\d+)\.(\d+)$/.exec(String(p.raw.sim_empty || ''));
    let empty = emptyMark && (Number(emptyMark[2]) === 0 || Number(emptyMark[1]) < Number(emptyMark[2]))
      ? { k: Number(emptyMark[1]), n: Number(emptyMark[2]) } : null;
    const chosen = empty ? {} : state.faults.select({ endpoint, requestNo: state.counters[endpoint], globalRequestNo: state.counters.global, page });
    const faultNames = [];
    if (chosen.delay) {
      faultNames.push('delay');
      entry.fault = 'delay'; // visible in the log while the delay runs
      await sleep(delayMs(chosen.delay));
      if (res.destroyed || res.writableEnded) { entry.fault = faultNames.join('+'); return; }
    }
    const f = chosen.main;
    if (f) faultNames.push(f.type);
    if (empty) faultNames.push('empty_pages');
    entry.fault = faultNames.length ? faultNames.join('+') : null;
    const now = nowMs();

    if (f && f.type === 'status') {
      entry.status = f.status; entry.complete = true;
      writeRawStatus(req, f);
      return;
    }
    if (f && f.type === 'hang') return; // never answers; the entry ends when the client gives up
    if (f && f.type === 'forged_text') return fail(f.status, /^\d+$/.test(f.code) ? Number(f.code) : f.code, f.text);
    if (f && f.type === 'big_text') {
      entry.status = f.status; entry.code = /^\d+$/.test(f.code) ? Number(f.code) : f.code;
      res.statusCode = f.status;
      res.setHeader('Content-Type', 'text/xml;charset=UTF-8');
      const big = await new BodyPump(res, { chunkBytes: opts.chunkBytes }).run(bigSimpleReturn({ code: f.code, bytes: f.bytes, now, dtdHost: opts.dtdHost, version }));
      entry.complete = big.complete; entry.bytes = big.bytes;
      return;
    }
    if (f && f.type === 'wait_header') {
      res.setHeader('X-RateLimit-Remaining', '0');
      res.setHeader('X-RateLimit-ToWait-Sec', String(f.toWaitSec));
    }
    if (f && f.type === 'ignore_window') p = { ...p, id_min: undefined, id_max: undefined };
    if (f && f.type === 'empty_pages') empty = { k: 0, n: f.pages };

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
    if (f && f.type === 'gzip_bomb') {
      entry.status = 200;
      res.statusCode = 200;
      res.setHeader('Content-Type', 'application/xml');
      const bomb = await sendGzipBomb(res, f.bytes, { endpoint, version, now, dtdHost: opts.dtdHost, evaluationComments: opts.evaluationComments });
      entry.complete = bomb.complete; entry.bytes = bomb.decoded; entry.wireBytes = bomb.wire; entry.encoding = 'gzip';
      return;
    }
    // gzip when asked (and the simulator compresses), or always for a damaged gzip stream.
    const asked = opts.gzip && /\bgzip\b/i.test(String(req.headers['accept-encoding'] || ''));
    const out = asked || (f && f.type === 'gzip_corrupt') ? gzipTo(res, entry) : undefined;
    const pump = new BodyPump(res, {
      fault: f, chunkBytes: opts.chunkBytes, out,
      onCommit: opts.recordServed ? (kind, a, b) => served.add(kind, a, b) : () => {},
    });
    const urlBase = base + u.pathname;
    // The parameters of the next page (and, from them, its page number and chain).
    let nextPairsOf = (nextId) => pairs.filter(([k]) => k !== 'id_min').concat([['id_min', String(nextId)]]);
    let nextPageUrl;
    if (f && f.type === 'page_cycle') {
      // Back to the chain's first page, with a parameter that changes every time.
      state.cycles++;
      const cycle = firstPairs.filter(([k]) => k !== 'sim_cycle').concat([['sim_cycle', String(state.cycles)]]);
      nextPairsOf = () => cycle;
      nextPageUrl = () => urlFromPairs(urlBase, cycle);
    }
    if (empty) {
      const again = pairs.filter(([k]) => k !== 'sim_empty').concat([['sim_empty', `${empty.k + 1}.${empty.n}`]]);
      nextPairsOf = () => again;
      nextPageUrl = () => urlFromPairs(urlBase, again);
    }
    const ctx = {
      model, endpoint, version, p, pairs, now,
      urlBase,
      nextPageUrl,
      overlap: f && f.type === 'overlap' ? f.hosts : undefined,
      kbNextPage: endpoint === 'kb' && Boolean(f) && (f.type === 'page_cycle' || f.type === 'overlap'),
      idRange: f && f.type === 'id_range' ? f.range : undefined,
      dtdHost: opts.dtdHost,
      keepAliveEvery: opts.keepAliveEvery,
      evaluationComments: opts.evaluationComments,
      inject: f && (f.type === 'bad_utf8' || f.type === 'huge_record') ? f : undefined,
      // stall_host: on the record pages of the host list and detections, not the ID listings
      // (details=None), which a client asks to find out which host it is.
      stallHost: f && f.type === 'stall_host' && p.details !== 'None' ? (f.hostId !== undefined ? f.hostId : model.hostIdAt(Math.min(f.index, model.hostCount - 1))) : undefined,
      mark: pump.mark,
      onNextPage: (nextId, url) => {
        entry.nextIdMin = nextId; entry.nextUrl = url;
        const nextPairs = nextPairsOf(nextId);
        if (state.pageOf.size > 200000) { state.pageOf.clear(); state.chainOf.clear(); }
        const nextKey = canonicalKey(endpoint, nextPairs);
        state.pageOf.set(nextKey, page + 1);
        state.chainOf.set(nextKey, firstPairs);
      },
    };
    if (f && f.type === 'slow_page' && endpoint !== 'kb' && p.details !== 'None' && !empty) {
      // A page of N hosts takes N x msPerHost before its first byte, holding its concurrency slot.
      const ms = pageHosts(ctx) * f.msPerHost;
      entry.slowMs = ms;
      await sleep(ms);
      if (res.destroyed || res.writableEnded) return;
    }
    entry.status = 200;
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/xml');
    let body;
    if (empty) body = renderEmptyPage(ctx, p.truncation_limit || 1000, p.id_min === undefined ? null : p.id_min);
    else body = renderList(ctx);
    if (f && f.type === 'warnings_flood') body = withExtraWarnings(body, f);
    const result = await pump.run(body);
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
    // A fresh throw-away CA and server certificate per start (no key ships: tls-cert.js), unless
    // the caller brings its own.
    const tls = opts.tls && opts.tls.key && opts.tls.cert ? opts.tls : generateTestCertificates();
    caCertPem = String(tls.ca || '') || null;
    if (opts.caFile && caCertPem) {
      fs.writeFileSync(opts.caFile, caCertPem);
      caPath = opts.caFile;
    }
    httpsServer = https.createServer({ key: tls.key, cert: tls.cert }, onRequest('https'));
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
      state.chainOf.clear();
      state.cycles = 0;
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
    const closeOne = (s) => /** @type {Promise<void>} */ (new Promise((resolve) => s.close(() => resolve(undefined))));
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

module.exports = { startSimulator, DEFAULT_OPTIONS };
