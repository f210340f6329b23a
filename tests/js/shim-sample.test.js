'use strict';
// The sample output files, as an admin gets them: `qualys-vm-transporter sample` of the built
// single file (its samples/ beside it, written by scripts/bundle.js) for every data source and both
// output shapes. Each file is parsed by a real XML parser (saxes): an XML declaration, the root node,
// and every element docs/OUTPUT.md lists for that source and shape (each repeating one at least
// twice in one parent), nothing it does not list; and it is byte for byte the core's output of the
// complete Qualys response (tests/fixtures/complete/), so it is what a feed writes.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { SaxesParser } = require('saxes');
const { ROOT, buildBundle, bundlePath } = require('./helpers/shim-util');

const SOURCES = ['kb', 'hosts', 'hostDetections', 'detections'];
const SHAPES = ['records', 'qualys'];
const ROOT_NODE = { kb: 'QUALYS_KB_VULNS', hosts: 'QUALYS_HOSTS', hostDetections: 'QUALYS_DETECTION_HOSTS', detections: 'QUALYS_DETECTIONS' };
const COMPLETE = { kb: 'kb.xml', hosts: 'hosts.xml', hostDetections: 'detections.xml', detections: 'detections.xml' };

let dir;
test.before(() => {
  buildBundle();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-sample-'));
});
test.after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

/** Runs the built single file as a command (bounded). */
function cli(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundlePath(), ...args], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out: ${args.join(' ')}`)); }, 30000);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

/**
 * Parses a sample document with saxes (strict XML): the declaration, the root element, and every
 * element path under the root (`VULN/QID`, attributes as `VULN/CVSS/BASE/@source`) with the most
 * times it occurs in one parent.
 */
function parseSample(xml) {
  const parser = new SaxesParser({ xmlns: false });
  let decl = null;
  let root = null;
  const most = new Map();
  const stack = []; // {path, counts}
  parser.on('xmldecl', (d) => { decl = d; });
  parser.on('error', (e) => { throw e; });
  parser.on('opentag', (tag) => {
    if (!root) {
      root = tag.name;
      stack.push({ path: '', counts: new Map() });
      return;
    }
    const parent = stack[stack.length - 1];
    const p = parent.path ? `${parent.path}/${tag.name}` : tag.name;
    const n = (parent.counts.get(tag.name) || 0) + 1;
    parent.counts.set(tag.name, n);
    most.set(p, Math.max(most.get(p) || 0, n));
    for (const a of Object.keys(tag.attributes)) most.set(`${p}/@${a}`, Math.max(most.get(`${p}/@${a}`) || 0, 1));
    stack.push({ path: p, counts: new Map() });
  });
  parser.on('closetag', () => { stack.pop(); });
  parser.write(xml).close();
  return { decl, root, most };
}

/**
 * What docs/OUTPUT.md lists for a data source and shape: path -> repeats (true/false). The
 * generated tables say "same" for the Qualys element's path and "not written" when the shape
 * leaves an element out.
 */
function referenceFor(source, shape) {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'OUTPUT.md'), 'utf8');
  const start = doc.indexOf(`\n## \`${source}\`\n`);
  assert.ok(start >= 0, `docs/OUTPUT.md has a section for ${source}`);
  const end = doc.indexOf('\n## ', start + 5);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const col = shape === 'records' ? 1 : 2;
  const out = new Map();
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `') && !line.startsWith('| (added)')) continue;
    const cells = line.split(/ (?<!\\)\| /).map((c) => c.replace(/^\| ?|\s*\|$/g, '').trim());
    const cell = cells[col];
    if (cell === 'not written') continue;
    const repeats = cell.endsWith(' (repeats)');
    const what = cell.replace(/ \(repeats\)$/, '');
    const p = what === 'same' ? cells[0].replace(/`/g, '') : what.replace(/`/g, '');
    out.set(p, repeats);
  }
  assert.ok(out.size > 10, `${source} ${shape}: the reference lists elements (${out.size})`);
  return out;
}

test('sample: every data source and shape parses and holds exactly the elements the reference lists, repeating ones twice', async () => {
  const lib = require(bundlePath());
  for (const source of SOURCES) {
    for (const shape of SHAPES) {
      const label = `${source} ${shape}`;
      const out = path.join(dir, `${source}-${shape}.xml`);
      const r = await cli(['sample', '--source', source, '--output-shape', shape, '--out', out]);
      assert.equal(r.status, 0, `${label}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`sample: ${source}, ${shape} shape, root node ${ROOT_NODE[source]}; written to `));
      const xml = fs.readFileSync(out, 'utf8');
      const { decl, root, most } = parseSample(xml);
      assert.ok(decl && decl.version === '1.0' && decl.encoding === 'UTF-8', `${label}: XML declaration`);
      assert.equal(root, ROOT_NODE[source], `${label}: root node`);
      const listed = referenceFor(source, shape);
      const missing = [...listed.keys()].filter((p) => !most.has(p));
      assert.deepEqual(missing, [], `${label}: elements the reference lists but the sample lacks`);
      const unlisted = [...most.keys()].filter((p) => !listed.has(p));
      assert.deepEqual(unlisted, [], `${label}: elements in the sample the reference does not list`);
      const once = [...listed].filter(([p, repeats]) => repeats && most.get(p) < 2).map(([p]) => p);
      assert.deepEqual(once, [], `${label}: repeating elements that appear only once in a parent`);
      // It is what the feed writes: the core's output of the complete response, in that shape.
      const input = fs.readFileSync(path.join(ROOT, 'tests', 'fixtures', 'complete', COMPLETE[source]));
      const t = await lib.transform(source, input, { outputShape: shape });
      assert.equal(xml, `<?xml version="1.0" encoding="UTF-8"?>\n<${ROOT_NODE[source]}>${t.output}</${ROOT_NODE[source]}>\n`, `${label}: the core's output`);
    }
  }
});

test('sample: to stdout, with another root node; the same bytes as transform of the complete response', async () => {
  const r = await cli(['sample', '--source', 'detections', '--root-node', 'MY_ROOT']);
  assert.equal(r.status, 0, r.stderr);
  const { root, most } = parseSample(r.stdout);
  assert.equal(root, 'MY_ROOT');
  assert.ok(most.get('DETECTION') >= 2 && most.has('DETECTION/ARCHER_DETECTION_KEY'));
  const t = await cli(['transform', '--source', 'detections', '--root-node', 'MY_ROOT', path.join(ROOT, 'tests', 'fixtures', 'complete', 'detections.xml')]);
  assert.equal(t.status, 0, t.stderr);
  assert.equal(r.stdout, t.stdout, 'sample = transform of the complete response');
  const positional = await cli(['sample', 'detections', '--root-node', 'MY_ROOT']);
  assert.equal(positional.stdout, r.stdout, 'the source as the positional argument');
  const q = await cli(['transform', '--source', 'hosts', '--output-shape', 'qualys', path.join(ROOT, 'tests', 'fixtures', 'complete', 'hosts.xml')]);
  const s = await cli(['sample', '--source', 'hosts', '--output-shape', 'qualys']);
  assert.equal(q.stdout, s.stdout);
  assert.ok(!q.stdout.includes('ARCHER_'), 'no key fields in the qualys shape');
});

test('sample: usage errors exit 2 with one line; help names it', async () => {
  for (const [args, re] of [
    [['sample'], /sample needs --source kb\|hosts\|hostDetections\|detections/],
    [['sample', '--source', 'Detections'], /sample needs --source/],
    [['sample', '--source', 'kb', '--output-shape', 'xml'], /--output-shape must be records or qualys/],
    [['sample', '--source', 'kb', '--root-node', '1bad'], /--root-node is not an XML element name/],
    [['sample', '--source', 'kb', 'extra.xml'], /sample takes one data source and no file argument/],
    [['sample', 'kb', 'extra.xml'], /sample takes one data source and no file argument/],
    [['transform', '--source', 'kb', '--output-shape', 'Qualys', 'x.xml'], /--output-shape must be records or qualys/],
  ]) {
    const r = await cli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const help = await cli(['--help']);
  assert.match(help.stdout, /\n {2}sample {6}write a complete sample output file/);
  const sh = await cli(['sample', '--help']);
  assert.match(sh.stdout, /--output-shape SHAPE/);
  assert.match(sh.stdout, /docs\/OUTPUT\.md/);
});

test('sample: without the shipped samples/ beside the script it says where they ship', async () => {
  const lone = fs.mkdtempSync(path.join(dir, 'lone-'));
  fs.copyFileSync(bundlePath(), path.join(lone, 'qualys-vm-transporter.js'));
  const r = await new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(lone, 'qualys-vm-transporter.js'), 'sample', '--source', 'kb'], { cwd: lone });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stderr }); });
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /the sample files are not installed next to this script/);
});
