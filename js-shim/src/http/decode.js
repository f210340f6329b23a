'use strict';
// Compressed answers (issue #13): the adapters ask for `Accept-Encoding: gzip` only when their
// client decodes it (fetch and request do; Node's https when the host lets the script load zlib),
// decode as the body streams in (never a whole page in memory), report the compressed size to the
// core (sink.wire) and the decoded bytes as the body: the core always reads plain bytes.
//
// Bounded against decompression bombs: the decoded bytes of one answer may be at most
// MAX_RATIO x its compressed bytes received so far + RATIO_SLACK (real Qualys XML compresses about
// 5-20x; gzip's limit is about 1030x), and never more than MAX_DECODED. Past that the answer is
// dropped and the exchange settles with the core's code DECOMPRESSED_TOO_LARGE (not retried).
// fetch decodes inside and reports no compressed size: its ratio is checked against the
// Content-Length when the server sent one, else only MAX_DECODED applies.
//
// A damaged or cut compressed stream settles as EDECOMPRESS in every client (a network error:
// retried; records completed before it are not written twice). An answer in an encoding the
// client did not ask for and cannot decode settles as EBADENCODING (a network error: retried),
// never as bytes the parser would choke on.

const { codes } = require('../codes');

/** Decoded bytes per compressed byte an answer may reach. */
const MAX_RATIO = 100;
/** Decoded bytes always allowed on top of the ratio (the first blocks of a stream). */
const RATIO_SLACK = 1024 * 1024;
/** Decoded bytes one answer may never exceed, whatever its compressed size. */
const MAX_DECODED = 4 * 1024 * 1024 * 1024;

/**
 * The Content-Encoding of a response's headers, lowercased ('' for none or identity).
 * @param {Array<[string, string]>} headers
 * @returns {string}
 */
function contentEncoding(headers) {
  for (const [k, v] of headers || []) {
    if (/^content-encoding$/i.test(String(k))) {
      const e = String(v).trim().toLowerCase();
      return e === 'identity' ? '' : e;
    }
  }
  return '';
}

/**
 * @param {number} n
 * @returns {string}
 */
function size(n) {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KB`;
}

/**
 * Counts one compressed answer's bytes on both sides and says when it decodes too far.
 * @param {string} encoding
 * @param {number | null} knownWire the compressed size when known in advance (fetch: Content-Length)
 */
function bombGuard(encoding, knownWire) {
  let wire = 0;
  let decoded = 0;
  return {
    /** @param {number} n compressed bytes received */
    wire(n) { wire += n; },
    /**
     * @param {number} n decoded bytes produced
     * @returns {string | null} why the answer must be dropped, or null
     */
    decoded(n) {
      decoded += n;
      const compressed = knownWire !== null ? knownWire : wire;
      if (decoded > MAX_DECODED) {
        return `the answer was compressed (Content-Encoding: ${encoding}) and decoded to more than ${size(MAX_DECODED)}, more than any page may hold: a decompression bomb or a broken proxy`;
      }
      if ((knownWire !== null || wire > 0) && decoded > compressed * MAX_RATIO + RATIO_SLACK) {
        return `the answer was compressed (Content-Encoding: ${encoding}) and decoded to more than ${MAX_RATIO} times its compressed size (${size(decoded)} from ${size(compressed)}): a decompression bomb or a broken proxy`;
      }
      return null;
    },
    get wireBytes() { return wire; },
  };
}

/**
 * Settles an exchange because a compressed answer decoded too far.
 * @param {{error(code: string, message: string): void}} s
 * @param {string} why
 */
function bombError(s, why) {
  s.error(codes.DECOMPRESSED_TOO_LARGE, why);
}

/**
 * The message of an answer in an encoding this client cannot decode.
 * @param {string} encoding
 * @param {boolean} asked whether the client asked for gzip
 */
function badEncodingMessage(encoding, asked) {
  return `the server answered with Content-Encoding: ${JSON.stringify(encoding.slice(0, 40))}, which ${asked ? 'is not the gzip the feed asked for' : 'the feed did not ask for'} and cannot decode here (a proxy rewriting answers?)`;
}

/**
 * The code and message of a compressed answer that could not be decoded (a damaged or cut gzip
 * stream): EDECOMPRESS in every client (the core retries it as a network error).
 * @param {string} detail the decoder's words
 * @returns {{code: string, message: string}}
 */
function decodeFailure(detail) {
  return { code: 'EDECOMPRESS', message: `the compressed answer could not be decoded (${detail}): it is cut off or damaged` };
}

/**
 * Whether a client's transport failure is its decoder's (zlib's codes are Z_*: Z_DATA_ERROR,
 * Z_BUF_ERROR), as request and fetch report them.
 * @param {{code: string}} f transportFailure's result
 */
function isDecodeFailure(f) {
  return /^Z_[A-Z_]+$/.test(f.code);
}

module.exports = { contentEncoding, bombGuard, bombError, badEncodingMessage, decodeFailure, isDecodeFailure, MAX_RATIO, RATIO_SLACK, MAX_DECODED };
