'use strict';
// End-to-end: the four feeds through the single file (dist/qualys-vm-transporter.js built into a
// temp dir) in a mirrored Archer context (tools/archer-host.js), against the Qualys simulator.
// Every output record is parsed and compared with the simulator's data model (IDs and field
// values) and with what the simulator's log says it served:
//   - every data source, many pages, batchSize / kbChunkSize that do and do not divide the total,
//     on Archer 6.x (request), Archer 2025 (fetch) and a host with Node's http; one run over HTTPS
//   - LastRunTime: a first run fetches everything; after the simulator changes records, the next
//     run (with the LastRunTime Archer passes) fetches exactly those plus the one-day overlap
//   - API versions 2.0 / 3.0 / 4.0 / 5.0: exact output, and the fields newer versions add
// The password is checked to never appear in any log line, output or callback (runScript).

const test = require('node:test');
const assert = require('node:assert/strict');
const u = require('./helpers/e2e-util');

const FIRST_RUN_SINCE = Date.parse('1970-01-09T00:00:00Z'); // 1970-01-10 + lastRunTimeOffset -1

/** Smallest divisor of n in [lo, n/lo], or null. */
function divisor(n, lo = 4) {
  for (let d = lo; d <= n / lo; d++) if (n % d === 0) return d;
  return null;
}
/** A size near `around` that does not divide n. */
function nonDivisor(n, around) {
  for (let d = around; d < n; d++) if (n % d !== 0) return d;
  throw new Error(`no non-divisor of ${n}`);
}

/** The host count of a data source's pages (hosts/hostDetections/detections page by hosts). */
function pagedCount(exp, ds) {
  if (ds !== 'detections') return exp.keys.length;
  return new Set(exp.keys.map((k) => k.split(':')[0])).size;
}

/** Checks one successful run: exact output, served log, pages, root node. */
function checkRun(sim, ds, r, exp, { label, size, version = '2.0', showQds = false }) {
  u.assertOk(r, label);
  assert.equal(r.rootNode, u.ROOT_NODE[ds], `${label}: root node`);
  u.assertExactOutput(sim.model, ds, r.text, exp, { label, version, showQds });
  // What the output holds is exactly what the simulator served, and nothing was served twice.
  const served = u.servedKeys(r.entries, ds, { complete: false });
  u.assertSameKeys(served, exp.keys, `${label}: served log`);
  const fetches = u.fetches(r.entries, ds);
  assert.ok(fetches.every((e) => e.status === 200 && e.complete), `${label}: every request answered in full`);
  const pages = Math.ceil(pagedCount(exp, ds) / size);
  assert.equal(fetches.length, pages, `${label}: ${pages} pages of ${size}`);
  assert.equal(r.summary.records, exp.keys.length, `${label}: summary records`);
  assert.ok(r.writeItems >= 1, `${label}: writeItem called`);
  // Each writeItem holds whole records (Archer may take each item on its own).
  for (const [n, item] of r.items.entries()) {
    assert.doesNotThrow(() => u.parseFragments(item), `${label}: writeItem ${n + 1} holds whole records`);
  }
}

test('every data source: the output is exactly what the simulator holds and served, across many pages, on every host kind', { timeout: 60000 }, async (t) => {
  const sim = await u.startSim({ hosts: 75, detectionsPerHost: 3, kb: 90, seed: 21 });
  t.after(() => sim.close());
  const clientOf = { '6x': /HTTP client: request package/, 2025: /HTTP client: global fetch/, node: /HTTP client: Node/ };
  let runs = 0;
  for (const ds of u.FEEDS) {
    const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
    const n = pagedCount(exp, ds);
    const even = divisor(n);
    assert.ok(even, `${ds}: the data set (${n}) must have a divisor for this test; change the seed`);
    const odd = nonDivisor(n, even + 1);
    assert.ok(n / odd > 3, `${ds}: several pages`);
    const sizeKey = ds === 'kb' ? 'kbChunkSize' : 'batchSize';
    const cases = [[even, '6x'], [odd, '6x'], [odd, '2025'], [even, 'node']];
    for (const [size, mode] of cases) {
      const label = `${ds} ${sizeKey}=${size} (${n % size === 0 ? 'divides' : 'does not divide'} ${n}) mode ${mode}`;
      const r = await u.runScript(sim, u.paramsFor(sim, ds, { [sizeKey]: size, batchSize: ds === 'kb' ? 7 : size }), { mode });
      checkRun(sim, ds, r, exp, { label, size });
      assert.ok(r.logs.some((l) => clientOf[mode].test(l)), `${label}: HTTP client of the host kind: ${r.logs.find((l) => /HTTP client/.test(l))}`);
      runs++;
    }
  }
  t.diagnostic(`${runs} runs, all exact`);
});

test('batchSize equal to the total: one page, no WARNING; batchSize 1: one host per page', { timeout: 60000 }, async (t) => {
  const sim = await u.startSim({ hosts: 12, detectionsPerHost: 2, kb: 10, seed: 3 });
  t.after(() => sim.close());
  for (const ds of ['hosts', 'detections']) {
    const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
    const n = pagedCount(exp, ds);
    for (const size of [n, 1]) {
      const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: size }));
      checkRun(sim, ds, r, exp, { label: `${ds} batchSize=${size}`, size });
    }
  }
});

test('URL variants: kbChunkSize=0, a kbUrl with its own QID window, truncation_limit in the URL, all statuses with IGs, no match', { timeout: 60000 }, async (t) => {
  const sim = await u.startSim({ hosts: 40, detectionsPerHost: 4, kb: 60, seed: 23 });
  t.after(() => sim.close());
  const m = sim.model;
  const base = (ds, q) => sim.url + u.apiPath(ds, { extraQuery: q });

  // kbChunkSize=0: one request, as the old script did.
  let r = await u.runScript(sim, u.paramsFor(sim, 'kb', { kbChunkSize: 0 }));
  u.assertOk(r, 'kb kbChunkSize=0');
  u.assertExactOutput(m, 'kb', r.text, u.expected(m, 'kb', FIRST_RUN_SINCE), { label: 'kb kbChunkSize=0' });
  assert.equal(r.entries.length, 1, 'kbChunkSize=0: one request, no QID listing');

  // A kbUrl with id_min/id_max is used as given (no listing, no windows).
  const idMin = m.qidAt(10);
  const idMax = m.qidAt(40);
  r = await u.runScript(sim, u.paramsFor(sim, 'kb', { kbUrl: base('kb', `&id_min=${idMin}&id_max=${idMax}`), kbChunkSize: 5 }));
  u.assertOk(r, 'kb with its own window');
  u.assertExactOutput(m, 'kb', r.text, u.expected(m, 'kb', FIRST_RUN_SINCE, { idMin, idMax }), { label: 'kb id_min/id_max' });
  assert.equal(r.entries.length, 1, 'kbUrl with id_min/id_max: used as given, one request');
  assert.equal(r.entries[0].params.id_min, String(idMin));

  // truncation_limit in the URL wins over batchSize.
  const hostsExp = u.expected(m, 'hosts', FIRST_RUN_SINCE);
  r = await u.runScript(sim, u.paramsFor(sim, 'hosts', { hostsUrl: base('hosts', '&truncation_limit=6'), batchSize: 100 }));
  checkRun(sim, 'hosts', r, hostsExp, { label: 'hosts truncation_limit=6 in the URL', size: 6 });

  // All statuses (Fixed too) and Information Gathered detections, as main-run configures.
  const all = (d) => !d.isIgnored && !d.isDisabled;
  for (const ds of ['detections', 'hostDetections']) {
    const exp = u.expected(m, ds, FIRST_RUN_SINCE, { detections: all });
    r = await u.runScript(sim, u.paramsFor(sim, ds, { detectionUrl: base(ds, '&status=New,Active,Fixed,Re-Opened&show_igs=1'), batchSize: 7 }));
    checkRun(sim, ds, r, exp, { label: `${ds} all statuses + IGs`, size: 7 });
    if (ds === 'detections') {
      const statuses = new Set(u.parseFragments(r.text).map((rec) => u.textOf(rec, 'STATUS')));
      const types = new Set(u.parseFragments(r.text).map((rec) => u.textOf(rec, 'TYPE')));
      assert.ok(statuses.has('Fixed') && types.has('Info'), `Fixed and Info detections present: ${[...statuses]} / ${[...types]}`);
    }
  }

  // Nothing changed since LastRunTime: success, one empty writeItem, no record.
  for (const ds of u.FEEDS) {
    r = await u.runScript(sim, u.paramsFor(sim, ds, {}), { tokens: { LastRunTime: '2030-01-01T00:00:00Z', PreviousRunContext: null, LastFileProcessed: null } });
    u.assertOk(r, `${ds} nothing new`);
    assert.equal(r.text, '', `${ds}: no record`);
    assert.equal(r.writeItems, 1, `${ds}: one (empty) writeItem`);
    assert.equal(r.creates.length, 1, `${ds}: the output is created once`);
    assert.equal(r.summary.records, 0);
  }
});

test('outputChunkRecords: each writeItem holds at most that many whole records, in order', { timeout: 60000 }, async (t) => {
  const sim = await u.startSim({ hosts: 40, detectionsPerHost: 3, kb: 40, seed: 4 });
  t.after(() => sim.close());
  for (const ds of u.FEEDS) {
    const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
    const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 9, kbChunkSize: 9, outputChunkRecords: 4 }));
    checkRun(sim, ds, r, exp, { label: `${ds} outputChunkRecords=4`, size: 9 });
    const sizes = r.items.map((it) => u.parseFragments(it).length);
    assert.ok(sizes.every((n) => n >= 1 && n <= 4), `${ds}: records per writeItem ${sizes}`);
    assert.ok(sizes.length >= Math.ceil(exp.keys.length / 4), `${ds}: ${sizes.length} writeItems`);
  }
});

test('Archer 6.4/6.5 (no OutputWriter): the whole document comes back as result.output, exact', { timeout: 60000 }, async (t) => {
  const sim = await u.startSim({ hosts: 30, detectionsPerHost: 3, kb: 30, seed: 6 });
  t.after(() => sim.close());
  for (const ds of u.FEEDS) {
    const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
    const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 8, kbChunkSize: 8 }), { outputWriter: false });
    u.assertOk(r, `${ds} without OutputWriter`);
    const out = r.result && r.result.output;
    const root = u.ROOT_NODE[ds];
    const m = new RegExp(`^<\\?xml version="1\\.0" encoding="UTF-8"\\?><${root}>([\\s\\S]*)</${root}>$`).exec(out || '');
    assert.ok(m, `${ds}: result.output is one XML document under ${root}: ${String(out).slice(0, 80)}`);
    u.assertExactOutput(sim.model, ds, m[1], exp, { label: `${ds} result.output` });
    u.assertNoSecret(out, `${ds} result.output`);
    assert.ok(r.logs.some((l) => / :: WARN :: .*no context\.OutputWriter/.test(l)), `${ds}: warns about memory`);
  }
});

test('over HTTPS with the simulator CA as caCert (certificates verified, the default)', { timeout: 60000 }, async (t) => {
  // (Archer 2025's fetch cannot take an extra CA: that host refuses caCert, see the shim tests.)
  const sim = await u.startSim({ hosts: 30, detectionsPerHost: 3, kb: 20, seed: 8, https: true });
  t.after(() => sim.close());
  for (const [ds, mode] of [['detections', '6x'], ['hosts', 'node'], ['kb', '6x']]) {
    const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
    const size = 7;
    const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: size, kbChunkSize: size }, { https: true }), { mode });
    checkRun(sim, ds, r, exp, { label: `${ds} over https (${mode})`, size });
  }
});

test('LastRunTime: the first run fetches everything; the next fetches exactly what changed plus the one-day overlap', { timeout: 60000 }, async (t) => {
  // Short histories so the one-day overlap holds a fair share of the records.
  const sim = await u.startSim({ hosts: 200, detectionsPerHost: 2, kb: 300, seed: 31, scanHistoryDays: 10, kbHistoryDays: 20 });
  t.after(() => sim.close());
  const m = sim.model;
  const t1 = sim.control.now(); // the simulated time of run 1: Archer's next LastRunTime

  for (const ds of u.FEEDS) {
    const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 40, kbChunkSize: 100 }));
    const exp = u.expected(m, ds, FIRST_RUN_SINCE);
    checkRun(sim, ds, r, exp, { label: `${ds} first run`, size: ds === 'kb' ? 100 : 40 });
    if (ds === 'hosts') assert.equal(exp.keys.length, m.hostCount, 'first run: every host');
    if (ds === 'kb') assert.equal(exp.keys.length, m.kbCount, 'first run: every QID');
    const lrt = ds === 'kb' ? 'last_modified_after' : 'vm_scan_since';
    assert.ok(r.entries.filter((e) => e.endpoint).every((e) => e.params[lrt] === '1970-01-09T00:00:00Z'), `${ds}: first run uses 1970-01-10 minus one day`);
  }

  // Two days later: some records changed after run 1 (A), some changed within the overlap day
  // before it (B: late), some changed three days before it (C: must not come back).
  const H = u.DAY / 24;
  const pickHosts = (from, step, n) => Array.from({ length: n }, (_, j) => m.hostIdAt(from + j * step));
  const pickQids = (from, step, n) => Array.from({ length: n }, (_, j) => m.qidAt(from + j * step));
  const groups = {
    A: { at: t1 + u.DAY, hostIds: pickHosts(1, 17, 8), qids: pickQids(2, 23, 8) },
    B: { at: t1 - 12 * H, hostIds: pickHosts(5, 19, 5), qids: pickQids(7, 29, 5) },
    C: { at: t1 - 3 * u.DAY, hostIds: pickHosts(9, 23, 5), qids: pickQids(11, 31, 5) },
  };
  for (const g of Object.values(groups)) {
    const res = sim.control.touch({ hostIds: g.hostIds, qids: g.qids, at: g.at });
    assert.equal(res.hosts + res.qids, g.hostIds.length + g.qids.length, 'touched');
  }
  sim.control.setNow(t1 + 2 * u.DAY);

  // The LastRunTime Archer passes (the start of run 1), in the formats a host may use.
  const tokenOf = {
    kb: '2024-06-01T00:00:00Z',
    hosts: '6/1/2024 12:00:00 AM',
    hostDetections: '2024-06-01T02:00:00+02:00',
    detections: '2024-06-01T00:00:00.000Z',
  };
  assert.equal(Date.parse(tokenOf.kb), t1, 'the simulator starts at 2024-06-01');
  const since = t1 - u.DAY;
  for (const ds of u.FEEDS) {
    const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 9, kbChunkSize: 10 }),
      { tokens: { LastRunTime: tokenOf[ds], PreviousRunContext: null, LastFileProcessed: null } });
    const exp = u.expected(m, ds, since);
    checkRun(sim, ds, r, exp, { label: `${ds} second run (LastRunTime ${tokenOf[ds]})`, size: ds === 'kb' ? 10 : 9 });
    const lrt = ds === 'kb' ? 'last_modified_after' : 'vm_scan_since';
    assert.ok(r.entries.filter((e) => e.endpoint).every((e) => e.params[lrt] === '2024-05-31T00:00:00Z'), `${ds}: LastRunTime minus one day`);
    // The expected set is what the model says; make sure it is the interesting one.
    const ids = new Set(u.parseFragments(r.text).map((rec) => (ds === 'kb' ? u.recordKey(ds, rec)
      : ds === 'detections' ? Number(u.textOf(u.child(rec, 'HOST'), 'ID')) : u.recordKey(ds, rec))));
    const key = ds === 'kb' ? 'qids' : 'hostIds';
    const withDetections = new Set(ds === 'kb' || ds === 'hosts' ? [] : u.expected(m, 'hostDetections', since).keys);
    const hasDetections = (id) => ds === 'kb' || ds === 'hosts' || withDetections.has(id);
    for (const id of groups.A[key].filter(hasDetections)) assert.ok(ids.has(id), `${ds}: ${id} changed after the last run: fetched`);
    for (const id of groups.B[key].filter(hasDetections)) assert.ok(ids.has(id), `${ds}: ${id} changed within the overlap day: fetched`);
    for (const id of groups.C[key]) assert.ok(!ids.has(id), `${ds}: ${id} changed 3 days before the last run: not fetched`);
    const touched = new Set([...groups.A[key], ...groups.B[key], ...groups.C[key]]);
    const overlapOnly = [...ids].filter((id) => !touched.has(id));
    assert.ok(overlapOnly.length >= 3, `${ds}: untouched records from the one-day overlap are fetched too (${overlapOnly.length})`);
    const total = ds === 'kb' ? m.kbCount : m.hostCount;
    assert.ok(ids.size < total / 3, `${ds}: an incremental run, not everything (${ids.size} of ${total})`);
    t.diagnostic(`${ds}: second run fetched ${exp.keys.length} records (${ids.size} ${ds === 'kb' ? 'QIDs' : 'hosts'}, ${overlapOnly.length} of them only from the overlap)`);
  }
});

test('API versions 2.0, 3.0, 4.0, 5.0: all four feeds exact, with the fields newer versions add', { timeout: 60000 }, async (t) => {
  const sim = await u.startSim({ hosts: 25, detectionsPerHost: 3, kb: 40, seed: 44 });
  t.after(() => sim.close());
  // [field, the first version that has it (99: none)]. The detection URLs ask for QDS and its
  // factors (show_qds=1&show_qds_factors=1), which any version sends only when asked for; TruRisk
  // and asset criticality belong to the host list, never to a detection host.
  const NEVER = 99;
  const extras = {
    kb: [['CVSS_V4', 4], ['PATCH_PUBLISHED_DATE', 4]],
    hosts: [['TRURISK_SCORE', 3], ['ASSET_CRITICALITY_SCORE', 3]],
    hostDetections: [['TRURISK_SCORE', NEVER], ['ASSET_CRITICALITY_SCORE', NEVER]],
    detections: [['UNIQUE_VULN_ID', 3], ['QDS', 2], ['QDS_FACTORS', 2], ['HOST/TRURISK_SCORE', NEVER]],
  };
  const QDS_QUERY = '&show_qds=1&show_qds_factors=1';
  const rows = [];
  for (const version of ['2.0', '3.0', '4.0', '5.0']) {
    for (const ds of u.FEEDS) {
      const label = `${ds} /api/${version}/`;
      const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
      const showQds = ds === 'detections' || ds === 'hostDetections';
      const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 6, kbChunkSize: 9 }, { version, extraQuery: showQds ? QDS_QUERY : '' }));
      checkRun(sim, ds, r, exp, { label, size: ds === 'kb' ? 9 : 6, version, showQds: ds === 'detections' });
      assert.ok(r.entries.filter((e) => e.endpoint).every((e) => e.version === version), `${label}: every request on /api/${version}/`);
      const recs = u.parseFragments(r.text);
      const seen = [];
      for (const [field, since] of extras[ds]) {
        const [a, b] = field.split('/');
        const count = recs.filter((rec) => (b ? u.child(u.child(rec, a), b) : u.child(rec, a))).length;
        if (parseFloat(version) >= since) {
          assert.ok(count > 0, `${label}: ${field} (added in ${since}.0) appears`);
          seen.push(`${field} x${count}`);
        } else {
          assert.equal(count, 0, `${label}: no ${field} before ${since}.0`);
        }
      }
      if (ds === 'detections') {
        // The attributes of newer responses are kept: QDS@severity, QDS_FACTOR@name.
        const qds = recs.map((rec) => u.child(rec, 'QDS')).filter(Boolean);
        assert.ok(qds.length && qds.every((q) => /^(LOW|MEDIUM|HIGH|CRITICAL)$/.test(q.attrs.severity)), `${label}: QDS keeps its severity attribute`);
        const factors = recs.flatMap((rec) => (u.child(rec, 'QDS_FACTORS') || { children: [] }).children);
        assert.ok(factors.length && factors.every((f) => f.name === 'QDS_FACTOR' && /^[A-Za-z_]+$/.test(f.attrs.name)), `${label}: QDS_FACTOR keeps its name attribute`);
      }
      rows.push(`${version} ${ds}: ${recs.length} records${seen.length ? `, ${seen.join(', ')}` : ''}`);
    }
  }
  for (const row of rows) t.diagnostic(row);
});

test('secrets: a wrong password fails with a clear error that names no password', { timeout: 60000 }, async (t) => {
  const sim = await u.startSim({ hosts: 5, kb: 5 });
  t.after(() => sim.close());
  for (const ds of ['kb', 'hosts']) {
    const params = u.paramsFor(sim, ds, { password: `${u.PASSWORD}-wrong` });
    const r = await u.runScript(sim, params);
    const text = u.assertFailed(r, `${ds} bad password`, /QUALYS_CREDENTIALS/);
    assert.ok(!r.logs.join('\n').includes(params.password) && !text.includes(params.password), 'the wrong password is not shown either');
    assert.equal(r.entries.filter((e) => e.endpoint).length, 1, 'fails at the first answer (401), no retry');
  }
});
