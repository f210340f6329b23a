'use strict';
// Output chunks from the core as JavaScript strings, decoded the fast way.
//
// The core's output is ASCII unless an element or attribute name in the Qualys data is not (text
// is always escaped to ASCII). `takeOutputChunk()` hands over the bytes (a view into the core's
// memory, valid until the next call on the core object, so decoded right here) with an `ascii`
// flag: an
// ASCII chunk is decoded with Buffer's 'latin1' (a byte per character, several times faster than
// UTF-8 decoding: bench/PROFILE.md), anything else as UTF-8. Without Buffer (a browser) the
// decoder is TextDecoder, which is what the plain `takeOutput()` uses anyway.

/* global Buffer */
const { TextDecoder } = require('./text-codec');

let utf8;

/** One chunk `{bytes, ascii}` from `takeOutputChunk()` as a string. */
function chunkText(chunk) {
  const b = chunk.bytes;
  if (typeof Buffer === 'function') {
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString(chunk.ascii ? 'ascii' : 'utf8');
  }
  if (!utf8) utf8 = new TextDecoder('utf-8');
  return utf8.decode(b);
}

/** The next output chunk of a core Feed or Transformer as a string, or undefined. */
function takeOutputText(source) {
  const chunk = source.takeOutputChunk();
  return chunk === undefined ? undefined : chunkText(chunk);
}

module.exports = { chunkText, takeOutputText };
