'use strict';
// What ships beside the code: the third-party licences (generated from Cargo.lock, checked for
// drift), the single file's sha256 file (verifiable with sha256sum -c), and both in the npm package.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { execFileSync } = require('child_process');
const { ROOT, buildBundle } = require('./helpers/shim-util');

test('THIRD-PARTY-NOTICES matches the crates linked into the wasm (tools/third-party-notices.js --check)', () => {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'tools', 'third-party-notices.js'), '--check'], { encoding: 'utf8' });
  assert.match(out, /up to date/);
  const text = fs.readFileSync(path.join(ROOT, 'pkg-template', 'THIRD-PARTY-NOTICES'), 'utf8');
  // Every crate the wasm links names its licence and carries a licence text.
  for (const name of ['quick-xml', 'memchr', 'chrono', 'wasm-bindgen', 'js-sys']) {
    assert.match(text, new RegExp(`^- ${name} [0-9.]+: MIT`, 'm'), name);
    assert.match(text, new RegExp(`^={100}\\n${name} [0-9.]+\\nlicence: MIT[^]*?Permission is hereby granted`, 'm'), `${name} has its MIT text`);
  }
});

test('the single file ships with a sha256 file that verifies it, and with the notices', () => {
  const dir = buildBundle();
  const file = path.join(dir, 'qualys-vm-transporter.js');
  const line = fs.readFileSync(`${file}.sha256`, 'utf8');
  const digest = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  assert.equal(line, `${digest}  qualys-vm-transporter.js\n`);
  // sha256sum -c, as the README tells admins to check it.
  const check = execFileSync('sha256sum', ['-c', 'qualys-vm-transporter.js.sha256'], { cwd: dir, encoding: 'utf8' });
  assert.match(check, /qualys-vm-transporter\.js: OK/);
  // A changed byte fails the check.
  const copy = fs.mkdtempSync(path.join(dir, 'tampered-'));
  fs.writeFileSync(path.join(copy, 'qualys-vm-transporter.js'), fs.readFileSync(file, 'utf8').replace('MIT License', 'MIT license'));
  fs.copyFileSync(`${file}.sha256`, path.join(copy, 'qualys-vm-transporter.js.sha256'));
  assert.throws(() => execFileSync('sha256sum', ['-c', 'qualys-vm-transporter.js.sha256'], { cwd: copy, stdio: 'pipe' }));
  // The header points at the notices, which ship beside the file and in the package.
  assert.match(fs.readFileSync(file, 'utf8').slice(0, 1200), /THIRD-PARTY-NOTICES/);
  const notices = fs.readFileSync(path.join(ROOT, 'pkg-template', 'THIRD-PARTY-NOTICES'), 'utf8');
  assert.equal(fs.readFileSync(path.join(dir, 'THIRD-PARTY-NOTICES'), 'utf8'), notices);
  assert.equal(fs.readFileSync(path.join(dir, 'npm', 'THIRD-PARTY-NOTICES'), 'utf8'), notices);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'npm', 'package.json'), 'utf8'));
  assert.ok(pkg.files.includes('THIRD-PARTY-NOTICES'));
});
