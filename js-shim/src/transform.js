'use strict';
// Offline transform of one saved Qualys response into the Archer output (the CLI's `transform` and
// the library's transform()). The core parses; this only feeds it bytes and collects chunks.

const { shimError } = require('./errors');
const { codes } = require('./codes');
const { takeOutputText } = require('./output-text');

/** @typedef {import('../../pkg-template/index').DataSource} DataSource */

/** @type {Record<DataSource, string> | null} */
let rootNodes = null;

/**
 * The root node each data source writes by default, as the core says (its dataSources(), in the
 * guide's order), read from the embedded core when first asked (so loading the library does not
 * instantiate it).
 * @returns {Record<DataSource, string>}
 */
function defaultRootNodes() {
  if (!rootNodes) {
    const out = /** @type {Record<DataSource, string>} */ ({});
    for (const d of require('./core').dataSources()) out[d.name] = d.defaultRootNode;
    rootNodes = out;
  }
  return rootNodes;
}

/**
 * @param {unknown} x
 * @returns {Uint8Array}
 */
function toBytes(x) {
  if (x instanceof Uint8Array) return x;
  if (typeof x === 'string') return typeof Buffer === 'function' ? Buffer.from(x, 'utf8') : new TextEncoder().encode(x);
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  throw shimError(codes.BAD_ARGUMENT, 'caller', 'transform: input chunks must be strings or bytes');
}

/** @typedef {import('../../pkg-template/index').TransformSummary} TransformSummary */

/**
 * @param {import('../../pkg-template/index').DataSource} source
 * @param {string|Uint8Array|ArrayBuffer|Iterable<string|Uint8Array>|AsyncIterable<string|Uint8Array>} input
 *        the response: whole, or in chunks (a Node Readable stream is an async iterable)
 * @param {{write?: (chunk: string) => void, chunkRecords?: number, chunkBytes?: number, outputShape?: 'records' | 'qualys', detectionKey?: string, core?: import('./core').CoreModule}} [options]
 *        write: receives each output chunk; without it the chunks are joined into `output`;
 *        outputShape: as the Custom Parameter (records, the default, or qualys);
 *        detectionKey: seed (default), uniqueVulnId or hostQid (as the Custom Parameter)
 * @returns {Promise<TransformSummary>}
 */
async function transform(source, input, options = {}) {
  const core = options.core || require('./core');
  // Any other value (the CLI passes what it was given) is the core's CONFIG_INVALID.
  const key = /** @type {import('../../pkg-template/index').DetectionKey | undefined} */ (options.detectionKey);
  const t = new core.Transformer(source, options.chunkRecords, options.chunkBytes, options.outputShape, key);
  /** @type {string[]} */
  const parts = [];
  const write = options.write || ((c) => parts.push(c));
  const drain = () => {
    let c;
    while ((c = takeOutputText(t)) !== undefined) write(c);
  };
  try {
    /** @param {unknown} chunk */
    const push = (chunk) => {
      t.push(toBytes(chunk));
      drain();
    };
    if (typeof input === 'string' || input instanceof Uint8Array || input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
      push(input);
    } else if (input && typeof (/** @type {any} */ (input))[Symbol.asyncIterator] === 'function') {
      for await (const chunk of /** @type {AsyncIterable<unknown>} */ (input)) push(chunk);
    } else if (input && typeof (/** @type {any} */ (input))[Symbol.iterator] === 'function') {
      for (const chunk of /** @type {Iterable<unknown>} */ (input)) push(chunk);
    } else {
      throw shimError(codes.BAD_ARGUMENT, 'caller', 'transform: input must be a string, bytes, or an (async) iterable of chunks');
    }
    const summary = t.finish();
    drain();
    // The Transformer accepted the source, so the core has a root node for it.
    const rootNode = /** @type {string} */ (typeof core.defaultRootNode === 'function' ? core.defaultRootNode(source) : defaultRootNodes()[source]);
    /** @type {TransformSummary} */
    const result = Object.assign({}, summary, { rootNode });
    if (!options.write) result.output = parts.join('');
    return result;
  } finally {
    t.free();
  }
}

module.exports = { transform, defaultRootNodes };
