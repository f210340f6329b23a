'use strict';
// End-to-end: how the feed talks to Qualys (issue #13, points 1, 3 and 5), the single file in a
// mirrored Archer host (tools/archer-host.js) against the Qualys simulator, every output compared
// with the simulator's data model:
//   - POST when a GET would be too long: a very long filter list on every data source runs exactly
//     over POST in all three host modes; a 414 switches an auto run to POST; httpMethod=GET fails
//     with a clear configuration error after the 414.
//   - compressed answers: the same output byte for byte in every host mode, a decompression bomb
//     failing with its code and the checkpoint, a damaged gzip stream retried.

const test = require('node:test');
const assert = require('node:assert/strict');
const u = require('./helpers/e2e-util');

const FIRST_RUN_SINCE = Date.parse('1970-01-09T00:00:00Z'); // 1970-01-10 + lastRunTimeOffset -1
const MODES = ['6x', 'node', '2025'];
const FORM = 'application/x-www-form-urlencoded';

/**
 * A long filter list for a data source and the expected records it selects: every other host
 * (hosts, hostDetections: `ids`) or every other QID (kb: `ids`; detections: `qids`), padded with
 * IDs nothing has until the list is `bytes` long.
 */
function longFilter(model, ds, bytes) {
  const all = u.expected(model, ds, FIRST_RUN_SINCE);
  let chosen;
  let key;
  let filler;
  if (ds === 'kb') {
    chosen = new Set();
    for (let k = 0; k < model.kbCount; k += 2) chosen.add(model.qidAt(k));
    key = 'ids';
    filler = model.qidAt(model.kbCount - 1) + 1000;
  } else if (ds === 'detections') {
    chosen = new Set();
    for (let k = 0; k < model.kbCount; k += 2) chosen.add(model.qidAt(k));
    key = 'qids';
    filler = model.qidAt(model.kbCount - 1) + 1000;
  } else {
    chosen = new Set();
    for (let i = 0; i < model.hostCount; i += 2) chosen.add(model.hostIdAt(i));
    key = 'ids';
    filler = model.hostIdAt(model.hostCount - 1) + 1000;
  }
  const list = [...chosen];
  while (list.join(',').length < bytes) { list.push(filler); filler += 7; }
  let exp;
  if (ds === 'detections') {
    exp = u.expected(model, ds, FIRST_RUN_SINCE, { detections: (d) => u.detectionDefault(d) && chosen.has(d.qid) });
  } else {
    const keys = all.keys.filter((k) => chosen.has(k));
    exp = { keys, byKey: new Map(keys.map((k) => [k, all.byKey.get(k)])) };
  }
  return { query: `&${key}=${list.join(',')}`, exp };
}

test('a very long filter list runs exactly over POST: every data source, every host kind', { timeout: 120000 }, async (t) => {
  const sim = await u.startSim({ hosts: 60, detectionsPerHost: 3, kb: 80, seed: 31 });
  t.after(() => sim.close());
  let runs = 0;
  for (const ds of u.FEEDS) {
    const { query, exp } = longFilter(sim.model, ds, 2400);
    assert.ok(exp.keys.length > 10, `${ds}: the filter selects records`);
    for (const mode of MODES) {
      const label = `${ds} (${mode}) with a ${query.length}-byte filter`;
      const params = u.paramsFor(sim, ds, { batchSize: 7, kbChunkSize: 11 }, { extraQuery: query });
      const r = await u.runScript(sim, params, { mode });
      u.assertOk(r, label);
      u.assertExactOutput(sim.model, ds, r.text, exp, { label });
      u.assertSameKeys(u.servedKeys(r.entries, ds, { complete: false }), exp.keys, `${label}: served log`);
      assert.ok(r.entries.length >= (ds === 'kb' ? 1 : 2), `${label}: ${r.entries.length} requests`);
      for (const e of r.entries) {
        assert.equal(e.method, 'POST', `${label}: request ${e.seq}`);
        assert.equal(e.status, 200, `${label}: request ${e.seq}`);
        assert.ok(e.urlBytes < 100, `${label}: the URL carries no query (${e.urlBytes} bytes)`);
        assert.equal(e.contentType, FORM, `${label}: Content-Type`);
        assert.equal(Number(e.contentLength), e.bodyBytes, `${label}: Content-Length`);
        assert.ok(e.bodyBytes > 2400, `${label}: the filter travels in the body`);
      }
      // Next pages (from the WARNING URLs) are POSTed with their query too.
      if (ds !== 'kb') assert.ok(r.entries.some((e) => e.params.id_min !== undefined), `${label}: next pages`);
      assert.equal(r.logs.filter((l) => /httpMethod=auto: a request URL is \d+ bytes/.test(l)).length, 1, `${label}: said once`);
      runs++;
    }
  }
  // Parallel ranges: the host-ID discovery leaves the detection filter out (a short GET); every
  // window carries it and goes as POST.
  const { query, exp } = longFilter(sim.model, 'detections', 2400);
  const r = await u.runScript(sim, u.paramsFor(sim, 'detections', { batchSize: 9, concurrency: 2 }, { extraQuery: query }));
  u.assertOk(r, 'detections concurrency=2');
  u.assertExactOutput(sim.model, 'detections', r.text, exp, { label: 'detections concurrency=2' });
  const [discovery, ...windows] = r.entries;
  assert.equal(discovery.params.details, 'None');
  assert.equal(discovery.method, 'GET', 'the discovery is short');
  assert.ok(windows.length >= 2 && windows.every((e) => e.method === 'POST' && e.params.qids), 'every window as POST');
  t.diagnostic(`${runs + 1} runs over POST, all exact`);
});

test('a 414 switches an auto run to POST for that page and the rest of the run, without a retry', { timeout: 60000 }, async (t) => {
  // A server that refuses request targets over 400 bytes: the filter below makes ~600-byte URLs,
  // which auto still sends as GET (under 2,000 bytes).
  const sim = await u.startSim({ hosts: 40, detectionsPerHost: 2, kb: 50, seed: 32, maxUrlBytes: 400 });
  t.after(() => sim.close());
  for (const ds of u.FEEDS) {
    const { query, exp } = longFilter(sim.model, ds, 450);
    for (const mode of ds === 'detections' ? MODES : ['6x']) {
      const label = `${ds} (${mode})`;
      const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 6, kbChunkSize: 9, maxRetry: 0 }, { extraQuery: query }), { mode });
      u.assertOk(r, label);
      u.assertExactOutput(sim.model, ds, r.text, exp, { label });
      const [first, ...rest] = r.entries;
      assert.equal(first.method, 'GET', `${label}: GET first`);
      assert.equal(first.status, 414, `${label}: refused`);
      assert.ok(rest.length >= 1 && rest.every((e) => e.method === 'POST' && e.status === 200), `${label}: then POST only: ${rest.map((e) => `${e.method} ${e.status}`)}`);
      assert.equal(r.summary.retries, 0, `${label}: not a retry (maxRetry=0 still succeeds)`);
      assert.equal(r.logs.filter((l) => / :: WARN :: .*HTTP 414 URI Too Long to a GET/.test(l)).length, 1, `${label}: one warning`);
    }
  }
});

test('httpMethod=GET with a URL the server refuses fails with URL_TOO_LONG naming the parameter to change', { timeout: 60000 }, async (t) => {
  const sim = await u.startSim({ hosts: 20, detectionsPerHost: 2, kb: 30, seed: 33 });
  t.after(() => sim.close());
  for (const ds of u.FEEDS) {
    const { query } = longFilter(sim.model, ds, 9000); // over the simulator's 8,190-byte limit
    for (const mode of ds === 'hosts' ? MODES : ['6x']) {
      const label = `${ds} (${mode})`;
      const r = await u.runScript(sim, u.paramsFor(sim, ds, { httpMethod: 'GET', kbChunkSize: 0 }, { extraQuery: query }), { mode });
      const text = u.assertFailed(r, label, /URL_TOO_LONG/);
      assert.match(text, /httpMethod/, `${label}: names the parameter`);
      assert.match(text, /414/, `${label}`);
      assert.equal(r.entries.length, 1, `${label}: one request, no retry`);
      assert.equal(r.entries[0].status, 414);
      assert.equal(r.text, '', `${label}: nothing written`);
      assert.ok(r.logs.some((l) => / :: WARN :: httpMethod=GET: the \w+ URL is \d+ bytes/.test(l)), `${label}: warned at the start`);
    }
  }
});

// ---- adaptive page size ------------------------------------------------------------------------

/** Runs each case on a simulator of its own, all at once (the runs mostly wait on timeouts). */
async function inParallel(t, cases, simOptions, run) {
  const sims = await Promise.all(cases.map((c) => u.startSim(simOptions(c))));
  t.after(() => Promise.all(sims.map((s) => s.close())));
  return Promise.all(cases.map((c, i) => run(sims[i], c)));
}

test('a page that times out is asked again for half as many hosts, from the same place, and the next page grows back', { timeout: 120000 }, async (t) => {
  // slow_page: a page of N hosts takes N x 400 ms before its first byte; requestTimeoutSec=5:
  // 16 hosts (6.4 s) time out, 8 (3.2 s) do not.
  const cases = [['detections', '6x'], ['detections', 'node'], ['detections', '2025'], ['hosts', '6x'], ['hostDetections', '6x']];
  await inParallel(t, cases, ([ds]) => ({ hosts: 24, detectionsPerHost: 2, kb: 20, seed: 41,
    faults: [{ type: 'slow_page', msPerHost: 400, endpoint: u.ENDPOINT[ds] }] }), async (sim, [ds, mode]) => {
    const label = `${ds} (${mode})`;
    const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
    const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 16, requestTimeoutSec: 5, maxRetry: 0 }), { mode, timeoutMs: 110000 });
    u.assertOk(r, label);
    u.assertExactOutput(sim.model, ds, r.text, exp, { label });
    // The first page times out before anything answered: one small host-list request checks that
    // Qualys answers at all; then the page is asked for half as many hosts from the same place.
    const [check, ...others] = r.entries.filter((e) => e.params.details === 'None');
    assert.ok(check && check.endpoint === 'hosts' && check.params.truncation_limit === '1' && check.status === 200, `${label}: the check`);
    assert.equal(others.length, 0, `${label}: checked once`);
    const asked = u.fetches(r.entries, ds).map((e) => [Number(e.params.truncation_limit), e.params.id_min, e.complete]);
    assert.deepEqual(asked[0], [16, undefined, false], `${label}: the first page times out: ${JSON.stringify(asked)}`);
    assert.deepEqual(asked[1], [8, undefined, true], `${label}: half as many hosts, same place`);
    assert.equal(asked[2][0], 16, `${label}: the next page asks for batchSize again`);
    assert.ok(r.summary.retries >= 1, `${label}: counted as retries (none against maxRetry=0)`);
    assert.ok(r.logs.some((l) => / :: WARN :: page 1 timed out .*asking again for 8 hosts instead of 16, from the same place/.test(l)), `${label}: said so`);
    if (ds !== 'hosts') assert.ok(r.logs.some((l) => / :: WARN :: page 2 timed out \(NETWORK.*asking again for 8 hosts instead of 16, from the same place/.test(l)), `${label}: page 2 shrinks at once`);
  });
});

test('a host that never arrives: the run fails naming it (checkpoint kept), or skips it with skipStalledHosts=True', { timeout: 120000 }, async (t) => {
  const cases = [
    ['hosts', '6x', false], ['hostDetections', '6x', false], ['detections', '6x', false],
    ['hosts', '6x', true], ['hostDetections', '6x', true], ['detections', '6x', true], ['detections', 'node', true], ['detections', '2025', true],
  ];
  await inParallel(t, cases, ([ds]) => ({ hosts: 14, detectionsPerHost: 2, detectionsSpread: 0, kb: 20, seed: 42,
    faults: [{ type: 'stall_host', index: 6, endpoint: u.ENDPOINT[ds] }] }), async (sim, [ds, mode, skip]) => {
    const label = `${ds} (${mode}) skipStalledHosts=${skip}`;
    const bad = sim.model.hostIdAt(6);
    const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
    const host = (k) => (ds === 'detections' ? Number(String(k).split(':')[0]) : k);
    assert.ok(exp.keys.some((k) => host(k) === bad), `${label}: the stalled host has records`);
    const params = u.paramsFor(sim, ds, { batchSize: 4, requestTimeoutSec: 5, maxRetry: 0, skipStalledHosts: skip ? 'True' : 'False' });
    const r = await u.runScript(sim, params, { mode, timeoutMs: 110000 });
    const lookups = r.entries.filter((e) => e.endpoint === 'hosts' && e.params.details === 'None' && e.params.truncation_limit === '1');
    assert.equal(lookups.length, 1, `${label}: one host-list lookup names the host`);
    const without = { keys: exp.keys.filter((k) => host(k) !== bad), byKey: exp.byKey };
    if (!skip) {
      const text = u.assertFailed(r, label, /HOST_STALLED/);
      assert.match(text, new RegExp(`host ID ${bad}`), `${label}: names the host`);
      assert.match(text, /skipStalledHosts=True/, `${label}: says what to set`);
      assert.ok(r.previousRunContext, `${label}: the checkpoint is kept`);
      const before = { keys: exp.keys.filter((k) => host(k) < bad), byKey: exp.byKey };
      u.assertExactOutput(sim.model, ds, r.text, before, { label: `${label}: written before` });
      // Once Qualys delivers the host again, the next run resumes there and completes the set.
      sim.control.clearFaults();
      const r2 = await u.runScript(sim, params, { mode, tokens: { LastRunTime: null, PreviousRunContext: r.previousRunContext, LastFileProcessed: null } });
      u.assertOk(r2, `${label}: resumed`);
      const rest = { keys: exp.keys.filter((k) => host(k) >= bad), byKey: exp.byKey };
      u.assertExactOutput(sim.model, ds, r2.text, rest, { label: `${label}: resumed` });
      return;
    }
    u.assertOk(r, label);
    u.assertExactOutput(sim.model, ds, r.text, without, { label });
    assert.deepEqual(r.summary.stalledHostsSkipped, [bad], `${label}: in the summary`);
    assert.equal(r.summary.warnings.stalledHost, 1, `${label}`);
    assert.equal(r.logs.filter((l) => new RegExp(` :: WARN :: .*host ID ${bad} even in a page of its own`).test(l)).length, 1, `${label}: one WARN`);
    assert.ok(r.logs.some((l) => new RegExp(`done: .*stalled hosts skipped \\(not written\\): ${bad}`).test(l)), `${label}: on the done line`);
    if (ds !== 'hosts') assert.ok(r.entries.some((e) => e.params.id_max === String(bad)), `${label}: confirmed with a page ending at it`);
  });
});

// ---- compressed answers ------------------------------------------------------------------------

/** Where a fault hits the second page of a data source (the KB: its second chunk request). */
function secondPage(ds) {
  return ds === 'kb' ? { endpoint: 'kb', request: 2 } : { endpoint: u.ENDPOINT[ds], page: 2 };
}
const SMALL = { batchSize: 7, kbChunkSize: 11 };

test('compressed answers give the same output byte for byte: every data source, every host kind, said once', { timeout: 120000 }, async (t) => {
  // Two simulators on the same data: one never compresses, one answers gzip when asked.
  const simOptions = { hosts: 30, detectionsPerHost: 3, kb: 40, seed: 51 };
  const [plainSim, gzSim] = await Promise.all([u.startSim(simOptions), u.startSim({ ...simOptions, gzip: true })]);
  t.after(() => Promise.all([plainSim.close(), gzSim.close()]));
  for (const ds of u.FEEDS) {
    const exp = u.expected(gzSim.model, ds, FIRST_RUN_SINCE);
    for (const mode of MODES) {
      const label = `${ds} (${mode})`;
      const plain = await u.runScript(plainSim, u.paramsFor(plainSim, ds, SMALL), { mode });
      const gz = await u.runScript(gzSim, u.paramsFor(gzSim, ds, SMALL), { mode });
      u.assertOk(plain, `${label} uncompressed`);
      u.assertOk(gz, `${label} gzip`);
      u.assertExactOutput(gzSim.model, ds, gz.text, exp, { label });
      assert.equal(gz.text, plain.text, `${label}: byte-identical to the uncompressed run`);
      assert.ok(plain.entries.every((e) => e.encoding === null), `${label}: the plain simulator never compresses`);
      const pages = gz.entries.filter((e) => e.status === 200);
      assert.ok(pages.length >= 2 && pages.every((e) => e.encoding === 'gzip' && e.wireBytes > 0 && e.wireBytes < e.bytes), `${label}: every answer asked for and sent compressed`);
      assert.equal(gz.logs.filter((l) => / :: INFO :: Qualys answered compressed \(Content-Encoding: gzip\)/.test(l)).length, 1, `${label}: said once`);
      assert.equal(plain.logs.filter((l) => / :: INFO :: Qualys answered uncompressed/.test(l)).length, 1, `${label}: said once`);
      assert.equal(gz.summary.bytesIn, plain.summary.bytesIn, `${label}: bytesIn counts what the parser read (decoded)`);
      assert.equal(plain.summary.bytesWire, plain.summary.bytesIn, `${label}: uncompressed, both sides the same`);
      const done = gz.logs.find((l) => / :: INFO :: done: dataSource=/.test(l));
      if (mode === '2025') {
        // fetch decodes inside; the simulator streams its answers without a Content-Length.
        assert.equal(gz.summary.bytesWire, null, label);
        assert.match(done, / MB decoded \(wire size unknown/, label);
      } else {
        assert.equal(gz.summary.bytesWire, pages.reduce((n, e) => n + e.wireBytes, 0), `${label}: bytesWire counts what came over the wire`);
        assert.match(done, / MB decoded \([\d.]+ MB on the wire\)/, label);
      }
      assert.match(gz.logs.join('\n'), mode === '2025' ? /gzip asked for and decoded by fetch/ : mode === 'node' ? /gzip asked for and decoded with zlib/ : /gzip asked for and decoded by request/, `${label}: the client line says so`);
    }
    // A host that lets the script load http/https but not zlib: Node's client cannot decode, so it
    // does not ask, and the same simulator answers uncompressed.
    const label = `${ds} (node without zlib)`;
    const r = await u.runScript(gzSim, u.paramsFor(gzSim, ds, SMALL), { mode: 'node', withoutModules: ['zlib'] });
    u.assertOk(r, label);
    u.assertExactOutput(gzSim.model, ds, r.text, exp, { label });
    assert.ok(r.requires.includes('zlib'), `${label}: the script tried to load zlib`);
    assert.ok(r.entries.length >= 2 && r.entries.every((e) => e.encoding === null), `${label}: gzip not asked for`);
    assert.match(r.logs.join('\n'), /HTTP client: Node http\/https .*gzip not asked for \(zlib is not available to the script\)/, label);
    assert.equal(r.logs.filter((l) => / :: INFO :: Qualys answered uncompressed/.test(l)).length, 1, label);
    assert.equal(r.summary.bytesWire, r.summary.bytesIn, label);
  }
});

test('a decompression bomb fails the run with DECOMPRESSED_TOO_LARGE, checkpoint kept; the next run resumes', { timeout: 120000 }, async (t) => {
  const sim = await u.startSim({ hosts: 30, detectionsPerHost: 3, kb: 40, seed: 52, gzip: true });
  t.after(() => sim.close());
  for (const ds of u.FEEDS) {
    const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
    for (const mode of ds === 'detections' ? MODES : ['6x']) {
      const label = `${ds} (${mode})`;
      sim.control.reset(); // request numbers count from 1 again (the KB's fault is on request 2)
      sim.control.setFaults([{ type: 'gzip_bomb', bytes: 2 * 1024 * 1024 * 1024, ...secondPage(ds), times: 1 }]);
      const started = Date.now();
      const r = await u.runScript(sim, u.paramsFor(sim, ds, { ...SMALL, maxRetry: 2 }), { mode });
      const text = u.assertFailed(r, label, /DECOMPRESSED_TOO_LARGE/);
      assert.match(text, /decoded to more than 100 times its compressed size/, label);
      assert.equal(sim.control.faults()[0].used, 1, `${label}: not fetched again`);
      assert.ok(Date.now() - started < 30000, `${label}: stopped at once`);
      assert.ok(r.entries.some((e) => e.fault === 'gzip_bomb' && e.encoding === 'gzip'), `${label}: the bomb was served`);
      sim.control.clearFaults();
      if (ds === 'kb') continue; // the KB keeps no checkpoint inside a run (its next run starts over)
      const firstRecords = u.parseFragments(r.text).length;
      assert.ok(firstRecords > 0 && firstRecords < exp.keys.length, `${label}: page 1 written (${firstRecords})`);
      assert.ok(r.previousRunContext, `${label}: the checkpoint is kept`);
      const r2 = await u.runScript(sim, u.paramsFor(sim, ds, SMALL), { mode, tokens: { LastRunTime: null, PreviousRunContext: r.previousRunContext, LastFileProcessed: null } });
      u.assertOk(r2, `${label}: resumed`);
      u.assertExactOutput(sim.model, ds, r.text + r2.text, exp, { label: `${label}: both runs together` });
    }
  }
});

test('a damaged gzip stream is a network error: the page is fetched again and the output stays exact', { timeout: 120000 }, async (t) => {
  const sim = await u.startSim({ hosts: 30, detectionsPerHost: 3, kb: 40, seed: 53, gzip: true });
  t.after(() => sim.close());
  for (const ds of u.FEEDS) {
    const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
    for (const mode of MODES) {
      const label = `${ds} (${mode})`;
      sim.control.reset();
      sim.control.setFaults([{ type: 'gzip_corrupt', afterBytes: 3000, ...secondPage(ds), times: 1 }]);
      // requestTimeoutSec=5: Node's fetch (undici) can lose its decoder's error when the damaged
      // bytes come with the end of a chunked body and then never ends the body: the idle limit
      // settles such a page (ETIMEDOUT), fetched again too.
      const r = await u.runScript(sim, u.paramsFor(sim, ds, { ...SMALL, maxRetry: 1, requestTimeoutSec: 5 }), { mode });
      u.assertOk(r, label);
      u.assertExactOutput(sim.model, ds, r.text, exp, { label });
      assert.equal(sim.control.faults()[0].used, 1, label);
      assert.equal(r.summary.retries, 1, `${label}: fetched again once`);
      const warns = r.logs.filter((l) => / :: WARN :: .*(failed \(NETWORK|timed out \(NETWORK)/.test(l));
      const decoded = warns.filter((l) => /failed \(NETWORK \(network problem\): a compressed answer arrived damaged .*EDECOMPRESS/.test(l));
      if (mode === '2025') assert.equal(warns.length, 1, `${label}: ${warns.join('\n')}`);
      else assert.equal(decoded.length, 1, `${label}: ${r.logs.filter((l) => /WARN/.test(l)).join('\n')}`);
    }
  }
});
