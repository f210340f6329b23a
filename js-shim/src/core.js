'use strict';
// The Rust core compiled to wasm: { Feed, Transformer, version }. In a source checkout this loads
// the wasm-bindgen `nodejs` output built by scripts/build-wasm.sh; scripts/bundle.js replaces this
// module with the same glue reading the module from an embedded string (wasm-compat.js: the clear
// error both give on a runtime without WebAssembly reference types).
const { isRefTypesError, unsupported } = require('./wasm-compat');

const GLUE = '../../target/wasm-pkg/nodejs/qualys_vm_transporter.js';

/**
 * The core's module as the shim uses it: the wasm-bindgen glue (its own declarations are
 * target/wasm-pkg/nodejs/qualys_vm_transporter.d.ts), typed here by the shipped declarations.
 * @typedef {object} CoreModule
 * @property {typeof import('../../pkg-template/index').Feed} Feed
 * @property {typeof import('../../pkg-template/index').Transformer} Transformer
 * @property {() => string} version
 * @property {(dataSource: string) => string | undefined} defaultRootNode
 * @property {() => DataSourceInfo[]} dataSources every data source, in the guide's order
 * @property {() => ParameterInfo[]} parameters the Custom Parameters, in table order
 * @property {() => Record<string, string>} errorCodes every stable error code, name -> name
 * @property {() => Record<string, {blame: string, retryable: boolean, meaning: string}>} errorCodeInfo
 */
/**
 * A data source as the core describes it (src/qualys).
 * @typedef {{name: import('../../pkg-template/index').DataSource, urlKey: string, defaultRootNode: string, recordElement: string}} DataSourceInfo
 */
/**
 * A Custom Parameter as the core's table describes it (src/params/table.rs): kind integer, boolean,
 * choice, url, secret, pem, proxy, xmlName or text; default/min/max for integers and booleans (an
 * optional choice's default is its first value), values for a choice (else null); required always,
 * forItsDataSource or no.
 * @typedef {{key: string, kind: string, default: number | boolean | string | null, min: number | null, max: number | null,
 *   values: string[] | null, required: string, summary: string, doc: string}} ParameterInfo
 */

/** @returns {CoreModule} */
function load() {
  try {
    return require(GLUE);
  } catch (e) {
    if (isRefTypesError(e)) throw unsupported(e);
    throw e;
  }
}

module.exports = load();
