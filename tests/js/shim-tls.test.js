'use strict';
// TLS through each adapter: a certificate the runtime does not trust (a self-signed one made with
// openssl, and the simulator's private-CA one) is rejected by default with the TLS_CERTIFICATE
// configuration error that points at caCert and verifyCerts; it is accepted with caCert (the
// certificate or its CA) or verifyCerts=False, per request: certificate checks stay on for the
// rest of the process and NODE_TLS_REJECT_UNAUTHORIZED is never touched. fetch cannot take caCert
// or verifyCerts=False per request and says so.

const test = require('node:test');
const assert = require('node:assert/strict');
const https = require('https');
const { sim, paramsFor, run, selfSignedCert, lib } = require('./helpers/shim-util');
const { codes } = lib;

const cert = selfSignedCert();

function httpsGetStatus(url) {
  return new Promise((resolve) => {
    https.get(url, (res) => { res.resume(); resolve({ ok: true, status: res.statusCode }); }).on('error', (e) => resolve({ ok: false, code: e.code }));
  });
}

async function withServers(fn) {
  const envBefore = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
  const servers = [await sim({ rateLimit: 'off', concurrency: 'off' })];
  if (cert) servers.push(await sim({ rateLimit: 'off', concurrency: 'off', tls: { key: cert.key, cert: cert.cert, ca: cert.cert } }));
  try {
    await fn(servers);
  } finally {
    for (const s of servers) await s.close();
    assert.equal(process.env.NODE_TLS_REJECT_UNAUTHORIZED, envBefore, 'NODE_TLS_REJECT_UNAUTHORIZED untouched');
  }
}

test('openssl made a self-signed certificate for the tests', () => {
  assert.ok(cert, 'the openssl CLI is needed for the TLS tests');
});

for (const http of ['node', 'request']) {
  test(`${http}: an untrusted certificate is rejected by default, accepted with caCert or verifyCerts=False`, async () => {
    await withServers(async (servers) => {
      for (const s of servers) {
        const what = `${http} ${s === servers[0] ? 'private CA' : 'self-signed'}`;
        const rejected = await run({ params: paramsFor(s.httpsUrl, 'kb', { maxRetry: '2', retryDelaySec: '0' }), http });
        assert.equal(rejected.ok, false, what);
        assert.equal(rejected.error.code, codes.TLS_CERTIFICATE, `${what}: ${rejected.error.message}`);
        assert.equal(rejected.error.blame, 'configuration');
        assert.match(rejected.error.message, /caCert/);
        assert.match(rejected.error.message, /verifyCerts/);
        assert.match(rejected.error.message, s === servers[0] ? /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify/ : /SELF_SIGNED|self[- ]signed/);
        assert.equal(rejected.summary.requests, 1, `${what}: not retried`);
        assert.equal(rejected.items.length, 0);

        const withCa = await run({ params: paramsFor(s.httpsUrl, 'kb', { caCert: s.caCertPem }), http });
        assert.equal(withCa.ok, true, `${what} + caCert: ${withCa.error && withCa.error.message}`);
        assert.equal(withCa.summary.records, 30);

        const noVerify = await run({ params: paramsFor(s.httpsUrl, 'kb', { verifyCerts: 'False' }), http });
        assert.equal(noVerify.ok, true, `${what} + verifyCerts=False: ${noVerify.error && noVerify.error.message}`);
        assert.equal(noVerify.text, withCa.text);
        assert.ok(noVerify.logs.some((l) => /certificate verification OFF/.test(l)), noVerify.logs.join('\n'));

        // Checks are still on for everything else in this process.
        const after = await httpsGetStatus(`${s.httpsUrl}/`);
        assert.equal(after.ok, false, `${what}: a plain https.get after the run must still verify`);
      }
    });
  });
}

test('caCert adds to the default roots: a wrong CA still rejects', async () => {
  await withServers(async (servers) => {
    if (servers.length < 2) return;
    const r = await run({ params: paramsFor(servers[0].httpsUrl, 'kb', { caCert: servers[1].caCertPem }), http: 'node' });
    assert.equal(r.ok, false);
    assert.equal(r.error.code, codes.TLS_CERTIFICATE);
  });
});

test('fetch: rejects an untrusted certificate; caCert and verifyCerts=False are configuration errors', async () => {
  await withServers(async ([s]) => {
    const rejected = await run({ params: paramsFor(s.httpsUrl, 'kb'), http: 'fetch' });
    assert.equal(rejected.ok, false);
    assert.equal(rejected.error.code, codes.TLS_CERTIFICATE, rejected.error.message);
    for (const extra of [{ caCert: s.caCertPem }, { verifyCerts: 'False' }]) {
      const r = await run({ params: paramsFor(s.httpsUrl, 'kb', extra), http: 'fetch' });
      assert.equal(r.ok, false);
      assert.equal(r.error.code, codes.HTTP_OPTION_UNSUPPORTED, r.error.message);
      assert.equal(r.error.blame, 'configuration');
      assert.match(r.error.message, new RegExp(Object.keys(extra)[0]));
      assert.equal(s.log.entries.length, 0, 'no request reached the server');
      assert.ok(r.logs.some((l) => /^ERROR :: HTTP_OPTION_UNSUPPORTED/.test(l)), r.logs.join('\n'));
    }
  });
});
