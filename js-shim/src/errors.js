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

/**
 * @param {string} code stable code, e.g. HTTP_OPTION_UNSUPPORTED
 * @param {'configuration'|'server'|'network'|'caller'} blame
 * @param {string} message for an Archer admin: what happened and what to do
 * @param {boolean} [retryable]
 * @returns {CodedError}
 */
function shimError(code, blame, message, retryable = false) {
  const e = /** @type {CodedError} */ (new Error(message));
  e.name = 'QualysTransporterError';
  e.code = code;
  e.blame = blame;
  e.retryable = retryable;
  return e;
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

module.exports = { shimError, transportFailure };
