'use strict';
// End-to-end: Qualys's limits and parallel extraction, through the single file in a mirrored
// Archer context against the simulator with its limits on (small windows to keep runs short):
//   - requestsPerMin: a run that needs more requests than requestsPerMin allows in a minute
//     never starts more than that many in any 60-second window (checked on the simulator's log)
//   - 409s: several feeds at once against one subscription (rate 5 per 2 s, 2 concurrent calls)
//     meet 1965 and 1960 answers, wait as told and finish with exact output
//   - concurrency 1, 2, 4: the same records; requests overlap for 2 and 4, never more than the
//     subscription's X-Concurrency-Limit-Limit minus one
// The requestsPerMin run takes a minute by nature (a 60-second window); the tests of this file run
// at the same time so the file takes about that minute.

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const u = require('./helpers/e2e-util');

const FIRST_RUN_SINCE = Date.parse('1970-01-09T00:00:00Z');
const WINDOW_MS = 60000;
const RPM = 8;

/** Start times (ms, as the simulator saw them) of a run's requests, sorted. */
const starts = (entries) => entries.filter((e) => e.endpoint).map((e) => Date.parse(e.time)).sort((a, b) => a - b);

/** The most requests the simulator saw start within any window of `ms` (sliding). */
function maxInWindow(times, ms) {
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi] - times[lo] >= ms) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

u.bundlePath(); // build the single file now, not while a run is timed

// One paced run, shared by the two tests that check it. The other tests of the file start once its
// first burst of requests is over, so they do not hold up the event loop while it starts (the
// simulator runs in this process: a busy loop would delay its view of the first request).
let paced = null;
let burstOver = null;
function pacedRun() {
  if (!paced) {
    let signal;
    burstOver = new Promise((resolve) => { signal = resolve; });
    paced = (async () => {
      const sim = await u.startSim({ hosts: 40, detectionsPerHost: 2, kb: 20, seed: 4, rateLimit: '5/2', concurrency: 2 });
      const t0 = Date.now();
      const watch = setInterval(() => {
        if (sim.log.entries.length >= 5 || Date.now() - t0 > 5000) { clearInterval(watch); signal(); }
      }, 20);
      try {
        const r = await u.runScript(sim, u.paramsFor(sim, 'hosts', { batchSize: 3, requestsPerMin: RPM }));
        return { sim, r, exp: u.expected(sim.model, 'hosts', FIRST_RUN_SINCE) };
      } finally {
        clearInterval(watch);
        signal();
        await sim.close();
      }
    })();
    paced.then(signal, signal); // never leave the other tests waiting
  }
  return paced;
}
/** Waits until the paced run's first requests went out (starting it if need be). */
async function afterBurst() {
  pacedRun();
  await burstOver;
}

describe('Qualys limits and parallel extraction', { concurrency: true }, () => {
  test(`requestsPerMin=${RPM} with the subscription limited to 5 calls per 2 s: the run succeeds, exact, and never starts more than ${RPM} requests in a minute`, { timeout: 150000 }, async (t) => {
    const { sim, r, exp } = await pacedRun();
    u.assertOk(r, 'paced hosts run');
    u.assertExactOutput(sim.model, 'hosts', r.text, exp, { label: 'paced hosts run' });
    const times = starts(r.entries);
    assert.ok(times.length > RPM, `the run needs more than ${RPM} requests (${times.length})`);
    assert.equal(r.entries.filter((e) => e.status === 409).length, 0, 'no 409: the run holds when X-RateLimit-Remaining is 0');
    assert.ok(r.logs.some((l) => /waiting .* \(Qualys rate limit \(X-RateLimit-Remaining is 0\)\)/.test(l)), 'held on the subscription limit');
    assert.ok(r.logs.some((l) => /waiting [1-9][\d.]* s before the next request \(requestsPerMin\)/.test(l)), 'waited on requestsPerMin');
    // Start times as the simulator saw them arrive: the core's one-second margin covers the time
    // from its decision to the request's arrival (the first request also opens the connection).
    assert.ok(maxInWindow(times, WINDOW_MS) <= RPM, `at most ${RPM} arrivals in any 60 s`);
    assert.ok(times[RPM] - times[0] >= WINDOW_MS, `request ${RPM + 1} arrives a minute after the first (${times[RPM] - times[0]} ms)`);
    t.diagnostic(`${times.length} requests in ${((times[times.length - 1] - times[0]) / 1000).toFixed(1)} s; request ${RPM + 1} came ${times[RPM] - times[0]} ms after the first`);
  });

  test('five feeds at once against one subscription (5 calls per 2 s, 2 concurrent): 409s are waited out, every output exact', { timeout: 150000 }, async (t) => {
    await afterBurst();
    const sim = await u.startSim({ hosts: 40, detectionsPerHost: 2, kb: 40, seed: 4, rateLimit: '5/2', concurrency: 2 });
    t.after(() => sim.close());
    sim.control.setFaults([{ type: 'delay', ms: 60 }]); // every call takes a while, so calls overlap
    const feeds = [['kb', {}], ['hosts', {}], ['hostDetections', {}], ['detections', {}], ['detections', { concurrency: 2 }]];
    const runs = await Promise.all(feeds.map(([ds, extra]) =>
      u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 5, kbChunkSize: 8, requestsPerMin: 60, ...extra }))));
    runs.forEach((r, n) => {
      const [ds, extra] = feeds[n];
      const label = `${ds} ${JSON.stringify(extra)}`;
      u.assertOk(r, label);
      u.assertExactOutput(sim.model, ds, r.text, u.expected(sim.model, ds, FIRST_RUN_SINCE), { label });
    });
    const refused = sim.log.entries.filter((e) => e.status === 409);
    const codes = new Set(refused.map((e) => e.code));
    t.diagnostic(`${sim.log.entries.length} requests, ${refused.length} answered 409 (codes ${[...codes].join(', ')})`);
    assert.ok(codes.has(1965), 'the subscription refused calls over its rate (1965)');
    const logs = runs.flatMap((r) => r.logs);
    assert.ok(logs.some((l) => /Qualys rate limit: .*\(code 1965\); waiting/.test(l)), 'a 1965 is waited out');
    if (codes.has(1960)) assert.ok(logs.some((l) => /Qualys concurrency limit: .*\(code 1960\); waiting/.test(l)), 'a 1960 is waited out');
    // A 409 is waited out, never retried against maxRetry. A connection the server drops (a
    // keep-alive socket closed as it is reused, under load) is retried like any other: tell the
    // two apart by the logged reason, and show any retry.
    const retries = runs.flatMap((r, n) => r.logs.filter((l) => /; retry \d+ of \d+ in /.test(l)).map((l) => `${feeds[n][0]}: ${l}`));
    if (retries.length) t.diagnostic(`retried: ${retries.join(' | ')}`);
    assert.equal(retries.length, runs.reduce((n, r) => n + r.summary.retries, 0), 'every retry is logged with its reason');
    assert.ok(retries.every((l) => /failed \(NETWORK \(network problem\)/.test(l)), `409s do not use maxRetry (only dropped connections were retried): ${retries.join(' | ')}`);
  });

  test('concurrency 1, 2, 4 (detections): the same records; requests overlap, never more than X-Concurrency-Limit-Limit minus one', { timeout: 150000 }, async (t) => {
    await afterBurst();
    const cases = [
      { concurrency: 1, limit: 4, want: [1, 1] },
      { concurrency: 2, limit: 4, want: [2, 2] },
      { concurrency: 4, limit: 4, want: [2, 3] },
      { concurrency: 4, limit: 3, want: [2, 2] },
    ];
    let reference = null;
    for (const c of cases) {
      const sim = await u.startSim({ hosts: 60, detectionsPerHost: 3, kb: 50, seed: 17, concurrency: c.limit });
      try {
        sim.control.setFaults([{ type: 'delay', ms: 120, endpoint: 'detections' }]);
        const label = `concurrency=${c.concurrency}, X-Concurrency-Limit-Limit=${c.limit}`;
        const r = await u.runScript(sim, u.paramsFor(sim, 'detections', { batchSize: 5, concurrency: c.concurrency }));
        u.assertOk(r, label);
        const exp = u.expected(sim.model, 'detections', FIRST_RUN_SINCE);
        const recs = u.assertExactOutput(sim.model, 'detections', r.text, exp, { label });
        const keys = recs.map((rec) => u.recordKey('detections', rec)).sort();
        if (reference) assert.deepEqual(keys, reference, `${label}: the same record set as concurrency=1`);
        else reference = keys;
        assert.equal(r.entries.filter((e) => e.status === 409).length, 0, `${label}: never refused (409)`);
        const overlap = u.maxOverlap(r.entries.filter((e) => e.endpoint));
        assert.ok(overlap >= c.want[0] && overlap <= c.want[1], `${label}: at most ${overlap} requests at once, want ${c.want[0]}..${c.want[1]}`);
        const fetches = u.fetches(r.entries, 'detections');
        t.diagnostic(`${label}: ${recs.length} records, ${fetches.length} range requests, up to ${overlap} at once, ${r.wallMs} ms`);
      } finally {
        await sim.close();
      }
    }
  });

  test('concurrency=4 for hosts and the KB windows: exact, overlapping, within the limit', { timeout: 150000 }, async (t) => {
    await afterBurst();
    const sim = await u.startSim({ hosts: 50, detectionsPerHost: 2, kb: 120, seed: 19, concurrency: 3 });
    t.after(() => sim.close());
    sim.control.setFaults([{ type: 'delay', ms: 100 }]);
    for (const ds of ['hosts', 'kb']) {
      const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 5, kbChunkSize: 12, concurrency: 4 }));
      u.assertOk(r, ds);
      u.assertExactOutput(sim.model, ds, r.text, u.expected(sim.model, ds, FIRST_RUN_SINCE), { label: `${ds} concurrency=4` });
      const overlap = u.maxOverlap(r.entries.filter((e) => e.endpoint));
      assert.ok(overlap === 2, `${ds}: 2 requests at once (limit 3 minus one), saw ${overlap}`);
      assert.ok(r.logs.some((l) => /using 2 at a time \(concurrency=4 asked\)/.test(l)), `${ds}: says it uses fewer than asked`);
      t.diagnostic(`${ds}: up to ${overlap} at once`);
    }
  });
});
