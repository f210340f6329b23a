'use strict';
// The stable error codes as constants: codes.CONFIG_INVALID is "CONFIG_INVALID". One list for
// the core and the shim (src/error.rs ErrorCode, exported by the core's errorCodes()), so the
// shim's own errors (shimError), the library's users (it exports `codes`) and the tests name a code
// by a property that exists, never by a string literal. The type check knows the names
// (pkg-template/index.d.ts ErrorCode, compared with the core's list by tests/js/codes.test.js).
//
// Read from the core when first used (loading the library does not instantiate the wasm). A
// code-like name (CAPITALS_AND_UNDERSCORES) that is not in the list throws, so a misspelled
// constant fails where it is used instead of becoming `undefined`.
//
// One exception: RUNTIME_UNSUPPORTED is the error of a core that cannot be loaded, so its code
// cannot come from the core. It is the one code written here; the test checks the core has it.

/** @typedef {import('../../pkg-template/index').ErrorCode} ErrorCode */

/** @type {Record<string, string>} */
const WITHOUT_CORE = { RUNTIME_UNSUPPORTED: 'RUNTIME_UNSUPPORTED' };

/** The proxy's target: empty until the core's list is first needed, then that list, frozen. */
/** @type {Record<string, string>} */
const table = {};
let loaded = false;

/** Fills the table from the core, once. */
function load() {
  if (loaded) return;
  Object.assign(table, require('./core').errorCodes());
  Object.freeze(table);
  loaded = true;
}

const CODE_LIKE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

/** @type {ProxyHandler<Record<string, string>>} */
const handler = {
  get(target, name) {
    if (typeof name !== 'string') return Reflect.get(target, name);
    if (!loaded && Object.prototype.hasOwnProperty.call(WITHOUT_CORE, name)) return WITHOUT_CORE[name];
    load();
    if (Object.prototype.hasOwnProperty.call(target, name)) return target[name];
    if (CODE_LIKE.test(name)) throw new Error(`qualys-vm-transporter: there is no error code ${name}`);
    return undefined;
  },
  has(target, name) {
    load();
    return Reflect.has(target, name);
  },
  ownKeys(target) {
    load();
    return Reflect.ownKeys(target);
  },
  getOwnPropertyDescriptor(target, name) {
    load();
    return Reflect.getOwnPropertyDescriptor(target, name);
  },
};

/**
 * Every stable error code, name -> the same name (read-only).
 * @type {{readonly [K in ErrorCode]: K}}
 */
const codes = /** @type {any} */ (new Proxy(table, handler));

/** The codes, loaded (what the library exports: a table that prints whole). */
function loadedCodes() {
  load();
  return codes;
}

module.exports = { codes, loadedCodes };
