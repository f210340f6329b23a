'use strict';
// End-to-end: the active Qualys API versions, through the single file (dist/qualys-vm-transporter.js)
// in a mirrored Archer context (tools/archer-host.js) against the Qualys simulator:
//   - on the active versions (/api/5.0/ host list and detection, /api/4.0/ KnowledgeBase) every
//     data source is exact, with no version warning;
//   - a URL on a retired version (/api/2.0/; /api/3.0/ for the KnowledgeBase) still runs while
//     Qualys answers it (real v2-era pages), with one warning at the start naming the path to use;
//   - once the simulator retires the version (404 or 410 on it), the run fails at once with
//     API_VERSION_RETIRED (configuration, not retried) and the same advice, on Archer 6.x (request),
//     Archer 2025 (fetch) and a host with Node's https; an unknown path on an active version stays
//     URL_NOT_FOUND.

const test = require('node:test');
const assert = require('node:assert/strict');
const u = require('./helpers/e2e-util');

const FIRST_RUN_SINCE = Date.parse('1970-01-09T00:00:00Z'); // 1970-01-10 + lastRunTimeOffset -1
const ACTIVE = { kb: '4.0', hosts: '5.0', hostDetections: '5.0', detections: '5.0' };
const ACTIVE_PATH = {
  kb: '/api/4.0/fo/knowledge_base/vuln/',
  hosts: '/api/5.0/fo/asset/host/',
  hostDetections: '/api/5.0/fo/asset/host/vm/detection/',
  detections: '/api/5.0/fo/asset/host/vm/detection/',
};
const WARN = / :: WARN :: /;
/** The start-of-run warnings about a retired version. */
const versionWarnings = (r) => r.logs.filter((l) => WARN.test(l) && /no longer supports/.test(l));

test('active versions: every data source exact, no version warning', { timeout: 60000 }, async (t) => {
  const sim = await u.startSim({ hosts: 20, detectionsPerHost: 3, kb: 30, seed: 31, retireVersions: ['2.0', '3.0'] });
  t.after(() => sim.close());
  for (const ds of u.FEEDS) {
    const label = `${ds} /api/${ACTIVE[ds]}/`;
    const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 6, kbChunkSize: 10 }, { version: ACTIVE[ds] }));
    u.assertOk(r, label);
    u.assertExactOutput(sim.model, ds, r.text, u.expected(sim.model, ds, FIRST_RUN_SINCE), { label, version: ACTIVE[ds] });
    assert.deepEqual(versionWarnings(r), [], `${label}: no version warning`);
    assert.ok(r.entries.filter((e) => e.endpoint).every((e) => e.version === ACTIVE[ds] && e.status === 200), `${label}: every request on the active version`);
  }
});

test('a retired version Qualys still answers: the run completes, with one warning naming the active path', { timeout: 60000 }, async (t) => {
  const sim = await u.startSim({ hosts: 20, detectionsPerHost: 3, kb: 30, seed: 32 });
  t.after(() => sim.close());
  for (const ds of u.FEEDS) {
    for (const version of ds === 'kb' ? ['2.0', '3.0'] : ['2.0']) {
      const label = `${ds} /api/${version}/`;
      const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 6, kbChunkSize: 10 }, { version }));
      u.assertOk(r, label);
      u.assertExactOutput(sim.model, ds, r.text, u.expected(sim.model, ds, FIRST_RUN_SINCE), { label, version });
      const w = versionWarnings(r);
      assert.equal(w.length, 1, `${label}: one warning\n${r.logs.join('\n')}`);
      assert.ok(w[0].includes(`${u.URL_KEY[ds]}: `) && w[0].includes(`API ${version}`) && w[0].includes(`change its path to ${ACTIVE_PATH[ds]} `), `${label}: ${w[0]}`);
      const first = r.logs.findIndex((l) => / :: INFO :: starting /.test(l));
      assert.ok(first >= 0 && r.logs.indexOf(w[0]) < first, `${label}: the warning comes before the run starts`);
      assert.deepEqual(r.summary.warnings, { parameter: 1 }, `${label}: counted as a parameter warning`);
    }
  }
});

test('a retired version Qualys refuses (404 or 410): API_VERSION_RETIRED at once with the active path, on every HTTP client', { timeout: 90000 }, async (t) => {
  for (const status of [404, 410]) {
    const sim = await u.startSim({ hosts: 10, detectionsPerHost: 2, kb: 10, seed: 33, retireVersions: ['2.0', '3.0'], retireStatus: status });
    t.after(() => sim.close());
    for (const ds of u.FEEDS) {
      const modes = ds === 'detections' ? ['6x', '2025', 'node'] : ['6x'];
      for (const mode of modes) {
        for (const version of ds === 'kb' ? ['2.0', '3.0'] : ['2.0']) {
          const label = `${ds} /api/${version}/ answered ${status} (${mode})`;
          const r = await u.runScript(sim, u.paramsFor(sim, ds, { maxRetry: 2, concurrency: ds === 'detections' ? 2 : 1 }, { version }), { mode });
          const text = u.assertFailed(r, label, /API_VERSION_RETIRED/);
          assert.ok(r.logs.some((l) => / :: ERROR :: API_VERSION_RETIRED \(configuration problem\): /.test(l)), `${label}: blames the configuration`);
          assert.ok(text.includes(`HTTP ${status}`), `${label}: ${text}`);
          assert.ok(text.includes(`${u.URL_KEY[ds]} parameter's path to ${ACTIVE_PATH[ds]} `), `${label}: ${text}`);
          const requests = r.entries.filter((e) => e.version === version);
          assert.equal(requests.length, 1, `${label}: no retry (${requests.length} requests)`);
          assert.equal(requests[0].status, status);
          assert.equal(r.text, '', `${label}: nothing written`);
          assert.equal(versionWarnings(r).length, 1, `${label}: the start-of-run warning too`);
        }
      }
    }
  }
});

test('a 404 on an active version stays URL_NOT_FOUND', { timeout: 60000 }, async (t) => {
  const sim = await u.startSim({ hosts: 5, kb: 5, retireVersions: ['2.0'] });
  t.after(() => sim.close());
  const params = u.paramsFor(sim, 'hosts', {}, { version: '5.0' });
  params.hostsUrl = params.hostsUrl.replace('/fo/asset/host/', '/fo/asset/hosts/');
  const r = await u.runScript(sim, params);
  const text = u.assertFailed(r, 'hosts, a wrong path on 5.0', /URL_NOT_FOUND/);
  assert.ok(!/API_VERSION_RETIRED/.test(text), text);
});
