#!/usr/bin/env node
'use strict';
// Parallel extraction, measured (issue 6): the single-file transporter fetches detections from
// the simulator with every request delayed 2-5 s before its first byte (what a real Qualys page
// costs), with concurrency 1, 2 and 4. Each run is its own process through the Archer stand-in
// (tools/archer-host.js). The simulator allows 5 concurrent calls, so 4 ranges may run at once
// (the core never goes above X-Concurrency-Limit-Limit minus one). Writes bench/PARALLEL.md, which
// bench/run.sh copies into bench/RESULTS.md.
//
// usage: node bench/parallel.js [--hosts N] [--batch N] [--levels 1,2,4] [--delay 2000-5000]

const fs = require('fs');
const os = require('os');
const path = require('path');
const { startSimulator } = require('../js-shim/simulator');
const { parseArgs } = require('../js-shim/src/cli-args');
const { runInChild } = require('../tools/archer-host');

const ROOT = path.resolve(__dirname, '..');
const SCRIPT = path.join(ROOT, 'dist', 'qualys-vm-transporter.js');

const { opts } = parseArgs(process.argv.slice(2), { hosts: 'value', batch: 'value', levels: 'value', delay: 'value' });
const arg = (name, fallback) => (opts[name] !== undefined && opts[name] !== '' ? opts[name] : fallback);

function runOnce(dir, url, concurrency, batch) {
  const params = {
    dataSource: 'detections',
    detectionUrl: `${url}/api/5.0/fo/asset/host/vm/detection/?action=list&status=Active,New,Fixed,Re-Opened&vm_scan_since=<LastRunTime>`,
    username: 'simuser',
    password: 'simpass',
    batchSize: String(batch),
    requestsPerMin: '600',
    concurrency: String(concurrency),
  };
  const paramsFile = path.join(dir, `params-${concurrency}.json`);
  fs.writeFileSync(paramsFile, JSON.stringify(params));
  const out = path.join(dir, `detections-${concurrency}.xml`);
  return runInChild({ script: SCRIPT, paramsFile, out, mode: 'node', timeoutSec: 900 }).then(({ report, err, ms }) => {
    const r = report || { ok: false, error: String(err) };
    r.wallMs = ms;
    r.outFile = out;
    return r;
  });
}

/** Largest number of detection requests in flight at once, from the simulator's log. */
function maxOverlap(entries) {
  const events = [];
  for (const e of entries) {
    if (e.endpoint !== 'detections') continue;
    const start = e._t0;
    if (start === undefined || e.durationMs === undefined) continue;
    events.push([start, 1], [start + e.durationMs, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of events) max = Math.max(max, (cur += d));
  return max;
}

async function main() {
  if (!fs.existsSync(SCRIPT)) throw new Error('dist/qualys-vm-transporter.js is missing: run node scripts/bundle.js');
  const hosts = Number(arg('hosts', 2000));
  const batch = Number(arg('batch', 100));
  const levels = arg('levels', '1,2,4').split(',').map(Number);
  const delay = arg('delay', '2000-5000');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-parallel-'));
  const rows = [];
  let reference = null;
  for (const level of levels) {
    const sim = await startSimulator({ hosts, detectionsPerHost: 5, kb: 500, seed: 6, https: false, rateLimit: 'off', concurrency: { limit: 5, enforce: true }, faults: [{ type: 'delay', ms: delay, endpoint: 'detections' }] });
    try {
      const r = await runOnce(dir, sim.url, level, batch);
      const text = fs.readFileSync(r.outFile, 'utf8');
      const keys = (text.match(/<ARCHER_DETECTION_KEY>[^<]*</g) || []).sort();
      const same = reference === null ? true : keys.length === reference.length && keys.every((k, i) => k === reference[i]);
      if (reference === null) reference = keys;
      const entries = sim.log.entries.filter((e) => e.endpoint === 'detections');
      rows.push({ level, ok: r.ok, error: r.error, wall: r.wallMs / 1000, requests: entries.length, records: keys.length, same, overlap: maxOverlap(sim.log.entries), rss: r.peakRssKiB });
      console.log(`concurrency ${level}: ${r.ok ? 'ok' : `FAILED ${r.error}`} ${(r.wallMs / 1000).toFixed(1)} s, ${entries.length} detection requests, ${keys.length} records`);
    } finally {
      await sim.close();
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const base = rows[0] ? rows[0].wall : 1;
  const lines = [
    '## Parallel extraction (issue 6)',
    '',
    `\`node bench/parallel.js\` on ${new Date().toISOString()}: detections of ${hosts} hosts (5 detections each), batchSize ${batch}, every`,
    `detection request delayed ${delay} ms before its first byte by the simulator (a realistic Qualys page time), the`,
    'simulator allowing 5 concurrent calls; the single file through the Archer stand-in, one process per run. "same records"',
    'compares the set of detection keys with the concurrency-1 run.',
    '',
    '| concurrency | result | wall time (s) | speed-up | detection requests | records | same records | max requests in flight | peak RSS (MB) |',
    '|---:|---|---:|---:|---:|---:|---|---:|---:|',
    ...rows.map((r) => `| ${r.level} | ${r.ok ? 'ok' : `FAILED: ${r.error}`} | ${r.wall.toFixed(1)} | ${(base / r.wall).toFixed(2)}x | ${r.requests} | ${r.records} | ${r.same ? 'yes' : 'NO'} | ${r.overlap || '-'} | ${r.rss ? (r.rss / 1024).toFixed(0) : '-'} |`),
    '',
  ];
  fs.writeFileSync(path.join(__dirname, 'PARALLEL.md'), lines.join('\n'));
  console.log(lines.join('\n'));
  if (rows.some((r) => !r.ok || !r.same)) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
