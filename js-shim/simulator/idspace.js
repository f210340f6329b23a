'use strict';
// Ascending, non-contiguous ID sequences computable in O(1) from an index and back.
// IDs come in blocks: block b holds `blockSize` consecutive IDs starting at
// start + b * span + jitter(b), with 0 <= jitter < span - blockSize, so there is always a gap
// of at least one missing ID between blocks (and runs of consecutive IDs inside a block, which
// makes details=None answers use ID_RANGE as Qualys does).
const { hash } = require('./prng');

class IdSpace {
  /**
   * @param {{seed:number, salt:number, count:number, start:number, blockSize:number, span:number}} o
   */
  constructor(o) {
    this.seed = o.seed >>> 0;
    this.salt = o.salt | 0;
    this.count = o.count;
    this.start = o.start;
    this.blockSize = o.blockSize;
    this.span = o.span;
    this.jitterRange = o.span - o.blockSize; // jitter in [0, jitterRange - 1]
    if (this.jitterRange < 2) throw new Error('IdSpace: span must exceed blockSize by at least 2');
  }

  jitter(b) { return hash(this.seed, this.salt, b) % this.jitterRange; }

  /** ID of the record at index i (0 <= i < count). */
  idAt(i) {
    const b = Math.floor(i / this.blockSize);
    return this.start + b * this.span + this.jitter(b) + (i - b * this.blockSize);
  }

  get firstId() { return this.count > 0 ? this.idAt(0) : null; }
  get lastId() { return this.count > 0 ? this.idAt(this.count - 1) : null; }

  /** Index of the first record whose ID is >= id (count if none). */
  indexAtOrAfter(id) {
    if (this.count === 0) return 0;
    if (id <= this.start) return 0;
    const b = Math.floor((id - this.start) / this.span);
    const blockFirst = this.start + b * this.span + this.jitter(b);
    let i;
    if (id < blockFirst) i = b * this.blockSize;
    else if (id < blockFirst + this.blockSize) i = b * this.blockSize + (id - blockFirst);
    else i = (b + 1) * this.blockSize;
    return Math.min(i, this.count);
  }

  /** Index of the last record whose ID is <= id (-1 if none). */
  indexAtOrBefore(id) {
    const i = this.indexAtOrAfter(id);
    if (i < this.count && this.idAt(i) === id) return i;
    return i - 1;
  }

  /** Index of exactly this ID, or -1. */
  indexOf(id) {
    if (!Number.isSafeInteger(id)) return -1;
    const i = this.indexAtOrAfter(id);
    return i < this.count && this.idAt(i) === id ? i : -1;
  }
}

module.exports = { IdSpace };
