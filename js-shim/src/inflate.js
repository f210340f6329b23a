'use strict';
// A small raw-DEFLATE (RFC 1951) decoder. The single-file build embeds the wasm module deflated
// (base64 of the raw module alone would push the file past 400 kB; it is embedded in base 91), and Archer's sandbox may not
// allow require('zlib'), so the file carries its own decoder. Used once per load, on trusted bytes
// that scripts/bundle.js produced; it still checks bounds and throws on malformed input.

// Lengths and distances: base values and extra bits (RFC 1951, 3.2.5).
const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** @typedef {{counts: Uint16Array, symbols: Uint16Array}} Table */

/**
 * Canonical Huffman table from code lengths: counts per length and symbols sorted by code.
 * @param {Uint8Array} lengths
 * @param {number} offset
 * @param {number} n
 * @returns {Table}
 */
function buildTable(lengths, offset, n) {
  const counts = new Uint16Array(16);
  const symbols = new Uint16Array(n);
  for (let i = 0; i < n; i++) counts[lengths[offset + i]]++;
  counts[0] = 0;
  const offs = new Uint16Array(16);
  for (let i = 1; i < 16; i++) offs[i] = offs[i - 1] + counts[i - 1];
  for (let i = 0; i < n; i++) {
    const l = lengths[offset + i];
    if (l) symbols[offs[l]++] = i;
  }
  return { counts, symbols };
}

/** @type {{lit: Table, dist: Table} | null} */
let FIXED = null;
function fixedTables() {
  if (FIXED) return FIXED;
  const l = new Uint8Array(288 + 30);
  for (let i = 0; i < 144; i++) l[i] = 8;
  for (let i = 144; i < 256; i++) l[i] = 9;
  for (let i = 256; i < 280; i++) l[i] = 7;
  for (let i = 280; i < 288; i++) l[i] = 8;
  for (let i = 288; i < 318; i++) l[i] = 5;
  FIXED = { lit: buildTable(l, 0, 288), dist: buildTable(l, 288, 30) };
  return FIXED;
}

/**
 * Decompresses raw DEFLATE data.
 * @param {Uint8Array} src compressed bytes
 * @param {number} [sizeHint] expected output size (grows as needed)
 * @returns {Uint8Array}
 */
function inflateRaw(src, sizeHint) {
  let pos = 0; // byte position in src
  let bitBuf = 0;
  let bitCnt = 0;
  let out = new Uint8Array(sizeHint !== undefined && sizeHint > 0 ? sizeHint : Math.max(1024, src.length * 4));
  let outLen = 0;

  /**
   * @param {string} why
   * @returns {never}
   */
  const fail = (why) => { throw new Error('inflate: ' + why); };
  /** @param {number} n */
  const bits = (n) => {
    while (bitCnt < n) {
      if (pos >= src.length) fail('unexpected end of data');
      bitBuf |= src[pos++] << bitCnt;
      bitCnt += 8;
    }
    const v = bitBuf & ((1 << n) - 1);
    bitBuf >>>= n;
    bitCnt -= n;
    return v;
  };
  /** @param {number} extra */
  const ensure = (extra) => {
    if (outLen + extra <= out.length) return;
    let size = out.length * 2;
    while (size < outLen + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(out.subarray(0, outLen));
    out = grown;
  };
  /** @param {Table} t */
  const decode = (t) => {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len < 16; len++) {
      code |= bits(1);
      const count = t.counts[len];
      if (code - first < count) return t.symbols[index + code - first];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    return fail('invalid Huffman code');
  };

  let last = 0;
  while (!last) {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      bitBuf = 0;
      bitCnt = 0;
      if (pos + 4 > src.length) fail('unexpected end of data');
      const len = src[pos] | (src[pos + 1] << 8);
      const nlen = src[pos + 2] | (src[pos + 3] << 8);
      if ((len ^ 0xffff) !== nlen) fail('stored block length check failed');
      pos += 4;
      if (pos + len > src.length) fail('unexpected end of data');
      ensure(len);
      out.set(src.subarray(pos, pos + len), outLen);
      outLen += len;
      pos += len;
      continue;
    }
    let lit;
    let dist;
    if (type === 1) {
      ({ lit, dist } = fixedTables());
    } else if (type === 2) {
      const hlit = bits(5) + 257;
      const hdist = bits(5) + 1;
      const hclen = bits(4) + 4;
      const cl = new Uint8Array(19);
      for (let i = 0; i < hclen; i++) cl[CL_ORDER[i]] = bits(3);
      const clTable = buildTable(cl, 0, 19);
      const lengths = new Uint8Array(hlit + hdist);
      for (let i = 0; i < hlit + hdist;) {
        const sym = decode(clTable);
        if (sym < 16) {
          lengths[i++] = sym;
        } else {
          let repeat;
          let value = 0;
          if (sym === 16) {
            if (i === 0) fail('repeat with no previous length');
            value = lengths[i - 1];
            repeat = 3 + bits(2);
          } else if (sym === 17) {
            repeat = 3 + bits(3);
          } else {
            repeat = 11 + bits(7);
          }
          if (i + repeat > hlit + hdist) fail('too many code lengths');
          while (repeat--) lengths[i++] = value;
        }
      }
      lit = buildTable(lengths, 0, hlit);
      dist = buildTable(lengths, hlit, hdist);
    } else {
      fail('invalid block type');
    }
    for (;;) {
      const sym = decode(lit);
      if (sym < 256) {
        ensure(1);
        out[outLen++] = sym;
      } else if (sym === 256) {
        break;
      } else {
        const li = sym - 257;
        if (li >= 29) fail('invalid length symbol');
        const len = LEN_BASE[li] + bits(LEN_EXTRA[li]);
        const di = decode(dist);
        if (di >= 30) fail('invalid distance symbol');
        const d = DIST_BASE[di] + bits(DIST_EXTRA[di]);
        if (d > outLen) fail('distance too far back');
        ensure(len);
        for (let k = 0; k < len; k++, outLen++) out[outLen] = out[outLen - d];
      }
    }
  }
  return out.length === outLen ? out : out.slice(0, outLen);
}

module.exports = { inflateRaw };
