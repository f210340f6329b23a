'use strict';
// Pacing and Qualys limits as the shim carries them out: requestsPerMin (no more than N request
// starts in any 60-second window), X-RateLimit-Remaining/ToWait-Sec holds, 409 with CODE 1965
// (rate) and 1960 (concurrency), 429 with Retry-After, and the wait budget. The core decides every
// wait; these tests check that the shim sleeps exactly the waits the core asks for, on an injected
// fake clock (the core's window is 60 s), plus one real-time hold measured at the server.

const test = require('node:test');
const assert = require('node:assert/strict');
const { sim, paramsFor, run, fakeClock, frontOf, lib, simpleReturn, runArcherInProcess } = require('./helpers/shim-util');

const WINDOW = 60000;

test('requestsPerMin: never more than N request starts in any 60-second window', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  t.after(() => s.close());
  const clock = fakeClock();
  const starts = [];
  const t0 = Date.now();
  const r = await run({
    params: paramsFor(s.url, 'hosts', { batchSize: '5', requestsPerMin: '3' }),
    now: clock.now,
    sleep: clock.sleep,
    onAction: (a) => { if (a.kind === 'send') starts.push(clock.now()); },
  });
  assert.equal(r.ok, true, r.error && r.error.message);
  assert.equal(starts.length, 8, '40 hosts in pages of 5');
  for (const s0 of starts) {
    const inWindow = starts.filter((x) => x >= s0 && x < s0 + WINDOW).length;
    assert.ok(inWindow <= 3, `${inWindow} starts in the window from ${s0}`);
  }
  // 8 starts at 3 per minute: the 8th is two full windows after the first, each window plus the
  // core's one-second margin for the time a request takes to reach Qualys.
  assert.equal(starts[7] - starts[0], 2 * (WINDOW + 1000));
  // Every sleep was a wait the core asked for, and they add up to the fake time that passed.
  const waits = r.actions.filter((a) => a.kind === 'wait');
  assert.deepEqual(clock.sleeps.map((x) => x.ms), waits.map((w) => w.ms));
  assert.ok(waits.every((w) => /requestsPerMin/.test(w.reason)), JSON.stringify(waits));
  assert.ok(r.logs.some((l) => /^INFO :: waiting \d+\.\d s before the next request \(requestsPerMin\)/.test(l)), r.logs.join('\n'));
  assert.ok(Date.now() - t0 < 5000, 'no real sleeping');
});

test('X-RateLimit-Remaining: 0 holds the next request for X-RateLimit-ToWait-Sec (fake clock)', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  const front = await frontOf(s.url, async (req, res, n) => {
    if (n !== 1) return 'pass';
    const up = await require('./helpers/shim-util').fetchWhole(s.url + req.url);
    const body = up.body.toString('utf8').split(s.url).join(front.url);
    res.writeHead(200, { 'Content-Type': 'application/xml', 'X-RateLimit-Remaining': '0', 'X-RateLimit-ToWait-Sec': '30' });
    res.end(body);
    return 'done';
  });
  t.after(async () => { await front.close(); await s.close(); });
  const clock = fakeClock();
  const starts = [];
  const r = await run({
    params: paramsFor(front.url, 'hosts', { batchSize: '20', requestsPerMin: '1000' }),
    now: clock.now,
    sleep: clock.sleep,
    onAction: (a) => { if (a.kind === 'send') starts.push(clock.now()); },
  });
  assert.equal(r.ok, true, r.error && r.error.message);
  assert.equal(starts.length, 2);
  assert.ok(starts[1] - starts[0] >= 30000, `held ${starts[1] - starts[0]} ms`);
  assert.ok(r.actions.some((a) => a.kind === 'wait' && /X-RateLimit-Remaining/.test(a.reason)), JSON.stringify(r.actions));
});

test('X-RateLimit-ToWait-Sec is honoured in real time (request starts timed at the server)', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  const front = await frontOf(s.url, async (req, res, n) => {
    if (n !== 1) return 'pass';
    const up = await require('./helpers/shim-util').fetchWhole(s.url + req.url);
    const body = up.body.toString('utf8').split(s.url).join(front.url);
    res.writeHead(200, { 'Content-Type': 'application/xml', 'X-RateLimit-Remaining': '0', 'X-RateLimit-ToWait-Sec': '1' });
    res.end(body);
    return 'done';
  });
  t.after(async () => { await front.close(); await s.close(); });
  const r = await run({ params: paramsFor(front.url, 'hosts', { batchSize: '20' }) });
  assert.equal(r.ok, true, r.error && r.error.message);
  assert.equal(front.requests.length, 2);
  const gap = front.requests[1].at - front.requests[0].at;
  // The core adds a second of margin to what Qualys asks for.
  assert.ok(gap >= 1950 && gap < 4000, `second request started ${gap} ms after the first`);
});

test('the simulator rate headers: the core holds before Qualys would answer 409', async (t) => {
  const s = await sim({ rateLimit: '2/3600', concurrency: 'off' });
  t.after(() => s.close());
  const clock = fakeClock();
  let lifted = false;
  const r = await run({
    params: paramsFor(s.url, 'hosts', { batchSize: '10', maxRetry: '0', requestsPerMin: '1000' }),
    now: clock.now,
    sleep: async (ms, reason) => {
      await clock.sleep(ms, reason);
      // The simulator's window runs on the real clock: after the fake wait, lift the limit.
      if (!lifted) { lifted = true; s.control.setLimits({ rateLimit: 'off' }); }
    },
  });
  assert.equal(r.ok, true, r.error && r.error.message);
  const waits = r.actions.filter((a) => a.kind === 'wait');
  assert.equal(waits.length, 1, JSON.stringify(waits));
  assert.match(waits[0].reason, /X-RateLimit-Remaining is 0/);
  assert.ok(waits[0].ms > 3500 * 1000 && waits[0].ms <= 3601 * 1000, `${waits[0].ms}`);
  assert.ok(s.log.entries.every((e) => e.status !== 409), 'no 409 was needed');
  assert.equal(r.summary.records, 40);
});

for (const [code, items, wantMs, why] of [
  [1965, { SECONDS_TO_WAIT: 42 }, 43000, /^WARN :: page 2: Qualys rate limit: .*code 1965.*waiting 43\.0 s, then retrying \(does not count against maxRetry\)/],
  [1960, { CALLS_TO_FINISH: 1 }, 6000, /^WARN :: page 2: Qualys concurrency limit: .*code 1960.*waiting 6\.0 s, then retrying \(does not count against maxRetry\)/],
]) {
  test(`409 CODE ${code}: waits what Qualys says, retries, not counted against maxRetry`, async (t) => {
    const s = await sim({ rateLimit: 'off', concurrency: 'off' });
    const front = await frontOf(s.url, (req, res, n) => {
      if (n !== 2 && n !== 3) return 'pass';
      res.writeHead(409, { 'Content-Type': 'text/xml;charset=UTF-8' });
      res.end(simpleReturn(code, code === 1965 ? 'This API cannot be run again for another 0 hours, 0 minutes and 42 seconds.' : 'This API cannot be run again until 1 currently running API instance has finished.', items));
      return 'done';
    });
    t.after(async () => { await front.close(); await s.close(); });
    const clean = await run({ params: paramsFor(s.url, 'hosts', { batchSize: '10' }) });
    const clock = fakeClock();
    const r = await run({
      params: paramsFor(front.url, 'hosts', { batchSize: '10', maxRetry: '0', requestsPerMin: '1000' }),
      now: clock.now,
      sleep: clock.sleep,
    });
    assert.equal(r.ok, true, r.error && r.error.message);
    const waits = r.actions.filter((a) => a.kind === 'wait');
    assert.deepEqual(waits.map((w) => w.ms), [wantMs, wantMs], JSON.stringify(waits));
    assert.ok(r.logs.some((l) => why.test(l)), r.logs.join('\n'));
    assert.deepEqual(clock.sleeps.map((x) => x.ms), [wantMs, wantMs], 'slept exactly what the core asked');
    assert.equal(r.summary.retries, 0);
    assert.equal(r.summary.waits, 2);
    assert.equal(r.text.split(front.url).join(s.url), clean.text, 'exact records, none twice');
    assert.equal(front.requests.length, 6, '4 pages + 2 refused');
  });
}

test('409 CODE 1960 from the simulator (concurrency limit reached): waits, then retries', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 0 });
  t.after(() => s.close());
  const clock = fakeClock();
  let lifted = false;
  const r = await run({
    params: paramsFor(s.url, 'kb', { maxRetry: '0' }),
    now: clock.now,
    sleep: async (ms, reason) => {
      await clock.sleep(ms, reason);
      if (!lifted) { lifted = true; s.control.setLimits({ concurrency: 'off' }); }
    },
  });
  assert.equal(r.ok, true, r.error && r.error.message);
  const waits = r.actions.filter((a) => a.kind === 'wait');
  assert.equal(waits.length, 1, JSON.stringify(waits));
  assert.ok(r.logs.some((l) => /^WARN :: .*Qualys concurrency limit: .*1960.*does not count against maxRetry/.test(l)), r.logs.join('\n'));
  assert.ok(waits[0].ms >= 1000);
  assert.equal(clock.sleeps[0].ms, waits[0].ms, 'slept exactly what the core asked');
  assert.equal(r.summary.retries, 0);
  assert.equal(r.summary.records, 30);
});

test('429 with Retry-After: waits, then retries', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  const front = await frontOf(s.url, async (req, res, n) => {
    if (n !== 2) return 'pass';
    res.writeHead(429, { 'Retry-After': '7', 'Content-Type': 'text/plain' });
    res.end('Too Many Requests\n');
    return 'done';
  });
  t.after(async () => { await front.close(); await s.close(); });
  const clock = fakeClock();
  const r = await run({ params: paramsFor(front.url, 'hosts', { batchSize: '20', maxRetry: '0', requestsPerMin: '1000' }), now: clock.now, sleep: clock.sleep });
  assert.equal(r.ok, true, r.error && r.error.message);
  const waits = r.actions.filter((a) => a.kind === 'wait');
  assert.equal(waits.length, 1);
  assert.equal(waits[0].ms, 8000);
  assert.ok(r.logs.some((l) => /^WARN :: page 2: HTTP 429 Too Many Requests; waiting 8\.0 s, then retrying \(does not count against maxRetry\)/.test(l)), r.logs.join('\n'));
  assert.equal(r.summary.records, 40);
  assert.equal(front.requests.length, 3);
});

test('the wait budget: a wait beyond waitBudgetSec fails the run clearly, and Archer gets no success', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  const front = await frontOf(s.url, (req, res, n) => {
    if (n !== 2) return 'pass';
    res.writeHead(409, { 'Content-Type': 'text/xml;charset=UTF-8' });
    res.end(simpleReturn(1965, 'This API cannot be run again for another 1 hours, 0 minutes and 0 seconds.', { SECONDS_TO_WAIT: 3600 }));
    return 'done';
  });
  t.after(async () => { await front.close(); await s.close(); });
  const clock = fakeClock();
  const { out, calls } = await runArcherInProcess(lib, { params: paramsFor(front.url, 'hosts', { batchSize: '10', waitBudgetSec: '600', requestsPerMin: '1000' }), run: { now: clock.now, sleep: clock.sleep } });
  assert.equal(out.ok, false);
  assert.equal(calls.length, 1);
  const [err, result] = calls[0];
  assert.ok(Array.isArray(err), 'callback(array of lines)');
  // Never a success: the first argument is set; a second one carries only a resume checkpoint.
  assert.ok(result === undefined || (result.output === null && /^qvt2;/.test(result.previousRunContext)), JSON.stringify(result));
  assert.match(err[err.length - 1], /^WAIT_BUDGET_EXHAUSTED: .*waitBudgetSec=600/);
  assert.ok(err.some((l) => / :: ERROR :: WAIT_BUDGET_EXHAUSTED/.test(l)), err.join('\n'));
  assert.equal(clock.sleeps.length, 0, 'the run did not sleep an hour first');
});
