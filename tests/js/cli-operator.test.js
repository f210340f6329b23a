'use strict';
// The CLI as an operator runs it from cron or systemd (issue #14 point 5): the installed command of
// the packed package (node_modules/.bin/qualys-vm-transporter) as a child process, against the
// Qualys simulator on 127.0.0.1.
//   - SIGINT / SIGTERM during `run`: the request in flight is ended, the resume checkpoint printed
//     and saved (--save-tokens), exit 130 / 143; a second signal exits at once
//   - FILE.part is created by the first record only: a credential or configuration error, or a
//     failed transform, leaves none
//   - `--out -` piped into `head`: the run stops on EPIPE with one line and exit 141, no stack trace

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { EventEmitter } = require('events');
const { sim, paramsFor, SHIM } = require('./helpers/shim-util');
const { packedPackage } = require('./helpers/packed');

let s;
let dir;
let bin;
test.before(async () => {
  const p = await packedPackage();
  bin = path.join(p.project, 'node_modules', 'qualys-vm-transporter', 'bin', 'qualys-vm-transporter.js');
  s = await sim({ hosts: 40, detectionsPerHost: 3, rateLimit: 'off', concurrency: 'off' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-cli-op-'));
});
test.after(async () => {
  if (s) await s.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

function writeJson(name, value) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, JSON.stringify(value));
  return p;
}

/**
 * Starts the installed command; resolves {status, signal, stdout, stderr} when it exits (killed
 * after timeoutMs). `onStderr(text, child)` sees the stderr so far after each chunk.
 */
function start(args, options = {}) {
  const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env: Object.assign({}, process.env, options.env || {}) });
  let stdout = '';
  let stderr = '';
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out: ${args.join(' ')}\n${stderr}`)); }, options.timeoutMs || 30000);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; if (options.onStderr) options.onStderr(stderr, child); });
    child.on('close', (status, signal) => { clearTimeout(timer); resolve({ status, signal, stdout, stderr }); });
  });
  return { child, done };
}

/** Runs the command until a delayed page 3 is in flight, then sends `sig`. */
async function stopDuringPage3(sig, name) {
  s.control.reset();
  s.control.setFaults([{ type: 'delay', endpoint: 'hosts', page: 3, ms: 20000 }]);
  const pfile = writeJson(`params-${name}.json`, paramsFor(s.url, 'hosts', { batchSize: 10, maxRetry: 0 }));
  const out = path.join(dir, `${name}.xml`);
  const saved = path.join(dir, `${name}-tokens.json`);
  let sent = 0;
  let stderr = '';
  const t0 = Date.now();
  const run = start(['run', '--params', pfile, '--last-run-time', '2004-04-04T00:00:00Z', '--out', out, '--save-tokens', saved], {
    onStderr: (text) => { stderr = text; },
  });
  // Once page 2 is done and page 3 (delayed 20 s) has been asked for: the signal.
  const poll = setInterval(() => {
    if (!sent && /page 2 done/.test(stderr) && s.log.entries.some((e) => e.endpoint === 'hosts' && e.page === 3)) {
      sent = Date.now();
      run.child.kill(sig);
    }
  }, 50);
  const r = await run.done.finally(() => clearInterval(poll));
  const entry = s.log.entries.find((e) => e.endpoint === 'hosts' && e.page === 3);
  for (let i = 0; i < 50 && entry && entry.durationMs === null; i++) await delay(100);
  s.control.reset();
  return { r, out, saved, sent, ms: Date.now() - t0, entry };
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  test(`run: ${sig} stops cleanly: the request in flight is ended, the checkpoint printed and saved, exit ${code}`, { timeout: 60000 }, async () => {
    const { r, out, saved, sent, entry } = await stopDuringPage3(sig, sig.toLowerCase());
    assert.ok(sent, `the signal was sent: ${r.stderr}`);
    assert.equal(r.signal, null, 'the process exited by itself, not killed by the signal');
    assert.equal(r.status, code, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`${sig} received: stopping the run`));
    assert.match(r.stdout, new RegExp(`the run was STOPPED by ${sig}`));
    assert.match(r.stdout, /resume checkpoint .*\n {2}PreviousRunContext: "qvt2;ds=hosts;/);
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
    const tokens = JSON.parse(fs.readFileSync(saved, 'utf8'));
    assert.equal(tokens.LastRunTime, '2004-04-04T00:00:00Z', 'LastRunTime is not advanced');
    assert.match(tokens.PreviousRunContext, /^qvt2;ds=hosts;/);
    assert.ok(entry && entry.durationMs !== null && entry.durationMs < 10000 && !entry.complete, `the delayed request was ended, not waited for: ${JSON.stringify(entry && { d: entry.durationMs, c: entry.complete, f: entry.fault })} ${JSON.stringify(s.log.entries.length)}`);
    assert.ok(!fs.existsSync(out), 'no finished document');
    assert.equal((fs.readFileSync(`${out}.part`, 'utf8').match(/<HOST>/g) || []).length, 20, 'the partial output holds pages 1 and 2');
    // The next run resumes from the checkpoint: only the 20 hosts not yet written.
    const next = await start(['run', '--params', path.join(dir, `params-${sig.toLowerCase()}.json`), '--tokens', saved, '--quiet']).done;
    assert.equal(next.status, 0, next.stderr);
    assert.match(next.stdout, /records=20 /);
  });
}

test('run: a second signal exits at once while the first one is still stopping the run', { timeout: 60000 }, async () => {
  // In process, with the CLI's own signal source and exit: the first SIGINT aborts the run, whose
  // stop then waits (up to 5 s) for a stdout write that never drains; a second SIGINT exits at once.
  s.control.reset();
  const { main } = require(path.join(SHIM, 'cli.js'));
  const signals = new EventEmitter();
  const exits = [];
  let stderr = '';
  const stdout = new EventEmitter();
  let writes = 0;
  stdout.write = () => { writes++; return false; }; // a full pipe: never 'drain'
  const pfile = writeJson('params-twice.json', paramsFor(s.url, 'hosts', { batchSize: 10 }));
  const t0 = Date.now();
  const running = main(['run', '--params', pfile, '--out', '-'], { stdout, stderr: { write: (t) => { stderr += t; } }, signals, exit: (c) => exits.push({ c, at: Date.now() - t0 }), env: {} });
  for (let i = 0; i < 100 && writes === 0; i++) await delay(50);
  assert.ok(writes > 0, 'the run is writing');
  signals.emit('SIGINT', 'SIGINT');
  await delay(200);
  assert.deepEqual(exits, [], 'the first signal only stops the run');
  signals.emit('SIGINT', 'SIGINT');
  assert.equal(exits.length, 1, 'the second signal exits at once');
  assert.equal(exits[0].c, 130);
  assert.match(stderr, /SIGINT again: exiting at once/);
  assert.equal(await running, 130, 'the stopped run ends with 130 too');
  assert.equal(writes, 1, 'nothing more was written after the stalled write');
  assert.equal(signals.listenerCount('SIGINT'), 0, 'the handlers are removed after the run');
});

test('run: a credential or configuration error leaves no FILE.part', { timeout: 60000 }, async () => {
  s.control.reset();
  const cases = [
    ['credentials', paramsFor(s.url, 'hosts', { password: 'wrong-password' }), /QUALYS_CREDENTIALS/],
    ['config', { dataSource: 'hosts' }, /CONFIG_INVALID/],
  ];
  for (const [name, params, want] of cases) {
    const out = path.join(dir, `nopart-${name}.xml`);
    const r = await start(['run', '--params', writeJson(`params-nopart-${name}.json`, params), '--out', out]).done;
    assert.equal(r.status, 1, `${name}: ${r.stderr}`);
    assert.match(r.stdout, want);
    assert.ok(!fs.existsSync(`${out}.part`), `${name}: no ${out}.part`);
    assert.ok(!fs.existsSync(out), `${name}: no ${out}`);
    assert.doesNotMatch(r.stdout, /partial output left/);
  }
  // A run without records still writes the (empty) document.
  const empty = path.join(dir, 'empty.xml');
  const r = await start(['run', '--params', writeJson('params-empty.json', paramsFor(s.url, 'hosts')), '--last-run-time', '2025-01-01T00:00:00Z', '--out', empty]).done;
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(empty, 'utf8'), '<?xml version="1.0" encoding="UTF-8"?>\n<QUALYS_HOSTS></QUALYS_HOSTS>\n');
  assert.ok(!fs.existsSync(`${empty}.part`));
});

test('transform: a failure leaves no FILE.part', { timeout: 30000 }, async () => {
  const bad = path.join(dir, 'truncated.xml');
  fs.writeFileSync(bad, '<?xml version="1.0"?><KNOWLEDGE_BASE_VULN_LIST_OUTPUT><RESPONSE><VULN_LIST><VULN><QID>1</QID></VULN><VULN><QID>2');
  const out = path.join(dir, 'transform-out.xml');
  const r = await start(['transform', '--source', 'kb', bad, '--out', out]).done;
  assert.equal(r.status, 1, r.stderr);
  assert.ok(!fs.existsSync(`${out}.part`), 'no .part');
  assert.ok(!fs.existsSync(out));
});

test('run --out - piped into head: stops on EPIPE with one line, exit 141, no stack trace', { timeout: 60000 }, async () => {
  s.control.reset();
  // Page 2 comes 1.5 s late: head has read its bytes and exited by then.
  s.control.setFaults([{ type: 'delay', endpoint: 'detections', page: 2, ms: 1500 }]);
  const pfile = writeJson('params-head.json', paramsFor(s.url, 'detections', { batchSize: 10 }));
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} run --params ${JSON.stringify(pfile)} --out - --quiet 2>${JSON.stringify(path.join(dir, 'head-err.txt'))} | head -c 100 >/dev/null; echo "status=\${PIPESTATUS[0]}"`;
  const r = await new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', cmd], { cwd: dir });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('timed out')); }, 30000);
    child.on('close', () => { clearTimeout(timer); resolve(out); });
  });
  s.control.reset();
  const err = fs.readFileSync(path.join(dir, 'head-err.txt'), 'utf8');
  assert.match(r, /status=141/, `${r} ${err}`);
  assert.equal(err, 'qualys-vm-transporter: the output pipe was closed (EPIPE); the run was stopped\n');
});

test('help: -v is the version; the main help names the exit codes and the uploadable file of the installed package; simulate --help names the command', { timeout: 30000 }, async () => {
  const p = await packedPackage();
  const version = require(p.pkgDir).version();
  for (const flag of ['-v', '--version']) {
    const r = await start([flag]).done;
    assert.equal(r.status, 0, `${flag}: ${r.stderr}`);
    assert.equal(r.stdout, `qualys-vm-transporter ${version}\n`, flag);
  }
  const h = await start(['--help']).done;
  assert.equal(h.status, 0);
  for (const code of ['0', '1', '2', '130', '141', '143']) assert.match(h.stdout, new RegExp(`^ {2}${code} +\\S`, 'm'), `exit code ${code} documented`);
  assert.match(h.stdout, /node_modules\/qualys-vm-transporter\/qualys-vm-transporter\.js/);
  assert.match(h.stdout, /qualys-vm-transporter\.js\.sha256/);
  // This installation's own file, named where it is; it and its checksum exist.
  const here = path.join(p.pkgDir, 'qualys-vm-transporter.js');
  assert.ok(h.stdout.includes(here), `the installed path ${here} is named:\n${h.stdout}`);
  assert.ok(fs.existsSync(here) && fs.existsSync(`${here}.sha256`));
  const sh = await start(['simulate', '--help']).done;
  assert.equal(sh.status, 0, sh.stderr);
  assert.match(sh.stdout, /usage: qualys-vm-transporter simulate \[options\]/);
  assert.doesNotMatch(sh.stdout, /js-shim|simulator\/cli\.js|node /, 'no repository path');
  const rh = await start(['run', '--help']).done;
  assert.match(rh.stdout, /\n {2}batchSize {2,}/, 'run --help lists the Custom Parameters');
  assert.match(rh.stdout, /\n {2}hostDetections {2,}detectionUrl/, 'and the data sources');
});

/** The progress lines drawn in a stderr text (each drawn after "\r\x1b[2K"). */
function progressLines(text) {
  return text.split('\r\x1b[2K').slice(1).map((x) => x.split('\n').pop()).filter(Boolean);
}

test('progress line: no internal words, the windows and an estimate after the IDs were listed, lines fit 80 columns', { timeout: 60000 }, async () => {
  s.control.reset();
  // kb lists the matching QIDs first (30 QIDs, 10 per window: 3 windows); each window comes 1.2 s late.
  s.control.setFaults([{ type: 'delay', endpoint: 'kb', ms: 1200 }]);
  const pfile = writeJson('params-progress.json', paramsFor(s.url, 'kb', { kbChunkSize: 10 }));
  const r = await start(['run', '--params', pfile, '--progress']).done;
  s.control.reset();
  assert.equal(r.status, 0, r.stderr);
  const lines = progressLines(r.stderr);
  assert.ok(lines.length > 3, r.stderr);
  assert.doesNotMatch(r.stderr, /pending/, 'no internal word');
  for (const l of lines) assert.ok(l.length <= 79, `fits 80 columns (${l.length}): ${l}`);
  assert.ok(lines.some((l) => /ID ranges 0\/3/.test(l)), `the total once listed: ${lines.join('\n')}`);
  assert.ok(lines.some((l) => /ID ranges [12]\/3, ~\d+s left/.test(l)), `an estimate: ${lines.join('\n')}`);
  assert.ok(lines.some((l) => /^\[done\].*ID ranges 3\/3/.test(l)), 'all windows done');
});

test('progress line: a wait counts down', { timeout: 60000 }, async () => {
  s.control.reset();
  s.control.setFaults([{ type: 'http5xx', endpoint: 'hosts', page: 2, status: 503, times: 1 }]);
  const pfile = writeJson('params-countdown.json', paramsFor(s.url, 'hosts', { batchSize: 20, retryDelaySec: 4, maxRetry: 1 }));
  const r = await start(['run', '--params', pfile, '--progress']).done;
  s.control.reset();
  assert.equal(r.status, 0, r.stderr);
  const waits = progressLines(r.stderr).map((l) => /^\[waiting (\d+)s\]/.exec(l)).filter(Boolean).map((m) => Number(m[1]));
  assert.ok(waits.length >= 3, `several draws during the 4 s wait: ${waits}`);
  assert.ok(waits[0] >= 3 && waits[waits.length - 1] <= 1, `counts down: ${waits}`);
  for (let i = 1; i < waits.length; i++) assert.ok(waits[i] <= waits[i - 1], `never counts up: ${waits}`);
});

test('progress line on a 60-column terminal (a pty from script(1)): every line fits', { timeout: 60000, skip: !hasScript() && 'script(1) is not installed' }, async () => {
  s.control.reset();
  const pfile = writeJson('params-pty.json', paramsFor(s.url, 'detections', { batchSize: 10 }));
  const cmd = `stty cols 60 rows 24; ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} run --params ${JSON.stringify(pfile)}`;
  const out = await new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: dir });
    let text = '';
    child.stdout.on('data', (d) => { text += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('script timed out')); }, 30000);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, text }); });
  });
  assert.equal(out.status, 0, out.text);
  const lines = progressLines(out.text.replace(/\r\n/g, '\n'));
  assert.ok(lines.length > 0, out.text);
  for (const l of lines) assert.ok(l.length <= 59, `fits 60 columns (${l.length}): ${l}`);
  assert.ok(lines.some((l) => /^\[[^\]]+\] pages \d+ \| records \d+/.test(l)));
});

test('progress line: fitted to the width, the least useful parts left out first', () => {
  const { progressLine } = require(path.join(SHIM, 'cli.js'));
  const p = { pages: 12345, records: 123456789, bytesIn: 12345678901, waits: 123, waitMs: 1234567, state: 'page 12345 retry 3', waitUntil: 0, windows: 20000, windowsDone: 5000, windowsSince: 1000, startedMs: 0 };
  const wide = progressLine(p, 3601000, 200);
  assert.match(wide, /^\[page 12345 retry 3\] pages 12345 \| records 123456789 \| \d+ rec\/s \| in [\d.]+ GB \| waits 123 \(1234\.6 s\) \| ID ranges 5000\/20000, ~3h 0m left \| 1h 0m$/);
  const narrow = progressLine(p, 3601000, 80);
  assert.ok(narrow.length <= 79, narrow);
  assert.match(narrow, /^\[page 12345 retry 3\] (pages 12345 \| )?records 123456789 \| (.* \| )?ID ranges 5000\/20000, ~3h 0m left$/);
  assert.doesNotMatch(narrow, /waits|1h 0m$/, 'elapsed and waits go first');
  assert.equal(progressLine(Object.assign({}, p, { state: 'waiting', waitUntil: 3601000 + 65000 }), 3601000, 200).slice(0, 18), '[waiting 1m 5s] pa');
});

function hasScript() {
  try {
    require('child_process').execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return false;
  }
}

test('command lines are read by node:util parseArgs: a flag given a value, an unknown short option, the simulator as strict as the CLI', { timeout: 30000 }, async () => {
  for (const [args, want] of [
    [['run', '--quiet=yes'], /^qualys-vm-transporter: --quiet takes no value\n$/],
    [['run', '-x'], /^qualys-vm-transporter: unknown option an option \(see --help\)\n$/],
    [['run', '--params'], /^qualys-vm-transporter: --params needs a value\n$/],
    [['simulate', '--quiet=1'], /^qualys-vm-transporter: simulate: --quiet takes no value \(see --help\)\n$/],
    [['simulate', 'extra'], /^qualys-vm-transporter: simulate: unexpected argument extra \(see --help\)\n$/],
  ]) {
    const r = await start(args).done;
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
  }
  // What the CLI and the dev tools share (js-shim/src/cli-args.js): repeatable options, "--", "-".
  const { parseArgs } = require(path.join(SHIM, 'src', 'cli-args.js'));
  assert.deepEqual(parseArgs(['--param=a=b', '--param', 'c=d', '-', '--', '--x'], { param: 'list' }), { opts: { param: ['a=b', 'c=d'] }, positional: ['-', '--x'] });
});
