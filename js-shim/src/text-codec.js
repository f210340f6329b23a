'use strict';
// TextDecoder/TextEncoder for the wasm-bindgen glue. A `vm` sandbox (Archer's transporter) has the
// JavaScript built-ins but not Node's globals such as TextDecoder, and require('util') may not be
// allowed there; Buffer is. So: the global classes when present, else small Buffer-based ones.

class BufferTextDecoder {
  // The glue asks for ('utf-8', { ignoreBOM: true }); Buffer's UTF-8 decoding keeps a BOM and
  // replaces invalid sequences with U+FFFD, which matches those options.
  /** @param {Uint8Array} [bytes] */
  decode(bytes) {
    if (bytes === undefined) return '';
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }
}

class BufferTextEncoder {
  /** @param {string} text */
  encode(text) {
    const b = Buffer.from(String(text), 'utf8');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  // No encodeInto: the glue then falls back to encode() + set().
}

/** @type {{TextDecoder?: any, TextEncoder?: any}} */
const g = typeof globalThis !== 'undefined' ? globalThis : {};

module.exports = {
  TextDecoder: typeof g.TextDecoder === 'function' ? g.TextDecoder : BufferTextDecoder,
  TextEncoder: typeof g.TextEncoder === 'function' ? g.TextEncoder : BufferTextEncoder,
  BufferTextDecoder,
  BufferTextEncoder,
};
