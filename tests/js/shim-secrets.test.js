'use strict';
// Secrets: every scenario runs with a recognisable password and proxy password, and neither (nor
// their Basic-auth base64 forms) may appear in any log line, error (message and stack), callback
// argument, output, or anything the CLI prints -- on success, on each kind of failure, through each
// adapter, in the vm sandboxes and through the CLI.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { sim, paramsFor, startProxy, runInSandbox, buildBundle, lib, SHIM, USER, runArcherInProcess } = require('./helpers/shim-util');

const PW = 'Marker-Pw-7Qx2';
const PROXY_USER = 'svc-proxy';
const PROXY_PW = 'Proxy-Secret-5Zt8';
const FORBIDDEN = [
  PW,
  PROXY_PW,
  Buffer.from(`${USER}:${PW}`).toString('base64'),
  Buffer.from(`${PROXY_USER}:${PROXY_PW}`).toString('base64'),
];

let s;
let proxy;
let dir;
const checked = { texts: 0, scenarios: 0 };
test.before(async () => {
  buildBundle();
  s = await sim({ rateLimit: 'off', concurrency: 'off', password: PW, hosts: 20 });
  proxy = await startProxy({ username: PROXY_USER, password: PROXY_PW });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-secrets-'));
});
test.after(async () => {
  if (proxy) await proxy.close();
  if (s) await s.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function assertClean(where, ...things) {
  checked.scenarios++;
  for (const thing of things) {
    const text = typeof thing === 'string' ? thing : (() => {
      try { return JSON.stringify(thing, (k, v) => (v instanceof Error ? { message: v.message, stack: v.stack, code: v.code } : v)); } catch (e) { return String(thing); }
    })();
    checked.texts++;
    for (const f of FORBIDDEN) assert.ok(!String(text).includes(f), `${where}: a secret (${f.slice(0, 6)}...) leaked in: ${String(text).slice(0, 400)}`);
  }
}

const proxyUrl = (pw = PROXY_PW) => `http://${PROXY_USER}:${pw}@127.0.0.1:${proxy.port}`;

/** Runs through runArcher (the Archer path) and checks everything it produced. */
async function archerScenario(name, params, run = {}) {
  const { out, calls, items, creates, printed } = await runArcherInProcess(lib, { params, run });
  assert.equal(calls.length, 1, name);
  assertClean(name, printed.join('\n'), calls, creates.map((o) => JSON.stringify(o)).join('') + items.join(''), out.text || '', out.error ? out.error.message : '', out.error ? out.error.stack || '' : '');
  return { out, calls, printed };
}

test('library/Archer path: success, failures, every adapter, proxy, TLS, configuration errors', async () => {
  const base = (extra) => paramsFor(s.url, 'hosts', Object.assign({ password: PW, batchSize: '10', retryDelaySec: '0' }, extra));
  const tlsBase = (extra) => paramsFor(s.httpsUrl, 'hosts', Object.assign({ password: PW, batchSize: '10', retryDelaySec: '0' }, extra));
  const scenarios = [];
  for (const http of ['node', 'request', 'fetch']) {
    scenarios.push([`${http} success`, base(), { http }, true]);
    scenarios.push([`${http} wrong password`, base({ password: `${PW}-wrong` }), { http }, false]);
    scenarios.push([`${http} TLS rejected`, tlsBase(), { http }, false]);
    scenarios.push([`${http} refused connection`, paramsFor('http://127.0.0.1:1', 'hosts', { password: PW, maxRetry: '1', retryDelaySec: '0' }), { http }, false]);
  }
  for (const http of ['node', 'request']) {
    scenarios.push([`${http} https via proxy`, tlsBase({ caCert: s.caCertPem, proxy: proxyUrl() }), { http }, true]);
    scenarios.push([`${http} http via proxy`, base({ proxy: proxyUrl() }), { http }, true]);
    scenarios.push([`${http} wrong proxy password (https)`, tlsBase({ caCert: s.caCertPem, proxy: proxyUrl(`${PROXY_PW}-bad`) }), { http }, false]);
    scenarios.push([`${http} wrong proxy password (http)`, base({ proxy: proxyUrl(`${PROXY_PW}-bad`) }), { http }, false]);
    scenarios.push([`${http} wrong password via proxy`, tlsBase({ caCert: s.caCertPem, proxy: proxyUrl(), password: `${PW}-wrong` }), { http }, false]);
  }
  scenarios.push(['fetch with a proxy', base({ proxy: proxyUrl() }), { http: 'fetch' }, false]);
  // Configuration errors that carry the secrets in odd places.
  scenarios.push(['password with spaces', base({ password: ` ${PW}` }), {}, false]);
  scenarios.push(['malformed proxy', base({ proxy: `http://${PROXY_USER}:${PROXY_PW}@127.0.0.1` }), {}, false]);
  scenarios.push(['https proxy', base({ proxy: `https://${PROXY_USER}:${PROXY_PW}@127.0.0.1:8443` }), {}, false]);
  scenarios.push(['credentials in the URL', paramsFor(`http://${USER}:${PW}@127.0.0.1:${s.port}`, 'hosts', { password: PW }), {}, false]);
  scenarios.push(['unknown key named like the password', Object.assign(base(), { [PW]: PW, Password: PW }), {}, true]);

  for (const [name, params, run, wantOk] of scenarios) {
    s.control.clearFaults();
    const { out } = await archerScenario(name, params, run);
    assert.equal(out.ok, wantOk, `${name}: ${out.text || ''}`);
  }
  // Faults mid-run: a reset and 5xx until maxRetry is spent.
  s.control.setFaults([{ type: 'reset', endpoint: 'hosts', page: [2], afterBytes: 3000, times: 1 }]);
  assert.equal((await archerScenario('reset mid-body', base({ maxRetry: '1' }))).out.ok, true);
  s.control.setFaults([{ type: 'http5xx', endpoint: 'hosts', page: [2] }]);
  assert.equal((await archerScenario('5xx exhausted', base({ maxRetry: '1' }))).out.ok, false);
  s.control.clearFaults();
  // runFeed directly: its error object and the lines given to a log function.
  const lines = [];
  try {
    await lib.runFeed({ params: base({ password: `${PW}-wrong` }), writer: { writeItem() {} }, log: (l, t) => lines.push(t) });
    assert.fail('should have failed');
  } catch (e) {
    assertClean('runFeed error', e.message, e.stack || '', lines.join('\n'), JSON.stringify(e.summary || {}));
  }
});

test('the shim scrubs whatever reaches a log line, even if a secret came from elsewhere', async () => {
  const lines = [];
  const logger = lib.createLogger({ print: (l) => lines.push(l) });
  logger.secrets.addFromParams({ password: PW, proxy: proxyUrl() });
  logger.info(`the password is ${PW} and the proxy ${proxyUrl()} and ${encodeURIComponent(PROXY_PW)}`);
  logger.secrets.addAuthorization('Basic ' + Buffer.from(`${USER}:${PW}`).toString('base64'));
  logger.warn('Authorization: Basic ' + Buffer.from(`${USER}:${PW}`).toString('base64'));
  assertClean('scrubber', lines.join('\n'));
  assert.match(lines[0], /the password is \*\*\* and the proxy http:\/\/\*\*\*@127\.0\.0\.1/);
});

test('vm sandboxes: success and failure print no secret', async () => {
  const runs = [
    ['6x via proxy', { mode: '6x', params: paramsFor(s.httpsUrl, 'hosts', { password: PW, caCert: s.caCertPem, proxy: proxyUrl() }) }, true],
    ['6x wrong proxy password', { mode: '6x', params: paramsFor(s.httpsUrl, 'hosts', { password: PW, caCert: s.caCertPem, proxy: proxyUrl('nope') }) }, false],
    ['2025 success', { mode: '2025', params: paramsFor(s.url, 'hosts', { password: PW }) }, true],
    ['2025 wrong password', { mode: '2025', params: paramsFor(s.url, 'hosts', { password: `${PW}-x` }) }, false],
    ['2025 proxy refused by fetch', { mode: '2025', params: paramsFor(s.url, 'hosts', { password: PW, proxy: proxyUrl() }) }, false],
  ];
  for (const [name, o, wantOk] of runs) {
    const r = await runInSandbox(o);
    assert.equal(r.err === null, wantOk, `${name}: ${JSON.stringify(r.err)}`);
    assertClean(name, r.logs.join('\n'), r.calls, r.items.join(''), r.creates);
  }
});

function exec(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: Object.assign({}, process.env, env), cwd: dir });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('close', (status) => resolve({ status, out }));
  });
}

test('CLI: the password and proxy from the environment never show, on success or failure', async () => {
  const pfile = path.join(dir, 'p.json');
  const params = paramsFor(s.httpsUrl, 'hosts', { caCert: s.caCertPem });
  delete params.password;
  fs.writeFileSync(pfile, JSON.stringify(params));
  const cli = path.join(SHIM, 'cli.js');
  const out = path.join(dir, 'o.xml');
  for (const [name, env, args, wantStatus] of [
    ['cli success', { QVT_PASSWORD: PW, QVT_PROXY: proxyUrl() }, ['--progress'], 0],
    ['cli wrong password', { QVT_PASSWORD: `${PW}-no`, QVT_PROXY: proxyUrl() }, [], 1],
    ['cli wrong proxy password', { QVT_PASSWORD: PW, QVT_PROXY: proxyUrl('bad') }, [], 1],
    ['cli --param password', {}, ['--param', `password=${PW}`, '--param', `proxy=${proxyUrl()}`, '--http', 'request'], 0],
  ]) {
    const r = await exec([cli, 'run', '--params', pfile, '--out', out, ...args], env);
    assert.equal(r.status, wantStatus, `${name}: ${r.out}`);
    assertClean(name, r.out, fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '');
  }
});

test('the checks above did look at something', () => {
  assert.ok(checked.scenarios >= 40, `${checked.scenarios} scenarios`);
  assert.ok(checked.texts >= 150, `${checked.texts} texts`);
});
