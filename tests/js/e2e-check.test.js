'use strict';
// The connection test as an Archer admin uses it (issue #12 point 1): the single file in the
// mirrored Archer host (tools/archer-host.js) in all three sandboxes (6x = request, node = Node
// https, 2025 = fetch) with testConnection=True, and the CLI's `check` command, against the
// simulator: success, wrong password, wrong endpoint, closed port, TLS failure, proxy (and a proxy
// refusing credentials). Every run must end with ONE failure callback (so Archer never moves
// LastRunTime), hand the incoming PreviousRunContext back unchanged, never create the
// OutputWriter nor write an item, and make exactly one light request.

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('net');
const path = require('path');
const fs = require('fs');
const os = require('os');
const { execFile } = require('child_process');
const u = require('./helpers/e2e-util');
const { startProxy } = require('./helpers/shim-util');

const MODES = ['6x', 'node', '2025'];
const TOKENS = { LastRunTime: '2026-01-01T00:00:00Z', PreviousRunContext: 'archer-keeps-this-token' };
const PROXY_USER = 'proxyuser';
const PROXY_PASS = 'Proxy-Pass-77c1';

let sim;
let proxy;
let closedPort;
test.before(async () => {
  sim = await u.startSim({ https: true, rateLimit: { limit: 300, windowSec: 3600 }, concurrency: 2 });
  proxy = await startProxy({ username: PROXY_USER, password: PROXY_PASS });
  // A port nothing listens on: bound, then closed.
  closedPort = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
});
test.after(async () => {
  if (proxy) await proxy.close();
  if (sim) await sim.close();
});

/** A test run through the single file; asserts what every test run must do. */
async function checkRun(params, mode, label) {
  const r = await u.runScript(sim, Object.assign({ testConnection: 'True' }, params), { tokens: TOKENS, mode });
  u.assertFailed(r, label);
  assert.equal(r.creates.length, 0, `${label}: the OutputWriter is never created`);
  assert.equal(r.writeItems, 0, `${label}: no item written`);
  assert.equal(r.previousRunContext, TOKENS.PreviousRunContext, `${label}: PreviousRunContext handed back unchanged`);
  assert.ok(r.entries.length <= 1, `${label}: at most one request reached the simulator (${r.entries.length})`);
  r.checkLines = r.logs.filter((l) => / :: (INFO|WARN|ERROR) :: connection test: /.test(l));
  return r;
}

const line = (r, outcome, check) => r.checkLines.find((l) => l.includes(`connection test: ${outcome} ${check}: `));

for (const mode of MODES) {
  // Archer 2025's fetch cannot trust an extra CA (caCert): its runs use the simulator's plain-http
  // listener, except the TLS failure.
  const https = mode !== '2025';
  test(`${mode}: a passing test ends as failed on purpose, one light request, nothing written`, { timeout: 60000 }, async () => {
    for (const ds of ['hosts', 'kb', 'detections']) {
      const label = `${mode} ${ds} success`;
      const r = await checkRun(u.paramsFor(sim, ds, {}, { https }), mode, label);
      assert.match(r.errText, /connection test passed; reported as failed on purpose so Archer keeps LastRunTime/, label);
      assert.equal(r.entries.length, 1, label);
      const q = r.entries[0].params;
      if (ds === 'kb') assert.equal(q.details, 'None', label);
      else assert.equal(q.truncation_limit, '1', label);
      for (const check of ['DNS/TCP', 'credentials', 'endpoint', 'limits']) assert.ok(line(r, 'PASS', check), `${label}: PASS ${check}\n${r.checkLines.join('\n')}`);
      // Node https and request show the certificate's issuer (the simulator's CA made at start).
      if (https) assert.match(line(r, 'PASS', 'TLS'), /caCert.*; issued by CN=Qualys Simulator TEST-ONLY CA/, label);
      else assert.match(line(r, 'INFO', 'TLS'), /plain http/, label);
      assert.match(line(r, 'PASS', 'limits'), /Qualys API limits: 300 calls \/ 3600 s, 2 concurrent; \d+ left/, label);
      // The simulator's URLs use /api/2.0/, which Qualys retired.
      assert.match(line(r, 'WARN', 'API version'), /retired/, label);
      assert.match(line(r, 'INFO', 'LastRunTime'), /LastRunTime=2025-12-31T00:00:00Z/, label);
      assert.ok(!r.checkLines.some((l) => l.includes(' FAIL ')), label);
    }
  });

  test(`${mode}: wrong password, wrong endpoint, closed port and TLS failure each fail their check`, { timeout: 60000 }, async () => {
    let r = await checkRun(u.paramsFor(sim, 'hosts', { password: 'not-the-password' }, { https }), mode, `${mode} wrong password`);
    assert.match(r.errText, /QUALYS_CREDENTIALS/);
    assert.ok(line(r, 'FAIL', 'credentials'), r.checkLines.join('\n'));

    const p = u.paramsFor(sim, 'hosts', {}, { https });
    p.hostsUrl = `${https ? sim.httpsUrl : sim.url}${u.apiPath('kb')}`;
    r = await checkRun(p, mode, `${mode} wrong endpoint`);
    assert.match(r.errText, /WRONG_ENDPOINT/);
    // Qualys's KB API refuses the host list's truncation_limit before saying what it serves.
    assert.match(line(r, 'FAIL', 'endpoint'), /the hostsUrl path is not the host list API's/, r.checkLines.join('\n'));

    const closed = u.paramsFor(sim, 'hosts');
    closed.hostsUrl = `http://127.0.0.1:${closedPort}${u.apiPath('hosts')}`;
    r = await checkRun(closed, mode, `${mode} closed port`);
    assert.equal(r.entries.length, 0);
    assert.match(r.errText, /NETWORK/);
    assert.match(line(r, 'FAIL', 'DNS/TCP'), new RegExp(`127\\.0\\.0\\.1:${closedPort}.*refused`), r.checkLines.join('\n'));

    const tls = u.paramsFor(sim, 'hosts', {}, { https: true });
    delete tls.caCert;
    r = await checkRun(tls, mode, `${mode} TLS without caCert`);
    assert.match(r.errText, /TLS_CERTIFICATE/);
    assert.match(line(r, 'FAIL', 'TLS'), /default root CAs/, r.checkLines.join('\n'));
  });

  test(`${mode}: through a proxy, and a proxy refusing the credentials`, { timeout: 60000 }, async () => {
    const via = (pw) => u.paramsFor(sim, 'hosts', { proxy: `http://${PROXY_USER}:${pw}@127.0.0.1:${proxy.port}` }, { https: true });
    if (mode === '2025') {
      // Archer 2025's fetch cannot use a proxy: refused before any request, LastRunTime kept too.
      const r = await checkRun(via(PROXY_PASS), mode, `${mode} proxy`);
      assert.match(r.errText, /HTTP_OPTION_UNSUPPORTED/);
      assert.equal(r.entries.length, 0);
      return;
    }
    let r = await checkRun(via(PROXY_PASS), mode, `${mode} proxy`);
    assert.match(r.errText, /connection test passed/, r.checkLines.join('\n'));
    assert.match(line(r, 'PASS', 'proxy'), /tunnel|forwarded/);
    assert.match(line(r, 'PASS', 'DNS/TCP'), new RegExp(`the proxy 127\\.0\\.0\\.1:${proxy.port}`));
    r = await checkRun(via('wrong-proxy-pass'), mode, `${mode} proxy refusing credentials`);
    assert.match(r.errText, /PROXY_AUTH_REQUIRED/);
    assert.match(line(r, 'FAIL', 'proxy'), /407/);
    assert.ok(!r.logs.join('\n').includes('wrong-proxy-pass'), 'the proxy password is never logged');
  });
}

/** Runs the CLI (the checkout's js-shim/cli.js) in a child process. */
function cli(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(u.ROOT, 'js-shim', 'cli.js'), ...args], { timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

test('CLI check: exit codes 0 / 1 / 2 / 3 and one PASS/FAIL line per check', { timeout: 90000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-check-'));
  try {
    const file = (name, obj) => { const f = path.join(dir, name); fs.writeFileSync(f, JSON.stringify(obj)); return f; };
    const good = u.paramsFor(sim, 'hosts', {}, { https: true });
    // The dataSource and every other URL given are tested, one request each.
    good.kbUrl = `${sim.httpsUrl}${u.apiPath('kb')}`;
    const before = u.lastSeq(sim);
    let r = await cli(['check', '--params', file('good.json', good)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /connection test of dataSource=hosts:/);
    assert.match(r.stdout, /connection test of dataSource=kb:/);
    assert.match(r.stdout, /PASS {2}credentials/);
    assert.equal(sim.log.since(before).length, 2);
    u.assertNoSecret(r.stdout + r.stderr, 'check output');

    r = await cli(['check', '--params', file('bad.json', Object.assign({}, good, { kbUrl: undefined, password: 'nope' }))]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /FAIL {2}credentials/);

    const closed = Object.assign({}, good, { hostsUrl: `http://127.0.0.1:${closedPort}${u.apiPath('hosts')}` });
    delete closed.kbUrl;
    r = await cli(['check', '--params', file('closed.json', closed)]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /FAIL {2}DNS\/TCP/);

    r = await cli(['check', '--params', file('invalid.json', { dataSource: 'hosts', username: 'x' })]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /CONFIG_INVALID/);

    r = await cli(['check', '--no-such-option']);
    assert.equal(r.code, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a normal run logs the subscription limits once and sums up the calls used and left', { timeout: 60000 }, async () => {
  for (const mode of MODES) {
    const label = `${mode} limits`;
    const r = await u.runScript(sim, u.paramsFor(sim, 'hosts', { batchSize: '400' }), { mode });
    u.assertOk(r, label);
    const limits = r.logs.filter((l) => / :: INFO :: Qualys API limits: /.test(l));
    assert.equal(limits.length, 1, `${label}: logged once\n${r.logs.join('\n')}`);
    assert.match(limits[0], /Qualys API limits: 300 calls \/ 3600 s, 2 concurrent; \d+ left$/);
    const s = r.summary;
    assert.equal(s.rateLimit, 300, label);
    assert.equal(s.rateWindowSec, 3600, label);
    assert.equal(s.concurrencyLimit, 2, label);
    assert.equal(typeof s.callsLeft, 'number', label);
    assert.ok(s.requests >= 2, label);
    const done = r.logs.find((l) => / :: INFO :: done: /.test(l));
    assert.match(done, new RegExp(`Qualys API calls: ${s.requests} used, ${s.callsLeft} left of 300 / 3600 s`), label);
  }
});
