#!/usr/bin/env node
'use strict';
// The main job: a full feed run against the built-in Qualys simulator, the way Archer runs it.
//
// Starts the simulator (127.0.0.1, standard-subscription limits: 300 calls/hour, 2 concurrent),
// then runs the four feeds in the implementation guide's order (kb, hosts, hostDetections,
// detections) through the single file dist/qualys-vm-transporter.js, each in its own process
// inside a mirrored Archer context (tools/archer-host.js: CustomParameters, Tokens, an
// OutputWriter streaming to out/run<N>/<feed>.xml, callback, the 6.x require whitelist). Prints a
// table per run. Run 2 is incremental: each feed gets the LastRunTime Archer would hand it (the
// start of run 1), after the simulator's clock moved on two days and some hosts and QIDs changed.
//
// usage: node scripts/main-run.js [--hosts N] [--detections-per-host N] [--kb N] [--mode 6x|node|2025]

const fs = require('fs');
const path = require('path');
const { startSimulator } = require('../js-shim/simulator');
const { parseArgs } = require('../js-shim/src/cli-args');
const { runInChild } = require('../tools/archer-host');

const ROOT = path.resolve(__dirname, '..');
const SCRIPT = path.join(ROOT, 'dist', 'qualys-vm-transporter.js');
const OUT = path.join(ROOT, 'out');
const FEEDS = ['kb', 'hosts', 'hostDetections', 'detections'];
const DAY = 86400000;

const { opts } = parseArgs(process.argv.slice(2), { hosts: 'value', 'detections-per-host': 'value', kb: 'value', mode: 'value' });
const arg = (name, fallback) => (opts[name] !== undefined && opts[name] !== '' ? opts[name] : fallback);

function paramsFor(base, feed) {
  const p = { dataSource: feed, username: 'simuser', password: 'simpass', batchSize: '500', requestsPerMin: '60', maxRetry: '2', retryDelaySec: '1' };
  if (feed === 'kb') p.kbUrl = `${base}/api/4.0/fo/knowledge_base/vuln/?action=list&details=All&last_modified_after=<LastRunTime>`;
  else if (feed === 'hosts') p.hostsUrl = `${base}/api/5.0/fo/asset/host/?action=list&details=All&show_tags=1&vm_scan_since=<LastRunTime>`;
  else p.detectionUrl = `${base}/api/5.0/fo/asset/host/vm/detection/?action=list&status=Active,New,Fixed,Re-Opened&vm_scan_since=<LastRunTime>`;
  return p;
}

/** Runs one feed in its own process through the Archer host stand-in. */
function runFeed(dir, base, feed, tokens, mode) {
  const paramsFile = path.join(dir, `${feed}.params.json`);
  const tokensFile = path.join(dir, `${feed}.tokens.json`);
  fs.writeFileSync(paramsFile, JSON.stringify(paramsFor(base, feed), null, 2));
  fs.writeFileSync(tokensFile, JSON.stringify(tokens, null, 2));
  return runInChild({ script: SCRIPT, paramsFile, tokensFile, out: path.join(dir, `${feed}.xml`), mode, log: path.join(dir, `${feed}.log`), timeoutSec: 900 })
    .then(({ report, err, stderr, ms }) => {
      const r = report || { ok: false, error: (stderr || String(err)).trim() };
      r.seconds = ms / 1000;
      return r;
    });
}

function table(title, rows) {
  const head = ['feed', 'records', 'served', 'pages', 'requests', 'retries', 'waits', 'seconds', 'peak MB', 'result'];
  const body = rows.map((r) => [
    r.feed,
    String(r.s.records ?? '-'),
    String(r.served),
    String(r.s.pages ?? '-'),
    String(r.s.requests ?? '-'),
    String(r.s.retries ?? '-'),
    String(r.s.waits ?? '-'),
    r.report.seconds.toFixed(1),
    r.report.peakRssKiB ? (r.report.peakRssKiB / 1024).toFixed(0) : '-',
    r.report.ok ? 'ok' : `FAILED: ${r.report.error}`,
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  console.log(`\n${title}`);
  for (const line of [head, w.map((n) => '-'.repeat(n)), ...body]) console.log(line.map((c, i) => (i === 0 || i === line.length - 1 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
}

/** How many records the simulator served in complete responses for this feed since log entry `since`. */
function served(sim, feed, since) {
  const endpoint = feed === 'kb' ? 'kb' : feed === 'hosts' ? 'hosts' : 'detections';
  const u = sim.log.servedUnion({ endpoint, since });
  return (feed === 'kb' ? u.qids : feed === 'detections' ? u.detections : u.hostIds).size;
}

async function main() {
  if (!fs.existsSync(SCRIPT)) throw new Error(`${path.relative(ROOT, SCRIPT)} is missing: run node scripts/bundle.js first`);
  const mode = arg('mode', '6x');
  const sim = await startSimulator({ hosts: Number(arg('hosts', 5000)), detectionsPerHost: Number(arg('detections-per-host', 10)), kb: Number(arg('kb', 5000)), seed: 2026, https: false });
  let failed = 0;
  try {
    console.log(`Qualys simulator on ${sim.url} (limits: 300 calls/hour, 2 concurrent); transporter: ${path.relative(ROOT, SCRIPT)} (${fs.statSync(SCRIPT).size} bytes) in a mirrored Archer ${mode} context`);
    const run1Start = new Date(sim.control.now()).toISOString().replace('.000Z', 'Z');
    const lastRun = {};
    for (const run of [1, 2]) {
      const dir = path.join(OUT, `run${run}`);
      fs.mkdirSync(dir, { recursive: true });
      if (run === 2) {
        // Two days later: some hosts were scanned again and some QIDs were updated.
        const now = sim.control.now();
        const hostIds = [];
        for (let i = 0; i < sim.model.hostCount; i += 97) hostIds.push(sim.model.hostIdAt(i));
        const qids = [];
        for (let k = 0; k < sim.model.kbCount; k += 211) qids.push(sim.model.qidAt(k));
        sim.control.touch({ hostIds, qids, at: now + DAY });
        sim.control.setNow(now + 2 * DAY);
        console.log(`\n(two days later: ${hostIds.length} hosts rescanned, ${qids.length} QIDs updated; each feed gets LastRunTime=${lastRun.kb})`);
      }
      const rows = [];
      for (const feed of FEEDS) {
        const since = sim.log.entries.length ? sim.log.entries[sim.log.entries.length - 1].seq : 0;
        const tokens = { LastRunTime: run === 1 ? null : lastRun[feed], PreviousRunContext: null, LastFileProcessed: null };
        const report = await runFeed(dir, sim.url, feed, tokens, mode);
        if (!report.ok) failed++;
        // Archer records the start of a successful run as the next LastRunTime (simulator time).
        if (report.ok) lastRun[feed] = run1Start;
        rows.push({ feed, report, s: report.summary || {}, served: served(sim, feed, since) });
      }
      table(`run ${run}${run === 1 ? ' (first run: no LastRunTime, everything)' : ' (incremental)'}: output in ${path.relative(ROOT, dir)}/`, rows);
    }
  } finally {
    await sim.close();
  }
  if (failed) {
    console.log(`\n${failed} feed run(s) failed: see out/run*/<feed>.log`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(`main-run: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
