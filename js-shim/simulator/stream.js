'use strict';
// Writes a generator of body pieces to an HTTP response in chunks, honouring backpressure
// (res.write() === false -> wait for 'drain'), applying the body faults (reset, truncate, slow)
// and committing "served record" marks only once the bytes carrying them were handed over.

const CLOSE_TAG = '</RESPONSE>';
/** A body piece that stops the response where it stands: nothing more is sent, the response never
 * ends, until the client gives up (stall_host). */
const STALL = Object.freeze({ stall: true });

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

/**
 * Resolve on 'drain' of `out` or when it, or the response `res` it feeds, closes.
 * @param {any} out
 * @param {any} [res]
 */
function waitDrain(out, res) {
  return new Promise((/** @type {(value?: undefined) => void} */ resolve) => {
    const done = () => {
      out.removeListener('drain', done);
      out.removeListener('close', done);
      if (res && res !== out) res.removeListener('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
    if (res && res !== out) res.on('close', done);
  });
}

function writeWithCallback(res, data) {
  return new Promise((/** @type {(value?: undefined) => void} */ resolve) => {
    let settled = false;
    const finish = () => { if (!settled) { settled = true; resolve(); } };
    const ok = res.write(data, finish);
    if (!ok) res.once('close', finish);
  });
}

class BodyPump {
  /**
   * @param {import('http').ServerResponse} res
   * @param {{fault?: object, chunkBytes?: number, onCommit?: (kind:string, a:number, b?:number)=>void, out?: any}} o
   *        out: where the body goes instead of res (a zlib gzip stream piped into res), flushed
   *        after every write so the records still stream
   */
  constructor(res, o = {}) {
    this.res = res;
    this.out = o.out || res;
    this.fault = o.fault || null;
    this.chunkBytes = o.chunkBytes || 65536;
    this.onCommit = o.onCommit || (() => {});
    this.cut = this.fault && ['truncate', 'reset', 'gzip_corrupt'].includes(this.fault.type) ? Math.max(0, this.fault.afterBytes) : null;
    this.slow = this.fault && this.fault.type === 'slow' ? this.fault : null;
    // drip: the same trickle, `bytes` at a time (the head goes out at once: see run()).
    if (this.fault && this.fault.type === 'drip') this.slow = { chunkBytes: this.fault.bytes, intervalMs: this.fault.intervalMs };
    if (this.slow) this.chunkBytes = Math.max(1, this.slow.chunkBytes);
    this.pending = [];
    this.pendingLen = 0; // bytes when cutting, string length otherwise (only used for flush sizing)
    this.pendingMarks = []; // [offset, kind, a, b] flattened
    this.appended = 0; // bytes appended so far (exact only when cutting)
    this.sent = 0; // bytes handed to res.write
    this.closed = false;
    res.on('close', () => { this.closed = true; });
    this.mark = this.mark.bind(this);
  }

  /** Record that a record ended at the current position (called by the renderer). */
  mark(kind, a, b) {
    this.pendingMarks.push(this.appended, kind, a, b);
  }

  commitMarks(upTo) {
    const m = this.pendingMarks;
    let i = 0;
    for (; i < m.length; i += 4) {
      if (m[i] > upTo) break;
      this.onCommit(m[i + 1], m[i + 2], m[i + 3]);
    }
    if (i >= m.length) this.pendingMarks = [];
    else this.pendingMarks = m.slice(i);
  }

  /** A compressing `out` hands what it has to the client now (Z_SYNC_FLUSH). */
  flushOut() {
    if (this.out !== this.res && typeof this.out.flush === 'function') this.out.flush();
  }

  /** Ends the body (through `out`) and resolves once the response is finished or closed. */
  endBody() {
    const res = this.res;
    if (this.out === res) return new Promise((resolve) => res.end(resolve));
    return new Promise((resolve) => {
      res.once('finish', resolve);
      res.once('close', resolve);
      this.out.end();
    });
  }

  async flush() {
    if (this.pending.length === 0) return;
    const parts = this.pending;
    this.pending = [];
    this.pendingLen = 0;
    let data;
    if (parts.every((p) => typeof p === 'string')) data = Buffer.from(parts.join(''), 'utf8');
    else data = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    if (this.slow) {
      for (let off = 0; off < data.length && !this.closed; off += this.chunkBytes) {
        const piece = data.subarray(off, off + this.chunkBytes);
        const ok = this.out.write(piece);
        this.flushOut();
        if (!ok) await waitDrain(this.out, this.res);
        this.sent += piece.length;
        await sleep(this.slow.intervalMs);
      }
    } else if (!this.closed) {
      const ok = this.out.write(data);
      this.flushOut();
      this.sent += data.length;
      if (!ok) await waitDrain(this.out, this.res);
    }
    if (this.cut === null) this.commitMarks(Infinity);
    else this.commitMarks(this.sent);
  }

  /**
   * Pump the whole body.
   * @param {Iterator<string|Buffer>} iter (or STALL: stop sending, never end)
   * @returns {Promise<{complete:boolean, bytes:number, aborted:boolean, cut:boolean}>}
   */
  async run(iter) {
    const res = this.res;
    let sinceYield = 0;
    if (this.fault && this.fault.type === 'drip' && !res.headersSent) res.flushHeaders();
    for (;;) {
      if (this.closed) return { complete: false, bytes: this.sent, aborted: true, cut: false };
      const { value, done } = iter.next();
      if (done) break;
      if (/** @type {unknown} */ (value) === STALL) {
        await this.flush();
        if (!this.closed) await new Promise((resolve) => res.once('close', resolve));
        return { complete: false, bytes: this.sent, aborted: true, cut: false };
      }
      if (this.cut !== null) {
        let buf = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
        let stopAt = this.cut - this.appended; // bytes of this piece we may still send
        if (typeof value === 'string') {
          const idx = value.indexOf(CLOSE_TAG);
          if (idx !== -1) stopAt = Math.min(stopAt, Buffer.byteLength(value.slice(0, idx), 'utf8'));
        }
        if (buf.length >= stopAt) {
          buf = buf.subarray(0, Math.max(0, stopAt));
          this.pending.push(buf);
          this.appended += buf.length;
          return this.finishCut();
        }
        this.pending.push(buf);
        this.appended += buf.length;
        this.pendingLen += buf.length;
      } else {
        this.pending.push(value);
        this.pendingLen += value.length;
      }
      if (this.pendingLen >= this.chunkBytes) {
        sinceYield += this.pendingLen;
        await this.flush();
        if (sinceYield >= 1 << 20) { sinceYield = 0; await new Promise((r) => setImmediate(r)); }
      }
    }
    await this.flush();
    if (this.closed) return { complete: false, bytes: this.sent, aborted: true, cut: false };
    await this.endBody();
    return { complete: true, bytes: this.sent, aborted: false, cut: false };
  }

  async finishCut() {
    const res = this.res;
    const parts = this.pending;
    this.pending = [];
    const data = Buffer.concat(parts);
    if (data.length && !this.closed) {
      await writeWithCallback(this.out, data);
      this.flushOut();
      this.sent += data.length;
    }
    this.commitMarks(this.sent);
    if (this.fault.type === 'gzip_corrupt') {
      // What was compressed so far goes out whole (Z_SYNC_FLUSH), then bytes no gzip decoder
      // accepts (0xff: a deflate block of the reserved type), and the HTTP body ends cleanly.
      if (this.out !== res && !this.closed) {
        const out = this.out;
        await new Promise((r) => out.flush(r));
        for (let i = 0; i < 100 && out.readableLength > 0 && !this.closed; i++) await new Promise((r) => setImmediate(r));
        out.unpipe(res);
      }
      if (!this.closed) await new Promise((/** @type {(v?: unknown) => void} */ resolve) => { res.end(Buffer.alloc(16, 0xff), () => resolve()); });
      return { complete: false, bytes: this.sent, aborted: false, cut: true };
    }
    if (this.fault.type === 'reset') {
      // Let a compressing `out` hand its flushed bytes to the socket first.
      if (this.out !== res) await new Promise((r) => setImmediate(r));
      const sock = res.socket;
      if (sock && !sock.destroyed) sock.destroy();
      return { complete: false, bytes: this.sent, aborted: false, cut: true };
    }
    if (!this.closed) await this.endBody();
    return { complete: false, bytes: this.sent, aborted: false, cut: true };
  }
}

module.exports = { BodyPump, sleep, waitDrain, STALL };
