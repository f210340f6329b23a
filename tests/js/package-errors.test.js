'use strict';
// The error class and the codes of the packed package (issue #14, point 1), as a user gets them
// (helpers/packed.js): every error a user can receive from runFeed, runArcher, transform, the core
// (Feed, Transformer) and the web build is `instanceof QualysTransporterError` with a code from
// `codes`, a blame and retryable, including errors made inside the wasm core and in another realm
// (the library loaded in a vm context, as in an Archer-like sandbox); nothing else is.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { exec, packedPackage } = require('./helpers/packed');
const { sim, paramsFor } = require('./helpers/shim-util');

let pkg;
let s;
test.before(async () => {
  pkg = await packedPackage();
  s = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 5 });
});
test.after(() => s && s.close());

async function run(name, text, args = []) {
  const file = path.join(pkg.project, name);
  fs.writeFileSync(file, text);
  const r = await exec(process.execPath, [file, ...args], { cwd: pkg.project, timeoutMs: 120000 });
  assert.equal(r.status, 0, `${name}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

// Each case: a name and an expression (in the consumer script, `q` is the package) that throws or
// rejects with the error a user would get.
const CASES = `
  const http = require('http');
  const quiet = { log: () => {} };
  const writer = { writeItem: () => {} };
  const good = JSON.parse(process.argv[2]);
  const closed = 'http://127.0.0.1:9/api/5.0/fo/asset/host/?action=list';
  const cases = {
    'runFeed: bad Custom Parameters (core)': () => q.runFeed(Object.assign({ params: { dataSource: 'nope' }, writer }, quiet)),
    'runFeed: no writer (shim)': () => q.runFeed(Object.assign({ params: good }, quiet)),
    'runFeed: wrong password (server)': () => q.runFeed(Object.assign({ params: Object.assign({}, good, { password: 'wrong' }), writer, tokens: {} }, quiet)),
    'runFeed: nothing listening (network)': () => q.runFeed(Object.assign({ params: Object.assign({}, good, { hostsUrl: closed, maxRetry: '0' }), writer }, quiet)),
    'runFeed: the writer throws': () => q.runFeed(Object.assign({ params: good, writer: { writeItem: () => { throw new Error('disk full'); } } }, quiet)),
    'runFeed: an object as a parameter': () => q.runFeed(Object.assign({ params: Object.assign({}, good, { batchSize: { n: 1 } }), writer }, quiet)),
    'transform: unknown data source (core)': () => q.transform('bogus', '<x/>'),
    'transform: input of a wrong type (shim)': () => q.transform('kb', 42),
    'transform: not XML (core)': () => q.transform('kb', 'this is not xml'),
    'new Feed: bad clock (core)': () => new q.Feed(good, {}, 'yesterday'),
    'new Transformer: unknown source (core)': () => new q.Transformer('nope'),
    'new QualysTransporterError: misuse': () => new q.QualysTransporterError('x', { code: 'lower', blame: 'nobody' }),
    'Feed.poll: a fail action (core)': () => {
      const f = new q.Feed(good, {}, Date.now());
      f.poll(Date.now());
      f.handleTransportError(Date.now(), 'ECONNRESET', 'reset', undefined);
      let a = f.poll(Date.now());
      for (let i = 0; i < 5 && a.kind !== 'fail'; i++) { f.handleTransportError(Date.now(), 'ECONNRESET', 'reset', undefined); a = f.poll(Date.now() + 1e9); }
      f.free();
      if (a.kind !== 'fail') throw new Error('expected a fail action, got ' + a.kind);
      throw a.error;
    },
    'runArcher: outcome.error': async () => { const o = await q.runArcher({ context: { CustomParameters: { dataSource: 'x' } }, callback: () => {}, print: () => {} }); throw o.error; },
  };
`;

/** Settles each case; returns name -> {instance, code, blame, retryable, isCode, name}. */
const COLLECT = `
  async function collect(q, Q) {
    const out = {};
    for (const [name, fn] of Object.entries(cases)) {
      let e = null;
      try { await fn(); } catch (x) { e = x; }
      out[name] = e === null ? { resolved: true } : { instance: e instanceof Q, error: e instanceof Error, code: e && e.code, blame: e && e.blame,
        retryable: e && e.retryable, known: !!(e && typeof e.code === 'string' && q.codes[e.code] === e.code), message: String(e && e.message).slice(0, 200) };
    }
    return out;
  }
`;

function checkAll(results, { otherRealm = false } = {}) {
  const expectCode = {
    'runFeed: bad Custom Parameters (core)': 'CONFIG_INVALID',
    'runFeed: wrong password (server)': 'QUALYS_CREDENTIALS',
    'runFeed: nothing listening (network)': 'NETWORK',
    'runFeed: the writer throws': 'OUTPUT_WRITE_FAILED',
    'runFeed: an object as a parameter': 'CONFIG_INVALID',
    'transform: unknown data source (core)': 'CONFIG_INVALID',
    'transform: input of a wrong type (shim)': 'BAD_ARGUMENT',
    'new Transformer: unknown source (core)': 'CONFIG_INVALID',
    'new QualysTransporterError: misuse': 'BAD_ARGUMENT',
    'runArcher: outcome.error': 'CONFIG_INVALID',
  };
  for (const [name, r] of Object.entries(results)) {
    assert.ok(!r.resolved, `${name}: should have failed`);
    assert.equal(r.instance, true, `${name}: instanceof QualysTransporterError (${JSON.stringify(r)})`);
    assert.ok(['configuration', 'server', 'network', 'caller'].includes(r.blame), `${name}: blame ${r.blame}`);
    assert.equal(typeof r.retryable, 'boolean', `${name}: retryable`);
    assert.equal(r.known, true, `${name}: code ${r.code} is one of codes`);
    if (expectCode[name]) assert.equal(r.code, expectCode[name], `${name}: ${r.message}`);
    if (otherRealm) assert.equal(r.error, false, `${name}: made in the other realm (not instanceof this realm's Error)`);
  }
}

test('CommonJS: every error from runFeed, runArcher, transform and the core is instanceof QualysTransporterError with a known code', { timeout: 120000 }, async () => {
  const out = await run('errors.cjs', `
    const q = require('qualys-vm-transporter');
    ${CASES}
    ${COLLECT}
    (async () => {
      const results = await collect(q, q.QualysTransporterError);
      const Q = q.QualysTransporterError;
      const sys = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104 });
      const negatives = [new Error('x'), sys, { code: 'NETWORK', blame: 'network', retryable: true, message: 'a plain object' },
        Object.assign(new Error('x'), { code: 'NETWORK', blame: 'nobody', retryable: true }), Object.assign(new Error('x'), { code: 'NETWORK', blame: 'network' }),
        null, undefined, 'NETWORK', 42, new Proxy({}, { get() { throw new Error('hostile'); } })].map((v) => v instanceof Q);
      const own = new Q('made by a user', { code: q.codes.SHIM_ERROR, blame: 'caller', retryable: true, cause: 'c' });
      console.log(JSON.stringify({ results, negatives, own: [own instanceof Q, own instanceof Error, own.name, own.code, own.blame, own.retryable, own.cause, Object.getPrototypeOf(own) === Q.prototype] }));
    })().catch((e) => { console.error(e); process.exit(1); });
  `, [JSON.stringify(paramsFor(s.url, 'hosts'))]);
  checkAll(out.results);
  assert.deepEqual(out.negatives, new Array(10).fill(false), 'plain Errors, Node system errors, plain objects and partial shapes are not');
  assert.deepEqual(out.own, [true, true, 'QualysTransporterError', 'SHIM_ERROR', 'caller', true, 'c', true]);
});

test('another realm: the library loaded in a vm context (as in an Archer-like sandbox); its errors are instanceof the outer class', { timeout: 120000 }, async () => {
  const out = await run('errors-realm.cjs', `
    const vm = require('vm');
    const fs = require('fs');
    const outer = require('qualys-vm-transporter');
    const file = require.resolve('qualys-vm-transporter/archer');
    const sandbox = { module: { exports: {} }, require, setTimeout, clearTimeout, setImmediate, clearImmediate, Buffer, process, WebAssembly, TextDecoder, TextEncoder, URL, console };
    vm.createContext(sandbox);
    vm.runInContext(fs.readFileSync(file, 'utf8'), sandbox, { filename: file });
    const q = sandbox.module.exports;
    ${CASES}
    ${COLLECT}
    (async () => {
      const results = await collect(q, outer.QualysTransporterError);
      console.log(JSON.stringify({ results, distinct: q.QualysTransporterError !== outer.QualysTransporterError }));
    })().catch((e) => { console.error(e); process.exit(1); });
  `, [JSON.stringify(paramsFor(s.url, 'hosts'))]);
  assert.equal(out.distinct, true, 'a second copy of the library');
  // Errors made in the sandbox's realm: not instanceof this realm's Error, but instanceof the class.
  const realmMade = Object.fromEntries(Object.entries(out.results).filter(([k]) => !/core\)|Feed\.poll/.test(k)));
  checkAll(realmMade, { otherRealm: true });
  checkAll(out.results);
});

test('ESM: the same class and codes as require(); the web build\'s errors and the Node class recognise each other', { timeout: 120000 }, async () => {
  const out = await run('errors.mjs', `
    import { QualysTransporterError, codes } from 'qualys-vm-transporter';
    import init, { Feed, QualysTransporterError as WebError, codes as webCodes } from 'qualys-vm-transporter/web';
    import { readFileSync } from 'node:fs';
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const cjs = require('qualys-vm-transporter');
    const errors = [];
    const grab = (fn) => { try { fn(); } catch (e) { errors.push(e); } };
    grab(() => new Feed({}, {}, 0));                                     // before init: NOT_INITIALIZED
    await init({ module_or_path: readFileSync(new URL('./node_modules/qualys-vm-transporter/web/qualys_vm_transporter_bg.wasm', import.meta.url)) });
    grab(() => new Feed({ dataSource: 'nope' }, {}, Date.now()));          // the core's CONFIG_INVALID
    const nodeErr = (() => { try { new cjs.Feed({ dataSource: 'nope' }, {}, Date.now()); } catch (e) { return e; } })();
    console.log(JSON.stringify({
      same: QualysTransporterError === cjs.QualysTransporterError && codes === cjs.codes,
      web: errors.map((e) => [e.code, e instanceof WebError, e instanceof QualysTransporterError]),
      nodeInWeb: nodeErr instanceof WebError,
      codesAgree: Object.keys(webCodes).length === Object.keys(codes).length && Object.keys(codes).every((k) => webCodes[k] === k),
    }));
  `);
  assert.equal(out.same, true);
  assert.deepEqual(out.web, [['NOT_INITIALIZED', true, true], ['CONFIG_INVALID', true, true]]);
  assert.equal(out.nodeInWeb, true);
  assert.equal(out.codesAgree, true, 'the web build has the same codes');
});

test('the codes the web build raises before its core loads are the core\'s codes (NOT_INITIALIZED, BAD_ARGUMENT, INTERNAL)', () => {
  const web = fs.readFileSync(path.join(pkg.pkgDir, 'web', 'index.js'), 'utf8');
  const { codes } = require(path.join(pkg.pkgDir, 'qualys-vm-transporter.js'));
  const literal = Array.from(web.matchAll(/^const [A-Z_]+ = '([A-Z_]+)';$/gm), (m) => m[1]);
  assert.deepEqual(literal.sort(), ['BAD_ARGUMENT', 'INTERNAL', 'NOT_INITIALIZED']);
  for (const c of literal) assert.equal(codes[c], c);
});
