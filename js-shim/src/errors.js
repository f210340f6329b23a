'use strict';
// Errors the shim itself raises, shaped like the core's (`code`, `blame`, `retryable`), and the
// mapping from whatever an HTTP client throws to the platform error code the core classifies
// (ECONNRESET, ETIMEDOUT, CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, ...).

/**
 * An error of the core or the shim (as declared: TransporterError): a stable code, whose fault it
 * is, whether a retry may help; a failed run's error also carries the counters and the resume
 * checkpoint.
 * @typedef {import('../../pkg-template/index').TransporterError & {cause?: unknown}} CodedError
 */
/** @typedef {import('../../pkg-template/index').Blame} Blame */

const { codes } = require('./codes');

const BLAMES = ['configuration', 'server', 'network', 'caller'];
const CODE_SHAPE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

/**
 * Whether a value is an error of this package: an Error (of any realm: Object.prototype.toString
 * reads the internal error slot) with a SCREAMING_SNAKE `code`, a `blame` among the four and a
 * boolean `retryable`. What `instanceof QualysTransporterError` answers.
 * @param {unknown} value
 * @returns {value is CodedError}
 */
function isTransporterError(value) {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return false;
  try {
    const v = /** @type {any} */ (value);
    return Object.prototype.toString.call(v) === '[object Error]' && typeof v.code === 'string' && CODE_SHAPE.test(v.code) &&
      BLAMES.indexOf(v.blame) !== -1 && typeof v.retryable === 'boolean';
  } catch (e) {
    return false; // a hostile getter or proxy: not ours
  }
}

/**
 * The package's error class. Every error the library, the Archer entry, the CLI's library calls
 * and the wasm core give a user has `code`, `blame` and `retryable`; the core's errors are made
 * inside the wasm and errors from an Archer-like vm sandbox come from another realm, so
 * `instanceof` does not follow the prototype chain: it is true for any Error with those three
 * properties (isTransporterError). The web build's class answers the same.
 */
class QualysTransporterError extends Error {
  /**
   * @param {string} message what happened and what to do, in an Archer admin's words
   * @param {{code: string, blame: Blame, retryable?: boolean, cause?: unknown}} options
   */
  constructor(message, options) {
    const o = options || /** @type {any} */ ({});
    super(String(message));
    this.name = 'QualysTransporterError';
    if (typeof o.code !== 'string' || !CODE_SHAPE.test(o.code) || BLAMES.indexOf(o.blame) === -1) {
      // The class is public: a caller's mistake is itself a coded caller error.
      throw new QualysTransporterError(`new QualysTransporterError(message, {code, blame, retryable}): code must be an error code (CAPITALS_AND_UNDERSCORES) and blame one of ${BLAMES.join(', ')}; got code ${JSON.stringify(String(o.code))} and blame ${JSON.stringify(String(o.blame))}`, { code: codes.BAD_ARGUMENT, blame: 'caller' });
    }
    /** @type {string} */
    this.code = o.code;
    /** @type {Blame} */
    this.blame = o.blame;
    /** @type {boolean} */
    this.retryable = o.retryable === true;
    if (o.cause !== undefined) this.cause = o.cause;
  }

  /**
   * @param {unknown} value
   * @returns {value is CodedError}
   */
  static [Symbol.hasInstance](value) {
    return isTransporterError(value);
  }
}

/**
 * @param {string} code stable code, e.g. HTTP_OPTION_UNSUPPORTED
 * @param {Blame} blame
 * @param {string} message for an Archer admin: what happened and what to do
 * @param {boolean} [retryable]
 * @returns {CodedError}
 */
function shimError(code, blame, message, retryable = false) {
  return new QualysTransporterError(message, { code, blame, retryable });
}

/**
 * The platform code and message of a transport failure. fetch wraps the real error in `cause`
 * (TypeError "fetch failed" / "terminated"); request and Node put `code` on the error itself.
 * @param {any} err what the client threw or emitted
 * @returns {{code: string, message: string}}
 */
function transportFailure(err) {
  if (!err || typeof err !== 'object') return { code: 'ETRANSPORT', message: String(err) };
  let e = err;
  const messages = [];
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    if (e.message) messages.push(String(e.message));
    if (e.code && typeof e.code === 'string') {
      return { code: e.code, message: messages.join(': ') };
    }
    e = e.cause;
  }
  const text = messages.join(': ') || String(err);
  // Some clients report certificate failures only in words.
  if (/self[- ]signed/i.test(text)) return { code: 'SELF_SIGNED_CERT_IN_CHAIN', message: text };
  if (/certificate/i.test(text)) return { code: 'ERR_TLS_CERT', message: text };
  if (err.name === 'AbortError') return { code: 'ECONNABORTED', message: text };
  return { code: 'ETRANSPORT', message: text };
}

module.exports = { shimError, transportFailure, QualysTransporterError, isTransporterError };
