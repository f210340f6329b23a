'use strict';
// What the host offers. Archer's sandbox resolves only a few packages through `require` (request,
// xml2js, xpath, @xmldom/xmldom) and may refuse Node's built-ins, so every optional module is
// loaded through optionalRequire, which answers null instead of throwing. In the single-file build
// `require` here is the bundle's: inlined modules first, then the host's own require.

/**
 * Loads a module if the host allows it.
 * @param {string} name
 * @returns {any|null}
 */
function optionalRequire(name) {
  try {
    return typeof require === 'function' ? require(name) : null;
  } catch (e) {
    return null;
  }
}

/** The global object (globalThis in every supported Node). */
const globalObject = typeof globalThis !== 'undefined' ? globalThis : Function('return this')();

module.exports = { optionalRequire, globalObject };
