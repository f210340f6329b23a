'use strict';
// The core's `concurrency` parameter through the shim: several requests in flight at once (the
// loop starts each `send` without waiting and sleeps on `pending`), the same records as a
// sequential run, socketLimit bounding the sockets the Node and request adapters open, and a
// fatal failure abandoning the requests still in flight at once.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const { sim, paramsFor, run, detectionKeys, scriptedServer, lib, runArcherInProcess } = require('./helpers/shim-util');

/** A front that forwards to the simulator, counting requests in flight and open connections. */
async function countingFront(target, { delayMs = 0, answer } = {}) {
  const stats = { inFlight: 0, maxInFlight: 0, openSockets: 0, maxSockets: 0 };
  const srv = await scriptedServer(async (req, res, n) => {
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.on('close', () => { stats.inFlight--; });
    const said = answer ? answer(req, res, n) : 'slow';
    if (said === 'done') return;
    if (delayMs && said !== 'fast') await new Promise((r) => setTimeout(r, delayMs));
    if (res.destroyed) return;
    const up = http.request(target + req.url, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end();
  });
  return { srv, stats };
}

test('concurrency=4: requests overlap and the records are exactly those of a sequential run', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 10, hosts: 60 });
  t.after(() => s.close());
  const sequential = await run({ params: paramsFor(s.url, 'detections', { batchSize: '5' }) });
  assert.equal(sequential.ok, true, sequential.error && sequential.error.message);
  const want = detectionKeys(sequential.text).sort();
  for (const adapter of ['node', 'request', 'fetch']) {
    const { srv, stats } = await countingFront(s.url, { delayMs: 30 });
    try {
      const r = await run({ params: paramsFor(srv.url, 'detections', { batchSize: '5', concurrency: '4', requestsPerMin: '10000' }), http: adapter });
      assert.equal(r.ok, true, `${adapter}: ${r.error && r.error.message}`);
      const keys = detectionKeys(r.text);
      assert.equal(new Set(keys).size, keys.length, `${adapter}: no record twice`);
      assert.deepEqual(keys.slice().sort(), want, `${adapter}: the same records`);
      assert.ok(stats.maxInFlight > 1 && stats.maxInFlight <= 4, `${adapter}: ${stats.maxInFlight} requests in flight at most`);
      assert.ok(r.actions.some((a) => a.kind === 'pending'), 'the loop waited on pending');
    } finally {
      await srv.close();
    }
  }
});

test('socketLimit bounds the connections the Node and request adapters open', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 10, hosts: 60 });
  t.after(() => s.close());
  for (const adapter of ['node', 'request']) {
    const { srv, stats } = await countingFront(s.url, { delayMs: 40 });
    try {
      const r = await run({ params: paramsFor(srv.url, 'hosts', { batchSize: '5', concurrency: '6', socketLimit: '2', requestsPerMin: '10000' }), http: adapter });
      assert.equal(r.ok, true, `${adapter}: ${r.error && r.error.message}`);
      assert.equal(r.summary.records, 60);
      assert.ok(stats.maxInFlight <= 2, `${adapter}: ${stats.maxInFlight} requests at once with socketLimit=2`);
      assert.ok(srv.connections() <= 2, `${adapter}: ${srv.connections()} connections with socketLimit=2`);
    } finally {
      await srv.close();
    }
  }
});

test('a fatal answer while other requests are in flight: the run fails at once and abandons them', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 10, hosts: 60 });
  t.after(() => s.close());
  for (const adapter of ['node', 'request', 'fetch']) {
    let forbidden = 0;
    const { srv } = await countingFront(s.url, {
      delayMs: 4000,
      answer: (req, res) => {
        // The host ID listing goes through; the first range fetch is refused.
        if (/details=None/.test(req.url)) return 'fast';
        if (forbidden++ === 0) {
          res.writeHead(403, { 'Content-Type': 'text/plain' });
          res.end('forbidden\n');
          return 'done';
        }
        return 'slow';
      },
    });
    try {
      const t0 = Date.now();
      const { out, calls } = await runArcherInProcess(lib, { params: paramsFor(srv.url, 'hosts', { batchSize: '5', concurrency: '4', requestsPerMin: '10000' }), print: () => {}, run: { http: adapter } });
      const took = Date.now() - t0;
      assert.equal(out.ok, false, adapter);
      assert.equal(calls.length, 1);
      assert.match(calls[0][0][calls[0][0].length - 1], /ACCESS_DENIED/);
      assert.ok(took < 3000, `${adapter}: took ${took} ms; the slow requests were not waited for`);
    } finally {
      await srv.close();
    }
  }
});
