'use strict';
// The proxy parameter through a real forward proxy in its own process on 127.0.0.1
// (helpers/shim-proxy.js): HTTPS targets through CONNECT with Proxy-Authorization (Node adapter:
// our tunnel agent; request: its proxy option), http targets as absolute-form requests, 407 for
// wrong proxy credentials as the PROXY_AUTH_REQUIRED configuration error, and fetch refusing a
// proxy it cannot use.

const test = require('node:test');
const assert = require('node:assert/strict');
const { sim, paramsFor, run, startProxy, lib } = require('./helpers/shim-util');
const { codes } = lib;

const PROXY_USER = 'proxyuser';
const PROXY_PASS = 'Proxy-Pass-4e1d';

let simulator;
let proxy;
test.before(async () => {
  simulator = await sim({ rateLimit: 'off', concurrency: 'off' });
  proxy = await startProxy({ username: PROXY_USER, password: PROXY_PASS });
});
test.after(async () => {
  if (proxy) await proxy.close();
  if (simulator) await simulator.close();
});

const proxyParam = (pw = PROXY_PASS) => `http://${PROXY_USER}:${pw}@127.0.0.1:${proxy.port}`;

for (const http of ['node', 'request']) {
  test(`${http}: HTTPS through the proxy's CONNECT tunnel with Proxy-Authorization`, async () => {
    const before = (await proxy.log()).length;
    const direct = await run({ params: paramsFor(simulator.httpsUrl, 'hosts', { batchSize: '10', caCert: simulator.caCertPem }), http });
    const r = await run({ params: paramsFor(simulator.httpsUrl, 'hosts', { batchSize: '10', caCert: simulator.caCertPem, proxy: proxyParam() }), http });
    assert.equal(r.ok, true, `${http}: ${r.error && r.error.message}`);
    assert.equal(r.text, direct.text);
    const seen = (await proxy.log()).slice(before);
    assert.ok(seen.length >= 1, 'the proxy was used');
    for (const e of seen) {
      assert.equal(e.method, 'CONNECT', JSON.stringify(e));
      assert.equal(e.target, `127.0.0.1:${simulator.httpsPort}`);
      assert.equal(e.auth, true, 'right Proxy-Authorization on the CONNECT');
    }
    if (http === 'node') assert.equal(seen.length, 1, 'the keep-alive agent reuses its tunnel for all 4 pages');
    assert.ok(r.logs.some((l) => l.includes(`proxy http://127.0.0.1:${proxy.port}/`)), r.logs.join('\n'));
  });

  test(`${http}: plain-http (loopback) targets go to the proxy in absolute form`, async () => {
    const before = (await proxy.log()).length;
    const r = await run({ params: paramsFor(simulator.url, 'kb', { proxy: proxyParam() }), http });
    assert.equal(r.ok, true, `${http}: ${r.error && r.error.message}`);
    assert.equal(r.summary.records, 30);
    const seen = (await proxy.log()).slice(before);
    assert.equal(seen.length, r.summary.requests, 'every request went through the proxy');
    for (const e of seen) {
      assert.equal(e.method, 'GET');
      assert.ok(e.target.startsWith(`${simulator.url}/api/4.0/fo/knowledge_base/vuln/`), e.target);
      assert.equal(e.auth, true);
    }
  });

  test(`${http}: wrong proxy credentials give PROXY_AUTH_REQUIRED (a configuration error, not retried)`, async () => {
    for (const base of [simulator.httpsUrl, simulator.url]) {
      const before = (await proxy.log()).length;
      const r = await run({ params: paramsFor(base, 'kb', { caCert: simulator.caCertPem, proxy: proxyParam('not-the-password'), maxRetry: '2', retryDelaySec: '0' }), http });
      assert.equal(r.ok, false, base);
      assert.equal(r.error.code, codes.PROXY_AUTH_REQUIRED, `${http} ${base}: ${r.error.message}`);
      assert.equal(r.error.blame, 'configuration');
      const seen = (await proxy.log()).slice(before);
      assert.equal(seen.length, 1, 'not retried');
      assert.equal(seen[0].auth, false);
      assert.equal(seen[0].hadAuth, true);
    }
  });
}

test('a proxy without credentials: no Proxy-Authorization is sent, the proxy answers 407', async () => {
  const before = (await proxy.log()).length;
  const r = await run({ params: paramsFor(simulator.httpsUrl, 'kb', { caCert: simulator.caCertPem, proxy: `http://127.0.0.1:${proxy.port}` }), http: 'node' });
  assert.equal(r.ok, false);
  assert.equal(r.error.code, codes.PROXY_AUTH_REQUIRED);
  const seen = (await proxy.log()).slice(before);
  assert.equal(seen[0].hadAuth, false);
});

test('fetch cannot use a proxy: a configuration error before any request', async () => {
  const before = (await proxy.log()).length;
  const r = await run({ params: paramsFor(simulator.url, 'kb', { proxy: proxyParam() }), http: 'fetch' });
  assert.equal(r.ok, false);
  assert.equal(r.error.code, codes.HTTP_OPTION_UNSUPPORTED);
  assert.match(r.error.message, /proxy/);
  assert.equal((await proxy.log()).length, before);
});
