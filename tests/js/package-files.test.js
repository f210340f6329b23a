'use strict';
// What ships (issue #14, point 6), checked on the packed tarball (helpers/packed.js): exactly the
// single file (+ its sha256), the library entries and types, the web build, the CLI, the simulator
// sources, README, LICENSE, THIRD-PARTY-NOTICES and the CHANGELOG when the repository has one;
// no key material, nothing from tests/ or tools/; consistent author/homepage/bugs/repository; the
// engines the tested Node versions back; the README telling where the uploadable file is in the
// installed package and how to verify it.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { execFileSync } = require('child_process');
const { packedPackage } = require('./helpers/packed');
const { ROOT } = require('./helpers/shim-util');

let pkg;
test.before(async () => { pkg = await packedPackage(); });

const simulatorSources = () => fs.readdirSync(path.join(ROOT, 'js-shim', 'simulator')).filter((f) => /\.(js|md)$/.test(f)).map((f) => `simulator/${f}`);

test('the tarball holds exactly what ships', () => {
  const expected = [
    'package.json', 'README.md', 'LICENSE', 'THIRD-PARTY-NOTICES',
    'qualys-vm-transporter.js', 'qualys-vm-transporter.js.sha256',
    'index.mjs', 'index.d.ts', 'index.d.mts', 'archer/package.json', 'bin/qualys-vm-transporter.js',
    'web/index.js', 'web/index.d.ts', 'web/package.json', 'web/qualys_vm_transporter.js', 'web/qualys_vm_transporter_bg.wasm',
    ...simulatorSources(),
    // The sample output files: every data source, both output shapes.
    ...['kb', 'hosts', 'hostDetections', 'detections'].flatMap((s) => [`samples/${s}.xml`, `samples/${s}.qualys.xml`]),
  ];
  if (fs.existsSync(path.join(ROOT, 'CHANGELOG.md'))) expected.push('CHANGELOG.md');
  assert.deepEqual(pkg.files.slice().sort(), expected.sort());
  if (fs.existsSync(path.join(ROOT, 'CHANGELOG.md'))) {
    assert.equal(fs.readFileSync(path.join(pkg.pkgDir, 'CHANGELOG.md'), 'utf8'), fs.readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8'));
  }
  assert.ok(fs.statSync(pkg.tgz).size < 1024 * 1024, `${fs.statSync(pkg.tgz).size} bytes packed`);
});

test('no key material, nothing from tests/ or tools/, the simulator as in the repository', () => {
  for (const f of pkg.files) {
    assert.doesNotMatch(f, /\.(pem|key|crt|p12|pfx|csr|srl)$/i, f);
    assert.doesNotMatch(f, /^(tests|tools|scripts|bench|src|wasm|target|fuzz|docs)\//, f);
    const text = fs.readFileSync(path.join(pkg.pkgDir, f), 'latin1');
    assert.doesNotMatch(text, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, `${f} holds a private key`);
    assert.doesNotMatch(text, /-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/]/, `${f} holds a certificate`);
  }
  for (const f of simulatorSources()) {
    assert.equal(fs.readFileSync(path.join(pkg.pkgDir, f), 'utf8'), fs.readFileSync(path.join(ROOT, 'js-shim', f), 'utf8'), f);
  }
});

test('author, homepage, bugs and repository agree with Cargo.toml; engines follow the tested Node versions', () => {
  const meta = JSON.parse(fs.readFileSync(path.join(pkg.pkgDir, 'package.json'), 'utf8'));
  const repo = /\nrepository\s*=\s*"([^"]+)"/.exec(fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8'))[1];
  assert.equal(repo, 'https://github.com/qualys-vm-transporter/qualys-vm-transporter');
  assert.equal(/\nrepository\s*=\s*"([^"]+)"/.exec(fs.readFileSync(path.join(ROOT, 'wasm', 'Cargo.toml'), 'utf8'))[1], repo);
  assert.equal(meta.repository.type, 'git');
  assert.equal(meta.repository.url, `git+${repo}.git`);
  assert.equal(meta.homepage, `${repo}#readme`);
  assert.equal(meta.bugs.url, `${repo}/issues`);
  assert.match(meta.author, /^The qualys-vm-transporter authors/);
  assert.match(fs.readFileSync(path.join(pkg.pkgDir, 'LICENSE'), 'utf8'), /The qualys-vm-transporter authors/, 'the LICENSE names the same author');
  assert.ok(fs.readFileSync(path.join(pkg.pkgDir, 'qualys-vm-transporter.js'), 'utf8').slice(0, 300).includes(repo), 'the single file names the repository');
  // engines: the oldest Node that scripts/node-versions.sh runs a feed on (older ones must refuse).
  const script = fs.readFileSync(path.join(ROOT, 'scripts', 'node-versions.sh'), 'utf8');
  const majors = /versions=\((\d[^)]*)\)/.exec(script)[1].trim().split(/\s+/).map((v) => Number(v.split('.')[0]));
  assert.deepEqual(majors, [16, 18, 20, 22, 24]);
  assert.equal(meta.engines.node, '>=18');
  const readme = fs.readFileSync(path.join(pkg.pkgDir, 'README.md'), 'utf8');
  assert.match(readme, /Node \*\*18, 20, 22 and 24\*\*/);
  assert.match(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), /Node 18, 20, 22 and 24/);
});

test('the README says where the uploadable file is in the installed package, and its sha256 verifies', () => {
  const readme = fs.readFileSync(path.join(pkg.pkgDir, 'README.md'), 'utf8');
  const where = 'node_modules/qualys-vm-transporter/qualys-vm-transporter.js';
  assert.ok(readme.includes(where), 'the npm README names the path');
  assert.ok(fs.existsSync(path.join(pkg.project, where)), 'and it is there in an installed project');
  assert.ok(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8').includes(where), 'so does the repository README');
  assert.match(readme, /sha256sum -c qualys-vm-transporter\.js\.sha256/);
  const check = execFileSync('sha256sum', ['-c', 'qualys-vm-transporter.js.sha256'], { cwd: pkg.pkgDir, encoding: 'utf8' });
  assert.match(check, /qualys-vm-transporter\.js: OK/);
  const digest = crypto.createHash('sha256').update(fs.readFileSync(path.join(pkg.pkgDir, 'qualys-vm-transporter.js'))).digest('hex');
  assert.equal(fs.readFileSync(path.join(pkg.dist, 'qualys-vm-transporter.js.sha256'), 'utf8'), `${digest}  qualys-vm-transporter.js\n`, 'the same file as dist/');
  // The recipe for browsers is in the npm README.
  assert.match(readme, /<script type="importmap">/);
  assert.match(readme, /module_or_path/);
});
