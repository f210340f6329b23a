'use strict';
// The browser recipes of pkg-template/README.md ("Browsers"), tested in headless Chromium against
// the packed package installed offline (issue #14, point 3):
//   1. a plain page with an import map pointing at node_modules/qualys-vm-transporter/web/index.js;
//      init() fetches the .wasm next to it;
//   2. an esbuild bundle: the .wasm imported through the package's export with esbuild's file
//      loader, init({ module_or_path: new URL(wasmUrl, import.meta.url) }); "qualys-vm-transporter"
//      itself resolves to the same web build under the "browser" condition.
// Both first use the core before init() and must get NOT_INITIALIZED naming init(), then transform
// a KnowledgeBase page and drive a Feed to its first request. Files are served by a small static
// server on 127.0.0.1; every wait is bounded.

/* global window */ // (in functions that run in the page)
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const http = require('http');
const { packedPackage } = require('./helpers/packed');
const { ROOT } = require('./helpers/shim-util');

const CHROMIUM = '/usr/bin/chromium';
const KB_PAGE = fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'real', 'j1_kb_steps_real.xml'), 'utf8');

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.xml': 'application/xml' };

/** A static file server for one directory, 127.0.0.1 only; records what was requested. */
function serve(dir) {
  const requested = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    requested.push(url.pathname);
    const file = path.join(dir, decodeURIComponent(url.pathname));
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('Content-Type', TYPES[path.extname(file)] || 'application/octet-stream');
    res.end(fs.readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}`, requested, close: () => new Promise((r) => server.close(r)) })));
}

// What each page runs (the README's recipe plus the checks); it leaves its result in window.__result.
const APP = (importFrom, initCall) => `
import init, { Feed, Transformer, version, codes, QualysTransporterError } from '${importFrom}';
const result = { before: null };
try { new Transformer('kb'); result.before = 'no error'; } catch (e) {
  result.before = { code: e.code, blame: e.blame, retryable: e.retryable, instance: e instanceof QualysTransporterError, message: e.message };
}
try {
  await ${initCall};
  result.version = version();
  const t = new Transformer('kb');
  t.push(new TextEncoder().encode(window.KB_PAGE));
  let out = '';
  let c;
  while ((c = t.takeOutput()) !== undefined) out += c;
  const sum = t.finish();
  while ((c = t.takeOutput()) !== undefined) out += c;
  t.free();
  result.records = sum.records;
  result.vulns = (out.match(/<VULN>/g) || []).length;
  const f = new Feed({ dataSource: 'kb', kbUrl: 'https://qualysapi.qualys.com/api/4.0/fo/knowledge_base/vuln/?action=list', username: 'u', password: 'p' }, {}, Date.now());
  const a = f.poll(Date.now());
  result.first = { kind: a.kind, method: a.method, url: a.url };
  f.free();
  result.code = codes.CONFIG_INVALID;
} catch (e) {
  result.error = { code: e.code, message: String(e.message) };
}
window.__result = result;
`;

const PAGE = (head, script) => `<!doctype html>
<html><head><meta charset="utf-8"><title>qualys-vm-transporter</title><link rel="icon" href="data:,">${head}</head>
<body><script>window.KB_PAGE = ${JSON.stringify(KB_PAGE).replace(/</g, '\\u003c')};</script>
${script}
</body></html>
`;

let pkg;
let server;
let browser;
const skip = !fs.existsSync(CHROMIUM) && `${CHROMIUM} is missing (scripts/setup.sh installs it)`;

test.before(async () => {
  if (skip) return;
  pkg = await packedPackage();
  // 1. the import-map page
  fs.writeFileSync(path.join(pkg.project, 'importmap.html'), PAGE(
    '<script type="importmap">{ "imports": { "qualys-vm-transporter/web": "/node_modules/qualys-vm-transporter/web/index.js" } }</script>',
    `<script type="module">${APP('qualys-vm-transporter/web', 'init()')}</script>`,
  ));
  // 2. the esbuild bundle
  const src = path.join(pkg.project, 'src');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'app.js'), `
import wasmUrl from 'qualys-vm-transporter/web/qualys_vm_transporter_bg.wasm';
import { version as viaBrowserCondition } from 'qualys-vm-transporter';
${APP('qualys-vm-transporter/web', 'init({ module_or_path: new URL(wasmUrl, import.meta.url) })')}
window.__result.sameModule = viaBrowserCondition() === window.__result.version;
`);
  const esbuild = require('esbuild');
  await esbuild.build({
    entryPoints: [path.join(src, 'app.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    loader: { '.wasm': 'file' },
    outdir: path.join(pkg.project, 'bundle'),
    absWorkingDir: pkg.project,
    logLevel: 'silent',
  });
  fs.writeFileSync(path.join(pkg.project, 'bundle', 'index.html'), PAGE('', '<script type="module" src="./app.js"></script>'));
  server = await serve(pkg.project);
  const { chromium } = require('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 60000,
  });
});

test.after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
});

/** Opens a page and waits (bounded) for its window.__result; collects the page's errors. */
async function open(url) {
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
  try {
    await page.goto(url, { timeout: 30000 });
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 30000 }).catch((e) => { throw new Error(`${e.message}\n${problems.join('\n')}`); });
    return { result: await page.evaluate(() => window.__result), problems };
  } finally {
    await page.close();
  }
}

function checkResult(r, problems, lib) {
  assert.equal(r.error, undefined, JSON.stringify(r.error));
  // Before init(): a clear coded error that says to call init().
  assert.equal(r.before.code, 'NOT_INITIALIZED');
  assert.equal(r.before.blame, 'caller');
  assert.equal(r.before.retryable, false);
  assert.equal(r.before.instance, true);
  assert.match(r.before.message, /before the WebAssembly core was loaded/);
  assert.match(r.before.message, /await init\(\)/);
  // After init(): the core works.
  assert.equal(r.version, lib.version());
  const expected = (KB_PAGE.match(/<VULN>/g) || []).length;
  assert.ok(expected > 0);
  assert.equal(r.records, expected);
  assert.equal(r.vulns, expected);
  assert.equal(r.first.kind, 'send');
  assert.match(r.first.url, /^https:\/\/qualysapi\.qualys\.com\/api\/4\.0\/fo\/knowledge_base\/vuln\/\?/);
  assert.equal(r.code, 'CONFIG_INVALID');
  assert.deepEqual(problems, [], 'no page errors or warnings (e.g. a wrong MIME type fallback)');
}

test('a plain page with an import map: init() loads the .wasm next to web/index.js', { skip, timeout: 120000 }, async () => {
  const lib = require(path.join(pkg.pkgDir, 'qualys-vm-transporter.js'));
  const { result, problems } = await open(`${server.url}/importmap.html`);
  checkResult(result, problems, lib);
  assert.ok(server.requested.includes('/node_modules/qualys-vm-transporter/web/qualys_vm_transporter_bg.wasm'), server.requested.join(' '));
});

test('an esbuild bundle: the .wasm through the package export and the file loader, init({ module_or_path })', { skip, timeout: 120000 }, async () => {
  const lib = require(path.join(pkg.pkgDir, 'qualys-vm-transporter.js'));
  const emitted = fs.readdirSync(path.join(pkg.project, 'bundle'));
  const wasm = emitted.find((f) => f.endsWith('.wasm'));
  assert.ok(wasm, `esbuild emitted the .wasm: ${emitted.join(' ')}`);
  const before = server.requested.length;
  const { result, problems } = await open(`${server.url}/bundle/index.html`);
  checkResult(result, problems, lib);
  assert.equal(result.sameModule, true, '"qualys-vm-transporter" under the browser condition is the same web build');
  const fetched = server.requested.slice(before);
  assert.ok(fetched.includes(`/bundle/${wasm}`), fetched.join(' '));
  assert.ok(!fetched.some((p) => p.startsWith('/node_modules/')), `the bundle needs nothing from node_modules: ${fetched.join(' ')}`);
});

test('init() with a URL that is not served: NOT_INITIALIZED naming what it tried to load; usable after a good init()', { skip, timeout: 120000 }, async () => {
  fs.writeFileSync(path.join(pkg.project, 'bad.html'), PAGE(
    '<script type="importmap">{ "imports": { "qualys-vm-transporter/web": "/node_modules/qualys-vm-transporter/web/index.js" } }</script>',
    `<script type="module">
      import init, { version, QualysTransporterError } from 'qualys-vm-transporter/web';
      const result = {};
      try { await init({ module_or_path: '/nowhere/core.wasm' }); result.bad = 'resolved'; } catch (e) {
        result.bad = { code: e.code, blame: e.blame, instance: e instanceof QualysTransporterError, message: e.message };
      }
      try { version(); result.still = 'worked'; } catch (e) { result.still = e.code; }
      await init();
      result.version = version();
      window.__result = result;
    </script>`,
  ));
  const page = await browser.newPage();
  try {
    await page.goto(`${server.url}/bad.html`, { timeout: 30000 });
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 30000 });
    const r = await page.evaluate(() => window.__result);
    assert.equal(r.bad.code, 'NOT_INITIALIZED');
    assert.equal(r.bad.blame, 'configuration');
    assert.equal(r.bad.instance, true);
    assert.match(r.bad.message, /"\/nowhere\/core\.wasm"/);
    assert.match(r.bad.message, /404/);
    assert.equal(r.still, 'NOT_INITIALIZED', 'a failed init() leaves the core unloaded');
    assert.match(r.version, /^\d+\.\d+\.\d+/);
  } finally {
    await page.close();
  }
});
