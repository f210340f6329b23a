'use strict';
// End-to-end: a proxy that accepts TCP connections and never answers CONNECT (issue #11, class
// 3). The single file in the mirrored Archer host, for every data source, on the hosts whose HTTP
// client supports a proxy (6x: request, node: Node's https): each request fails at the idle limit
// (requestTimeoutSec=5), is retried maxRetry times (a page of hosts: checked once with a small
// host-list request instead, issue #13 point 3), and the run calls back once with a NETWORK
// error, writes nothing and never reports success. Archer 2025 (fetch) refuses the proxy before
// any request. No run waits longer than the bound.

const test = require('node:test');
const assert = require('node:assert/strict');
const u = require('./helpers/e2e-util');
const { silentServer } = require('./helpers/hostile');

const TIMEOUT_SEC = 5;

test('a silent proxy: every data source fails after (maxRetry + 1) idle limits with NETWORK; fetch refuses the proxy', { timeout: 120000 }, async (t) => {
  const sim = await u.startSim({ https: true, hosts: 20, kb: 30 });
  const proxy = await silentServer();
  t.after(async () => { await proxy.close(); await sim.close(); });
  const extra = { proxy: proxy.url, requestTimeoutSec: TIMEOUT_SEC, maxRetry: 1, batchSize: 7, kbChunkSize: 15 };
  const runs = await Promise.all(['6x', 'node', '2025'].flatMap((mode) => u.FEEDS.map(async (ds) => {
    const t0 = Date.now();
    const r = await u.runScript(sim, u.paramsFor(sim, ds, extra, { https: true }), { mode, timeoutMs: 90000 });
    return { mode, ds, r, ms: Date.now() - t0 };
  })));
  for (const { mode, ds, r, ms } of runs) {
    const label = `${ds} (${mode})`;
    if (mode === '2025') {
      u.assertFailed(r, label, /^HTTP_OPTION_UNSUPPORTED: .*proxy/);
      assert.ok(ms < 5000, `${label}: refused at once (${ms} ms)`);
    } else {
      const text = u.assertFailed(r, label, /^NETWORK: /);
      // Two attempts either way: the page retried once, or (adaptive page size, before anything
      // answered) the page and one small probe to the same server.
      assert.match(text, /failed after 2 attempt\(s\) \(maxRetry=1\)|timed out before Qualys had answered anything in this run, and a small request to the same server failed too/, `${label}: two attempts: ${text}`);
      assert.match(text, /ETIMEDOUT: no response from the server within 5 s/, `${label}: the idle limit ended it: ${text}`);
      assert.ok(ms >= 2 * TIMEOUT_SEC * 1000 - 500 && ms < 2 * TIMEOUT_SEC * 1000 + 15000, `${label}: ${ms} ms`);
    }
    assert.equal(r.text, '', `${label}: nothing written`);
    assert.equal(r.entries.length, 0, `${label}: no request reached Qualys`);
  }
  assert.ok(proxy.accepted.length >= 16, `the 6x and node runs reached the proxy (${proxy.accepted.length} connections)`);
});
