'use strict';
// Floors for the profile analysis (see bench/native/src/floor.rs): quick-xml 0.42's event reader
// alone, the core's own tokenizer alone, one UTF-8 validation pass, and a tree-free
// tokenize+escape+copy, on the whole document in wasm memory, in Node; plus what turning the
// output into JS strings costs.
// Compare with `bench/native/target/release/qvt-bench-native --floor FILE` (the same natively).
//
// usage: node bench/floor.js FILE   (build first: cd bench/native && cargo rustc --lib
//        --crate-type cdylib --release --target wasm32-unknown-unknown)

const fs = require('fs');
const path = require('path');

const file = process.argv[2];
const wasmFile = path.join(__dirname, 'native', 'target', 'wasm32-unknown-unknown', 'release', 'qvt_bench_floor.wasm');
const wasmModule = new WebAssembly.Module(fs.readFileSync(wasmFile));
// Any function the module imports (none today: the core has no wasm-bindgen boundary of its own
// since the boundary became the wasm/ crate) is never called by the floor functions: stubs that
// throw will do.
const imports = {};
for (const imp of WebAssembly.Module.imports(wasmModule)) {
  if (imp.kind !== 'function') continue;
  imports[imp.module] = imports[imp.module] || {};
  imports[imp.module][imp.name] = () => { throw new Error(`floor: unexpected call to ${imp.module}.${imp.name}`); };
}
const instance = new WebAssembly.Instance(wasmModule, imports);
const x = instance.exports;
const input = fs.readFileSync(file);
const ptr = x.floor_alloc(input.length);
new Uint8Array(x.memory.buffer, ptr, input.length).set(input);
const out = { bytes: input.length };
for (const name of ['validate', 'tokenize', 'tokens', 'stream_copy']) {
  let best = Infinity;
  let result;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    result = x[`floor_${name}`](ptr, input.length);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  out[name] = { ms: Number(best.toFixed(3)), result };
}
// The price of handing output to writeItem as strings: decoding UTF-8 bytes to a JS string
// (what wasm-bindgen's takeOutput does), per 4 MiB piece of the input as a stand-in for output.
const td = new TextDecoder('utf-8', { ignoreBOM: true });
let best = Infinity;
for (let i = 0; i < 3; i++) {
  const t0 = process.hrtime.bigint();
  for (let off = 0; off < input.length; off += 4 << 20) td.decode(input.subarray(off, Math.min(input.length, off + (4 << 20))));
  best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
}
out.decode_to_string = { ms: Number(best.toFixed(3)) };
console.log(JSON.stringify(out));
