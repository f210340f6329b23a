'use strict';
// The Rust core compiled to wasm: { Feed, Transformer, version }. In a source checkout this loads
// the wasm-bindgen `nodejs` output built by scripts/build-wasm.sh; scripts/bundle.js replaces this
// module with the same glue reading the module from an embedded string (see wasm-compat.js for
// the Node 16 fallback both use).
const { isRefTypesError, enableRefTypes, unsupported } = require('./wasm-compat');

const GLUE = '../../target/wasm-pkg/nodejs/qualys_vm_transporter.js';

/**
 * The core's module as the shim uses it: the wasm-bindgen glue (its own declarations are
 * target/wasm-pkg/nodejs/qualys_vm_transporter.d.ts), typed here by the shipped declarations.
 * @typedef {object} CoreModule
 * @property {typeof import('../../pkg-template/index').Feed} Feed
 * @property {typeof import('../../pkg-template/index').Transformer} Transformer
 * @property {() => string} version
 * @property {(dataSource: string) => string | undefined} defaultRootNode
 */

/** @returns {CoreModule} */
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
