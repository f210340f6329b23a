'use strict';
// The command line (js-shim/cli.js, and the same CLI inside the single file): run, transform,
// simulate, --help on each, one-line errors with non-zero exit codes, parameters from a file,
// flags and the environment, the output document, the next tokens, and the progress line.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { sim, paramsFor, fetchWhole, API, bundlePath, buildBundle, SHIM, lib } = require('./helpers/shim-util');

const CLI = path.join(SHIM, 'cli.js');
let s;
let dir;
test.before(async () => {
  buildBundle();
  s = await sim({ rateLimit: 'off', concurrency: 'off' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-cli-'));
});
test.after(async () => {
  if (s) await s.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs a command without blocking this process's event loop (the simulator lives here). */
function exec(args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: Object.assign({}, process.env, options.env || {}), cwd: options.cwd || dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out: ${args.join(' ')}`)); }, options.timeoutMs || 30000);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

function writeJson(name, value) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, JSON.stringify(value));
  return p;
}

test('run: parameters from a file, the password from QVT_PASSWORD, the document in --out, the next tokens', async () => {
  const params = paramsFor(s.url, 'hosts', { batchSize: 15 });
  delete params.password;
  const pfile = writeJson('params.json', params);
  const tfile = writeJson('tokens.json', { LastRunTime: '2001-01-01T00:00:00Z', PreviousRunContext: '' });
  const out = path.join(dir, 'hosts.xml');
  const next = path.join(dir, 'next.json');
  const t0 = new Date();
  const r = await exec([CLI, 'run', '--params', pfile, '--tokens', tfile, '--out', out, '--save-tokens', next], { env: { QVT_PASSWORD: 'simpass' } });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const doc = fs.readFileSync(out, 'utf8');
  assert.ok(doc.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<QUALYS_HOSTS><HOST>'), doc.slice(0, 80));
  assert.ok(doc.endsWith('</HOST></QUALYS_HOSTS>\n'));
  assert.equal((doc.match(/<HOST>/g) || []).length, 40);
  assert.ok(!fs.existsSync(`${out}.part`));
  assert.match(r.stdout, /the run succeeded/);
  assert.match(r.stdout, /LastRunTime: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  assert.match(r.stdout, /PreviousRunContext: ""/);
  assert.match(r.stdout, /summary: dataSource=hosts records=40 pages=3 requests=3 retries=0/);
  const tokens = JSON.parse(fs.readFileSync(next, 'utf8'));
  assert.ok(Date.parse(tokens.LastRunTime) >= Math.floor(t0.getTime() / 1000) * 1000 - 1000);
  assert.equal(tokens.PreviousRunContext, '');
  // Plain log lines on stderr (not a terminal): RSA format, no progress line.
  const lines = r.stderr.trim().split('\n');
  assert.ok(lines.every((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z :: (INFO|WARN|ERROR) :: /.test(l)), r.stderr);
  assert.ok(!r.stderr.includes('\r'));
  assert.ok(r.stderr.includes('LastRunTime=2000-12-31T00:00:00Z'), 'the tokens file was used (offset -1 day)');
});

test('run: --param wins over the file and the environment; --last-run-time; --out - writes stdout', async () => {
  const pfile = writeJson('params2.json', paramsFor(s.url, 'kb', { password: 'wrong' }));
  const r = await exec([CLI, 'run', '--params', pfile, '--param', 'password=simpass', '--param', 'rootNode=KB', '--last-run-time', '2002-02-02T00:00:00Z', '--out', '-'], { env: { QVT_PASSWORD: 'also-wrong' } });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<KB><VULN>'));
  assert.ok(r.stdout.endsWith('</KB>\n'));
  assert.match(r.stderr, /the run succeeded/);
  assert.match(r.stderr, /LastRunTime=2002-02-01T00:00:00Z/);
});

test('run: a failed run exits 1 with a one-line error and keeps no output document', async () => {
  const pfile = writeJson('params3.json', paramsFor(s.url, 'hosts', { password: 'wrong-password' }));
  const out = path.join(dir, 'failed.xml');
  const r = await exec([CLI, 'run', '--params', pfile, '--out', out]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^qualys-vm-transporter: the run FAILED: QUALYS_CREDENTIALS: .*\n/);
  // Issue #14: the credentials fail before any record, so no FILE.part is created (it was left before).
  assert.doesNotMatch(r.stdout, /partial output left/);
  assert.ok(!fs.existsSync(`${out}.part`));
  assert.ok(!fs.existsSync(out));
  assert.ok(r.stderr.includes(':: ERROR :: QUALYS_CREDENTIALS'), r.stderr);
});

test('run: a failed run that left a checkpoint saves it with --save-tokens; the next run resumes', async () => {
  s.control.reset();
  s.control.setFaults([{ type: 'http5xx', endpoint: 'hosts', page: [2] }]);
  const pfile = writeJson('params-resume.json', paramsFor(s.url, 'hosts', { batchSize: 10, maxRetry: 0 }));
  const next = path.join(dir, 'resume-tokens.json');
  try {
    const r = await exec([CLI, 'run', '--params', pfile, '--last-run-time', '2003-03-03T00:00:00Z', '--save-tokens', next]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /resume checkpoint .*\n {2}PreviousRunContext: "qvt2;ds=hosts;/);
    const saved = JSON.parse(fs.readFileSync(next, 'utf8'));
    assert.equal(saved.LastRunTime, '2003-03-03T00:00:00Z', 'LastRunTime is not advanced after a failure');
    assert.match(saved.PreviousRunContext, /^qvt2;ds=hosts;/);
  } finally {
    s.control.reset();
  }
  const again = await exec([CLI, 'run', '--params', pfile, '--tokens', next, '--save-tokens', next]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /records=30 /, 'the 10 hosts of page 1 are not fetched again');
  assert.equal(JSON.parse(fs.readFileSync(next, 'utf8')).PreviousRunContext, '');
});

test('run: --legacy-output mirrors Archer 6.4/6.5 (no OutputWriter)', async () => {
  const pfile = writeJson('params4.json', paramsFor(s.url, 'kb'));
  const out = path.join(dir, 'legacy.xml');
  const r = await exec([CLI, 'run', '--params', pfile, '--out', out, '--legacy-output', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const doc = fs.readFileSync(out, 'utf8');
  assert.ok(doc.startsWith('<?xml version="1.0" encoding="UTF-8"?><QUALYS_KB_VULNS><VULN>'));
  assert.equal((doc.match(/<VULN>/g) || []).length, 30);
  assert.equal(r.stderr, '', '--quiet: no log lines');
});

test('run: --progress draws a live progress line', async () => {
  const pfile = writeJson('params5.json', paramsFor(s.url, 'detections', { batchSize: 10 }));
  const r = await exec([CLI, 'run', '--params', pfile, '--progress']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\r\x1b\[2K\[(page \d+|done|starting)[^\]]*\] pages \d+ \| records \d+ \| \d+ rec\/s \| in [\d.]+ (B|kB|MB) \| waits 0 \(0\.0 s\)/); // eslint-disable-line no-control-regex
});

test('run on a terminal: the live progress line is on by default (a pty from script(1))', { skip: !hasScript() && 'script(1) is not installed' }, async () => {
  const pfile = writeJson('params6.json', paramsFor(s.url, 'detections', { batchSize: 10 }));
  // script gives the command a pseudo-terminal; its stdout is what the terminal showed.
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} run --params ${JSON.stringify(pfile)}`;
  const r = await new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: dir });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('script timed out')); }, 30000);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, out }); });
  });
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /\r\x1b\[2K\[[^\]]+\] pages \d+ \| records \d+/, 'a progress line was drawn'); // eslint-disable-line no-control-regex
  assert.match(r.out, /:: INFO :: page 1 done/, 'log lines still show');
  assert.match(r.out, /the run succeeded/);
});

function hasScript() {
  try {
    require('child_process').execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return false;
  }
}

test('run: bad command lines exit 2 with one line', async () => {
  const bad = writeJson('bad.json', ['not', 'an', 'object']);
  fs.writeFileSync(path.join(dir, 'broken.json'), '{ "dataSource": ');
  for (const [args, want] of [
    [['run'], /no parameters/],
    [['run', '--params'], /--params needs a value/],
    [['run', '--bogus'], /unknown option --bogus/],
    [['run', '--params', path.join(dir, 'missing.json')], /cannot read the parameters file .*ENOENT/],
    [['run', '--params', path.join(dir, 'broken.json')], /is not valid JSON/],
    [['run', '--params', bad], /must be a JSON object/],
    [['run', '--param', 'novalue'], /--param wants KEY=VALUE/],
    [['run', '--param', 'a=b', '--http', 'curl'], /--http must be one of node, request, fetch/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['transform', 'x.xml'], /transform needs --source/],
    [['transform', '--source', 'vulns', 'x.xml'], /--source must be one of kb, hosts, hostDetections, detections/],
    [['transform', '--source', 'kb'], /transform needs the response file/],
    [['transform', '--source', 'kb', path.join(dir, 'nope.xml')], /cannot read .*nope\.xml: ENOENT/],
  ]) {
    const r = await exec([CLI, ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line: ${r.stderr}`);
    assert.ok(r.stderr.startsWith('qualys-vm-transporter: '));
  }
  // A configuration error from the core is a failed run (exit 1), also on one line.
  const r = await exec([CLI, 'run', '--param', 'dataSource=hosts']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /the run FAILED: CONFIG_INVALID: 3 problems/);
});

test('--help on every command; --version', async () => {
  for (const [args, want] of [
    [['--help'], /usage: qualys-vm-transporter <command>/],
    [['help', 'run'], /usage: qualys-vm-transporter run --params/],
    [['run', '--help'], /QVT_PASSWORD/],
    [['transform', '--help'], /usage: qualys-vm-transporter transform --source/],
    [['simulate', '--help'], /Qualys VM API simulator/],
  ]) {
    const r = await exec([CLI, ...args]);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, want, args.join(' '));
  }
  const v = await exec([CLI, '--version']);
  assert.equal(v.stdout.trim(), `qualys-vm-transporter ${lib.version()}`);
  const none = await exec([CLI]);
  assert.equal(none.status, 2, 'no command: usage, exit 2');
});

test('transform: a saved response -> the Archer document, to a file or stdout', async () => {
  const resp = path.join(dir, 'detections-response.xml');
  const body = (await fetchWhole(`${s.url}${API.detections.replace('<LastRunTime>', '2000-01-01')}&truncation_limit=1000`)).body;
  fs.writeFileSync(resp, body);
  const out = path.join(dir, 'detections.xml');
  const r = await exec([CLI, 'transform', '--source', 'detections', resp, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const doc = fs.readFileSync(out, 'utf8');
  const lib2 = await lib.transform('detections', body);
  assert.equal(doc, `<?xml version="1.0" encoding="UTF-8"?>\n<QUALYS_DETECTIONS>${lib2.output}</QUALYS_DETECTIONS>\n`);
  assert.match(r.stderr, new RegExp(`transform: ${lib2.records} records`));
  const toStdout = await exec([CLI, 'transform', '--source', 'detections', '--root-node', 'X', resp]);
  assert.equal(toStdout.status, 0);
  assert.equal(toStdout.stdout, `<?xml version="1.0" encoding="UTF-8"?>\n<X>${lib2.output}</X>\n`);
  // Not a Qualys document: exit 1, one line.
  fs.writeFileSync(path.join(dir, 'junk.xml'), '<html><body>login</body></html>');
  const junk = await exec([CLI, 'transform', '--source', 'kb', path.join(dir, 'junk.xml'), '--out', path.join(dir, 'junk-out.xml')]);
  assert.equal(junk.status, 1);
  assert.match(junk.stderr, /^qualys-vm-transporter transform: UNEXPECTED_DOCUMENT: .*\n$/);
  assert.ok(!fs.existsSync(path.join(dir, 'junk-out.xml')));
});

test('simulate: starts the simulator (and the run command can use it)', async () => {
  const child = spawn(process.execPath, [CLI, 'simulate', '--quiet', '--hosts', '5', '--no-https']);
  try {
    const url = await new Promise((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (d) => { text += d; const m = /^(http:\/\/127\.0\.0\.1:\d+)/.exec(text); if (m) resolve(m[1]); });
      child.on('exit', (code) => reject(new Error(`simulate exited ${code}`)));
      setTimeout(() => reject(new Error('no URL from simulate')), 10000).unref();
    });
    const pfile = writeJson('params-sim.json', paramsFor(url, 'hosts'));
    const r = await exec([CLI, 'run', '--params', pfile]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /records=5 /);
  } finally {
    child.kill('SIGTERM');
  }
});

test('the single file is the same CLI', async () => {
  const pfile = writeJson('params-bundle.json', paramsFor(s.url, 'hosts'));
  const out = path.join(dir, 'bundle-out.xml');
  const r = await exec([bundlePath(), 'run', '--params', pfile, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((fs.readFileSync(out, 'utf8').match(/<HOST>/g) || []).length, 40);
  const h = await exec([bundlePath(), 'transform', '--help']);
  assert.equal(h.status, 0);
});
