'use strict';
// The benchmark driver behind bench/run.sh (run that: it builds first). Generates the documents
// (bench/generate.js, cached in bench/data/), runs every contender on every document in its own
// child process with a timeout, prints a markdown table with ratios to the wasm core, checks the
// issue's targets, runs the end-to-end benchmark (bench/e2e.js) and writes bench/RESULTS.md.
//
// usage: node bench/harness.js [--quick] [--sizes 10MB,100MB,1GB] [--kinds detections,hosts,kb]
//          [--contenders wasm,native,xml2js,fxp,saxes] [--repeat N] [--timeout SEC]
//          [--whole-heap-mb MB] [--no-e2e] [--e2e-only] [--e2e-hosts N] [--e2e-detections N]
//          [--quiet-wait SEC] [--chunk BYTES] [--wasm-pkg DIR] [--results FILE]
//   --wasm-pkg DIR: benchmark another wasm-bindgen nodejs build as (1) (e.g. to compare wasm-opt levels)
//   --render-only FILE.json: rewrite the results file from a saved run (each run saves its raw
//   results next to its results file as <name>.json), e.g. after editing bench/PROFILE.md

const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { spawn, execFileSync } = require('child_process');
const { ensureDocument, parseSize, KINDS } = require('./generate');

const ROOT = path.resolve(__dirname, '..');
const DATA = path.join(__dirname, 'data');
const NATIVE_BIN = path.join(__dirname, 'native', 'target', 'release', 'qvt-bench-native');
const WASM_FILE = path.join(ROOT, 'target', 'wasm-pkg', 'nodejs', 'qualys_vm_transporter_bg.wasm');
const CONTENDERS = ['wasm', 'native', 'xml2js', 'fxp', 'saxes'];
const WHOLE_DOC = new Set(['xml2js', 'fxp']);
const LABEL = {
  wasm: '(1) wasm core in Node',
  native: '(2) native core',
  xml2js: '(3) xml2js',
  fxp: '(4) fast-xml-parser',
  saxes: '(5) saxes + extractor',
};

// ---- options ---------------------------------------------------------------------------------
function parseArgs(argv) {
  const o = {
    quick: false, sizes: null, kinds: Object.keys(KINDS), contenders: CONTENDERS.slice(), repeat: 1,
    timeoutSec: 900, wholeHeapMb: 8192, e2e: true, e2eOnly: false, e2eHosts: 20000, e2eDetections: 50,
    results: null, chunk: 65536, quietWait: 120,
  };
  let values;
  try {
    ({ values } = require('util').parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean' }, sizes: { type: 'string' }, kinds: { type: 'string' }, contenders: { type: 'string' },
        repeat: { type: 'string' }, timeout: { type: 'string' }, 'whole-heap-mb': { type: 'string' }, 'no-e2e': { type: 'boolean' },
        'e2e-only': { type: 'boolean' }, 'e2e-hosts': { type: 'string' }, 'e2e-detections': { type: 'string' }, results: { type: 'string' },
        chunk: { type: 'string' }, 'quiet-wait': { type: 'string' }, 'wasm-pkg': { type: 'string' }, 'render-only': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new Error(`${e.message} (see --help)`);
  }
  if (values.help) {
    console.log(fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => /^\/\/ (usage| {2})/.test(l)).join('\n').replace(/^\/\/ ?/gm, ''));
    process.exit(0);
  }
  if (values.quick) o.quick = true;
  if (values.sizes !== undefined) o.sizes = values.sizes.split(',').map((s) => parseSize(s));
  if (values.kinds !== undefined) o.kinds = values.kinds.split(',');
  if (values.contenders !== undefined) o.contenders = values.contenders.split(',');
  if (values.repeat !== undefined) o.repeat = Math.max(1, Number(values.repeat));
  if (values.timeout !== undefined) o.timeoutSec = Number(values.timeout);
  if (values['whole-heap-mb'] !== undefined) o.wholeHeapMb = Number(values['whole-heap-mb']);
  if (values['no-e2e']) o.e2e = false;
  if (values['e2e-only']) o.e2eOnly = true;
  if (values['e2e-hosts'] !== undefined) o.e2eHosts = Number(values['e2e-hosts']);
  if (values['e2e-detections'] !== undefined) o.e2eDetections = Number(values['e2e-detections']);
  if (values.results !== undefined) o.results = path.resolve(values.results);
  if (values.chunk !== undefined) o.chunk = Number(values.chunk);
  if (values['quiet-wait'] !== undefined) o.quietWait = Number(values['quiet-wait']);
  if (values['wasm-pkg'] !== undefined) o.wasmPkg = path.resolve(values['wasm-pkg']);
  if (values['render-only'] !== undefined) o.renderOnly = path.resolve(values['render-only']);
  if (!o.sizes) o.sizes = o.quick ? [10e6] : [10e6, 100e6, 1e9];
  if (o.quick && !process.argv.some((x) => x.startsWith('--e2e-hosts'))) o.e2eHosts = 2000;
  // Only a complete default run replaces bench/RESULTS.md; a partial one goes to bench/data/.
  const partial = o.quick || argv.some((a) => /^--(sizes|kinds|contenders|no-e2e|e2e-only|e2e-hosts|e2e-detections|wasm-pkg|chunk)\b/.test(a));
  if (!o.results) o.results = o.quick ? path.join(DATA, 'RESULTS-quick.md') : partial ? path.join(DATA, 'RESULTS-partial.md') : path.join(__dirname, 'RESULTS.md');
  for (const k of o.kinds) if (!KINDS[k]) throw new Error(`unknown kind ${k}`);
  for (const c of o.contenders) if (!CONTENDERS.includes(c)) throw new Error(`unknown contender ${c}`);
  return o;
}

// ---- child runs ------------------------------------------------------------------------------
/**
 * Runs a command under /usr/bin/time (max RSS even when the child crashes) with a timeout.
 * Resolves {code, signal, stdout, stderr, timedOut, maxRssKiB, wallMs}.
 */
function runChild(cmd, args, timeoutSec, env) {
  return new Promise((resolve) => {
    const timeFile = path.join(os.tmpdir(), `qvt-bench-time-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    const haveTime = fs.existsSync('/usr/bin/time');
    const argv = haveTime ? ['-f', '%M %U %S', '-o', timeFile, cmd, ...args] : args;
    const cpu0 = cpuTicks();
    const t0 = Date.now();
    const child = spawn(haveTime ? '/usr/bin/time' : cmd, argv, {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: Object.assign({}, process.env, env || {}), detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; if (stdout.length > 1e6) stdout = stdout.slice(-1e6); });
    child.stderr.on('data', (d) => { stderr += d; if (stderr.length > 1e6) stderr = stderr.slice(-1e6); });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch (e) { /* gone */ }
    }, timeoutSec * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = Date.now() - t0;
      const cpu1 = cpuTicks();
      let maxRssKiB = null;
      let childCpuSec = null;
      try {
        const m = /(\d+) ([\d.]+) ([\d.]+)\s*$/.exec(fs.readFileSync(timeFile, 'utf8').trim());
        if (m) { maxRssKiB = Number(m[1]); childCpuSec = Number(m[2]) + Number(m[3]); }
        fs.unlinkSync(timeFile);
      } catch (e) { /* no time output */ }
      // CPU used by other processes while this child ran, in cores (the machine is shared: a
      // build running next to a measurement slows it down; such rows are flagged).
      let otherCores = null;
      if (cpu0 && cpu1 && childCpuSec !== null && wallMs > 0) {
        const busySec = (cpu1.busy - cpu0.busy) / TICKS;
        otherCores = Math.max(0, (busySec - childCpuSec) / (wallMs / 1000));
      }
      resolve({ code, signal, stdout, stderr, timedOut, maxRssKiB, wallMs, otherCores });
    });
  });
}

const TICKS = 100; // USER_HZ
/** Busy CPU ticks of the whole machine (all cores) from /proc/stat. */
function cpuTicks() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
    return { busy: user + nice + system + irq + softirq + (steal || 0), idle: idle + (iowait || 0) };
  } catch (e) { return null; }
}

/** Waits (up to maxSec) until the other processes use less than 0.3 cores over a 1 s sample. */
async function waitQuiet(maxSec, log) {
  const t0 = Date.now();
  let warned = false;
  for (;;) {
    const a = cpuTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const b = cpuTicks();
    if (!a || !b) return null;
    const cores = (b.busy - a.busy) / TICKS;
    if (cores < 0.3 || Date.now() - t0 > maxSec * 1000) return cores;
    if (!warned) { log(`    (machine busy: ${cores.toFixed(2)} cores used by other processes; waiting up to ${maxSec} s)`); warned = true; }
  }
}

/** A short reason for a failed run, from its stderr / JSON. */
function failureReason(r, json) {
  if (r.timedOut) return 'timeout';
  if (json && json.ok === false) return json.error;
  const err = r.stderr;
  if (/heap out of memory|Reached heap limit|Allocation failed/i.test(err)) return 'JavaScript heap out of memory';
  if (/Cannot create a string longer than/i.test(err)) return 'string longer than V8 maximum';
  const line = err.split('\n').map((l) => l.trim()).filter((l) => l && !/^(at |Command (exited|terminated)|node:internal)/.test(l)).pop();
  return `${r.signal ? `killed by ${r.signal}` : `exit ${r.code}`}${line ? `: ${line.slice(0, 200)}` : ''}`;
}

async function runContender(name, meta, o) {
  let cmd;
  let args;
  if (name === 'native') {
    cmd = o.nativeBin || NATIVE_BIN;
    args = [meta.source, meta.file, String(o.chunk / 1024)];
  } else {
    cmd = process.execPath;
    args = [];
    if (WHOLE_DOC.has(name)) args.push(`--max-old-space-size=${o.wholeHeapMb}`);
    args.push(path.join(__dirname, 'contender.js'), name, meta.source, meta.recordElement, meta.file, String(o.chunk));
  }
  if (o.quietWait > 0) await waitQuiet(o.quietWait, o.log);
  const r = await runChild(cmd, args, o.timeoutSec, o.wasmPkg ? { QVT_WASM_PKG: o.wasmPkg } : undefined);
  let json = null;
  const last = r.stdout.trim().split('\n').pop();
  try { json = JSON.parse(last); } catch (e) { /* crashed */ }
  const ok = r.code === 0 && json && json.ok !== false;
  const res = {
    contender: name,
    ok,
    wallMs: r.wallMs,
    otherCores: r.otherCores,
    hwmKiB: json && json.hwmKiB ? json.hwmKiB : null,
    maxRssKiB: r.maxRssKiB,
  };
  if (ok) {
    Object.assign(res, { ms: json.ms, records: json.records, bytesIn: json.bytesIn, bytesOut: json.bytesOut, chunks: json.chunks });
    if (json.records !== meta.records) res.warning = `record count ${json.records} != expected ${meta.records}`;
    if (json.bytesIn !== meta.bytes) res.warning = `bytes read ${json.bytesIn} != ${meta.bytes}`;
  } else {
    res.error = failureReason(r, json);
  }
  return res;
}

function median(xs) {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs a contender o.repeat times; keeps the median time and the largest peak RSS. */
async function measure(name, meta, o, log) {
  const runs = [];
  for (let i = 0; i < o.repeat; i++) {
    const r = await runContender(name, meta, o);
    runs.push(r);
    log(`    ${name.padEnd(7)} ${r.otherCores > BUSY ? `[other processes: ${r.otherCores.toFixed(2)} cores] ` : ''}${r.ok ? `${(r.ms / 1000).toFixed(2)} s, ${(meta.bytes / 1e6 / (r.ms / 1000)).toFixed(1)} MB/s, peak RSS ${mb(peakKiB(r))} MB${r.warning ? `, WARNING ${r.warning}` : ''}` : `fails: ${r.error} (peak RSS ${mb(peakKiB(r))} MB)`}`);
    if (!r.ok) break; // a failure is the result; do not repeat it
  }
  const good = runs.filter((r) => r.ok);
  if (good.length === 0) return runs[runs.length - 1];
  const best = Object.assign({}, good[0]);
  best.ms = median(good.map((r) => r.ms));
  best.msAll = good.map((r) => r.ms);
  best.hwmKiB = Math.max(...good.map((r) => r.hwmKiB || 0)) || null;
  best.maxRssKiB = Math.max(...good.map((r) => r.maxRssKiB || 0)) || null;
  best.otherCores = Math.max(...good.map((r) => r.otherCores || 0));
  return best;
}

const BUSY = 0.25; // cores used by other processes during a run above which the row is flagged
const peakKiB = (r) => r.hwmKiB || r.maxRssKiB || null;
const mb = (kib) => (kib == null ? '?' : (kib / 1024).toFixed(1));

// ---- environment -----------------------------------------------------------------------------
function sh(cmd, args) {
  try { return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch (e) { return null; }
}
function pkgVersion(name) {
  try { return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version; } catch (e) { return 'not installed'; }
}
function environment(o) {
  const wasmFile = o.wasmPkg ? path.join(o.wasmPkg, 'qualys_vm_transporter_bg.wasm') : WASM_FILE;
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || os.cpus()[0].model;
  const memKiB = Number((fs.readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/) || [])[1]);
  let wasm = null;
  try {
    const buf = fs.readFileSync(wasmFile);
    wasm = { file: o.wasmSnapshot ? path.relative(ROOT, WASM_FILE) : path.relative(ROOT, wasmFile), bytes: buf.length, sha256: crypto.createHash('sha256').update(buf).digest('hex').slice(0, 16), mtime: fs.statSync(wasmFile).mtime.toISOString() };
  } catch (e) { /* missing */ }
  const dirty = sh('git', ['status', '--porcelain', '--', 'src', 'Cargo.toml', 'Cargo.lock']);
  return {
    date: new Date().toISOString(),
    nproc: os.cpus().length,
    memGiB: (memKiB / 1048576).toFixed(1),
    cpu,
    kernel: os.release(),
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    node: process.version,
    rustc: sh('rustc', ['--version']),
    wasmBindgen: sh('wasm-bindgen', ['--version']),
    packages: ['xml2js', 'sax', 'fast-xml-parser', 'saxes', 'request', 'binaryen'].map((n) => `${n} ${pkgVersion(n)}`).join(', '),
    git: `${sh('git', ['rev-parse', '--short', 'HEAD']) || '?'}${dirty ? ' + uncommitted changes under src/' : ''}`,
    wasm,
  };
}

// ---- report ----------------------------------------------------------------------------------
function fmt(n, d = 1) { return n == null || !Number.isFinite(n) ? '-' : n.toFixed(d); }
function fmtInt(n) { return n == null || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US'); }

function tableRows(results) {
  const lines = [
    '| document | size | contender | time (s) | MB/s | records/s | peak RSS (MB) | throughput vs (1) | RSS vs (1) |',
    '|---|---:|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const doc of results) {
    const w = doc.runs.find((r) => r.contender === 'wasm' && r.ok);
    const wMBs = w ? doc.meta.bytes / 1e6 / (w.ms / 1000) : null;
    for (const r of doc.runs) {
      const head = `| ${doc.meta.kind} (${fmtInt(doc.meta.records)} records) | ${fmt(doc.meta.bytes / 1e6, 0)} MB | ${LABEL[r.contender]}`;
      if (!r.ok) {
        lines.push(`${head} | fails: ${r.error.replace(/\|/g, '/')} | - | - | ${mb(peakKiB(r))} | - | - |`);
        continue;
      }
      const secs = r.ms / 1000;
      const mbs = doc.meta.bytes / 1e6 / secs;
      const ratio = wMBs ? `${fmt(mbs / wMBs, 2)}x` : '-';
      const rssRatio = w && peakKiB(w) ? `${fmt(peakKiB(r) / peakKiB(w), 2)}x` : '-';
      const flag = r.otherCores > BUSY ? ` (busy ${fmt(r.otherCores, 2)})` : '';
      lines.push(`${head} | ${fmt(secs, 2)}${flag} | ${fmt(mbs)} | ${fmtInt(r.records / secs)} | ${mb(peakKiB(r))} | ${ratio} | ${rssRatio} |${r.warning ? ` WARNING: ${r.warning}` : ''}`);
    }
  }
  return lines.join('\n');
}

function checkTargets(results, e2e) {
  const find = (kind, size, c) => {
    const doc = results.find((d) => d.meta.kind === kind && d.meta.params.target === size);
    return doc ? { doc, run: doc.runs.find((r) => r.contender === c) } : null;
  };
  const mbs = (x) => x.doc.meta.bytes / 1e6 / (x.run.ms / 1000);
  const out = [];
  const throughputTarget = (other, factor, what) => {
    const w = find('detections', 100e6, 'wasm');
    const c = find('detections', 100e6, other);
    const name = `wasm >= ${factor}x ${what} on the 100 MB detection document`;
    if (!w || !w.run || !c || !c.run) return out.push({ name, status: 'NOT MEASURED', detail: 'run without --quick (needs 100MB detections with wasm and ' + other + ')' });
    if (!w.run.ok) return out.push({ name, status: 'MISS', detail: `wasm failed: ${w.run.error}` });
    if (!c.run.ok) return out.push({ name, status: 'PASS', detail: `${other} fails: ${c.run.error}` });
    const ratio = mbs(w) / mbs(c);
    out.push({ name, status: ratio >= factor ? 'PASS' : 'MISS', detail: `${fmt(ratio, 2)}x (wasm ${fmt(mbs(w))} MB/s, ${what} ${fmt(mbs(c))} MB/s)` });
  };
  throughputTarget('xml2js', 10, 'xml2js');
  throughputTarget('fxp', 2, 'fast-xml-parser');
  throughputTarget('native', 0.5, 'native');
  for (const kind of ['detections', 'hosts', 'kb']) {
    const small = find(kind, 10e6, 'wasm');
    const big = find(kind, 1e9, 'wasm');
    const name = `wasm peak RSS on the 1 GB ${kind} document <= 10 MB one + 30 MB, and < 150 MB`;
    if (!small || !small.run || !big || !big.run) { out.push({ name, status: 'NOT MEASURED', detail: 'needs sizes 10MB and 1GB' }); continue; }
    if (!small.run.ok || !big.run.ok) { out.push({ name, status: 'MISS', detail: `wasm failed: ${(small.run.error || big.run.error)}` }); continue; }
    const a = peakKiB(small.run) / 1024;
    const b = peakKiB(big.run) / 1024;
    const pass = b - a <= 30 && b < 150;
    out.push({ name, status: pass ? 'PASS' : 'MISS', detail: `10 MB: ${fmt(a)} MB, 1 GB: ${fmt(b)} MB (${b - a >= 0 ? "+" : ""}${fmt(b - a)} MB)` });
  }
  if (e2e && e2e.ok) {
    const full = e2e.detectionsExpected >= 1000000;
    const tag = full ? '' : ` (smoke size: ${fmtInt(e2e.detectionsExpected)} detections, not the target's 1,000,000)`;
    out.push({ name: 'end-to-end 1,000,000 detections in < 30 s' + tag, status: e2e.wallMs < 30000 && full ? 'PASS' : (full ? 'MISS' : 'NOT MEASURED'), detail: `${fmt(e2e.wallMs / 1000, 1)} s` });
    out.push({ name: 'end-to-end transporter peak RSS < 200 MB' + tag, status: e2e.peakRssKiB / 1024 < 200 && full ? 'PASS' : (full ? 'MISS' : 'NOT MEASURED'), detail: `${mb(e2e.peakRssKiB)} MB` });
  } else {
    out.push({ name: 'end-to-end 1,000,000 detections < 30 s and < 200 MB', status: 'NOT MEASURED', detail: e2e ? `e2e failed: ${e2e.error}` : 'not run' });
  }
  if (e2e && e2e.bundleBytes) {
    out.push({ name: 'single file < 400 kB', status: e2e.bundleBytes < 400 * 1024 ? 'PASS' : 'MISS', detail: `${e2e.bundleBytes} bytes (${fmt(e2e.bundleBytes / 1024)} kB)` });
  } else {
    out.push({ name: 'single file < 400 kB', status: 'NOT MEASURED', detail: 'no bundle' });
  }
  return out;
}

function e2eSection(e2e) {
  if (!e2e) return 'Not run (`--no-e2e`).';
  if (!e2e.ok) return `**Failed**: ${e2e.error}\n\n${e2e.detail ? '```\n' + e2e.detail + '\n```' : ''}`;
  return [
    `Simulator (own process, limits off, \`recordServed: false\`): ${fmtInt(e2e.hosts)} hosts x ${e2e.detectionsPerHost} detections` +
      ` = ${fmtInt(e2e.detectionsExpected)} detections; transporter: \`${e2e.bundle}\` (${fmtInt(e2e.bundleBytes)} bytes)` +
      ` run in a mirrored Archer context (\`${e2e.archerHost || 'bench/e2e-archer.js'}\`: vm sandbox, host ${e2e.mode}: CustomParameters, Tokens, OutputWriter streaming writeItem to a file, callback), batchSize ${e2e.batchSize}.`,
    '',
    '| wall time (s) | requests | records written | output bytes | writeItem calls | transporter peak RSS (MB) | simulator peak RSS (MB) | outcome |',
    '|---:|---:|---:|---:|---:|---:|---:|---|',
    `| ${fmt(e2e.wallMs / 1000, 2)}${e2e.otherCores > BUSY ? ` (busy ${fmt(e2e.otherCores, 2)})` : ''} | ${fmtInt(e2e.requests)} | ${fmtInt(e2e.records)} | ${fmtInt(e2e.outputBytes)} | ${fmtInt(e2e.writeItems)} | ${mb(e2e.peakRssKiB)} | ${mb(e2e.simPeakRssKiB)} | ${e2e.outcome} |`,
    '',
    `Wall time: from starting the transporter process until it exited after Archer's callback (wasm instantiation included; the simulator was already listening). ` +
      (e2e.writeItemMs == null ? '' : `Of that, ${fmt(e2e.writeItemMs / 1000, 2)} s were spent inside the mirrored OutputWriter's writeItem (writing the chunks, Buffers of bytes, as ${fmt(e2e.outputBytes / 1e6, 0)} MB to a file: the host's cost, counted in the wall time anyway). `) +
      `Throughput: ${fmt(e2e.outputBytes / 1e6 / (e2e.wallMs / 1000))} MB/s of Archer output, ${fmtInt(e2e.records / (e2e.wallMs / 1000))} records/s; ` +
      // coreSummary: the core's Summary (the shim's summary line); a string in results saved before it.
      `core summary: \`${e2e.coreSummary && typeof e2e.coreSummary === 'object' ? JSON.stringify(e2e.coreSummary) : e2e.coreSummary || '?'}\`.`,
  ].join('\n');
}

function writeResults(o, env, results, e2e, targets, argv) {
  const profileFile = path.join(__dirname, 'PROFILE.md');
  const profile = fs.existsSync(profileFile) ? fs.readFileSync(profileFile, 'utf8').replace(/^# .*\n/, '') : null;
  // bench/parallel.js (issue 6) writes its own table; it is copied in too.
  const parallelFile = path.join(__dirname, 'PARALLEL.md');
  const parallel = fs.existsSync(parallelFile) ? fs.readFileSync(parallelFile, 'utf8') : null;
  const docs = results.map((d) => `- \`bench/data/${path.basename(d.meta.file)}\`: ${fmtInt(d.meta.bytes)} bytes, ${fmtInt(d.meta.records)} ${d.meta.recordElement} records (${fmtInt(d.meta.units)} ${d.meta.scale}), data source \`${d.meta.source}\``).join('\n');
  const text = `# Benchmark results

Generated by \`bash bench/run.sh${argv.length ? ' ' + argv.join(' ') : ''}\` on ${env.date}. Do not edit by hand: the
hand-written profile analysis lives in \`bench/PROFILE.md\` and the parallel-extraction table in
\`bench/PARALLEL.md\` (\`node bench/parallel.js\`); both are copied in below.

## Machine and versions

- ${env.nproc} CPUs (\`nproc\`), ${env.memGiB} GiB memory, CPU: ${env.cpu}, Linux ${env.kernel}
- load average at the start: ${env.loadavg}
- Node ${env.node}; ${env.rustc}; ${env.wasmBindgen || 'wasm-bindgen ?'}
- npm packages: ${env.packages}
- core: git ${env.git}; wasm module ${env.wasm ? `\`${env.wasm.file}\`${o.wasmSnapshot ? ' (a copy of target/wasm-pkg/nodejs taken when the run started)' : ''} ${env.wasm.bytes} bytes, sha256 ${env.wasm.sha256}..., built ${env.wasm.mtime}` : 'missing'}

## Targets (issue 5)

| target | result | measured |
|---|---|---|
${targets.map((t) => `| ${t.name} | **${t.status}** | ${t.detail} |`).join('\n')}

## Transform throughput and memory

Same bytes for every contender; each run is its own process; time = median of ${o.repeat} run(s), measured inside the process
after the modules are loaded (reading the file included); MB = 10^6 bytes; peak RSS = \`VmHWM\` of the process
(for a process that crashed: \`/usr/bin/time\` max RSS). "throughput vs (1)" is the contender's MB/s divided by the wasm core's.
The machine is shared: before each run the harness waits (up to ${o.quietWait} s) until other processes use < 0.3 cores, and a
time marked "(busy N)" means other processes used N cores on average while that run ran (so it is pessimistic).

${tableRows(results)}

Documents (generated by \`bench/generate.js\` with the simulator's model and renderers, seed 20240601, API 2.0):

${docs}

### What each contender does

1. **wasm core in Node**: \`new Transformer(source)\` from \`target/wasm-pkg/nodejs\` (the release build the
   single file embeds); the file is read in ${o.chunk / 1024} KiB chunks into one reused Buffer, each chunk \`push\`ed
   (copied into wasm memory), then the output chunks (Archer records, default chunking: 1000 records / 4 MiB per
   chunk) taken until none is left, each copied out of wasm memory into a Buffer exactly as the Archer entry hands
   it to \`OutputWriter.writeItem\` (\`takeOutputChunk()\` + \`js-shim/src/output-text.js\`), counted and dropped;
   \`finish()\` at the end. This is what the transporter does per response body chunk, minus the HTTP and
   \`writeItem\`.
2. **native core**: \`bench/native\` (release, LTO, codegen-units=1, panic=abort), the same \`Transform::new(source,
   1000, 4 MiB, Limits::default())\`, \`push\` of ${o.chunk / 1024} KiB chunks read from the file, \`take_output\` drained.
3. **xml2js** (\`parseString\`, default options, run synchronously) on the whole document read as one string, then
   the records counted in the resulting tree. Node heap limit raised to ${o.wholeHeapMb} MB to give it its best chance.
4. **fast-xml-parser** (\`new XMLParser({ignoreAttributes: false}).parse\`) on the whole document read as one
   string, then the records counted. Same heap limit.
5. **saxes** (\`SaxesParser\`, streaming): the ${o.chunk / 1024} KiB chunks are decoded with a \`StringDecoder\` and
   written to the parser; a minimal extractor builds one small object per record (its direct leaf fields, plus the
   host ID for a detection) and drops it. It shapes no Archer output, so it does less work than (1).

The JS parsers only parse (and count); only (1) and (2) produce the Archer output (keys, escaping, chunking).
A whole-document parser cannot read a 1 GB document: V8's maximum string length is 2^29-24 characters (~536 MB).

## End-to-end run

${e2eSection(e2e)}
${profile ? `\n## Profile findings\n\n${profile.trim()}\n` : ''}${parallel ? `\n${parallel.trim()}\n` : ''}`;
  fs.mkdirSync(path.dirname(o.results), { recursive: true });
  fs.writeFileSync(o.results, text);
}

// ---- one run at a time -----------------------------------------------------------------------
const LOCK = path.join(DATA, '.bench.lock');

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

/** Takes bench/data/.bench.lock (pid inside); waits up to 30 min for a live holder; frees it on exit. */
async function takeLock(log) {
  fs.mkdirSync(DATA, { recursive: true });
  const t0 = Date.now();
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      process.on('exit', () => { try { if (fs.readFileSync(LOCK, 'utf8') === String(process.pid)) fs.unlinkSync(LOCK); } catch (e) { /* gone */ } });
      for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
      return;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try { holder = Number(fs.readFileSync(LOCK, 'utf8')); } catch (e) { /* just freed */ }
    if (Number.isFinite(holder) && !alive(holder)) { try { fs.unlinkSync(LOCK); } catch (e) { /* raced */ } continue; }
    if (Date.now() - t0 > 30 * 60 * 1000) throw new Error(`another benchmark (pid ${holder}) has held ${LOCK} for 30 minutes`);
    if (!told) { log(`[bench] another benchmark is running (pid ${holder}); waiting for it to finish`); told = true; }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

// ---- main ------------------------------------------------------------------------------------
async function main() {
  const o = parseArgs(process.argv.slice(2));
  const log = (m) => process.stderr.write(m + '\n');
  o.log = log;
  if (o.renderOnly) {
    const saved = JSON.parse(fs.readFileSync(o.renderOnly, 'utf8'));
    const ro = Object.assign({}, saved.o, { results: process.argv.includes('--results') ? o.results : saved.o.results });
    writeResults(ro, saved.env, saved.results, saved.e2e, saved.targets, saved.argv);
    log(`[bench] rewrote ${path.relative(ROOT, ro.results)} from ${path.relative(ROOT, o.renderOnly)}`);
    return;
  }
  // One benchmark at a time on this machine (two would disturb each other's timings).
  await takeLock(log);
  // Snapshot what is measured: the tree is shared, and a rebuild in the middle of a run would mix
  // two builds in one table.
  o.snapDir = path.join(DATA, 'under-test', String(process.pid));
  process.on('exit', () => { try { fs.rmSync(o.snapDir, { recursive: true, force: true }); } catch (e) { /* best effort */ } });
  if (!o.wasmPkg && o.contenders.includes('wasm') && fs.existsSync(WASM_FILE)) {
    const snap = path.join(o.snapDir, 'wasm-pkg');
    fs.rmSync(snap, { recursive: true, force: true });
    fs.mkdirSync(snap, { recursive: true });
    for (const f of fs.readdirSync(path.dirname(WASM_FILE))) {
      const from = path.join(path.dirname(WASM_FILE), f);
      fs.copyFileSync(from, path.join(snap, f));
      const st = fs.statSync(from);
      fs.utimesSync(path.join(snap, f), st.atime, st.mtime); // keep the build time
    }
    o.wasmPkg = snap;
    o.wasmSnapshot = true;
  }
  if (o.contenders.includes('native') && fs.existsSync(NATIVE_BIN)) {
    const snap = path.join(o.snapDir, 'qvt-bench-native');
    fs.mkdirSync(path.dirname(snap), { recursive: true });
    fs.copyFileSync(NATIVE_BIN, snap);
    fs.chmodSync(snap, 0o755);
    o.nativeBin = snap;
  }
  const env = environment(o);
  log(`[bench] ${env.nproc} CPUs, ${env.memGiB} GiB, ${env.cpu}; node ${env.node}; load ${env.loadavg}`);
  if (o.contenders.includes('native') && !fs.existsSync(NATIVE_BIN)) throw new Error(`${NATIVE_BIN} is missing: run bench/run.sh (it builds bench/native)`);
  if (o.contenders.includes('wasm') && !o.wasmPkg && !fs.existsSync(WASM_FILE)) throw new Error(`${WASM_FILE} is missing: run bash scripts/build-wasm.sh`);

  const results = [];
  if (!o.e2eOnly) {
    for (const size of o.sizes) {
      for (const kind of o.kinds) {
        const meta = await ensureDocument(kind, size, DATA, (m) => log(`[bench] ${m}`));
        log(`[bench] ${path.basename(meta.file)}: ${fmtInt(meta.bytes)} bytes, ${fmtInt(meta.records)} records`);
        const doc = { meta, runs: [] };
        for (const c of o.contenders) doc.runs.push(await measure(c, meta, o, log));
        results.push(doc);
      }
    }
  }

  let e2e = null;
  if (o.e2e) {
    log(`[bench] end-to-end: ${o.e2eHosts} hosts x ${o.e2eDetections} detections`);
    if (o.quietWait > 0) await waitQuiet(o.quietWait, log);
    const r = await runChild(process.execPath, [path.join(__dirname, 'e2e.js'), '--hosts', String(o.e2eHosts), '--detections', String(o.e2eDetections), '--json'], Math.max(o.timeoutSec, 600));
    try {
      e2e = JSON.parse(r.stdout.trim().split('\n').pop());
    } catch (e) {
      e2e = { ok: false, error: failureReason(r, null), detail: r.stderr.slice(-3000) };
    }
    if (e2e) e2e.otherCores = r.otherCores;
    if (r.stderr) log(r.stderr.trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
  }

  const targets = checkTargets(results, e2e);
  if (results.length) {
    console.log('\n' + tableRows(results) + '\n');
  }
  if (e2e) console.log(e2eSection(e2e) + '\n');
  console.log('| target | result | measured |\n|---|---|---|\n' + targets.map((t) => `| ${t.name} | **${t.status}** | ${t.detail} |`).join('\n'));
  const argv = process.argv.slice(2);
  writeResults(o, env, results, e2e, targets, argv);
  const saved = { o: { repeat: o.repeat, chunk: o.chunk, wholeHeapMb: o.wholeHeapMb, quietWait: o.quietWait, results: o.results, wasmSnapshot: o.wasmSnapshot }, env, results, e2e, targets, argv };
  fs.writeFileSync(o.results.replace(/\.md$/, '') + '.json', JSON.stringify(saved, null, 1) + '\n');
  log(`\n[bench] wrote ${path.relative(ROOT, o.results)}`);
}

main().catch((e) => { console.error(`[bench] ${e.stack || e.message}`); process.exit(1); });
