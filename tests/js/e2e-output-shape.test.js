'use strict';
// End-to-end: outputShape=qualys through the single file in a mirrored Archer context
// (tools/archer-host.js) against the Qualys simulator, for all four data sources: each record is
// the Qualys element as the simulator sent it (VULN; HOST; HOST with its DETECTION_LIST), exactly
// once, with the field values of the simulator's model, also when a page fails and is retried;
// and only the shaping differs from the default records shape (the same run in both shapes gives
// the same Qualys elements, the records shape adding its key fields and, for detections, moving
// the host's fields into each DETECTION).

const test = require('node:test');
const assert = require('node:assert/strict');
const u = require('./helpers/e2e-util');

const FIRST_RUN_SINCE = Date.parse('1970-01-09T00:00:00Z'); // 1970-01-10 + lastRunTimeOffset -1
const VERSION = '5.0';
const QUALYS_RECORD = { kb: 'VULN', hosts: 'HOST', hostDetections: 'HOST', detections: 'HOST' };

/** A node as comparable text (name, attributes, text, children in order). */
const canon = (n) => JSON.stringify(plain(n));
const plain = (n) => ({ name: n.name, attrs: n.attrs, text: n.text, children: n.children.map(plain) });
const without = (n, names) => ({ ...n, children: n.children.filter((c) => !names.includes(c.name)) });

/**
 * Checks a qualys-shaped output: the record elements, each key once and exactly the expected ones
 * (detections: the hosts, and every detection inside them), field values equal to the model's.
 * Returns the parsed records.
 */
function assertExactQualys(model, ds, text, label, { showQds = false } = {}) {
  const recs = u.parseFragments(text);
  const wrong = recs.filter((r) => r.name !== QUALYS_RECORD[ds]);
  assert.equal(wrong.length, 0, `${label}: records other than <${QUALYS_RECORD[ds]}>: ${wrong.slice(0, 3).map((r) => r.name)}`);
  const bad = [];
  if (ds === 'kb' || ds === 'hosts') {
    const exp = u.expected(model, ds, FIRST_RUN_SINCE);
    u.assertSameKeys(recs.map((r) => u.recordKey(ds, r)), exp.keys, label);
    for (const r of recs) bad.push(...u.compareRecord(model, ds, r, exp.byKey.get(u.recordKey(ds, r)), { version: VERSION, shape: 'qualys' }));
  } else {
    const hosts = u.expected(model, 'hostDetections', FIRST_RUN_SINCE);
    u.assertSameKeys(recs.map((r) => Number(u.textOf(r, 'ID'))), hosts.keys, `${label} hosts`);
    const dets = u.expected(model, 'detections', FIRST_RUN_SINCE);
    const keys = [];
    for (const host of recs) {
      bad.push(...u.compareRecord(model, 'hostDetections', host, hosts.byKey.get(Number(u.textOf(host, 'ID'))), { version: VERSION, shape: 'qualys' }));
      const list = u.child(host, 'DETECTION_LIST');
      if (!list) { bad.push(`${label}: host ${u.textOf(host, 'ID')} has no DETECTION_LIST`); continue; }
      for (const d of list.children) {
        const key = `${u.textOf(host, 'ID')}:${u.textOf(d, 'QID')}`;
        keys.push(key);
        const exp = dets.byKey.get(key);
        if (exp) bad.push(...u.compareRecord(model, 'detections', d, exp, { version: VERSION, shape: 'qualys', host, showQds }));
      }
    }
    u.assertSameKeys(keys, dets.keys, `${label} detections`);
  }
  assert.equal(bad.length, 0, `${label}: ${bad.length} field mismatches, e.g.\n${bad.slice(0, 10).join('\n')}`);
  return recs;
}

/** The same Qualys elements in both shapes: records = qualys + key fields (detections: reshaped). */
function assertOnlyTheShapingDiffers(ds, qualysRecs, recordsRecs, label) {
  if (ds === 'kb' || ds === 'hosts') {
    assert.equal(recordsRecs.length, qualysRecs.length, label);
    const key = ds === 'kb' ? 'ARCHER_VULN_LINK' : 'ARCHER_DEVICE_LINK';
    recordsRecs.forEach((r, i) => {
      assert.equal(r.children[0].name, key, `${label}: ${key} first`);
      assert.equal(canon(without(r, [key])), canon(qualysRecs[i]), `${label}: record ${i + 1}`);
    });
    return;
  }
  if (ds === 'hostDetections') {
    assert.equal(recordsRecs.length, qualysRecs.length, label);
    recordsRecs.forEach((r, i) => {
      assert.equal(canon(without(r, ['ARCHER_DEVICE_LINK'])), canon(without(qualysRecs[i], ['DETECTION_LIST'])), `${label}: host ${i + 1}`);
    });
    return;
  }
  // detections: each DETECTION of each qualys HOST is one record: keys, the host's leaf fields and
  // DNS_DATA, then the detection's own children.
  const flat = [];
  for (const host of qualysRecs) {
    const identity = { name: 'HOST', attrs: {}, text: '', children: host.children.filter((c) => c.name !== 'DETECTION_LIST' && (c.children.length === 0 || c.name === 'DNS_DATA')) };
    for (const d of u.child(host, 'DETECTION_LIST').children) flat.push({ identity, d });
  }
  assert.equal(recordsRecs.length, flat.length, `${label}: one record per detection`);
  recordsRecs.forEach((r, i) => {
    const { identity, d } = flat[i];
    assert.equal(canon(r.children[3]), canon(identity), `${label}: record ${i + 1} carries its host's identity`);
    assert.equal(canon({ ...r, children: r.children.slice(4) }), canon(d), `${label}: record ${i + 1} is the detection`);
  });
}

test('outputShape=qualys: all four data sources exact against the model, the same elements as the records shape', { timeout: 90000 }, async (t) => {
  const sim = await u.startSim({ hosts: 45, detectionsPerHost: 3, kb: 50, seed: 12 });
  t.after(() => sim.close());
  for (const ds of u.FEEDS) {
    for (const mode of ds === 'detections' ? ['6x', '2025', 'node'] : ['6x']) {
      const label = `${ds} qualys shape (${mode})`;
      const params = { batchSize: 8, kbChunkSize: 12 };
      // The detection URLs ask for QDS (show_qds=1), to check its severity attribute is kept.
      const extraQuery = ds === 'kb' ? '' : ds === 'hosts' ? '&show_tags=1' : '&show_tags=1&show_qds=1';
      const showQds = ds === 'detections' || ds === 'hostDetections';
      const q = await u.runScript(sim, u.paramsFor(sim, ds, { ...params, outputShape: 'qualys' }, { version: VERSION, extraQuery }), { mode });
      u.assertOk(q, label);
      assert.equal(q.rootNode, u.ROOT_NODE[ds], `${label}: the root node of the data source`);
      assert.ok(q.logs.some((l) => / :: INFO :: starting .* outputShape=qualys$/.test(l)), `${label}: the start line names the shape`);
      const qualysRecs = assertExactQualys(sim.model, ds, q.text, label, { showQds });
      assert.equal(q.summary.records, qualysRecs.length, `${label}: summary records = records written`);
      // Each writeItem holds whole records.
      for (const item of q.items) assert.doesNotThrow(() => u.parseFragments(item), `${label}: whole records per writeItem`);
      if (ds === 'hosts') assert.ok(qualysRecs.some((h) => u.child(h, 'TAGS')), `${label}: host lists (TAGS) kept`);
      if (ds === 'detections') {
        const qds = qualysRecs.flatMap((h) => u.child(h, 'DETECTION_LIST').children.map((d) => u.child(d, 'QDS')).filter(Boolean));
        assert.ok(qds.length && qds.every((x) => /^(LOW|MEDIUM|HIGH|CRITICAL)$/.test(x.attrs.severity)), `${label}: QDS keeps its severity attribute`);
      }
      if (mode !== '6x') continue;
      const r = await u.runScript(sim, u.paramsFor(sim, ds, params, { version: VERSION, extraQuery }), { mode });
      u.assertOk(r, `${ds} records shape`);
      u.assertExactOutput(sim.model, ds, r.text, u.expected(sim.model, ds, FIRST_RUN_SINCE), { version: VERSION, label: `${ds} records shape`, showQds: ds === 'detections' });
      assertOnlyTheShapingDiffers(ds, qualysRecs, u.parseFragments(r.text), `${ds}: records vs qualys`);
      assert.equal(q.entries.length, r.entries.length, `${ds}: the same requests in both shapes`);
    }
  }
});

test('outputShape=qualys through a fault that forces a retry: every record exactly once', { timeout: 90000 }, async (t) => {
  const faults = [
    { type: 'reset', afterBytes: 5000 },
    { type: 'truncate', afterBytes: 5000 },
    { type: 'http5xx' },
  ];
  for (const ds of u.FEEDS) {
    for (const spec of faults) {
      const label = `${ds} qualys shape, ${spec.type} at ${ds === 'kb' ? 'the 2nd KB window' : 'page 3'}`;
      const sim = await u.startSim({ hosts: 30, detectionsPerHost: 3, kb: 60, seed: 5 });
      try {
        const where = ds === 'kb' ? { endpoint: 'kb', request: 3 } : { endpoint: u.ENDPOINT[ds], page: 3 };
        sim.control.setFaults([{ ...spec, ...where, times: 1 }]);
        const q = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 7, kbChunkSize: 15, maxRetry: 1, outputShape: 'qualys' }, { version: VERSION }));
        assert.equal(sim.control.faults()[0].used, 1, `${label}: the fault was injected`);
        u.assertOk(q, label);
        assert.ok(q.summary.retries >= 1, `${label}: retried (${q.summary.retries})`);
        assertExactQualys(sim.model, ds, q.text, label);
        assert.equal(q.summary.duplicatesSkipped, 0, `${label}: no duplicate from the server`);
      } finally {
        await sim.close();
      }
    }
  }
});
