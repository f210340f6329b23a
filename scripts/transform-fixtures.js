#!/usr/bin/env node
// The offline main job (until the simulator-driven run lands): transforms every bundled real Qualys
// response in tests/fixtures/real/ into Archer output files under out/, through the wasm core, the
// same code the transporter runs, pushing the bytes in 64 kB chunks. Prints per-source counts.
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const wasm = require(path.join(root, 'target/wasm-pkg/nodejs/qualys_vm_transporter.js'));
const fixtures = path.join(root, 'tests/fixtures/real');
const outDir = path.join(root, 'out');
fs.mkdirSync(outDir, { recursive: true });

// Which data sources each kind of fixture feeds (detection output feeds two Archer feeds).
const ROOTS = {
  KNOWLEDGE_BASE_VULN_LIST_OUTPUT: ['kb'],
  HOST_LIST_OUTPUT: ['hosts'],
  HOST_LIST_VM_DETECTION_OUTPUT: ['hostDetections', 'detections'],
};
const ROOT_NODE = { kb: 'QUALYS_KB_VULNS', hosts: 'QUALYS_HOSTS', hostDetections: 'QUALYS_DETECTION_HOSTS', detections: 'QUALYS_DETECTIONS' };

const totals = {};
const rows = [];
let failures = 0;
for (const name of fs.readdirSync(fixtures).filter((f) => f.endsWith('.xml')).sort()) {
  const bytes = fs.readFileSync(path.join(fixtures, name));
  const head = bytes.subarray(0, 4096).toString('latin1');
  const rootName = Object.keys(ROOTS).find((r) => new RegExp(`<${r}[\\s>]`).test(head));
  if (!rootName) {
    rows.push([name, '(Qualys error document: not a feed input)', '', '']);
    continue;
  }
  for (const source of ROOTS[rootName]) {
    const t = new wasm.Transformer(source);
    const outFile = path.join(outDir, `${path.basename(name, '.xml')}.${source}.xml`);
    const fd = fs.openSync(outFile, 'w');
    fs.writeSync(fd, `<?xml version="1.0" encoding="UTF-8"?>\n<${ROOT_NODE[source]}>`);
    try {
      for (let i = 0; i < bytes.length; i += 65536) {
        t.push(bytes.subarray(i, i + 65536));
        for (let c = t.takeOutput(); c !== undefined; c = t.takeOutput()) fs.writeSync(fd, c);
      }
      const s = t.finish();
      for (let c = t.takeOutput(); c !== undefined; c = t.takeOutput()) fs.writeSync(fd, c);
      totals[source] = (totals[source] || 0) + s.records;
      rows.push([name, source, String(s.records), path.relative(root, outFile)]);
    } catch (e) {
      failures++;
      rows.push([name, source, `FAILED ${e.code}: ${e.message}`, '']);
    } finally {
      fs.writeSync(fd, `</${ROOT_NODE[source]}>\n`);
      fs.closeSync(fd);
      t.free();
    }
  }
}
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), 8));
for (const r of [['fixture', 'source', 'records', 'output'], ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
console.log('\nrecords per data source: ' + Object.entries(totals).map(([k, v]) => `${k}=${v}`).join(' '));
process.exit(failures ? 1 : 0);
