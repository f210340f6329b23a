'use strict';
// The simulator's HTTPS certificate (issue #14, point 6): no private key ships, in the source tree
// or the npm package. Every simulator start makes a fresh throw-away CA and a server certificate
// for 127.0.0.1/localhost in memory (js-shim/simulator/tls-cert.js: node:crypto signs, a small DER
// writer builds the X.509), and the CA key is dropped once the server certificate is signed.
// Checked here with Node's own X.509 parser, openssl (when present) and real TLS handshakes.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const https = require('https');
const crypto = require('crypto');
const { execFileSync } = require('child_process');
const { ROOT } = require('./helpers/shim-util');
const { startSimulator } = require('../../js-shim/simulator/server');

const SIM_DIR = path.join(ROOT, 'js-shim', 'simulator');

/** Every file under a directory, recursively. */
function walk(dir) {
  const out = [];
  for (const name of fs.readdirSync(dir)) {
    const f = path.join(dir, name);
    if (fs.statSync(f).isDirectory()) out.push(...walk(f));
    else out.push(f);
  }
  return out;
}

test('no private key (or certificate) is kept in the simulator\'s sources', () => {
  for (const f of walk(SIM_DIR)) {
    const text = fs.readFileSync(f, 'latin1');
    assert.doesNotMatch(text, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, `${path.relative(ROOT, f)} holds a private key`);
    assert.doesNotMatch(path.basename(f), /\.(pem|key|crt|p12|pfx)$/, `${path.relative(ROOT, f)} is key/certificate material`);
  }
});

/** A GET over TLS with these options; resolves {status} or rejects with the TLS error. */
function get(url, options) {
  return new Promise((resolve, reject) => {
    const req = https.get(url, Object.assign({ agent: false, timeout: 10000 }, options), (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

test('tls-cert: a CA and a server certificate for 127.0.0.1 and localhost, valid now, signed by that CA', () => {
  const { generateTestCertificates } = require('../../js-shim/simulator/tls-cert');
  const now = Date.parse('2030-01-15T12:00:00Z');
  const c = generateTestCertificates({ now });
  assert.deepEqual(Object.keys(c).sort(), ['ca', 'cert', 'key']);
  const ca = new crypto.X509Certificate(c.ca);
  const leaf = new crypto.X509Certificate(c.cert);
  assert.equal(ca.ca, true, 'the CA certificate is a CA');
  assert.equal(leaf.ca, false, 'the server certificate is not a CA');
  assert.ok(ca.verify(ca.publicKey), 'the CA is self-signed');
  assert.ok(leaf.verify(ca.publicKey), 'the server certificate is signed by the CA');
  assert.ok(leaf.checkIssued(ca));
  assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(leaf.checkHost('localhost'), 'localhost');
  assert.equal(leaf.checkHost('qualysapi.qualys.com'), undefined);
  assert.match(leaf.subject, /CN=localhost/);
  assert.match(ca.subject, /TEST-ONLY/);
  for (const x of [ca, leaf]) {
    assert.ok(Date.parse(x.validFrom) < now && now < Date.parse(x.validTo), `${x.subject}: ${x.validFrom} .. ${x.validTo}`);
    assert.equal(Date.parse(x.validTo), now + 90 * 86400e3, 'short-lived: 90 days');
  }
  // The key is the server certificate's (and nothing else is returned: the CA key is gone).
  const key = crypto.createPrivateKey(c.key);
  assert.equal(crypto.createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('hex'),
    leaf.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'));
  // Fresh every time.
  const again = generateTestCertificates({ now });
  assert.notEqual(again.key, c.key);
  assert.notEqual(new crypto.X509Certificate(again.ca).serialNumber, ca.serialNumber);
  // Dates past 2049 are GeneralizedTime (RFC 5280 4.1.2.5): still parsed right.
  const lateNow = Date.parse('2060-03-01T00:00:00Z');
  const late = new crypto.X509Certificate(generateTestCertificates({ now: lateNow }).cert);
  assert.equal(Date.parse(late.validTo), lateNow + 90 * 86400e3);
  assert.equal(Date.parse(late.validFrom), lateNow - 86400e3);
});

let openssl = null;
try { execFileSync('openssl', ['version'], { stdio: 'pipe' }); openssl = 'openssl'; } catch (e) { /* not installed */ }

test('tls-cert: openssl verifies the chain and reads the extensions', { skip: !openssl && 'openssl is not installed' }, () => {
  const { generateTestCertificates } = require('../../js-shim/simulator/tls-cert');
  const c = generateTestCertificates();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-cert-'));
  try {
    fs.writeFileSync(path.join(dir, 'ca.pem'), c.ca);
    fs.writeFileSync(path.join(dir, 'cert.pem'), c.cert);
    const verify = execFileSync('openssl', ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', 'ca.pem', 'cert.pem'], { cwd: dir, encoding: 'utf8' });
    assert.match(verify, /cert\.pem: OK/);
    const text = execFileSync('openssl', ['x509', '-in', 'cert.pem', '-noout', '-text'], { cwd: dir, encoding: 'utf8' });
    assert.match(text, /IP Address:127\.0\.0\.1, DNS:localhost/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /Authority Key Identifier/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the simulator serves HTTPS with a fresh certificate per start: trusted with its CA, refused without', { timeout: 30000 }, async () => {
  const a = await startSimulator({ hosts: 2, kb: 2, quiet: true });
  const b = await startSimulator({ hosts: 2, kb: 2, quiet: true });
  try {
    assert.match(a.caCertPem, /^-----BEGIN CERTIFICATE-----/);
    assert.notEqual(a.caCertPem, b.caCertPem, 'each start has its own CA');
    assert.equal(a.caPath, null, 'no CA file unless asked for');
    const ok = await get(`${a.httpsUrl}/__control`, { ca: a.caCertPem });
    assert.equal(ok.status, 200);
    await assert.rejects(get(`${a.httpsUrl}/__control`, {}), (e) => /UNABLE_TO_(GET_ISSUER_CERT_LOCALLY|VERIFY_LEAF_SIGNATURE)/.test(e.code));
    await assert.rejects(get(`${a.httpsUrl}/__control`, { ca: b.caCertPem }), (e) => /UNABLE_TO_(GET_ISSUER_CERT_LOCALLY|VERIFY_LEAF_SIGNATURE)/.test(e.code), 'another start\'s CA is not trusted');
    // localhost is in the certificate too.
    const viaName = await get(`https://localhost:${a.httpsPort}/__control`, { ca: a.caCertPem, lookup: (h, o, cb) => (o && o.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) });
    assert.equal(viaName.status, 200);
  } finally {
    await a.close();
    await b.close();
  }
});

test('the simulator writes its CA to caFile when asked (the CLI prints that path) and removes nothing else', { timeout: 30000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-ca-'));
  const caFile = path.join(dir, 'ca.pem');
  const s = await startSimulator({ hosts: 2, kb: 2, quiet: true, caFile });
  try {
    assert.equal(s.caPath, caFile);
    assert.equal(fs.readFileSync(caFile, 'utf8'), s.caCertPem);
  } finally {
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('simulate (the CLI) prints a CA file that trusts its HTTPS listener, and removes it when stopped', { timeout: 30000 }, async () => {
  const { main } = require('../../js-shim/simulator/cli');
  let text = '';
  const r = await main(['--hosts', '2', '--kb', '2'], { stdout: { write: (t) => { text += t; } }, signals: false });
  let caFile;
  try {
    caFile = (/ CA: +(\S+)/.exec(text) || [])[1];
    assert.ok(caFile && fs.existsSync(caFile), `the banner names a CA file:\n${text}`);
    const ok = await get(`${r.sim.httpsUrl}/__control`, { ca: fs.readFileSync(caFile) });
    assert.equal(ok.status, 200);
  } finally {
    await r.stop();
  }
  assert.equal(fs.existsSync(caFile), false, 'the CA file is removed on stop');
});
