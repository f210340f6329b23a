'use strict';
// The single file (scripts/bundle.js, built into a temp dir) as Archer runs it: a fresh vm context
// with only context, callback, console, Buffer, timers, process, WebAssembly and a require that
// resolves only the 6.x whitelist (request, xml2js, xpath, @xmldom/xmldom), or, for Archer
// 2025.04+, global fetch and no request. A code-signature block is appended to the file. Also: the
// OutputWriter contract, the legacy no-OutputWriter path, exactly one callback, the usage message
// without a context, and the file's size.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const { execFileSync, spawnSync } = require('child_process');
const { sim, paramsFor, runInSandbox, bundlePath, buildBundle, detectionKeys, SIGNATURE_BLOCK, lib } = require('./helpers/shim-util');

let s;
test.before(async () => {
  buildBundle();
  s = await sim({ rateLimit: 'off', concurrency: 'off' });
});
test.after(() => s && s.close());

const RSA_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z :: (INFO|WARN|ERROR|DEBUG) :: /;

test('the single file is under 400 kB, ends with a newline and works with a signature block appended', () => {
  const text = fs.readFileSync(bundlePath(), 'utf8');
  assert.ok(Buffer.byteLength(text) < 400 * 1000, `${Buffer.byteLength(text)} bytes`);
  assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'));
  assert.ok(!text.startsWith('#!'), 'no shebang (older hosts cannot parse it)');
  // It parses as a script with the block appended (the runs below execute it).
  new vm.Script(text + SIGNATURE_BLOCK); // eslint-disable-line no-new
  assert.match(SIGNATURE_BLOCK, /^\/\/ SIG \/\/ Begin signature block\r\n[\s\S]*\/\/ SIG \/\/ End signature block\r\n$/);
});

test('scripts/bundle.js is deterministic and fast', () => {
  const os = require('os');
  const outs = [];
  for (let i = 0; i < 2; i++) {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-det-'));
    const t0 = Date.now();
    const printed = execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'bundle.js'), '--dist', d], { encoding: 'utf8' });
    const took = Date.now() - t0;
    assert.ok(took < 5000, `bundle.js took ${took} ms`);
    assert.match(printed, /qualys-vm-transporter\.js: \d+ bytes \([\d.]+ kB; limit 400 kB\)/, 'it prints the size');
    outs.push([fs.readFileSync(path.join(d, 'qualys-vm-transporter.js')), fs.readFileSync(path.join(d, 'npm', 'package.json'))]);
    fs.rmSync(d, { recursive: true, force: true });
  }
  assert.ok(outs[0][0].equals(outs[1][0]), 'the same single file twice');
  assert.ok(outs[0][1].equals(outs[1][1]));
});

test('Archer 6.x sandbox (request): a full HTTPS feed, one OutputWriter, one callback', async () => {
  const params = paramsFor(s.httpsUrl, 'detections', { batchSize: '10', caCert: s.caCertPem });
  const r = await runInSandbox({ mode: '6x', params, tokens: { LastRunTime: '2000-01-01T00:00:00Z', PreviousRunContext: '', LastFileProcessed: null } });
  assert.equal(r.calls.length, 1, 'exactly one callback');
  assert.equal(r.err, null, JSON.stringify(r.err));
  assert.deepEqual(JSON.parse(JSON.stringify(r.result)), { output: null, previousRunContext: '' });
  assert.equal(r.creates.length, 1);
  assert.equal(r.creates[0].type, 'XML');
  assert.deepEqual(JSON.parse(JSON.stringify(r.creates[0].opts)), { RootNode: 'QUALYS_DETECTIONS' });
  const keys = detectionKeys(r.items.join(''));
  assert.ok(keys.length > 50);
  assert.equal(new Set(keys).size, keys.length);
  assert.ok(r.logs.length > 3 && r.logs.every((l) => RSA_LINE.test(l)), r.logs.join('\n'));
  assert.ok(r.logs.some((l) => /HTTP client: request package/.test(l)), r.logs.join('\n'));
  assert.ok(r.logs.some((l) => / :: INFO :: starting dataSource=detections url=https:\/\/127\.0\.0\.1:\d+\/.* LastRunTime=1999-12-31T00:00:00Z/.test(l)), r.logs.join('\n'));
  assert.ok(r.logs.some((l) => / :: INFO :: page 1 done: /.test(l)));
  assert.ok(r.logs.some((l) => / :: INFO :: done: dataSource=detections records=/.test(l)));
  // Node's built-ins were asked for (guarded) and refused; request was used.
  assert.ok(r.requires.includes('request'));
  for (const name of r.requires) assert.ok(['request', 'http', 'https', 'url', 'tls'].includes(name), `unexpected require('${name}')`);
});

test('Archer 2025.04 sandbox (global fetch, no request): a full feed', async () => {
  const params = paramsFor(s.url, 'hosts', { batchSize: '15' });
  const r = await runInSandbox({ mode: '2025', params });
  assert.equal(r.calls.length, 1);
  assert.equal(r.err, null, JSON.stringify(r.err));
  assert.equal(r.creates.length, 1);
  assert.equal(r.creates[0].opts.RootNode, 'QUALYS_HOSTS');
  assert.equal((r.items.join('').match(/<HOST>/g) || []).length, 40);
  assert.ok(r.logs.some((l) => /HTTP client: global fetch/.test(l)), r.logs.join('\n'));
  // request is asked for (guarded) and refused here; nothing else is needed.
  for (const name of r.requires) assert.ok(['request', 'http', 'https', 'url', 'tls'].includes(name), `unexpected require('${name}')`);
});

test('a sandbox with fetch and no require at all still runs: no require is needed', async () => {
  const code = fs.readFileSync(bundlePath(), 'utf8') + SIGNATURE_BLOCK;
  const items = [];
  const calls = [];
  await new Promise((resolve) => {
    const sandbox = {
      context: { CustomParameters: paramsFor(s.url, 'kb'), Tokens: {}, OutputWriter: { create: () => ({ writeItem: (c) => items.push(c) }) } },
      callback: (...a) => { calls.push(a); resolve(); },
      console: { log() {}, error() {}, warn() {} },
      Buffer, setTimeout, clearTimeout, setInterval, clearInterval, process, WebAssembly, fetch,
    };
    vm.createContext(sandbox);
    vm.runInContext(code, sandbox);
  });
  assert.equal(calls.length, 1);
  assert.equal(calls[0][0], null);
  assert.equal((items.join('').match(/<VULN>/g) || []).length, 30);
});

test('rootNode sets the OutputWriter root; records written page by page (one writeItem per chunk)', async () => {
  const r = await runInSandbox({ mode: '6x', params: paramsFor(s.url, 'hosts', { batchSize: '10', rootNode: 'QualysHosts' }) });
  assert.equal(r.err, null, JSON.stringify(r.err));
  assert.equal(r.creates[0].opts.RootNode, 'QualysHosts');
  assert.equal(r.items.length, 4, 'one chunk per page of 10 hosts');
});

test('no OutputWriter (Archer 6.4/6.5): the document comes back in callback(null, {output}) with a memory warning', async () => {
  const r = await runInSandbox({ mode: '6x', outputWriter: false, params: paramsFor(s.url, 'kb') });
  assert.equal(r.calls.length, 1);
  assert.equal(r.err, null, JSON.stringify(r.err));
  const out = r.result.output;
  assert.ok(out.startsWith('<?xml version="1.0" encoding="UTF-8"?><QUALYS_KB_VULNS>'), out.slice(0, 100));
  assert.ok(out.endsWith('</QUALYS_KB_VULNS>'));
  assert.equal((out.match(/<VULN>/g) || []).length, 30);
  assert.equal(r.result.previousRunContext, '');
  assert.ok(r.logs.some((l) => / :: WARN :: this Archer host has no context\.OutputWriter/.test(l)), r.logs.join('\n'));
});

test('no record: writeItem("") once, and still a success', async () => {
  const params = paramsFor(s.url, 'kb');
  params.kbUrl = params.kbUrl.replace('<LastRunTime>', '2030-01-01');
  const r = await runInSandbox({ mode: '2025', params });
  assert.equal(r.err, null, JSON.stringify(r.err));
  assert.deepEqual(r.items, ['']);
  assert.equal(r.creates.length, 1);
});

test('a failed run in the sandbox: callback([...lines, error]) once, never a success', async () => {
  const r = await runInSandbox({ mode: '6x', params: paramsFor(s.url, 'hosts', { password: 'wrong-one' }) });
  assert.equal(r.calls.length, 1);
  assert.ok(Array.isArray(r.err));
  assert.equal(r.result, undefined);
  assert.match(r.err[r.err.length - 1], /^QUALYS_CREDENTIALS: /);
  assert.ok(r.err.slice(0, -1).every((l) => RSA_LINE.test(l)));
});

test('a configuration error: callback with the problems, and no OutputWriter is created', async () => {
  const params = paramsFor(s.url, 'hosts', { batchSize: 'lots' });
  delete params.username;
  const r = await runInSandbox({ mode: '2025', params });
  assert.equal(r.calls.length, 1);
  assert.ok(Array.isArray(r.err));
  const last = r.err[r.err.length - 1];
  assert.match(last, /^CONFIG_INVALID: 2 problems/);
  assert.match(last, /username: missing/);
  assert.match(last, /batchSize: /);
  assert.equal(r.creates.length, 0);
});

test('without a context: the usage message and exit code 2; with arguments: the CLI; required: the library', () => {
  const file = bundlePath();
  const bare = spawnSync(process.execPath, [file], { encoding: 'utf8' });
  assert.equal(bare.status, 2);
  assert.match(bare.stderr, /There is no Archer "context" here/);
  assert.match(bare.stderr, /node qualys-vm-transporter\.js run --params params\.json/);
  const signed = path.join(path.dirname(file), 'signed.js');
  fs.writeFileSync(signed, fs.readFileSync(file, 'utf8') + SIGNATURE_BLOCK);
  const version = execFileSync(process.execPath, [signed, '--version'], { encoding: 'utf8' });
  assert.equal(version.trim(), `qualys-vm-transporter ${lib.version()}`);
  const required = execFileSync(process.execPath, ['-e', `const m = require(${JSON.stringify(signed)}); console.log(typeof m.runFeed, typeof m.transform, typeof m.Feed, typeof m.Transformer, m.version())`], { encoding: 'utf8' });
  assert.equal(required.trim(), `function function function function ${lib.version()}`);
});
