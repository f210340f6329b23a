'use strict';
// End-to-end, beyond the old script (issue 6), through the single file in a mirrored Archer
// context against the simulator:
//   - KnowledgeBase base load: 200,000 QIDs in one run (QID listing, then windows of kbChunkSize),
//     in its own process (node tools/archer-host.js), every QID exactly once, field values equal
//     the model's, peak memory bounded and about that of a 20,000-QID run
//   - resume: a run killed by a fault at page N (maxRetry=0) returns a checkpoint; the next run
//     with it completes the set: the union of both outputs is exactly the full record set, and no
//     record the simulator served in full before the failure is fetched again (sequential, and
//     with concurrency=2 where the ranges in flight at the failure are fetched again)

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { StringDecoder } = require('string_decoder');
const u = require('./helpers/e2e-util');

const FIRST_RUN_SINCE = Date.parse('1970-01-09T00:00:00Z');
const MiB = 1024;

/** Reads an output file in pieces, calling fn(recordText) for each <VULN>...</VULN>. */
function eachRecord(file, element, fn) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  const open = `<${element}>`;
  const close = `</${element}>`;
  const decoder = new StringDecoder('utf8'); // keeps a character split between two reads whole
  let carry = '';
  let n;
  try {
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
      carry += decoder.write(buf.subarray(0, n));
      let from = 0;
      for (;;) {
        const end = carry.indexOf(close, from);
        if (end < 0) break;
        const start = carry.indexOf(open, from);
        assert.equal(start, from, `output: a record starts right after the previous one (offset ${from})`);
        fn(carry.slice(start, end + close.length));
        from = end + close.length;
      }
      carry = carry.slice(from);
    }
  } finally {
    fs.closeSync(fd);
  }
  assert.equal(carry.trim(), '', 'output: nothing after the last record');
}

/** Searches a (large) file for every form of the password, in pieces. */
function assertFileHasNoSecret(file, label) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  let tail = '';
  let n;
  try {
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
      const text = tail + buf.toString('latin1', 0, n);
      u.assertNoSecret(text, label);
      tail = text.slice(-64);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** A KB base load in its own process; checks every QID once, samples fields, returns the report. */
async function kbBaseLoad(t, count) {
  const sim = await u.startSim({ kb: count, hosts: 1, seed: 4 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-e2e-kb-'));
  try {
    const m = sim.model;
    // details=Basic keeps each VULN small (no DIAGNOSIS/CONSEQUENCE/SOLUTION); kbChunkSize default (1000).
    const params = u.paramsFor(sim, 'kb', {}, { kbDetails: 'Basic' });
    const rep = await u.runChild(params, { name: `kb${count}`, dir });
    assert.ok(rep.ok, `kb ${count}: ${rep.error}`);
    const seen = new Uint8Array(m.kbCount);
    let records = 0;
    const sampleBad = [];
    eachRecord(rep.out, 'VULN', (rec) => {
      const q = Number(/^<VULN><ARCHER_VULN_LINK>(\d+)</.exec(rec)[1]);
      const k = m.qidIndexOf(q);
      assert.ok(k >= 0, `kb ${count}: QID ${q} is in the KnowledgeBase`);
      assert.equal(seen[k], 0, `kb ${count}: QID ${q} written once`);
      seen[k] = 1;
      if (records++ % 997 === 0) {
        const [node] = u.parseFragments(rec);
        sampleBad.push(...u.compareRecord(m, 'kb', node, { k }));
      }
    });
    assert.equal(records, m.kbCount, `kb ${count}: every QID`);
    assert.equal(sampleBad.length, 0, `kb ${count}: sampled field values: ${sampleBad.slice(0, 5).join('\n')}`);
    // The simulator served each QID once in the detail windows (and once in the QID listing).
    const fetches = u.fetches(sim.log.entries, 'kb');
    const served = u.servedKeys(sim.log.entries, 'kb');
    assert.equal(served.length, m.kbCount, `kb ${count}: served once each`);
    assert.ok(served.every((q) => seen[m.qidIndexOf(q)] === 1), `kb ${count}: served = written`);
    assert.equal(fetches.length, Math.ceil(m.kbCount / 1000), `kb ${count}: windows of 1000 QIDs`);
    assert.equal(sim.log.entries.filter((e) => e.params.details === 'None').length, 1, `kb ${count}: one QID listing`);
    assertFileHasNoSecret(rep.out, `kb ${count} output`);
    assertFileHasNoSecret(rep.logFile, `kb ${count} log`);
    u.assertNoSecret(JSON.stringify(rep), `kb ${count} report`);
    t.diagnostic(`kb ${count}: ${records} records, ${rep.summary.requests} requests, ${(rep.outputBytes / 1048576).toFixed(0)} MiB output, ${(rep.wallMs / 1000).toFixed(1)} s, peak RSS ${(rep.peakRssKiB / MiB).toFixed(0)} MiB`);
    return rep;
  } finally {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('KnowledgeBase base load: 200,000 QIDs in one run, exact, with flat memory (vs 20,000 QIDs)', { timeout: 120000 }, async (t) => {
  const small = await kbBaseLoad(t, 20000);
  const big = await kbBaseLoad(t, 200000);
  assert.ok(big.peakRssKiB < 250 * MiB, `peak RSS ${big.peakRssKiB} KiB < 250 MiB`);
  const growth = big.peakRssKiB - small.peakRssKiB;
  assert.ok(growth < 32 * MiB, `10x the QIDs costs ${(growth / MiB).toFixed(1)} MiB more peak RSS (< 32 MiB)`);
  assert.ok(big.wallMs < 60000, `the 200,000-QID run took ${big.wallMs} ms`);
});

// ---- resume -----------------------------------------------------------------------------------

const TOKENS = (prc) => ({ LastRunTime: null, PreviousRunContext: prc, LastFileProcessed: null });

/** The ID a log entry's window starts at (host ID or QID), from its parameters. */
const idMin = (e) => (e.params.id_min !== undefined ? Number(e.params.id_min) : -Infinity);
/** The host ID (or QID) of a record key. */
const idOf = (key) => Number(String(key).split(':')[0]);

/** Parses the checkpoint: {w, done: [[a, b]...]}. */
function checkpoint(prc, ds) {
  const m = new RegExp(`^qvt2;ds=${ds};c=[0-9a-f]{8};u=[0-9a-f]{8};k=[0-9a-f]{8};lrt=([^;]*);t=([^;]*)(?:;w=(\\d+))?(?:;d=([\\d,-]+))?$`).exec(prc || '');
  assert.ok(m, `checkpoint ${JSON.stringify(prc)} has the documented format for ${ds}`);
  assert.ok(prc.length <= 256, 'checkpoint <= 256 characters');
  const done = m[4] ? m[4].split(',').map((r) => r.split('-').map(Number)) : [];
  return { lrt: m[1], t: m[2], w: m[3] !== undefined ? Number(m[3]) : null, done };
}

/**
 * Kills a run with a fault (maxRetry=0), resumes it with the checkpoint it returned, and checks:
 * the union of both outputs is exactly the full record set; the second run fetches nothing the
 * checkpoint covers (IDs up to the watermark, finished windows); records the simulator served in
 * full in the first run are fetched again only if they belong to a request that was in flight
 * when the run failed (the failed page itself, or with concurrency the other ranges in flight).
 */
async function killAndResume(t, ds, { fault, params = {}, simOptions = {} }) {
  const sim = await u.startSim({ hosts: 60, detectionsPerHost: 3, kb: 90, seed: 9, ...simOptions });
  try {
    sim.control.setFaults([{ ...fault, times: 1 }]);
    const p = u.paramsFor(sim, ds, { batchSize: 6, kbChunkSize: 10, maxRetry: 0, ...params });
    const label = `${ds} ${JSON.stringify(params)}`;
    const r1 = await u.runScript(sim, p);
    const err = u.assertFailed(r1, `${label} first run`, /failed after 1 attempt\(s\) \(maxRetry=0\)/);
    const cp = checkpoint(r1.previousRunContext, ds);
    assert.ok(cp.w !== null || cp.done.length, `${label}: the checkpoint records progress`);
    const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
    const out1 = u.parseFragments(r1.text).map((rec) => u.recordKey(ds, rec));
    assert.ok(out1.length > 0 && out1.length < exp.keys.length, `${label}: the first run wrote part of the set (${out1.length})`);

    const r2 = await u.runScript(sim, p, { tokens: TOKENS(r1.previousRunContext) });
    u.assertOk(r2, `${label} resumed run`);
    assert.ok(r2.logs.some((l) => /resuming a failed run/.test(l)), `${label}: says it resumes`);
    assert.equal(r2.previousRunContext, '', `${label}: a successful run clears the checkpoint`);
    const out2 = u.parseFragments(r2.text).map((rec) => u.recordKey(ds, rec));
    u.assertSameKeys(out1.concat(out2), exp.keys, `${label}: first + resumed output`);
    u.assertExactOutput(sim.model, ds, r2.text, { keys: out2, byKey: exp.byKey }, { label: `${label} resumed fields` });

    // Nothing the checkpoint covers is fetched again.
    const covered = (id) => (cp.w !== null && id <= cp.w) || cp.done.some(([a, b]) => id >= a && id <= b);
    const again = u.servedKeys(r2.entries, ds, { complete: false });
    const coveredAgain = again.filter((k) => covered(idOf(k)));
    assert.deepEqual(coveredAgain, [], `${label}: records the checkpoint covers are not fetched again`);

    // Records the simulator served in full before the failure, fetched again: only those of the
    // requests in flight when the run failed (the first run's fetches the checkpoint does not cover).
    const f1 = u.fetches(r1.entries, ds);
    const failed = f1.filter((e) => e.fault);
    assert.equal(failed.length, 1, `${label}: one request failed`);
    const inFlight = f1.filter((e) => {
      const ids = ds === 'kb' ? e.served.qids : e.served.hostIds;
      const lo = ids.length ? ids[0] : idMin(e);
      return e.fault || !covered(lo);
    });
    const inFlightKeys = new Set(u.servedKeys(inFlight, ds, { complete: false }));
    const fullBefore = new Set(u.servedKeys(f1, ds, { complete: false }));
    const twice = again.filter((k) => fullBefore.has(k));
    const beyond = twice.filter((k) => !inFlightKeys.has(k));
    assert.deepEqual(beyond, [], `${label}: no record fetched twice beyond the request(s) in flight at the failure`);
    const concurrency = Number(params.concurrency || 1);
    assert.ok(inFlight.length <= concurrency, `${label}: ${inFlight.length} request(s) in flight at the failure (concurrency ${concurrency})`);
    const otherRanges = inFlight.filter((e) => !e.fault);
    const twiceFromOthers = twice.filter((k) => !new Set(u.servedKeys(failed, ds, { complete: false })).has(k));
    t.diagnostic(`${label}: failed (${err.slice(0, 40)}...) after writing ${out1.length} records; checkpoint ${r1.previousRunContext}; ` +
      `resumed run wrote ${out2.length}; fetched twice: ${twice.length} (${twiceFromOthers.length} from ${otherRanges.length} other range(s) in flight` +
      `${otherRanges.length ? `, simulator log: ${otherRanges.map((e) => (e.complete ? 'complete' : 'incomplete')).join('/')}` : ''})`);
    return { twice, twiceFromOthers, otherRanges };
  } finally {
    await sim.close();
  }
}

test('resume: hosts, killed at page 4, resumed: the union is exactly the full set, nothing fetched twice beyond the failed page', { timeout: 120000 }, async (t) => {
  const { twiceFromOthers } = await killAndResume(t, 'hosts', { fault: { type: 'reset', endpoint: 'hosts', page: 4, afterBytes: 3000 } });
  assert.equal(twiceFromOthers.length, 0);
});

test('resume: detections and hostDetections, killed at page 4 (reset / 503), resumed exactly', { timeout: 120000 }, async (t) => {
  for (const [ds, fault] of [
    ['detections', { type: 'reset', endpoint: 'detections', page: 4, afterBytes: 6000 }],
    ['hostDetections', { type: 'http5xx', endpoint: 'detections', page: 4 }],
  ]) {
    const { twiceFromOthers } = await killAndResume(t, ds, { fault });
    assert.equal(twiceFromOthers.length, 0, ds);
  }
});

test('resume: kb, killed in the 3rd QID window, resumed exactly', { timeout: 120000 }, async (t) => {
  await killAndResume(t, 'kb', { fault: { type: 'truncate', endpoint: 'kb', request: 4, afterBytes: 6000 } });
});

test('resume: detections with concurrency=2 (subscription limit 3), killed at a range, resumed exactly', { timeout: 120000 }, async (t) => {
  // Request 1 lists the host IDs; request 5 is the 4th range.
  await killAndResume(t, 'detections', {
    fault: { type: 'reset', endpoint: 'detections', request: 5, afterBytes: 6000 },
    params: { concurrency: 2 },
    simOptions: { concurrency: 3 },
  });
});

test('resume: records up to the checkpoint that changed after the failed run started are fetched again', { timeout: 120000 }, async (t) => {
  const sim = await u.startSim({ hosts: 60, detectionsPerHost: 3, kb: 20, seed: 9 });
  t.after(() => sim.close());
  sim.control.setFaults([{ type: 'reset', endpoint: 'hosts', page: 5, afterBytes: 3000, times: 1 }]);
  const p = u.paramsFor(sim, 'hosts', { batchSize: 6, maxRetry: 0 });
  const r1 = await u.runScript(sim, p);
  u.assertFailed(r1, 'first run');
  const cp = checkpoint(r1.previousRunContext, 'hosts');
  const out1 = u.parseFragments(r1.text).map((rec) => u.recordKey('hosts', rec));
  // Two hosts already written change now (after the failed run started); one not yet written too.
  const changedBelow = [out1[1], out1[out1.length - 2]];
  const above = sim.model.hostIdAt(sim.model.hostIndexOf(cp.w) + 8);
  sim.control.touch({ hostIds: [...changedBelow, above], at: Date.now() });
  const r2 = await u.runScript(sim, p, { tokens: TOKENS(r1.previousRunContext) });
  u.assertOk(r2, 'resumed run');
  const exp = u.expected(sim.model, 'hosts', FIRST_RUN_SINCE);
  const want = exp.keys.filter((id) => id > cp.w).concat(changedBelow);
  const recs = u.assertExactOutput(sim.model, 'hosts', r2.text, { keys: want, byKey: exp.byKey }, { label: 'resumed run' });
  for (const id of changedBelow) {
    const rec = recs.find((x) => u.recordKey('hosts', x) === id);
    assert.equal(Date.parse(u.textOf(rec, 'LAST_VM_SCANNED_DATE')), Math.floor(sim.model.hostScanMs(sim.model.hostIndexOf(id)) / 1000) * 1000, `${id}: the new scan date`);
  }
  t.diagnostic(`checkpoint ${r1.previousRunContext}; resumed run: ${recs.length} records (${changedBelow.length} changed at or below the watermark)`);
});

test('resume: a checkpoint of another data source, or one that does not parse, is ignored with a warning', { timeout: 120000 }, async (t) => {
  const sim = await u.startSim({ hosts: 20, detectionsPerHost: 2, kb: 20, seed: 9 });
  t.after(() => sim.close());
  const exp = u.expected(sim.model, 'detections', FIRST_RUN_SINCE);
  for (const prc of ['qvt1;ds=hosts;lrt=1970-01-09T00:00:00Z;t=2024-06-01T00:00:00Z;w=99999999', 'garbage;;']) {
    const r = await u.runScript(sim, u.paramsFor(sim, 'detections', { batchSize: 4 }), { tokens: TOKENS(prc) });
    u.assertOk(r, prc);
    assert.ok(r.logs.some((l) => / :: WARN :: .*(checkpoint|previousRunContext|PreviousRunContext)/i.test(l)), `${prc}: a warning`);
    u.assertExactOutput(sim.model, 'detections', r.text, exp, { label: `ignored checkpoint ${prc}` });
  }
});

test('resume: a chain of failed runs (one failing before any progress) carries the checkpoint on; the window of the first run is kept', { timeout: 120000 }, async (t) => {
  for (const ds of ['hosts', 'detections', 'kb']) {
    const ep = u.ENDPOINT[ds];
    const sim = await u.startSim({ hosts: 60, detectionsPerHost: 3, kb: 90, seed: 9 });
    try {
      const p = u.paramsFor(sim, ds, { batchSize: 6, kbChunkSize: 10, maxRetry: 0 });
      const runs = [];
      // Run 1: first run (no LastRunTime), killed at request 4. Archer does not advance
      // LastRunTime after a failed run, so later runs get the same (empty) token; the checkpoint
      // applies only under it (a changed token means an admin reset it: the checkpoint is ignored).
      const later = { LastRunTime: null, LastFileProcessed: null };
      const plan = [
        { fault: { type: 'reset', endpoint: ep, request: 4, afterBytes: 3000 }, tokens: () => ({ LastRunTime: null, PreviousRunContext: null }) },
        { fault: { type: 'http5xx', endpoint: ep, request: 1 }, tokens: (prev) => ({ ...later, PreviousRunContext: prev }) },
        { fault: { type: 'truncate', endpoint: ep, request: 3, afterBytes: 3000 }, tokens: (prev) => ({ ...later, PreviousRunContext: prev }) },
        { fault: null, tokens: (prev) => ({ ...later, PreviousRunContext: prev }) },
      ];
      let prev = null;
      for (const [n, step] of plan.entries()) {
        sim.control.reset();
        if (step.fault) sim.control.setFaults([{ ...step.fault, times: 1 }]);
        const r = await u.runScript(sim, p, { tokens: step.tokens(prev) });
        const label = `${ds} run ${n + 1}`;
        if (step.fault) {
          u.assertFailed(r, label);
          assert.ok(r.previousRunContext, `${label}: a checkpoint`);
          if (prev) assert.match(r.previousRunContext, new RegExp(`;t=${checkpoint(prev, ds).t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(;|$)`), `${label}: keeps the first failed run's start`);
        } else {
          u.assertOk(r, label);
        }
        if (n > 0) {
          const lrtParam = ds === 'kb' ? 'last_modified_after' : 'vm_scan_since';
          // Every request uses the first run's window, except the catch-up of IDs up to the
          // watermark (id_max only) that asks for changes since the first failed run started.
          const w = checkpoint(step.tokens(prev).PreviousRunContext, ds).w;
          const sent = r.entries.filter((e) => e.endpoint);
          const catchUp = (e) => e.params.id_min === undefined && Number(e.params.id_max) === w;
          const other = sent.filter((e) => !catchUp(e) && e.params[lrtParam] !== '1970-01-09T00:00:00Z');
          assert.deepEqual(other.map((e) => e.params), [], `${label}: the failed run's LastRunTime window is kept`);
          if (sent.length > 1) assert.ok(sent.some((e) => e.params[lrtParam] === '1970-01-09T00:00:00Z'), `${label}: requests in the first run's window`);
        }
        runs.push(r);
        prev = r.previousRunContext;
      }
      assert.equal(u.parseFragments(runs[1].text).length, 0, `${ds}: run 2 failed before writing anything`);
      assert.equal(runs[1].previousRunContext, runs[0].previousRunContext, `${ds}: run 2 hands on the same checkpoint`);
      const keys = runs.flatMap((r) => u.parseFragments(r.text).map((rec) => u.recordKey(ds, rec)));
      u.assertSameKeys(keys, u.expected(sim.model, ds, FIRST_RUN_SINCE).keys, `${ds}: four runs together`);
      t.diagnostic(`${ds}: ${runs.map((r) => u.parseFragments(r.text).length).join(' + ')} records over 4 runs, exact`);
    } finally {
      await sim.close();
    }
  }
});
