'use strict';
// Secrets in every form (issue #11, class 7, the shim's part): a recognisable password and proxy
// password holding " \ tab % ! + space and a non-ASCII letter, pasted into every Custom Parameter
// and both tokens (also as a URL query value and percent-encoded in the proxy URL), through
// runArcher, runFeed and the CLI (in process: every stdout/stderr byte, --out, --save-tokens).
// Nothing anywhere may hold either password in any form: the marker inside each password survives
// every escaping (raw, JSON, Rust Debug, XML, percent-encoding: letters and digits are never
// escaped), so a text holds no form of it when it holds no marker; base64 forms (of the password
// and of user:password, in all three alignments) are searched for separately.
// Also: a very short password ("0") is not substring-scrubbed, so the log keeps its zeros.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { sim, paramsFor, lib, SHIM, startProxy, runArcherInProcess } = require('./helpers/shim-util');

const cli = require(path.join(SHIM, 'cli.js'));

const USER = 'sweep.user';
const PW = 'Qk"7\\x\t%!+ \u00f1-Zv9Mark';
const PROXY_USER = 'svc-proxy';
const PROXY_PW = 'Px"\\y\t%!+ \u00e9-Wq4Mark2';
const MARKERS = ['Zv9Mark', 'Wq4Mark2'];

/** Base64 texts that betray a secret: exact, and the middle of each alignment inside a stream. */
function base64Tells(text) {
  const bytes = Buffer.from(text, 'utf8');
  const out = [bytes.toString('base64').replace(/=+$/, '')];
  for (let k = 0; k < 3; k++) {
    const enc = Buffer.concat([Buffer.alloc(k, 0x41), bytes]).toString('base64');
    out.push(enc.slice([0, 2, 3][k], Math.floor((k + bytes.length) / 3) * 4));
  }
  return out.concat(out.map((f) => f.replace(/\+/g, '-').replace(/\//g, '_')));
}
const TELLS = [PW, PROXY_PW, `${USER}:${PW}`, `${PROXY_USER}:${PROXY_PW}`].flatMap(base64Tells).filter((t) => t.length >= 8);

const checked = { texts: 0, scenarios: 0 };

/** Every string inside a value (errors: message, stack, own properties). */
function strings(v, out = [], seen = new Set()) {
  if (v === null || v === undefined) return out;
  if (typeof v === 'string') { out.push(v); return out; }
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) { out.push(Buffer.from(v).toString('utf8')); return out; }
  if (typeof v !== 'object') { out.push(String(v)); return out; }
  if (seen.has(v)) return out;
  seen.add(v);
  if (v instanceof Error) { strings(v.message, out, seen); strings(v.stack, out, seen); }
  for (const k of Object.keys(v)) { out.push(k); strings(v[k], out, seen); }
  return out;
}

function assertNoSecret(where, ...things) {
  checked.scenarios++;
  for (const text of things.flatMap((t) => strings(t))) {
    checked.texts++;
    for (const m of MARKERS) assert.ok(!text.includes(m), `${where}: a password (marker ${m}) shows in: ${JSON.stringify(text.slice(Math.max(0, text.indexOf(m) - 120), text.indexOf(m) + 40))}`);
    for (const t of TELLS) assert.ok(!text.includes(t), `${where}: a base64 form of a password (${t}) shows in: ${JSON.stringify(text.slice(0, 300))}`);
  }
}

let s;
let proxy;
let dir;
test.before(async () => {
  s = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 12, username: USER, password: PW });
  proxy = await startProxy({ username: PROXY_USER, password: PROXY_PW });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-sweep-'));
});
test.after(async () => {
  if (proxy) await proxy.close();
  if (s) await s.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const proxyUrl = (pw = PROXY_PW) => `http://${PROXY_USER}:${encodeURIComponent(pw)}@127.0.0.1:${proxy.port}`;
const base = (extra = {}) => paramsFor(s.url, 'hosts', Object.assign({ username: USER, password: PW, batchSize: '5', retryDelaySec: '0', maxRetry: '0', proxy: proxyUrl() }, extra));

/** One scenario through runArcher and through runFeed; everything either produced is searched. */
async function both(name, params, { tokens = {}, http, wantOk } = {}) {
  const { out, calls, items, creates, printed } = await runArcherInProcess(lib, { params, tokens, run: { http } });
  assert.equal(calls.length, 1, `${name}: one callback`);
  if (wantOk !== undefined) assert.equal(out.ok, wantOk, `${name}: ${out.text || ''}`);
  assertNoSecret(`${name} (runArcher)`, printed, calls, items, creates, out);

  const lines = [];
  const written = [];
  let result;
  let error;
  try {
    result = await lib.runFeed({ params, tokens, writer: { writeItem: (c) => written.push(c) }, log: (l, t) => lines.push(`${l} ${t}`), http, onStart: (info) => lines.push(JSON.stringify(info)) });
  } catch (e) {
    error = e;
  }
  assertNoSecret(`${name} (runFeed)`, lines, written, result, error, error && error.summary);
  return { out, printed, calls, error };
}

test('runArcher and runFeed: both passwords pasted into every parameter, both tokens, a URL query value, the proxy URL', { timeout: 120000 }, async () => {
  // Success, failures, every HTTP client.
  for (const http of ['node', 'request']) {
    await both(`${http} success via the proxy`, base(), { http, wantOk: true });
    await both(`${http} wrong password`, base({ password: `${PW}x` }), { http, wantOk: false });
    await both(`${http} wrong proxy password`, base({ proxy: proxyUrl(`${PROXY_PW}x`) }), { http, wantOk: false });
  }
  await both('fetch success', base({ proxy: undefined }), { http: 'fetch', wantOk: true });
  await both('fetch refuses the proxy', base(), { http: 'fetch', wantOk: false });
  // Every parameter holding the password (the admin pasted it into the wrong field).
  const keys = ['dataSource', 'kbUrl', 'hostsUrl', 'detectionUrl', 'username', 'batchSize', 'requestsPerMin', 'socketLimit', 'maxRetry',
    'retryDelaySec', 'proxy', 'verifyCerts', 'caCert', 'lastRunTimeOffset', 'rootNode', 'requestTimeoutSec', 'waitBudgetSec', 'maxRecordMB',
    'outputChunkRecords', 'outputChunkMB', 'kbChunkSize', 'concurrency', 'Password', 'pasword', PW];
  for (const key of keys) {
    for (const value of [PW, PROXY_PW, ` ${PW}`, encodeURIComponent(PW)]) {
      await both(`${JSON.stringify(key).slice(0, 12)} = a password`, Object.assign(base(), { [key]: value }));
    }
  }
  // A raw (not percent-encoded) password in the proxy URL; both tokens; a URL query value.
  await both('raw password in the proxy URL', base({ proxy: `http://${PROXY_USER}:${PROXY_PW}@127.0.0.1:${proxy.port}` }));
  await both('raw password as proxy user', base({ proxy: `http://${encodeURIComponent(PW)}:x@127.0.0.1:${proxy.port}` }));
  for (const v of [PW, PROXY_PW, encodeURIComponent(PW)]) {
    await both('LastRunTime = a password', base(), { tokens: { LastRunTime: v, PreviousRunContext: null } });
    await both('PreviousRunContext = a password', base(), { tokens: { LastRunTime: null, PreviousRunContext: v } });
    await both('PreviousRunContext = qvt1 + a password', base(), { tokens: { LastRunTime: null, PreviousRunContext: `qvt1;ds=hosts;w=${v}` } });
  }
  for (const enc of [encodeURIComponent(PW), encodeURIComponent(PW).toLowerCase(), new URLSearchParams({ x: PW }).toString().slice(2)]) {
    const p = base();
    p.hostsUrl += `&ag_titles=${enc}`;
    await both('the password as a URL query value', p);
    p.hostsUrl = p.hostsUrl.replace('?', `?pw=${enc}&`);
    await both('the password as an unknown URL query value', p);
  }
});

test('a very short password ("0") is not substring-scrubbed: the log keeps its zeros', { timeout: 30000 }, async (t) => {
  const s0 = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 10, password: '0' });
  t.after(() => s0.close());
  const { out, printed } = await runArcherInProcess(lib, { params: paramsFor(s0.url, 'hosts', { password: '0', batchSize: '10' }), tokens: { LastRunTime: '2000-01-10T00:00:00Z' }, outputWriter: false });
  assert.equal(out.ok, true, out.text);
  const text = printed.join('\n');
  assert.ok(!text.includes('***'), `nothing was replaced: ${text}`);
  assert.match(text, /records=10 /);
  assert.match(text, /2000-01-09T00:00:00Z/);
  // The Authorization value (long) is still scrubbed.
  const sec = new lib.Secrets().addFromParams({ username: 'simuser', password: '0' });
  const auth = Buffer.from('simuser:0').toString('base64');
  assert.equal(sec.scrub(`a 0 b 10 ${auth}`), 'a 0 b 10 ***');
});

/** The CLI in process: exit code, everything written to stdout/stderr, and the files named. */
async function runCli(argv, env = {}) {
  let out = '';
  let err = '';
  const code = await cli.main(argv, {
    stdout: { write: (x) => { out += x; return true; }, isTTY: false },
    stderr: { write: (x) => { err += x; return true; }, isTTY: false },
    env,
  });
  return { code, out, err };
}

test('CLI: mistyped and rejected arguments are never echoed; output, report and --save-tokens hold no password', { timeout: 120000 }, async () => {
  const file = (name, text) => { const p = path.join(dir, name); fs.writeFileSync(p, text); return p; };
  const outFile = path.join(dir, 'out.xml');
  const saved = path.join(dir, 'tokens.json');
  const files = () => [outFile, `${outFile}.part`, saved].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8'));
  const clean = () => { for (const f of [outFile, `${outFile}.part`, saved]) fs.rmSync(f, { force: true }); };
  const good = base();
  const pfile = file('p.json', JSON.stringify(good));
  const noSecrets = Object.assign({}, good);
  delete noSecrets.password;
  delete noSecrets.proxy;
  const pfileNoSecrets = file('p2.json', JSON.stringify(noSecrets));
  const cases = [
    ['success from a file', ['run', '--params', pfile, '--out', outFile, '--save-tokens', saved], {}, 0],
    ['success, secrets from the environment', ['run', '--params', pfileNoSecrets, '--out', outFile, '--save-tokens', saved, '--http', 'request'], { QVT_PASSWORD: PW, QVT_PROXY: proxyUrl() }, 0],
    ['success, --param password=', ['run', '--params', pfileNoSecrets, '--param', `password=${PW}`, '--param', `proxy=${proxyUrl()}`, '--out', outFile], {}, 0],
    ['failure with LastRunTime = the password', ['run', '--params', file('p3.json', JSON.stringify(Object.assign({}, good, { hostsUrl: good.hostsUrl.replace(`127.0.0.1:${s.port}`, '127.0.0.1:1'), proxy: '' }))), '--last-run-time', PW, '--save-tokens', saved, '--out', outFile], {}, 1],
    ['failure with the wrong password', ['run', '--params', file('p5.json', JSON.stringify(Object.assign({}, good, { password: `${PW}x` }))), '--save-tokens', saved, '--out', outFile], {}, 1],
    ['failure with a resume checkpoint and LastRunTime = the password', ['run', '--params', file('p4.json', JSON.stringify(Object.assign({}, good, { hostsUrl: good.hostsUrl.replace(`127.0.0.1:${s.port}`, '127.0.0.1:1') }))), '--tokens', file('t.json', JSON.stringify({ LastRunTime: PW, PreviousRunContext: 'qvt1;ds=hosts;lrt=2000-01-01T00:00:00Z;t=2000-01-02T00:00:00Z;w=5' })), '--save-tokens', saved], {}, 1],
    ['--param password:value (mistyped)', ['run', '--param', `password:${PW}`], {}, 2],
    ['--param =value', ['run', '--param', `=${PW}`], {}, 2],
    ['a positional', ['run', '--params', pfile, PW], {}, 2],
    ['an option made of the password', ['run', `--${PW}`], {}, 2],
    ['an option made of the password, with a value', ['run', `--pass=${PW}`], {}, 2],
    ['--http the password', ['run', '--params', pfile, '--http', PW], {}, 2],
    ['a parameters file that is not JSON', ['run', '--params', file('bad.json', `{"password": "${PW}", }`)], {}, 2],
    ['a parameters file that is not JSON (raw)', ['run', '--params', file('bad2.json', `{"password": ${PW}}`)], {}, 2],
    ['a tokens file that is not JSON', ['run', '--params', pfile, '--tokens', file('badt.json', `{"LastRunTime": ${PW}`)], {}, 2],
    ['a parameters file that is an array', ['run', '--params', file('arr.json', JSON.stringify([PW]))], {}, 2],
    ['dataSource = the password', ['run', '--params', pfile, '--param', `dataSource=${PW}`], {}, 1],
    ['the password as a command', [PW], {}, 2],
    ['transform --source the password', ['transform', '--source', PW, 'x.xml'], {}, 2],
    ['transform --root-node the password', ['transform', '--source', 'kb', '--root-node', PW, 'x.xml'], {}, 2],
    ['--out into a missing directory', ['run', '--params', pfile, '--out', path.join(dir, PW.replace(/[\\/]/g, ''), 'o.xml')], {}, 2],
  ];
  for (const [name, argv, env, want] of cases) {
    clean();
    const r = await runCli(argv, env);
    assert.equal(r.code, want, `${name}: exit ${r.code}\n${r.out}\n${r.err}`);
    assertNoSecret(`CLI ${name}`, r.out, r.err, files());
  }
  // A run that fails after page 1 leaves a genuine checkpoint (the core ignores hand-made ones):
  // it is saved, without the password-shaped LastRunTime.
  clean();
  s.control.setFaults([{ type: 'http5xx', endpoint: 'hosts', page: 2 }]);
  let r;
  try {
    r = await runCli(['run', '--params', pfile, '--last-run-time', PW, '--save-tokens', saved, '--out', outFile], {});
  } finally {
    s.control.clearFaults();
  }
  assert.equal(r.code, 1, r.out + r.err);
  assertNoSecret('CLI a failure after page 1 with LastRunTime = the password', r.out, r.err, files());
  const tokens = JSON.parse(fs.readFileSync(saved, 'utf8'));
  assert.equal(tokens.LastRunTime, null, 'a LastRunTime holding the password is not saved');
  assert.match(tokens.PreviousRunContext, /^qvt2;ds=hosts;/);
});

test('the sweep looked at enough', () => {
  assert.ok(checked.scenarios >= 250, `${checked.scenarios} scenarios`);
  assert.ok(checked.texts >= 3000, `${checked.texts} texts`);
});
