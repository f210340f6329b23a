'use strict';
// The npm package: scripts/bundle.js assembles dist/npm/ from pkg-template/ (here into a temp dir),
// `npm pack` packs it, and the tarball is installed OFFLINE into an empty project (the package has
// no runtime dependencies). From there: the library API (runFeed against the simulator, transform,
// Feed, Transformer, version), the CLI through node_modules/.bin, the browser entry (the wasm `web`
// build, through the "browser" export condition), and the hand-written types (tsc, when the
// typescript dev package is installed).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { sim, paramsFor, buildBundle, lib, ROOT } = require('./helpers/shim-util');

function exec(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: Object.assign({}, process.env, { npm_config_update_notifier: 'false' }, options.env || {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out: ${cmd} ${args.join(' ')}`)); }, options.timeoutMs || 90000);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
    child.on('error', reject);
  });
}

let s;
let work;
let project;
let tgz;
test.before(async () => {
  s = await sim({ rateLimit: 'off', concurrency: 'off' });
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-npm-'));
  const dist = buildBundle();
  const packed = await exec('npm', ['pack', '--pack-destination', work, '--json'], { cwd: path.join(dist, 'npm') });
  assert.equal(packed.status, 0, packed.stderr);
  tgz = path.join(work, JSON.parse(packed.stdout)[0].filename);
  project = path.join(work, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const installed = await exec('npm', ['install', '--offline', '--no-audit', '--no-fund', tgz], { cwd: project });
  assert.equal(installed.status, 0, installed.stderr + installed.stdout);
});
test.after(async () => {
  if (s) await s.close();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the package: name, version from Cargo.toml, MIT, repository, bin, files, exports, types, no dependencies', () => {
  const pkgDir = path.join(project, 'node_modules', 'qualys-vm-transporter');
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const cargo = /\nversion\s*=\s*"([^"]+)"/.exec(fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8'))[1];
  assert.equal(pkg.name, 'qualys-vm-transporter');
  assert.equal(pkg.version, cargo);
  assert.equal(pkg.version, lib.version());
  assert.equal(pkg.license, 'MIT');
  assert.match(pkg.repository.url, /github\.com/);
  assert.deepEqual(pkg.bin, { 'qualys-vm-transporter': 'bin/qualys-vm-transporter.js' });
  assert.equal(pkg.dependencies, undefined, 'no runtime dependencies');
  assert.equal(pkg.types, './index.d.ts');
  assert.ok(pkg.exports['.'].import && pkg.exports['.'].require && pkg.exports['.'].browser);
  for (const f of ['README.md', 'LICENSE', 'index.d.ts', 'index.d.mts', 'index.mjs', 'qualys-vm-transporter.js', 'bin/qualys-vm-transporter.js', 'web/index.js', 'web/index.d.ts', 'web/qualys_vm_transporter.js', 'web/qualys_vm_transporter_bg.wasm', 'simulator/cli.js']) {
    assert.ok(fs.existsSync(path.join(pkgDir, f)), f);
  }
  const readme = fs.readFileSync(path.join(pkgDir, 'README.md'), 'utf8');
  assert.match(readme, /Node \*\*18, 20, 22 and 24\*\*/, 'the README says which Node versions are tested');
  assert.equal(pkg.engines.node, '>=18');
  assert.ok(fs.statSync(tgz).size < 1024 * 1024, `${fs.statSync(tgz).size} bytes packed`);
});

test('library API from the installed package: runFeed against the simulator, transform, Feed, Transformer', async () => {
  const script = path.join(project, 'use-lib.js');
  fs.writeFileSync(script, `
    const q = require('qualys-vm-transporter');
    (async () => {
      const items = [];
      const r = await q.runFeed({ params: ${JSON.stringify(paramsFor(s.url, 'hosts', { batchSize: '10' }))}, writer: { writeItem: (c) => items.push(c) }, log: () => {} });
      const body = require('fs').readFileSync(process.argv[2]);
      const t = await q.transform('hosts', body);
      const f = new q.Feed(${JSON.stringify(paramsFor(s.url, 'kb'))}, {}, Date.now());
      const tr = new q.Transformer('kb');
      tr.free();
      console.log(JSON.stringify({ records: r.summary.records, pages: r.summary.pages, items: items.length, tRecords: t.records, first: f.poll(Date.now()).kind, version: q.version(), keys: Object.keys(q).sort() }));
      f.free();
    })().catch((e) => { console.error(e); process.exit(1); });
  `);
  const body = path.join(work, 'hosts.xml');
  const page = await require('./helpers/shim-util').fetchWhole(`${s.url}/api/5.0/fo/asset/host/?action=list&details=All&truncation_limit=5`);
  fs.writeFileSync(body, page.body);
  const r = await exec(process.execPath, [script, body], { cwd: project });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.records, 40);
  assert.equal(out.pages, 4);
  assert.equal(out.items, 4);
  assert.equal(out.tRecords, 5);
  assert.equal(out.first, 'send');
  assert.equal(out.version, lib.version());
  // Every runtime export is declared in index.d.ts.
  const dts = fs.readFileSync(path.join(project, 'node_modules', 'qualys-vm-transporter', 'index.d.ts'), 'utf8');
  const declared = new Set(Array.from(dts.matchAll(/^export (?:declare )?(?:function|class|const) (\w+)/gm), (m) => m[1]));
  for (const k of out.keys) assert.ok(declared.has(k), `${k} is exported but not declared in index.d.ts`);
});

test('the CLI from node_modules/.bin: --version, run, transform, simulate --help', async () => {
  const bin = path.join(project, 'node_modules', '.bin', 'qualys-vm-transporter');
  const v = await exec(bin, ['--version'], { cwd: project });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), `qualys-vm-transporter ${lib.version()}`);
  const params = path.join(project, 'params.json');
  fs.writeFileSync(params, JSON.stringify(paramsFor(s.url, 'kb')));
  const out = path.join(project, 'kb.xml');
  const r = await exec(bin, ['run', '--params', params, '--out', out], { cwd: project });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /records=30 /);
  assert.equal((fs.readFileSync(out, 'utf8').match(/<VULN>/g) || []).length, 30);
  const h = await exec(bin, ['simulate', '--help'], { cwd: project });
  assert.equal(h.status, 0, h.stderr);
  assert.match(h.stdout, /Qualys VM API simulator/);
  const bad = await exec(bin, ['transform'], { cwd: project });
  assert.equal(bad.status, 2);
});

test('the sample files ship in the package: samples/ beside the single file, and the CLI\'s sample command', async () => {
  const pkgDir = path.join(project, 'node_modules', 'qualys-vm-transporter');
  const dist = buildBundle();
  for (const source of ['kb', 'hosts', 'hostDetections', 'detections']) {
    for (const suffix of ['', '.qualys']) {
      const name = `${source}${suffix}.xml`;
      assert.equal(fs.readFileSync(path.join(pkgDir, 'samples', name), 'utf8'), fs.readFileSync(path.join(dist, 'samples', name), 'utf8'), name);
    }
  }
  const bin = path.join(project, 'node_modules', '.bin', 'qualys-vm-transporter');
  const out = path.join(project, 'sample-detections.xml');
  const r = await exec(bin, ['sample', '--source', 'detections', '--out', out], { cwd: project });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(out, 'utf8'), fs.readFileSync(path.join(dist, 'samples', 'detections.xml'), 'utf8'));
});

test('the browser entry: the wasm web build through the "browser" export condition', async () => {
  const script = `
    import * as web from 'qualys-vm-transporter';
    import { readFileSync } from 'node:fs';
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const wasm = readFileSync(new URL('./node_modules/qualys-vm-transporter/web/qualys_vm_transporter_bg.wasm', import.meta.url));
    web.initSync({ module: wasm });
    const t = new web.Transformer('kb');
    t.free();
    console.log(JSON.stringify({ version: web.version(), init: typeof web.default, feed: typeof web.Feed }));
  `;
  const file = path.join(project, 'use-web.mjs');
  fs.writeFileSync(file, script);
  const r = await exec(process.execPath, ['--conditions=browser', file], { cwd: project });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { version: lib.version(), init: 'function', feed: 'function' });
});

let tscPath = null;
try { tscPath = require.resolve('typescript/bin/tsc'); } catch (e) { /* not installed */ }

test('the types check with tsc against a consumer', { skip: !tscPath && 'the typescript dev package is not installed' }, async () => {
  const file = path.join(project, 'consumer.ts');
  fs.writeFileSync(file, `
    import { runFeed, runArcher, transform, Feed, Transformer, version, DEFAULT_ROOT_NODES, cli, createLogger, type Summary, type TransporterError, type Action } from 'qualys-vm-transporter';
    import initWeb, * as web from 'qualys-vm-transporter/web';
    async function main(): Promise<void> {
      const r = await runFeed({ params: { dataSource: 'kb', kbUrl: 'https://q.example/api/4.0/fo/knowledge_base/vuln/?action=list', username: 'u', password: 'p' },
        tokens: { LastRunTime: null }, writer: { writeItem: (c: string) => c.length }, http: 'node', now: Date.now, sleep: async (ms: number) => { void ms; },
        onAction: (a) => { if (a.kind === 'wait') { const ms: number = a.ms; void ms; } } });
      const s: Summary = r.summary;
      const p: string = r.previousRunContext;
      const t = await transform('detections', new Uint8Array(0), { write: (c) => void c });
      const n: number = t.records;
      const f = new Feed({ dataSource: 'kb' }, {}, Date.now());
      const a: Action = f.poll(Date.now());
      if (a.kind === 'send') { const h: Array<[string, string]> = a.headers; void h; }
      if (a.kind === 'fail') { const e: TransporterError = a.error; const b: 'configuration' | 'server' | 'network' | 'caller' = e.blame; void b; }
      const more: boolean = f.handleBody(new Uint8Array(1));
      const out: string | undefined = f.takeOutput();
      f.free();
      new Transformer('hosts', 100).free();
      const root: string = DEFAULT_ROOT_NODES.hostDetections;
      const code: number | null = await cli.main(['--version']);
      const v: string = version();
      const res = await runArcher({ context: { CustomParameters: {}, Tokens: {} }, callback: (err, result) => { void err; void result; } });
      const ok: boolean = res.ok;
      createLogger().info('x');
      await initWeb();
      const wv: string = web.version();
      void [s, p, n, more, out, root, code, v, ok, wv];
    }
    void main;
  `);
  const r = await exec(process.execPath, [tscPath, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'esnext,dom', '--skipLibCheck', 'false', file], { cwd: project });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
