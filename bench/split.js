'use strict';
// Where the wasm contender's time goes, from the outside: reading the file, Transformer.push
// (parse + shape + serialise, all inside wasm) and taking the output (wasm memory -> a Buffer, as
// the Archer entry hands it to OutputWriter.writeItem: takeOutputChunk + js-shim/src/output-text.js;
// `--strings`: decoded to JS strings instead, as runFeed gives them to other writers).
//
// usage: node bench/split.js <source> <file> [chunkBytes]   (QVT_WASM_PKG: another nodejs build)

const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2).filter((a) => a !== '--strings');
const strings = args.length !== process.argv.length - 2;
const [source, file, chunkArg] = args;
const CHUNK = Number(chunkArg) || 65536;
const pkg = process.env.QVT_WASM_PKG || path.join(__dirname, '..', 'target', 'wasm-pkg', 'nodejs');
const core = require(path.resolve(pkg, 'qualys_vm_transporter.js'));
const { takeOutputText, takeOutputBytes } = require('../js-shim/src/output-text');
const takeOutput = strings ? takeOutputText : takeOutputBytes;
const now = () => process.hrtime.bigint();
const ms = (ns) => Number(ns) / 1e6;

const t = new core.Transformer(source);
const fd = fs.openSync(file, 'r');
const buf = Buffer.allocUnsafe(CHUNK);
let read = 0n;
let push = 0n;
let take = 0n;
let chars = 0;
let bytes = 0;
const t0 = now();
for (;;) {
  let a = now();
  const n = fs.readSync(fd, buf, 0, CHUNK, null);
  read += now() - a;
  if (n === 0) break;
  bytes += n;
  a = now();
  t.push(n === CHUNK ? buf : buf.subarray(0, n));
  push += now() - a;
  a = now();
  let c;
  while ((c = takeOutput(t)) !== undefined) chars += c.length;
  take += now() - a;
}
let a = now();
const summary = t.finish();
push += now() - a;
a = now();
let c;
while ((c = takeOutput(t)) !== undefined) chars += c.length; // eslint-disable-line no-unused-vars -- touches every string, like a host would
take += now() - a;
const total = ms(now() - t0);
fs.closeSync(fd);
const pct = (x) => `${((100 * ms(x)) / total).toFixed(0)}%`;
console.log(`${source} ${path.basename(file)}: ${total.toFixed(0)} ms (${(bytes / 1e6 / (total / 1000)).toFixed(1)} MB/s), ` +
  `read ${ms(read).toFixed(0)} ms (${pct(read)}), push ${ms(push).toFixed(0)} ms (${pct(push)}), ` +
  `take output ${ms(take).toFixed(0)} ms (${pct(take)}) for ${(summary.bytesOut / 1e6).toFixed(1)} MB of output in ${summary.chunks} chunks`);
