'use strict';
// Small hostile servers for the shim tests (tests/js/hostile-*.test.js), all on 127.0.0.1 and
// closed by the test that started them:
//   front(target, behave)  an HTTP server that passes requests through to the simulator until
//                          behave(n, req, socket) takes one over (drip, raw status lines, silence)
//   silentServer()         accepts TCP connections and never sends a byte
//   elapsed(fn)            runs fn and measures how long it took
// Every connection a server accepted is destroyed by close(), so no test waits on a socket.

const http = require('http');
const net = require('net');

/** Tracks sockets so close() can destroy them. */
function tracked(server) {
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  return () => new Promise((r) => {
    for (const s of sockets) s.destroy();
    server.close(() => r());
  });
}

/**
 * An HTTP front of the simulator: request n is passed through unless behave(n, req, res) returns
 * something other than 'pass' (it then owns the request: it may write raw bytes on req.socket).
 * The Host header stays the front's, so the simulator's next-page URLs point back at the front.
 */
async function front(target, behave) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const n = requests.length + 1;
    requests.push({ n, at: Date.now(), url: req.url });
    if (behave(n, req, res) !== 'pass') return;
    const up = http.request(target + req.url, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => res.destroy(e));
    req.pipe(up);
  });
  // No server-side timeouts: the client must be the one that gives up.
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  server.keepAliveTimeout = 60000;
  const close = tracked(server);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, requests, close };
}

/** A 200 head with a body sent `bytes` at a time every `everyMs` (until the client gives up). */
function drip(res, body, { bytes = 1, everyMs = 2000 } = {}) {
  res.writeHead(200, { 'Content-Type': 'text/xml' });
  res.flushHeaders();
  const buf = Buffer.from(body);
  let off = 0;
  const timer = setInterval(() => {
    if (res.destroyed || off >= buf.length) { clearInterval(timer); return; }
    res.write(buf.subarray(off, off + bytes));
    off += bytes;
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

/** Writes a raw status line and headers on the request's socket and keeps it open (or closes it). */
function rawStatus(req, text, { close = false } = {}) {
  req.socket.write(text);
  if (close) req.socket.end();
}

/** A TCP server that accepts connections and never answers (a dead server or a silent proxy). */
async function silentServer() {
  const accepted = [];
  const server = net.createServer((s) => { accepted.push(Date.now()); s.on('data', () => {}); });
  const close = tracked(server);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, url: `http://127.0.0.1:${server.address().port}`, accepted, close };
}

/** Runs fn and resolves to [result, milliseconds]. */
async function elapsed(fn) {
  const t0 = Date.now();
  const r = await fn();
  return [r, Date.now() - t0];
}

module.exports = { front, drip, rawStatus, silentServer, elapsed };
