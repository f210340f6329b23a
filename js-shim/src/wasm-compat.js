'use strict';
// Compiling the core's wasm module, with a clear error where the runtime cannot. The module uses
// WebAssembly reference types (externref: rustc's default for wasm32, and wasm-bindgen uses them),
// which V8 enables by default from Node 17; the package supports Node 18 and later (README, "In
// Archer"). On an older runtime (Node 16: the flag --experimental-wasm-reftypes) the run fails with
// RUNTIME_UNSUPPORTED, naming the Node version and what to do, instead of a bare CompileError.

const { shimError } = require('./errors');
const { codes } = require('./codes');

/** @param {any} e */
function isRefTypesError(e) {
  return /externref|reftypes|reference[- ]types?/i.test(String(e && e.message));
}

/** @param {any} cause */
function unsupported(cause) {
  const version = typeof process !== 'undefined' && process.version ? process.version : 'this runtime';
  const e = shimError(
    codes.RUNTIME_UNSUPPORTED,
    'configuration',
    `Node.js ${version} cannot load the transporter's WebAssembly core: it uses WebAssembly reference types, which Node has by default from version 17; qualys-vm-transporter supports Node 18 and later. Run the feed on Node 18 or later (Archer 2025.04 and later run a Node that has them). (${cause && cause.message ? cause.message : cause})`,
  );
  e.cause = cause;
  return e;
}

/**
 * new WebAssembly.Module(bytes), or RUNTIME_UNSUPPORTED where this runtime lacks reference types.
 * @param {BufferSource} bytes
 */
function compileModule(bytes) {
  try {
    return new WebAssembly.Module(bytes);
  } catch (e) {
    if (isRefTypesError(e)) throw unsupported(e);
    throw e;
  }
}

module.exports = { compileModule, isRefTypesError, unsupported };
