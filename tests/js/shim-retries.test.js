'use strict';
// Retries through the shim: every transient fault the simulator can inject (connection reset,
// truncated page, 5xx, GENERIC_RETURN) is retried up to maxRetry with the core's back-off, and the
// records come out exactly as in a clean run: none twice, none skipped. Failures that retrying
// cannot fix stop at once, and a failed run never reports success.

const test = require('node:test');
const assert = require('node:assert/strict');
const { sim, paramsFor, run, fakeClock, detectionKeys, recordKeys, lib, runArcherInProcess } = require('./helpers/shim-util');
const { codes } = lib;

const FAULTS = [
  { type: 'reset', afterBytes: 5000 },
  { type: 'truncate', afterBytes: 5000 },
  { type: 'http5xx', status: 503 },
  { type: 'http5xx', status: 502, body: 'text' },
  { type: 'generic_return' },
];

test('each transient fault on a middle page is retried and the output is exactly the clean one', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  t.after(() => s.close());
  const params = paramsFor(s.url, 'detections', { batchSize: '8', retryDelaySec: '0' });
  const clean = await run({ params });
  assert.equal(clean.ok, true);
  const cleanKeys = detectionKeys(clean.text);
  assert.equal(new Set(cleanKeys).size, cleanKeys.length);
  for (const f of FAULTS) {
    s.control.reset();
    s.control.setFaults([Object.assign({ endpoint: 'detections', page: [3], times: 1 }, f)]);
    const r = await run({ params });
    const what = JSON.stringify(f);
    assert.equal(r.ok, true, `${what}: ${r.error && r.error.message}`);
    assert.equal(r.summary.retries, 1, what);
    assert.equal(r.text, clean.text, `${what}: same records, same order, none twice`);
    assert.deepEqual(detectionKeys(r.text), cleanKeys, what);
    assert.ok(r.logs.some((l) => /^WARN :: page 3 failed \(.*\); retry 1 of 1 in 0\.0 s; records already written are not written again/.test(l)), `${what}\n${r.logs.join('\n')}`);
    // The simulator saw page 3 twice.
    const pages = s.log.entries.filter((e) => e.endpoint === 'detections').map((e) => e.page);
    assert.deepEqual(pages.filter((p) => p === 3).length, 2, `${what}: ${pages}`);
  }
});

test('a reset after some records of a page: the retry skips what was already written', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 20 });
  t.after(() => s.close());
  const params = paramsFor(s.url, 'hosts', { batchSize: '20', retryDelaySec: '0', outputChunkRecords: '1' });
  const clean = await run({ params });
  s.control.reset();
  s.control.setFaults([{ type: 'reset', endpoint: 'hosts', request: [1], afterBytes: 9000 }]);
  const r = await run({ params });
  assert.equal(r.ok, true, r.error && r.error.message);
  const ids = recordKeys(r.text, 'ID');
  assert.equal(new Set(ids).size, ids.length, 'no host twice');
  assert.deepEqual(ids, recordKeys(clean.text, 'ID'));
  assert.ok(r.items.length > 0);
  assert.equal(r.summary.retries, 1);
});

test('maxRetry is the limit: maxRetry=2 survives two faults on a page, not three', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  t.after(() => s.close());
  const params = paramsFor(s.url, 'hosts', { batchSize: '10', retryDelaySec: '0', maxRetry: '2' });
  // Pages cut off before their first record (so each retry asks for the same page): a 5xx twice in a row (or a timeout) would ask for a smaller page instead, which
  // does not use maxRetry (see the adaptive page size tests in e2e-transport and feed_transport).
  s.control.setFaults([{ type: 'truncate', afterBytes: 200, endpoint: 'hosts', page: [2], times: 2 }]);
  const ok = await run({ params });
  assert.equal(ok.ok, true, ok.error && ok.error.message);
  assert.equal(ok.summary.retries, 2);
  assert.equal(ok.summary.records, 40);

  s.control.reset();
  s.control.setFaults([{ type: 'truncate', afterBytes: 200, endpoint: 'hosts', page: [2], times: 3 }]);
  const bad = await run({ params });
  assert.equal(bad.ok, false);
  assert.equal(bad.error.code, codes.TRUNCATED_PAGE);
  assert.match(bad.error.message, /page 2 failed after 3 attempt\(s\) \(maxRetry=2\)/);
  assert.equal(bad.error.retryable, true);
  assert.equal(bad.error.blame, 'server');
  assert.equal(bad.summary.records, 10, 'page 1 was written before the failure');
});

test('maxRetry=0: the first transient fault fails the run', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  t.after(() => s.close());
  s.control.setFaults([{ type: 'truncate', endpoint: 'kb', request: [1], afterBytes: 3000 }]);
  const r = await run({ params: paramsFor(s.url, 'kb', { maxRetry: '0' }) });
  assert.equal(r.ok, false);
  assert.equal(r.error.code, codes.TRUNCATED_PAGE, r.error.message);
});

test('retry back-off: retryDelaySec, then 3x longer (fake clock)', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  t.after(() => s.close());
  s.control.setFaults([{ type: 'http5xx', endpoint: 'kb', request: [1, 2] }]);
  const clock = fakeClock();
  const r = await run({ params: paramsFor(s.url, 'kb', { maxRetry: '2', retryDelaySec: '5' }), now: clock.now, sleep: clock.sleep });
  assert.equal(r.ok, true, r.error && r.error.message);
  assert.deepEqual(clock.sleeps.map((x) => x.ms), [5000, 15000]);
});

test('bad credentials and an expired account fail at once, as configuration errors', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  t.after(() => s.close());
  const r = await run({ params: paramsFor(s.url, 'hosts', { password: 'wrong-password', maxRetry: '2' }) });
  assert.equal(r.ok, false);
  assert.equal(r.error.code, codes.QUALYS_CREDENTIALS);
  assert.equal(r.error.blame, 'configuration');
  assert.equal(r.summary.requests, 1, 'not retried');

  s.control.setFaults([{ type: 'expired', endpoint: 'hosts' }]);
  const e = await run({ params: paramsFor(s.url, 'hosts', { maxRetry: '2' }) });
  assert.equal(e.ok, false);
  assert.equal(e.error.code, codes.QUALYS_CREDENTIALS);
});

test('a failed run calls Archer back with the recent log lines and the error, never as a success', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  t.after(() => s.close());
  // A connection reset before the first record on every attempt at page 2 (not a matter of page
  // size: retried maxRetry times).
  s.control.setFaults([{ type: 'reset', afterBytes: 200, endpoint: 'detections', page: [2] }]);
  const { out, calls, items, printed } = await runArcherInProcess(lib, {
    params: paramsFor(s.url, 'detections', { batchSize: '10', retryDelaySec: '0', maxRetry: '1' }),
    tokens: { LastRunTime: '2024-01-01T00:00:00Z', PreviousRunContext: '' },
  });
  assert.equal(out.ok, false);
  assert.equal(calls.length, 1);
  const [err, result] = calls[0];
  assert.ok(Array.isArray(err) && err.length >= 3);
  // Never a success: the first argument is set; a second one carries only a resume checkpoint.
  assert.ok(result === undefined || (result.output === null && /^qvt2;/.test(result.previousRunContext)), JSON.stringify(result));
  assert.match(err[err.length - 1], /^NETWORK: page 2 failed after 2 attempt/);
  for (const line of err.slice(0, -1)) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z :: (INFO|WARN|ERROR|DEBUG) :: /);
  assert.deepEqual(err.slice(0, -1), printed.slice(-(err.length - 1)), 'the recent lines are the lines logged');
  assert.ok(items.length > 0, 'page 1 had been written');
});

test('a failed run leaves a resume checkpoint; the next run resumes from it and nothing is lost or doubled', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  t.after(() => s.close());
  const params = paramsFor(s.url, 'hosts', { batchSize: '10', maxRetry: '0' });
  const clean = await run({ params });
  const archer = async (tokens) => {
    const { calls, items } = await runArcherInProcess(lib, { params, tokens, print: () => {} });
    assert.equal(calls.length, 1);
    return { err: calls[0][0], result: calls[0][1], text: items.join('') };
  };
  s.control.setFaults([{ type: 'http5xx', endpoint: 'hosts', page: [3] }]);
  const first = await archer({ LastRunTime: '2000-01-01T00:00:00Z', PreviousRunContext: '' });
  assert.ok(Array.isArray(first.err), 'the first run failed');
  const checkpoint = first.result && first.result.previousRunContext;
  assert.ok(checkpoint && checkpoint.length <= 256 && /^qvt2;ds=hosts;/.test(checkpoint), `checkpoint: ${checkpoint}`);
  assert.equal(first.result.output, null);
  s.control.clearFaults();
  const second = await archer({ LastRunTime: '2000-01-01T00:00:00Z', PreviousRunContext: checkpoint });
  assert.equal(second.err, null, JSON.stringify(second.err));
  assert.equal(second.result.previousRunContext, '', 'a successful run clears the checkpoint');
  const ids = recordKeys(first.text + second.text, 'ID');
  assert.equal(new Set(ids).size, ids.length, 'no host twice across the two runs');
  assert.deepEqual(ids.slice().sort(), recordKeys(clean.text, 'ID').sort(), 'every host once');
});
