'use strict';
// Deterministic pseudo-random helpers. No Math.random anywhere in the simulator:
// every value is a pure function of (seed, kind, index).

/** 32-bit integer mix (murmur3 finaliser). */
function mix32(h) {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Hash of a seed and up to three integers -> uint32. */
function hash(seed, a, b, c) {
  let h = mix32((seed >>> 0) ^ 0x9e3779b9);
  h = mix32(h ^ Math.imul((a | 0) + 0x7f4a7c15, 0x2545f491));
  if (b !== undefined) h = mix32(h ^ Math.imul((b | 0) + 0x6a09e667, 0x27d4eb2f));
  if (c !== undefined) h = mix32(h ^ Math.imul((c | 0) + 0x3c6ef372, 0x165667b1));
  return h >>> 0;
}

/**
 * mulberry32 stream. Returns an object with helpers so record builders read well.
 * @param {number} state uint32
 */
function stream(state) {
  let s = state >>> 0;
  function next() {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return {
    next,
    /** integer in [lo, hi] */
    int(lo, hi) { return lo + Math.floor(next() * (hi - lo + 1)); },
    /** true with probability p */
    chance(p) { return next() < p; },
    pick(arr) { return arr[Math.floor(next() * arr.length)]; },
    /** pick from [[weight, value], ...] */
    weighted(pairs) {
      let total = 0;
      for (const p of pairs) total += p[0];
      let r = next() * total;
      for (const p of pairs) { r -= p[0]; if (r < 0) return p[1]; }
      return pairs[pairs.length - 1][1];
    },
  };
}

/** Seed from a number or any string (FNV-1a). */
function seedFrom(seed) {
  if (seed === undefined || seed === null || seed === '') return 1;
  if (typeof seed === 'number' && Number.isFinite(seed)) return seed >>> 0;
  const s = String(seed);
  if (/^\d+$/.test(s) && Number(s) <= 0xffffffff) return Number(s) >>> 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

module.exports = { mix32, hash, stream, seedFrom };
