'use strict';
// The one list of stable error codes (the core's errorCodes()) as the library's `codes` constants,
// the declarations (pkg-template/index.d.ts ErrorCode) kept equal to it, the shim naming its own
// codes through it, and the CLI's run --help generated from the core's tables.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { lib, ROOT, SHIM } = require('./helpers/shim-util');

const core = require(path.join(SHIM, 'src', 'core.js'));
const cli = require(path.join(SHIM, 'cli.js'));

test("the library's codes are the core's errorCodes(): every name maps to itself", () => {
  const fromCore = core.errorCodes();
  assert.deepEqual(Object.keys(lib.codes), Object.keys(fromCore));
  for (const [name, value] of Object.entries(lib.codes)) {
    assert.equal(value, name);
    assert.equal(fromCore[name], name);
  }
  assert.ok(Object.keys(lib.codes).length >= 40, 'the whole list');
  // The one code the shim must know without the core (the core failed to load) is in the list.
  assert.equal(lib.codes.RUNTIME_UNSUPPORTED, fromCore.RUNTIME_UNSUPPORTED);
  // Every code has its blame, retryable and meaning in the core.
  const info = core.errorCodeInfo();
  for (const name of Object.keys(lib.codes)) assert.ok(info[name] && typeof info[name].meaning === 'string', name);
});

test('a misspelled code throws; the codes cannot be changed', () => {
  assert.throws(() => lib.codes.CONFIG_INVALDI, /there is no error code CONFIG_INVALDI/);
  assert.throws(() => { lib.codes.CONFIG_INVALID = 'x'; }, TypeError);
  assert.equal(lib.codes.CONFIG_INVALID, 'CONFIG_INVALID');
  assert.equal(JSON.parse(JSON.stringify(lib.codes)).NETWORK, 'NETWORK');
});

test('index.d.ts declares exactly the core\'s codes (type ErrorCode)', () => {
  const dts = fs.readFileSync(path.join(ROOT, 'pkg-template', 'index.d.ts'), 'utf8');
  const m = /export type ErrorCode =([^;]*);/.exec(dts);
  assert.ok(m, 'index.d.ts has export type ErrorCode');
  const declared = Array.from(m[1].matchAll(/'([A-Z0-9_]+)'/g), (x) => x[1]);
  assert.deepEqual(declared.slice().sort(), Object.keys(core.errorCodes()).sort());
});

test('the shim names its own error codes through codes, never as string literals', () => {
  const files = [];
  const walk = (dir) => {
    for (const name of fs.readdirSync(dir)) {
      const f = path.join(dir, name);
      if (fs.statSync(f).isDirectory()) walk(f);
      else if (name.endsWith('.js')) files.push(f);
    }
  };
  walk(path.join(SHIM, 'src'));
  const literal = /shimError\(\s*['"`]|fatal\([^,]+,\s*['"`]|===\s*'[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+'/;
  const found = [];
  for (const f of files) {
    fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (literal.test(line)) found.push(`${path.relative(ROOT, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(found, []);
});

test('run --help lists every Custom Parameter and data source from the core\'s tables', async () => {
  let out = '';
  const code = await cli.main(['run', '--help'], { stdout: { write: (t) => { out += t; } }, stderr: { write: () => {} } });
  assert.equal(code, 0);
  for (const p of core.parameters()) {
    const line = out.split('\n').find((l) => l.startsWith(`  ${p.key} `));
    assert.ok(line, `run --help lists ${p.key}`);
    if (p.kind === 'integer') assert.ok(line.includes(`${p.min} to ${p.max}, default ${p.default}`), line);
  }
  for (const d of core.dataSources()) {
    assert.match(out, new RegExp(`\\n  ${d.name} +${d.urlKey}; root node ${d.defaultRootNode}; records ${d.recordElement}\\n`));
  }
});
