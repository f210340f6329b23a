'use strict';
// Each HTTP adapter (Node http/https, request, global fetch) against local servers: a full feed,
// streaming (records reach the writer before the response ends), Basic auth + X-Requested-With,
// keep-alive, a reset mid-body, an early abort of a known-bad response, and the request timeout.

const test = require('node:test');
const assert = require('node:assert/strict');
const { sim, paramsFor, run, scriptedServer, fetchWhole, detectionKeys, API, lib } = require('./helpers/shim-util');
const { codes } = lib;

const ADAPTERS = ['node', 'request', 'fetch'];

test('every adapter runs a full multi-page feed with the same output', async (t) => {
  const s = await sim();
  t.after(() => s.close());
  const outputs = {};
  for (const http of ADAPTERS) {
    const r = await run({ params: paramsFor(s.url, 'detections', { batchSize: '7' }), http });
    assert.equal(r.ok, true, `${http}: ${r.error && r.error.message}`);
    assert.ok(r.summary.pages >= 5, `${http}: ${r.summary.pages} pages`);
    assert.equal(r.items.length, r.summary.chunks, `${http}: one writeItem per core chunk`);
    const keys = detectionKeys(r.text);
    assert.equal(keys.length, r.summary.records);
    assert.equal(new Set(keys).size, keys.length, `${http}: no duplicates`);
    assert.ok(r.logs.some((l) => l.includes(`HTTP client: ${http === 'node' ? 'Node http/https' : http === 'request' ? 'request package' : 'global fetch'}`)), r.logs.join('\n'));
    outputs[http] = r.text;
  }
  // The simulator's next-page URLs carry the port, so all three runs see the same bytes.
  assert.equal(outputs.request, outputs.node);
  assert.equal(outputs.fetch, outputs.node);
});

test('every adapter sends Basic auth and X-Requested-With, and reuses one keep-alive connection', async (t) => {
  const s = await sim();
  t.after(() => s.close());
  const page = (await fetchWhole(`${s.url}${API.hosts.replace('<LastRunTime>', '2000-01-01')}&truncation_limit=1000`)).body;
  for (const http of ADAPTERS) {
    const srv = await scriptedServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      res.end(page);
    });
    try {
      const r = await run({ params: paramsFor(srv.url, 'hosts'), http });
      assert.equal(r.ok, true, `${http}: ${r.error && r.error.message}`);
      const h = srv.requests[0].headers;
      assert.equal(h.authorization, 'Basic ' + Buffer.from('simuser:simpass').toString('base64'), http);
      assert.match(h['x-requested-with'], /^qualys-vm-transporter\//, http);
      assert.ok(r.summary.records > 0);
    } finally {
      await srv.close();
    }
  }
  // Keep-alive: several pages over one connection.
  for (const http of ADAPTERS) {
    const srv = await scriptedServer((req, res, n) => {
      // Forward to the simulator so paging works, keeping the connection to the client open.
      fetchWhole(s.url + req.url).then((r) => {
        const body = r.body.toString('utf8').split(s.url).join(srv.url);
        res.writeHead(r.status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    try {
      const r = await run({ params: paramsFor(srv.url, 'hosts', { batchSize: '10' }), http });
      assert.equal(r.ok, true, `${http}: ${r.error && r.error.message}`);
      assert.equal(srv.requests.length, 4, `${http}: 40 hosts in pages of 10`);
      // fetch keeps its own pool (no per-request agent): only the count is bounded there.
      if (http === 'fetch') assert.ok(srv.connections() <= srv.requests.length);
      else assert.equal(srv.connections(), 1, `${http}: pages share one keep-alive connection`);
    } finally {
      await srv.close();
    }
  }
});

test('every adapter streams: records are written before the response ends', async (t) => {
  const s = await sim({ hosts: 12 });
  t.after(() => s.close());
  const whole = (await fetchWhole(`${s.url}${API.detections.replace('<LastRunTime>', '2000-01-01')}&truncation_limit=1000`)).body.toString('utf8');
  let cut = 0;
  for (let i = 0; i < 5; i++) cut = whole.indexOf('</HOST>', cut) + '</HOST>'.length;
  assert.ok(cut > 100 && cut < whole.length - 100);
  for (const http of ADAPTERS) {
    let writtenBeforeRest = null;
    let sawFirstWrite;
    const firstWrite = new Promise((r) => { sawFirstWrite = r; });
    const items = [];
    const writer = { items, writeItem: (c) => { items.push(c); sawFirstWrite(); } };
    const srv = await scriptedServer(async (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      res.write(whole.slice(0, cut));
      // Hold the rest back until the shim has written something (or 5 s have passed).
      await Promise.race([firstWrite, new Promise((r) => setTimeout(r, 5000))]);
      writtenBeforeRest = items.length;
      res.end(whole.slice(cut));
    });
    try {
      const r = await run({ params: paramsFor(srv.url, 'detections', { outputChunkRecords: '1' }), http, writer });
      assert.equal(r.ok, true, `${http}: ${r.error && r.error.message}`);
      assert.ok(writtenBeforeRest > 0, `${http}: ${writtenBeforeRest} items written before the response ended`);
      assert.equal(items.length, r.summary.records, 'one record per chunk');
    } finally {
      await srv.close();
    }
  }
});

test('every adapter retries a connection reset mid-body without writing a record twice', async (t) => {
  const s = await sim();
  t.after(() => s.close());
  const clean = await run({ params: paramsFor(s.url, 'detections', { batchSize: '10' }), http: 'node' });
  assert.equal(clean.ok, true);
  for (const http of ADAPTERS) {
    s.control.reset();
    s.control.setFaults([{ type: 'reset', endpoint: 'detections', page: [2], afterBytes: 6000, times: 1 }]);
    const r = await run({ params: paramsFor(s.url, 'detections', { batchSize: '10', retryDelaySec: '0' }), http });
    assert.equal(r.ok, true, `${http}: ${r.error && r.error.message}`);
    assert.equal(r.summary.retries, 1, http);
    assert.equal(r.text, clean.text, `${http}: the same records, once each, in order`);
    assert.ok(r.logs.some((l) => /^WARN :: page 2 failed .*retry 1 of 1/.test(l)), `${http}: ${r.logs.join('\n')}`);
  }
});

test('every adapter stops reading a response the core already knows is bad', async (t) => {
  for (const http of ADAPTERS) {
    let closedAt = null;
    const srv = await scriptedServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.write('<html><head><title>Proxy login</title></head><body>');
      const timer = setInterval(() => res.write('<p>' + 'x'.repeat(1000) + '</p>'), 20);
      const stop = setTimeout(() => { clearInterval(timer); res.end('</body></html>'); }, 8000);
      res.on('close', () => { closedAt = Date.now(); clearInterval(timer); clearTimeout(stop); });
    });
    try {
      const t0 = Date.now();
      const r = await run({ params: paramsFor(srv.url, 'hosts', { maxRetry: '0' }), http });
      const took = Date.now() - t0;
      assert.equal(r.ok, false);
      assert.equal(r.error.code, codes.UNEXPECTED_DOCUMENT, `${http}: ${r.error.message}`);
      assert.ok(took < 4000, `${http}: took ${took} ms; the 8 s body was not read to its end`);
      await new Promise((res) => setTimeout(res, 100));
      assert.ok(closedAt !== null, `${http}: the connection was closed by the client`);
    } finally {
      await srv.close();
    }
  }
});

test('every adapter times out a silent server after requestTimeoutSec', async () => {
  // All three at once: the minimum requestTimeoutSec is 5. A page that times out before anything
  // answered is first checked with one small host-list request (issue #13 point 3, adaptive page
  // size), which times out too: two limits, then the run fails.
  const results = await Promise.all(ADAPTERS.map(async (http) => {
    const srv = await scriptedServer((req, res) => {
      // Never answer; the test closes the server.
      setTimeout(() => res.destroy(), 16000).unref();
    });
    try {
      const t0 = Date.now();
      const r = await run({ params: paramsFor(srv.url, 'hosts', { maxRetry: '0', requestTimeoutSec: '5' }), http });
      return { http, r, took: Date.now() - t0, urls: srv.requests.map((q) => q.url) };
    } finally {
      await srv.close();
    }
  }));
  for (const { http, r, took, urls } of results) {
    assert.equal(r.ok, false, http);
    assert.equal(r.error.code, codes.NETWORK, `${http}: ${r.error.message}`);
    assert.match(r.error.message, /ETIMEDOUT/, http);
    assert.equal(urls.length, 2, `${http}: the page, then the check`);
    assert.match(urls[1], /details=None.*truncation_limit=1/, `${http}: the check`);
    assert.ok(took >= 9800 && took < 14000, `${http}: took ${took} ms`);
  }
});

test('a refused connection is a network error, retried maxRetry times', async () => {
  const srv = await scriptedServer(() => {});
  const url = srv.url;
  await srv.close();
  for (const http of ADAPTERS) {
    const r = await run({ params: paramsFor(url, 'kb', { maxRetry: '2', retryDelaySec: '0' }), http });
    assert.equal(r.ok, false, http);
    assert.equal(r.error.code, codes.NETWORK, `${http}: ${r.error.message}`);
    assert.match(r.error.message, /ECONNREFUSED/, http);
    assert.equal(r.error.summary.requests, 3, `${http}: 1 try + 2 retries`);
  }
});
