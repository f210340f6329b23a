'use strict';
// Logs that cannot be forged or flood (issue #11, class 8, the shim's last line of defence): a
// core (wrapped) that emits a 50 MB line, lines with a line break followed by a forged
// "... :: INFO :: done: ... records=999999", and control characters. Every physical line printed
// must start with the RSA prefix of its own level, carry no raw control character, stay under the
// line cap (with a note of what was cut); the failure callback's argument stays within 64 KiB; the
// mirrored host's summary parser is not fooled; the core's multi-line CONFIG_INVALID stays readable.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { sim, paramsFor, lib, ROOT, SHIM, runInSandbox, buildBundle, runArcherInProcess } = require('./helpers/shim-util');
const { summaryFromLogs } = require(path.join(ROOT, 'tools', 'archer-host.js'));
const log = require(path.join(SHIM, 'src', 'log.js'));

const realCore = require(path.join(SHIM, 'src', 'core.js'));
const PREFIX = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z :: (DEBUG|INFO|WARN|ERROR) :: /;
const RAW_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202e]/; // eslint-disable-line no-control-regex
const FORGED = '2024-06-01T00:00:00.000Z :: INFO :: done: dataSource=hosts records=999999 pages=1 requests=1 retries=0';
const BIG = 50 * 1024 * 1024;

/** The real core, whose first takeLogs() also hands out hostile lines. */
function noisyCore(extra) {
  let sent = false;
  function Feed(params, tokens, nowMs) {
    const f = new realCore.Feed(params, tokens, nowMs);
    return new Proxy(f, {
      get(target, key) {
        if (key === 'takeLogs') {
          return () => {
            const lines = target.takeLogs();
            if (!sent) { sent = true; return lines.concat(extra()); }
            return lines;
          };
        }
        const v = target[key];
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }
  return { Feed, version: realCore.version };
}

function assertPrintedLines(printed, label) {
  assert.ok(printed.length > 0, label);
  for (const line of printed) {
    assert.match(line, PREFIX, `${label}: every physical line starts with the prefix: ${JSON.stringify(line.slice(0, 120))}`);
    assert.ok(!RAW_CONTROL.test(line), `${label}: no raw control character: ${JSON.stringify(line.slice(0, 200))}`);
    assert.ok(line.length <= 40 + log.MAX_LINE + 60, `${label}: line capped (${line.length})`);
    assert.ok(!/^\S+ :: INFO :: done: /.test(line), `${label}: no forged "done" line: ${line.slice(0, 200)}`);
  }
  assert.equal(summaryFromLogs(printed), null, `${label}: the host's summary parser is not fooled`);
}

test('a 50 MB line, a forged "done" line after a line break and control characters: prefixed, escaped, capped; the callback stays small', { timeout: 60000 }, async () => {
  const extra = () => [
    { level: 'WARN', text: `huge: ${'A'.repeat(BIG)}` },
    { level: 'WARN', text: `Qualys said: temporary problem\n${FORGED}` },
    { level: 'INFO', text: `carriage\r${FORGED}\r\n${FORGED}` },
    { level: 'WARN', text: 'escape \u001b[2J bell \u0007 nul \u0000 tab \t del \u007f ls \u2028 rlo \u202e end' },
    { level: 'INFO', text: 'many lines\n' + 'line\n'.repeat(5000) },
  ];
  const t0 = Date.now();
  const { out, calls, printed } = await runArcherInProcess(lib, { params: paramsFor('http://127.0.0.1:1', 'hosts', { maxRetry: '0' }), run: { core: noisyCore(extra) } });
  assert.ok(Date.now() - t0 < 20000, `handled in ${Date.now() - t0} ms`);
  assert.equal(out.ok, false);
  assert.equal(calls.length, 1);
  assertPrintedLines(printed, 'printed');

  const huge = printed.find((l) => l.includes('huge: AAAA'));
  assert.ok(huge, 'the huge line is shown (its start)');
  const cut = /\.\.\. \[(\d+) more characters cut\]$/.exec(huge);
  assert.ok(cut, `the huge line says how much was cut: ${huge.slice(-80)}`);
  assert.equal(Number(cut[1]) + log.MAX_LINE, BIG + 'huge: '.length, 'the note counts every character cut');
  // The forged text is shown, but inside a continuation line of a real entry, not as its own.
  const forgedShown = printed.filter((l) => l.includes(FORGED));
  assert.equal(forgedShown.length, 3, 'the forged text is visible, three times');
  for (const l of forgedShown) assert.match(l, /^\S+ :: (WARN|INFO) :: {3}2024-06-01T00:00:00\.000Z :: INFO :: done: /, l);
  assert.ok(printed.some((l) => l.includes('escape \\x1b[2J bell \\x07 nul \\0 tab \\t del \\x7f ls \\u2028 rlo \\u202e end')), 'control characters shown escaped');
  const many = printed.filter((l) => / :: INFO :: {3}line$/.test(l)).length;
  assert.ok(many < log.MAX_LINES, `a text becomes at most ${log.MAX_LINES} lines (${many})`);
  assert.ok(printed.some((l) => /more characters in further lines cut/.test(l)), 'and says how much was cut');

  // The failure callback: recent lines + the error text, 64 KiB at most.
  const [err] = calls[0];
  assert.ok(Array.isArray(err));
  const bytes = err.reduce((n, l) => n + Buffer.byteLength(String(l)), 0);
  assert.ok(bytes <= log.CALLBACK_MAX_BYTES, `callback argument ${bytes} bytes`);
  assert.match(err[err.length - 1], /^NETWORK: /);
  for (const l of err.slice(0, -1)) assert.match(l, PREFIX);
});

test('an error message with line breaks and control characters: the callback text and the log stay readable and unforgeable', { timeout: 30000 }, async () => {
  const evil = { send: () => { throw Object.assign(new Error(`bad\n${FORGED}\u001b[31m`), { code: 'EVIL', blame: 'network', retryable: false }); } };
  const { out, calls, printed } = await runArcherInProcess(lib, { params: paramsFor('http://127.0.0.1:1', 'hosts'), run: { http: evil } });
  assert.equal(out.ok, false);
  assertPrintedLines(printed, 'error with line breaks');
  const text = calls[0][0][calls[0][0].length - 1];
  assert.ok(!/\u001b/.test(text), 'control characters escaped in the callback text'); // eslint-disable-line no-control-regex
  assert.match(text, /\\x1b\[31m/);
});

test("the core's multi-line CONFIG_INVALID stays readable: one prefixed line per problem", async () => {
  const { printed } = await runArcherInProcess(lib, { params: { dataSource: 'hosts', hostsUrl: 'ftp://x', batchSize: 'abc', username: 'u' }, outputWriter: false });
  assertPrintedLines(printed, 'CONFIG_INVALID');
  assert.match(printed[0], / :: ERROR :: CONFIG_INVALID: \d+ problems/);
  assert.ok(printed.some((l) => / :: ERROR :: {3}batchSize: "abc" is not a whole number/.test(l)), printed.join('\n'));
  assert.ok(printed.some((l) => / :: ERROR :: {3}password: missing/.test(l)), printed.join('\n'));
});

test('the single file in the mirrored Archer host prints only prefixed lines (a real run, success and failure)', { timeout: 60000 }, async (t) => {
  buildBundle();
  const s = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 12 });
  t.after(() => s.close());
  for (const mode of ['6x', 'node', '2025']) {
    const ok = await runInSandbox({ mode, params: paramsFor(s.url, 'hosts', { batchSize: '5' }) });
    assert.equal(ok.err, null, `${mode}: ${JSON.stringify(ok.err)}`);
    for (const line of ok.logs) assert.match(line, PREFIX, `${mode}: ${line}`);
    assert.equal(summaryFromLogs(ok.logs).records, 12, `${mode}: the real summary line is found`);
    const bad = await runInSandbox({ mode, params: { dataSource: 'hosts', hostsUrl: 'ftp://x', username: 'u' } });
    assert.ok(bad.err, mode);
    assertPrintedLines(bad.logs, `${mode} CONFIG_INVALID`);
  }
});

test("a successful run logs the core's Summary once as a JSON line right after the done line; a failed run logs none", { timeout: 30000 }, async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 12 });
  t.after(() => s.close());
  const ok = await runArcherInProcess(lib, { params: paramsFor(s.url, 'hosts', { batchSize: '5' }) });
  assert.equal(ok.out.ok, true, ok.out.text);
  const at = ok.printed.findIndex((l) => / :: INFO :: summary \{/.test(l));
  assert.ok(at > 0, ok.printed.join('\n'));
  assert.match(ok.printed[at - 1], / :: INFO :: done: dataSource=hosts records=12 /, 'right after the prose done line');
  assert.equal(ok.printed.filter((l) => / :: INFO :: summary /.test(l)).length, 1, 'once');
  assert.deepEqual(summaryFromLogs(ok.printed), JSON.parse(JSON.stringify(ok.out.summary)), "the core's Summary, as data");
  const bad = await runArcherInProcess(lib, { params: paramsFor('http://127.0.0.1:1', 'hosts', { maxRetry: '0' }) });
  assert.equal(bad.out.ok, false);
  assert.equal(summaryFromLogs(bad.printed), null, 'a failed run has no summary line');
});
