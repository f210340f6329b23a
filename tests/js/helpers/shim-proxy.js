'use strict';
// A forward HTTP proxy for the tests, run in its own process (child_process.fork) on 127.0.0.1:
//   CONNECT host:port       tunnels (HTTPS through the proxy)
//   GET http://host/...     absolute-form requests, forwarded
// When started with a username/password it requires Proxy-Authorization: Basic and answers 407
// otherwise. It only connects to 127.0.0.1/localhost. Every request is logged: method, target,
// whether Proxy-Authorization was right, and the headers the client sent the proxy.
// IPC: {type:'start', username?, password?} -> {type:'listening', port}; {type:'log', id} ->
// {type:'log', id, entries}; {type:'close'} -> exits.

const http = require('http');
const net = require('net');

const entries = [];
let server = null;
const sockets = new Set();

function authOk(req, username, password) {
  if (!username) return true;
  const want = 'Basic ' + Buffer.from(`${username}:${password || ''}`).toString('base64');
  return req.headers['proxy-authorization'] === want;
}

function allowedHost(host) {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

function start({ username, password }) {
  server = http.createServer((req, res) => {
    let target;
    try { target = new URL(req.url); } catch (e) { target = null; }
    const ok = authOk(req, username, password);
    entries.push({ method: req.method, target: req.url, auth: ok, hadAuth: Boolean(req.headers['proxy-authorization']), headers: Object.keys(req.headers) });
    if (!ok) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test proxy"', 'Content-Type': 'text/plain' });
      res.end('proxy authentication required\n');
      return;
    }
    if (!target || target.protocol !== 'http:' || !allowedHost(target.hostname)) {
      res.writeHead(403);
      res.end('only http://127.0.0.1 targets\n');
      return;
    }
    const headers = Object.assign({}, req.headers);
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = http.request({ host: target.hostname, port: target.port || 80, method: req.method, path: target.pathname + target.search, headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connect', (req, clientSocket, head) => {
    const ok = authOk(req, username, password);
    entries.push({ method: 'CONNECT', target: req.url, auth: ok, hadAuth: Boolean(req.headers['proxy-authorization']), headers: Object.keys(req.headers) });
    if (!ok) {
      clientSocket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = req.url.split(':');
    if (!allowedHost(host)) {
      clientSocket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect(Number(port), host, () => {
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head && head.length) upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => clientSocket.destroy());
    clientSocket.on('error', () => upstream.destroy());
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.listen(0, '127.0.0.1', () => process.send({ type: 'listening', port: server.address().port }));
}

process.on('message', (m) => {
  if (m.type === 'start') start(m);
  else if (m.type === 'log') process.send({ type: 'log', id: m.id, entries });
  else if (m.type === 'close') {
    for (const s of sockets) s.destroy();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  }
});
// Never outlive the test process.
process.on('disconnect', () => process.exit(0));
