'use strict';
// A certificate check switched off for the whole process (issue #11, class 9). This test process
// runs with NODE_TLS_REJECT_UNAUTHORIZED=0, as an Archer host whose framework has verifyCerts
// false may. With the feed's verifyCerts True (the default):
//   - Node's https and the request package verify per request: the simulator's HTTPS listener
//     (a private CA the runtime does not trust) is refused with TLS_CERTIFICATE; with caCert it
//     works; the start line says the variable is overridden
//   - the global fetch cannot verify per request: the run fails with
//     TLS_VERIFY_DISABLED_IN_PROCESS before any request, so the password never leaves
// All three through the single file in the mirrored Archer host (6x, node, 2025).

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
process.removeAllListeners('warning'); // Node's warning about the variable, expected here

const test = require('node:test');
const assert = require('node:assert/strict');
const { sim, paramsFor, runInSandbox, buildBundle, lib } = require('./helpers/shim-util');
const { codes } = lib;

let s;
test.before(async () => {
  buildBundle();
  s = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 12 });
});
test.after(() => s && s.close());

const lastError = (r) => (Array.isArray(r.err) ? String(r.err[r.err.length - 1]) : r.err ? String(r.err.message || r.err) : '');
const requestsSeen = () => s.log.entries.length;

for (const mode of ['6x', 'node']) {
  test(`${mode}: with NODE_TLS_REJECT_UNAUTHORIZED=0 the certificate is still verified per request`, { timeout: 60000 }, async () => {
    const refused = await runInSandbox({ mode, params: paramsFor(s.httpsUrl, 'hosts', { maxRetry: '0' }) });
    assert.equal(refused.calls.length, 1);
    assert.match(lastError(refused), /^TLS_CERTIFICATE: /, `${mode}: refused: ${lastError(refused)}`);
    assert.ok(refused.logs.some((l) => /certificate verification: per request \(NODE_TLS_REJECT_UNAUTHORIZED=0 in this process is overridden\)/.test(l)), `${mode}: the start line says so:\n${refused.logs.join('\n')}`);
    assert.equal(refused.items.length, 0);

    const trusted = await runInSandbox({ mode, params: paramsFor(s.httpsUrl, 'hosts', { caCert: s.caCertPem, batchSize: '5' }) });
    assert.equal(trusted.err, null, `${mode} + caCert: ${lastError(trusted)}`);
    assert.equal(trusted.summary.records, 12);
    assert.equal(process.env.NODE_TLS_REJECT_UNAUTHORIZED, '0', 'the variable is left as the host had it');
  });
}

test('2025 (fetch): with NODE_TLS_REJECT_UNAUTHORIZED=0 and verifyCerts True, nothing is sent: TLS_VERIFY_DISABLED_IN_PROCESS', { timeout: 60000 }, async () => {
  for (const url of [s.httpsUrl, s.url]) {
    const before = requestsSeen();
    const r = await runInSandbox({ mode: '2025', params: paramsFor(url, 'hosts') });
    assert.equal(r.calls.length, 1);
    const text = lastError(r);
    assert.match(text, /^TLS_VERIFY_DISABLED_IN_PROCESS: /, text);
    assert.match(text, /NODE_TLS_REJECT_UNAUTHORIZED=0/, 'names the variable');
    assert.match(text, /Remove NODE_TLS_REJECT_UNAUTHORIZED/, 'says what to do');
    assert.match(text, /request package|Node's https/, 'and the alternative');
    assert.equal(requestsSeen(), before, 'no request reached the server: the password was not sent');
    assert.equal(r.items.length, 0);
  }
  // verifyCerts=False is still refused by fetch as before (it cannot switch checks off per request).
  const off = await runInSandbox({ mode: '2025', params: paramsFor(s.httpsUrl, 'hosts', { verifyCerts: 'False' }) });
  assert.match(lastError(off), /^HTTP_OPTION_UNSUPPORTED: .*verifyCerts/);
});

test('the adapters read the variable from the host they are given, and never change it', () => {
  const t = { socketLimit: 2, requestTimeoutMs: 5000, responseTimeoutMs: 30000, verifyCerts: true, caCert: null, proxy: null, rootNode: 'R', dataSource: 'kb' };
  const only = (names) => (n) => { if (!names.includes(n)) throw new Error('no'); return require(n); };
  assert.throws(() => lib.createHttp(t, { require: only([]), global: { fetch }, env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } }),
    (e) => e.code === codes.TLS_VERIFY_DISABLED_IN_PROCESS && e.blame === 'configuration' && e.retryable === false);
  assert.equal(lib.createHttp(t, { require: only([]), global: { fetch }, env: { NODE_TLS_REJECT_UNAUTHORIZED: '1' } }).name, 'fetch');
  assert.equal(lib.createHttp(t, { require: only([]), global: { fetch }, env: {} }).name, 'fetch');
  const node = lib.createHttp(t, { prefer: 'node', env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' } });
  assert.match(node.describe, /per request \(NODE_TLS_REJECT_UNAUTHORIZED=0 in this process is overridden\)/);
  node.close();
  const req = lib.createHttp(t, { prefer: 'request', env: {} });
  assert.match(req.describe, /certificate verification: per request/);
  assert.doesNotMatch(req.describe, /overridden/);
  req.close();
  assert.equal(process.env.NODE_TLS_REJECT_UNAUTHORIZED, '0');
});
