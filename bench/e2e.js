'use strict';
// End-to-end benchmark: the single-file transporter against the Qualys simulator.
//
//   1. the single file: `node scripts/bundle.js --no-npm --quiet --dist bench/work/dist` (from the
//      current target/wasm-pkg and js-shim/); if that fails, dist/qualys-vm-transporter.js
//      (--bundle FILE uses the given file)
//   2. the simulator in its own process on 127.0.0.1 (limits off, no served-record log):
//      --hosts x --detections detections, every status, IGs, ignored and disabled included, so the
//      detection count is exactly hosts x detections
//   3. the transporter in its own process (tools/archer-host.js: Archer-like vm sandbox, OutputWriter
//      streaming to bench/work/e2e-output.xml), dataSource=detections, batchSize (default 1000)
//   4. wall time (transporter process start to exit), requests (simulator counters), records
//      (counted in the output file afterwards), output bytes, peak RSS (VmHWM) of both processes
//
// usage: node bench/e2e.js [--hosts 20000] [--detections 50] [--batch 1000] [--mode 6x|node|2025]
//          [--bundle FILE] [--timeout SEC] [--json] [--cpu-prof DIR]
//   --cpu-prof DIR: write a V8 CPU profile of the transporter process (summarise it with
//   node bench/profile-summary.js DIR/e2e-transporter.cpuprofile)
// Everything is stopped at the end (also on timeout / failure).

const fs = require('fs');
const path = require('path');
const http = require('http');
const { spawn, spawnSync } = require('child_process');
const { summaryFromLogs } = require('../tools/archer-host');
const { parseArgs } = require('../js-shim/src/cli-args');

const ROOT = path.resolve(__dirname, '..');
const WORK = path.join(__dirname, 'work');

function args() {
  const { opts: a } = parseArgs(process.argv.slice(2), {
    hosts: 'value', detections: 'value', batch: 'value', mode: 'value', bundle: 'value', timeout: 'value', json: 'flag', 'cpu-prof': 'value',
  });
  return {
    hosts: a.hosts !== undefined ? Number(a.hosts) : 20000,
    detections: a.detections !== undefined ? Number(a.detections) : 50,
    batch: a.batch !== undefined ? Number(a.batch) : 1000,
    mode: a.mode !== undefined ? a.mode : '6x',
    bundle: a.bundle !== undefined ? path.resolve(a.bundle) : null,
    timeoutSec: a.timeout !== undefined ? Number(a.timeout) : 300,
    json: Boolean(a.json),
    cpuProf: a['cpu-prof'] !== undefined ? path.resolve(a['cpu-prof']) : null,
  };
}

const log = (m) => process.stderr.write(`[e2e] ${m}\n`);

function hwmOf(pid) {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch (e) { return null; }
}

function getJson(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => { try { resolve(JSON.parse(body)); } catch (e) { reject(e); } });
    });
    req.setTimeout(10000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** The single file: built into bench/work/dist, else the checked-out dist/. */
function bundleFile(o) {
  if (o.bundle) return { file: o.bundle, how: 'given' };
  const dist = path.join(WORK, 'dist');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle.js'), '--no-npm', '--quiet', '--dist', dist], { cwd: ROOT, encoding: 'utf8', timeout: 120000 });
  const built = path.join(dist, 'qualys-vm-transporter.js');
  if (r.status === 0 && fs.existsSync(built)) return { file: built, how: 'node scripts/bundle.js --dist bench/work/dist' };
  const fallback = path.join(ROOT, 'dist', 'qualys-vm-transporter.js');
  log(`node scripts/bundle.js failed (${(r.stderr || r.error || '').toString().trim().split('\n').pop()}); using ${fallback}`);
  if (fs.existsSync(fallback)) return { file: fallback, how: 'dist/ (bundle.js failed)' };
  throw new Error('no single-file transporter: node scripts/bundle.js failed and dist/qualys-vm-transporter.js is missing');
}

function startSimulator(o) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      path.join(ROOT, 'js-shim', 'simulator', 'cli.js'),
      '--hosts', String(o.hosts), '--detections-per-host', String(o.detections), '--detections-spread', '0',
      '--rate-limit', 'off', '--concurrency', 'off', '--no-https', '--no-record-served', '--quiet', '--port', '0',
    ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('the simulator did not start in 30 s')); }, 30000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }); }
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the simulator exited (${code}): ${err.trim()}`)); });
  });
}

function stop(child) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    const t = setTimeout(() => { try { child.kill('SIGKILL'); } catch (e) { /* gone */ } }, 5000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    child.kill('SIGTERM');
  });
}

/** Counts `needle` in a file, streaming (matches across chunk borders included). */
function countInFile(file, needle) {
  const n = Buffer.from(needle);
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let carry = Buffer.alloc(0);
  let count = 0;
  try {
    for (;;) {
      const r = fs.readSync(fd, buf, 0, buf.length, null);
      if (r === 0) break;
      const hay = Buffer.concat([carry, buf.subarray(0, r)]);
      let i = 0;
      while ((i = hay.indexOf(n, i)) !== -1) { count++; i += n.length; }
      carry = Buffer.from(hay.subarray(Math.max(0, hay.length - (n.length - 1))));
    }
  } finally { fs.closeSync(fd); }
  return count;
}

async function main() {
  const o = args();
  fs.mkdirSync(WORK, { recursive: true });
  const result = { ok: false, hosts: o.hosts, detectionsPerHost: o.detections, detectionsExpected: o.hosts * o.detections, batchSize: o.batch, mode: o.mode };
  let sim = null;
  let transporter = null;
  const killAll = () => { for (const c of [sim && sim.child, transporter]) if (c && c.exitCode === null) try { c.kill('SIGKILL'); } catch (e) { /* gone */ } };
  process.on('exit', killAll);
  for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => { killAll(); process.exit(130); });
  try {
    const b = bundleFile(o);
    result.bundle = path.relative(ROOT, b.file);
    result.bundleHow = b.how;
    result.bundleBytes = fs.statSync(b.file).size;
    log(`single file ${result.bundle} (${result.bundleBytes} bytes, ${b.how})`);

    sim = await startSimulator(o);
    log(`simulator ${sim.url} (pid ${sim.child.pid}): ${o.hosts} hosts x ${o.detections} detections`);
    const params = {
      dataSource: 'detections',
      detectionUrl: `${sim.url}/api/5.0/fo/asset/host/vm/detection/?action=list&status=New,Active,Re-Opened,Fixed&show_igs=1&include_ignored=1&include_disabled=1&show_results=1`,
      username: 'simuser',
      password: 'simpass',
      batchSize: String(o.batch),
    };
    const paramsFile = path.join(WORK, 'e2e-params.json');
    fs.writeFileSync(paramsFile, JSON.stringify(params, null, 2));
    const outFile = path.join(WORK, 'e2e-output.xml');
    const logFile = path.join(WORK, 'e2e-transporter.log');

    const t0 = Date.now();
    const nodeArgs = o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`, '--cpu-prof-name=e2e-transporter.cpuprofile'] : [];
    const hostArgs = [path.join(ROOT, 'tools', 'archer-host.js'), '--script', b.file, '--params', paramsFile, '--out', outFile, '--mode', o.mode, '--log', logFile, '--timeout-sec', String(o.timeoutSec)];
    result.archerHost = 'tools/archer-host.js';
    transporter = spawn(process.execPath, [...nodeArgs, ...hostArgs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    transporter.stdout.on('data', (d) => { out += d; });
    transporter.stderr.on('data', (d) => { err += d; if (err.length > 100000) err = err.slice(-100000); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; transporter.kill('SIGKILL'); }, o.timeoutSec * 1000);
    const code = await new Promise((resolve) => transporter.on('exit', (c, s) => resolve(c === null ? s : c)));
    clearTimeout(timer);
    result.wallMs = Date.now() - t0;
    result.simPeakRssKiB = hwmOf(sim.child.pid);
    const info = await getJson(`${sim.url}/__control`).catch(() => null);
    result.requests = info ? info.counters.detections : null;
    let child = null;
    try { child = JSON.parse(out.trim().split('\n').pop()); } catch (e) { /* crashed */ }
    if (timedOut) throw new Error(`the transporter did not finish in ${o.timeoutSec} s`);
    if (!child) throw new Error(`the transporter crashed (exit ${code}): ${err.trim().split('\n').slice(-5).join(' / ')}`);
    Object.assign(result, {
      callbackMs: child.wallMs,
      writeItems: child.writeItems,
      writeItemMs: child.writeItemMs,
      outputBytes: child.outputBytes,
      peakRssKiB: child.peakRssKiB,
      rootNode: child.rootNode,
      outcome: child.ok ? 'success callback' : `failure callback: ${child.error}`,
    });
    if (!child.ok) throw new Error(`the transporter called back with a failure: ${child.error}`);
    result.records = countInFile(outFile, '<DETECTION><ARCHER_DETECTION_KEY>');
    try {
      const logs = fs.readFileSync(logFile, 'utf8').trim().split('\n');
      const s = summaryFromLogs(logs);
      result.coreSummary = s;
      result.bytesFetched = s ? `${(s.bytesIn / 1048576).toFixed(1)} MB` : null;
      result.lastLogLines = logs.slice(-3);
    } catch (e) { /* no log */ }
    if (result.records !== result.detectionsExpected) {
      result.warning = `records in the output ${result.records} != ${result.detectionsExpected} expected`;
    }
    result.ok = true;
    log(`${(result.wallMs / 1000).toFixed(2)} s, ${result.requests} requests, ${result.records} records, ${result.outputBytes} output bytes, ` +
      `transporter peak RSS ${(result.peakRssKiB / 1024).toFixed(1)} MB, simulator ${(result.simPeakRssKiB / 1024).toFixed(1)} MB`);
    if (result.warning) log(`WARNING ${result.warning}`);
    // The output is big and only needed for the count: drop it.
    fs.rmSync(outFile, { force: true });
  } catch (e) {
    result.ok = false;
    result.error = e.message;
    log(`FAILED: ${e.message}`);
  } finally {
    if (transporter && transporter.exitCode === null) transporter.kill('SIGKILL');
    if (sim) await stop(sim.child);
  }
  if (o.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  process.exitCode = result.ok ? 0 : 1;
}

main();
