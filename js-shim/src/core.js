'use strict';
// The Rust core compiled to wasm: { Feed, Transformer, version }. In a source checkout this loads
// the wasm-bindgen `nodejs` output built by scripts/build-wasm.sh; scripts/bundle.js replaces this
// module with the same glue reading the module from an embedded string (see wasm-compat.js for
// the Node 16 fallback both use).
const { isRefTypesError, enableRefTypes, unsupported } = require('./wasm-compat');

const GLUE = '../../target/wasm-pkg/nodejs/qualys_vm_transporter.js';

function load() {
  try {
    return require(GLUE);
  } catch (e) {
    if (!isRefTypesError(e)) throw e;
    if (!enableRefTypes()) throw unsupported(e);
    return require(GLUE);
  }
}

module.exports = load();
