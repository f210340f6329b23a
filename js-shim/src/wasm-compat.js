'use strict';
// Compiling the core's wasm module on older Node. rustc (1.82+) emits WebAssembly reference types
// (externref) for wasm32 by default, and wasm-bindgen then uses them; V8 enables them by default
// from Node 17. On Node 16 the flag --experimental-wasm-reftypes can still be set at run time
// through require('v8') when the host allows that module (standalone, CLI). Where it does not
// (a sandbox without Node's built-ins), the run fails with a clear configuration error.

const { optionalRequire } = require('./host');
const { shimError } = require('./errors');
const { codes } = require('./codes');

/** @param {any} e */
function isRefTypesError(e) {
  return /externref|reftypes|reference[- ]types?/i.test(String(e && e.message));
}

/** Turns on reference types in V8 if this host allows it; true when the flag was set. */
function enableRefTypes() {
  const v8 = optionalRequire('v8');
  if (!v8 || typeof v8.setFlagsFromString !== 'function') return false;
  try {
    v8.setFlagsFromString('--experimental-wasm-reftypes');
    return true;
  } catch (e) {
    return false;
  }
}

/** @param {any} cause */
function unsupported(cause) {
  const version = typeof process !== 'undefined' && process.version ? process.version : 'this runtime';
  const e = shimError(
    codes.RUNTIME_UNSUPPORTED,
    'configuration',
    `Node.js ${version} cannot load the transporter's WebAssembly core: it uses WebAssembly reference types, which Node enables by default from version 17 (Node 16 needs --experimental-wasm-reftypes, which this script could not set here). Run the feed on Node 18 or later. (${cause && cause.message ? cause.message : cause})`,
  );
  return e;
}

/**
 * new WebAssembly.Module(bytes), with the Node 16 fallback.
 * @param {BufferSource} bytes
 */
function compileModule(bytes) {
  try {
    return new WebAssembly.Module(bytes);
  } catch (e) {
    if (!isRefTypesError(e)) throw e;
    if (enableRefTypes()) {
      try {
        return new WebAssembly.Module(bytes);
      } catch (e2) {
        throw unsupported(e2);
      }
    }
    throw unsupported(e);
  }
}

module.exports = { compileModule, isRefTypesError, enableRefTypes, unsupported };
