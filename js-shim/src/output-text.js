'use strict';
// Output chunks from the core as JavaScript strings, decoded the fast way.
//
// The core's output is ASCII unless an element or attribute name in the Qualys data is not (text
// is always escaped to ASCII). `takeOutputChunk()` hands over the bytes (a view into the core's
// memory, valid until the next call on the core object, so decoded right here) with an `ascii`
// flag. An ASCII chunk below Node's external-string threshold is decoded with Buffer's 'latin1'
// (a byte per character, no UTF-8 decoding); anything else with TextDecoder, exactly as
// `takeOutput()` does. Why the threshold: Node turns a latin1 decode of 1,031,913 bytes or more into
// an external string whose memory V8 frees only at its next GC, which measurably raised the
// transform's peak RSS with the default 4 MiB chunks (136 MB vs 78 MB on 100 MB of detections,
// bench/PROFILE.md); TextDecoder strings live on V8's heap and keep memory flat.

const { TextDecoder } = require('./text-codec');

/** EXTERN_APEX in Node's own C++ source (its string_bytes.cc): longer decoded strings are external. */
const EXTERNAL_STRING_BYTES = 0xfbee9;

/** @typedef {{bytes: Uint8Array, ascii: boolean}} OutputChunk one chunk from takeOutputChunk() */
/** @typedef {{takeOutputChunk(): OutputChunk | undefined}} ChunkSource a core Feed or Transformer */

/** @type {{decode(bytes: Uint8Array): string} | undefined} */
let utf8;

/**
 * One chunk `{bytes, ascii}` from `takeOutputChunk()` as a string.
 * @param {OutputChunk} chunk
 * @returns {string}
 */
function chunkText(chunk) {
  const b = chunk.bytes;
  if (chunk.ascii && b.byteLength < EXTERNAL_STRING_BYTES && typeof Buffer === 'function') {
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  }
  if (!utf8) utf8 = new TextDecoder('utf-8');
  return /** @type {{decode(bytes: Uint8Array): string}} */ (utf8).decode(b);
}

/**
 * The next output chunk of a core Feed or Transformer as a string, or undefined.
 * @param {ChunkSource} source
 * @returns {string | undefined}
 */
function takeOutputText(source) {
  const chunk = source.takeOutputChunk();
  return chunk === undefined ? undefined : chunkText(chunk);
}

/**
 * The next output chunk as a Buffer of UTF-8 bytes (a copy: the core's view is only valid until
 * its next call), or undefined. What the Archer entry hands to OutputWriter.writeItem, which
 * takes strings or Buffers: the bytes are copied once instead of being decoded into a string
 * that the host then encodes again. A Uint8Array where there is no Buffer.
 * @param {ChunkSource} source
 * @returns {Uint8Array | undefined}
 */
function takeOutputBytes(source) {
  const chunk = source.takeOutputChunk();
  if (chunk === undefined) return undefined;
  return typeof Buffer === 'function' ? Buffer.from(chunk.bytes) : chunk.bytes.slice();
}

module.exports = { chunkText, takeOutputText, takeOutputBytes };
