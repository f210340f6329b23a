'use strict';
// The run loop's last lines of defence (issue #11, classes 3 and 5):
//   - the watchdog: a request a (custom) adapter never settles is given up on after the
//     whole-response limit plus a grace, as a transport error the core retries; its late events
//     are ignored and the output stays exact
//   - core traps: an exception from a core call that is not a coded error (a wasm `unreachable`,
//     then wasm-bindgen's "recursive use of an object" on every later call) stops the run with
//     INTERNAL (blame caller, not retryable), never calls the core again (except free), and the
//     one callback carries the last checkpoint the run read (Feed.checkpoint())
//   - every error a caller of runFeed / runArcher can receive has code, blame and retryable

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { sim, paramsFor, run, lib, SHIM, recordKeys, fetchWhole, API, runArcherInProcess } = require('./helpers/shim-util');
const { codes } = lib;

const realCore = require(path.join(SHIM, 'src', 'core.js'));

/**
 * The real core behind a Proxy: `patch[name](feed, calls)` replaces a method (it returns the
 * replacement); every call is recorded in `calls` (name, and whether it came after a trap). Once a
 * patched method threw a trap, every later call throws what wasm-bindgen throws after a trap.
 */
function wrappedCore(patch = {}) {
  const calls = [];
  const st = { trapped: false };
  function Feed(params, tokens, nowMs) {
    const f = new realCore.Feed(params, tokens, nowMs);
    return new Proxy(f, {
      get(target, key) {
        const own = patch[key] ? patch[key](target, st) : target[key];
        if (typeof own !== 'function') return own;
        return (...args) => {
          calls.push({ name: String(key), afterTrap: st.trapped });
          if (st.trapped && key !== 'free') throw new Error('recursive use of an object detected which would lead to unsafe aliasing in rust');
          try {
            return own.apply(target, args);
          } catch (e) {
            if (e instanceof WebAssembly.RuntimeError) st.trapped = true;
            throw e;
          }
        };
      },
    });
  }
  return { core: { Feed, version: realCore.version }, calls, st };
}

test('watchdog: a request the adapter never settles is abandoned after the whole-response limit + grace; the core retries; late events are ignored', { timeout: 30000 }, async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 30 });
  t.after(() => s.close());
  const clean = await run({ params: paramsFor(s.url, 'hosts', { batchSize: '10' }) });
  assert.equal(clean.ok, true);

  // A small whole-response limit, so the watchdog fires in well under a second.
  const { core } = wrappedCore({ transport: (f) => () => Object.assign(f.transport(), { requestTimeoutMs: 100, responseTimeoutMs: 300 }) });
  let stuck = null;
  let sends = 0;
  let inner = null;
  const factory = (transport) => {
    inner = lib.createHttp(transport, { prefer: 'node' });
    return {
      name: 'stuck-once',
      send(req, sink, control) {
        sends++;
        if (sends === 2) { // page 2, first attempt: never settles, ignores abort
          stuck = sink;
          control.abort = () => {};
          return new Promise(() => {});
        }
        return inner.send(req, sink, control);
      },
      close() { inner.close(); },
    };
  };
  const page2 = (await fetchWhole(`${s.url}${API.hosts.replace('<LastRunTime>', '1970-01-09T00:00:00Z')}&truncation_limit=10&id_min=${s.model.hostIdAt(10)}`)).body;
  const t0 = Date.now();
  const r = await run({
    params: paramsFor(s.url, 'hosts', { batchSize: '10', maxRetry: '1', retryDelaySec: '0' }),
    http: factory,
    core,
    watchdogGraceMs: 200,
    onAction: (a) => {
      // The retry of page 2 is being sent: the abandoned request wakes up and answers late.
      if (a.kind === 'send' && a.attempt === 1 && stuck) {
        stuck.head(200, [['Content-Type', 'text/xml']]);
        stuck.body(page2);
        stuck.end();
        stuck.error('ECONNRESET', 'late');
      }
    },
  });
  const ms = Date.now() - t0;
  assert.equal(r.ok, true, r.error && r.error.message);
  assert.ok(ms < 10000, `the run ended (${ms} ms)`);
  assert.equal(r.summary.retries, 1, 'page 2 was retried once');
  assert.ok(r.logs.some((l) => /did not finish the request within 500 ms/.test(l)), r.logs.join('\n'));
  assert.deepEqual(recordKeys(r.text, 'ID'), recordKeys(clean.text, 'ID'), 'the late answer wrote nothing: the output is exact');
});

test('watchdog: a run whose adapter never settles anything still ends (maxRetry spent) with one failure', { timeout: 30000 }, async () => {
  const { core } = wrappedCore({ transport: (f) => () => Object.assign(f.transport(), { requestTimeoutMs: 100, responseTimeoutMs: 200 }) });
  const r = await run({
    params: paramsFor('http://127.0.0.1:9', 'hosts', { maxRetry: '1', retryDelaySec: '0' }),
    http: { name: 'black-hole', send: () => new Promise(() => {}) },
    core,
    watchdogGraceMs: 100,
  });
  assert.equal(r.ok, false);
  assert.equal(r.error.code, codes.NETWORK, r.error.message);
  assert.match(r.error.message, /did not finish the request/);
  assert.equal(r.error.blame, 'network');
  assert.equal(r.summary.requests, 2);
});

/** Page 1 (and 2) through the real core; then `where` traps with `unreachable`. */
async function trapRun(s, where, { archer = false } = {}) {
  let settledPages = 0;
  const patches = {
    checkpoint: (f) => () => (settledPages > 0 ? `qvt1;ds=hosts;lrt=1970-01-09T00:00:00Z;t=2024-06-01T00:00:00Z;w=${settledPages}` : ''),
    handleResponseEnd: (f) => (...a) => { const r = f.handleResponseEnd(...a); settledPages++; return r; },
  };
  // poll / handleBody trap during page 2; takeLogs right after page 2 settled (before its
  // checkpoint is read, so the last one is still page 1's).
  const after = where === 'takeLogs' ? 2 : 1;
  patches[where] = (f) => (...a) => {
    if (settledPages >= after) throw new WebAssembly.RuntimeError('unreachable');
    return f[where](...a);
  };
  const w = wrappedCore(patches);
  const params = paramsFor(s.url, 'hosts', { batchSize: '10' });
  if (!archer) return { w, r: await run({ params, core: w.core }) };
  const { out, calls, printed, items } = await runArcherInProcess(lib, { params, run: { core: w.core } });
  return { w, out, calls, printed, items };
}

for (const where of ['poll', 'handleBody', 'takeLogs']) {
  test(`a core trap in ${where} mid-run: one callback with INTERNAL and the last checkpoint; the core is not called again`, { timeout: 30000 }, async (t) => {
    const s = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 30 });
    t.after(() => s.close());
    const { w, out, calls, printed, items } = await trapRun(s, where, { archer: true });
    await new Promise((r) => setTimeout(r, 100)); // a late second callback would show up here
    assert.equal(calls.length, 1, 'exactly one callback');
    const [err, result] = calls[0];
    assert.ok(Array.isArray(err), 'failure: callback(errors)');
    const text = err[err.length - 1];
    assert.match(text, /^INTERNAL: /, text);
    assert.match(text, /bug in qualys-vm-transporter/);
    assert.match(text, /unreachable/);
    assert.match(text, /report it/);
    assert.match(text, /run was stopped/);
    assert.doesNotMatch(text, /recursive use/, 'the first failure is reported, not what wasm-bindgen says afterwards');
    assert.equal(result && result.previousRunContext, 'qvt1;ds=hosts;lrt=1970-01-09T00:00:00Z;t=2024-06-01T00:00:00Z;w=1', 'the checkpoint after page 1');
    assert.equal(out.ok, false);
    assert.equal(out.error.code, codes.INTERNAL);
    assert.equal(out.error.blame, 'caller');
    assert.equal(out.error.retryable, false);
    const after = w.calls.filter((c) => c.afterTrap).map((c) => c.name);
    assert.deepEqual(after.filter((n) => n !== 'free'), [], `no core call after the trap: ${after.join(', ')}`);
    assert.ok(printed.some((l) => / :: ERROR :: INTERNAL: /.test(l)), 'the failure is logged');
    assert.equal(recordKeys(items.join(''), 'ID').length, 10, 'page 1 was written');
  });
}

test('a trap in the constructor or before any page: INTERNAL without a checkpoint; runFeed errors always carry code, blame, retryable', { timeout: 30000 }, async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 12 });
  t.after(() => s.close());
  const ctorTrap = { Feed: function Feed() { throw new WebAssembly.RuntimeError('unreachable'); }, version: () => '9.9.9' };
  const cases = [
    ['constructor trap', { params: paramsFor(s.url, 'hosts'), core: ctorTrap }, codes.INTERNAL],
    ['transport trap', { params: paramsFor(s.url, 'hosts'), core: wrappedCore({ transport: () => () => { throw new WebAssembly.RuntimeError('unreachable'); } }).core }, codes.INTERNAL],
    ['adapter factory throws a TypeError', { params: paramsFor(s.url, 'hosts'), http: () => { throw new TypeError('x is not a function'); } }, codes.SHIM_ERROR],
    ['adapter send throws', { params: paramsFor(s.url, 'hosts'), http: { send: () => { throw new Error('boom'); } } }, codes.SHIM_ERROR],
    ['writer throws a plain object', { params: paramsFor(s.url, 'hosts'), writer: { items: [], writeItem: () => { throw { weird: true }; } } }, codes.OUTPUT_WRITE_FAILED], // eslint-disable-line no-throw-literal
    ['invalid parameters', { params: { dataSource: 'nope' } }, codes.CONFIG_INVALID],
    ['bad http name', { params: paramsFor(s.url, 'hosts'), http: 'curl' }, codes.BAD_ARGUMENT],
  ];
  for (const [name, options, code] of cases) {
    const r = await run(options);
    assert.equal(r.ok, false, name);
    assert.equal(r.error.code, code, `${name}: ${r.error.message}`);
    assert.equal(typeof r.error.blame, 'string', `${name}: blame`);
    assert.ok(['configuration', 'server', 'network', 'caller'].includes(r.error.blame), `${name}: blame ${r.error.blame}`);
    assert.equal(typeof r.error.retryable, 'boolean', `${name}: retryable`);
    assert.equal(r.error.previousRunContext, undefined, `${name}: no checkpoint`);
  }
  await assert.rejects(lib.runFeed({ params: {} }), (e) => e.code === codes.BAD_ARGUMENT && e.blame === 'caller' && e.retryable === false);
});
