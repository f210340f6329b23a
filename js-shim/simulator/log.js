'use strict';
// Record keeping: one entry per request with the record IDs each response served, stored
// compactly (typed arrays) so that serving millions of detections does not bloat the heap.

class U32List {
  constructor() { this.buf = new Uint32Array(16); this.length = 0; }
  push(v) {
    if (this.length === this.buf.length) {
      const nb = new Uint32Array(this.buf.length * 2);
      nb.set(this.buf);
      this.buf = nb;
    }
    this.buf[this.length++] = v;
  }
  toArray() { return Array.from(this.buf.subarray(0, this.length)); }
}

const SECRET_KEY_RE = /pass|pwd|secret|token|authorization/i;

/** Parameters as an object with anything password-like redacted. */
function redactParams(pairs) {
  const out = {};
  for (const [k, v] of pairs) out[k] = SECRET_KEY_RE.test(k) ? '[redacted]' : v;
  return out;
}

class Served {
  constructor() { this.h = new U32List(); this.q = new U32List(); this.dh = new U32List(); this.dq = new U32List(); }
  add(kind, a, b) {
    if (kind === 'host') this.h.push(a);
    else if (kind === 'qid') this.q.push(a);
    else { this.dh.push(a); this.dq.push(b); }
  }
  get hostIds() { return this.h.toArray(); }
  get qids() { return this.q.toArray(); }
  /** @returns {Array<[number, number]>} [hostId, qid] pairs */
  get detections() {
    const out = new Array(this.dh.length);
    for (let i = 0; i < this.dh.length; i++) out[i] = [this.dh.buf[i], this.dq.buf[i]];
    return out;
  }
  get counts() { return { hosts: this.h.length, qids: this.q.length, detections: this.dh.length }; }
  toJSON() { return { hostIds: this.hostIds, qids: this.qids, detections: this.detections }; }
}

/**
 * One request. Fields: seq, time (ISO wall clock), method, path, version, endpoint
 * ('kb'|'hosts'|'detections'|'control'|null), params (password-like values redacted), status,
 * code (Qualys CODE of an error body, or null), fault (type or null), page, requestNo,
 * complete (body fully sent, closing root tag included), bytes, nextIdMin, nextUrl, durationMs,
 * urlBytes (length of the request target: path and query), contentType and contentLength (request
 * headers, or null), bodyBytes (bytes of a POST body received, or null), slowMs (the wait of a
 * slow_page fault, or null), encoding ('gzip' when the answer was compressed, else null) and
 * wireBytes (its compressed bytes sent, else null; bytes counts the uncompressed body),
 * served (Served: hostIds, qids, detections).
 */
class Entry {
  constructor(seq, fields) {
    this.seq = seq;
    this.time = new Date().toISOString();
    this.method = fields.method;
    this.path = fields.path;
    this.version = fields.version || null;
    this.endpoint = fields.endpoint || null;
    this.params = fields.params || {};
    this.urlBytes = fields.urlBytes === undefined ? null : fields.urlBytes;
    this.contentType = fields.contentType || null;
    this.contentLength = fields.contentLength === undefined ? null : fields.contentLength;
    this.bodyBytes = null;
    this.slowMs = null;
    this.encoding = null;
    this.wireBytes = null;
    this.status = null;
    this.code = null;
    this.fault = null;
    this.page = null;
    this.requestNo = null;
    this.complete = false;
    this.bytes = 0;
    this.nextIdMin = null;
    this.nextUrl = null;
    this.durationMs = null;
    this.served = new Served();
    this._t0 = Date.now();
  }
  finish() { if (this.durationMs === null) this.durationMs = Date.now() - this._t0; }
  toJSON(opts = {}) {
    const { served, _t0, ...rest } = this;
    return { ...rest, servedCounts: served.counts, ...(opts.served === false ? {} : { served: served.toJSON() }) };
  }
}

class RequestLog {
  /** @param {{limit?: number}} [o] keep at most `limit` entries (oldest dropped), default 100000 */
  constructor(o = {}) { this.limit = o.limit || 100000; this.entries = []; this.seq = 0; }

  start(fields) {
    const e = new Entry(++this.seq, fields);
    this.entries.push(e);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    return e;
  }

  clear() { this.entries = []; }

  /** Entries with seq > since (all when omitted). */
  since(since = 0) { return this.entries.filter((e) => e.seq > since); }

  /**
   * Union of what complete 200 responses served (optionally filtered by endpoint).
   * @param {{endpoint?: string, includeIncomplete?: boolean, since?: number}} [o] since: only entries with a larger seq
   * @returns {{hostIds:Set<number>, qids:Set<number>, detections:Set<string>}} detections as "hostId:qid"
   */
  servedUnion(o = {}) {
    const out = { hostIds: new Set(), qids: new Set(), detections: new Set() };
    for (const e of this.entries) {
      if (o.since && e.seq <= o.since) continue;
      if (o.endpoint && e.endpoint !== o.endpoint) continue;
      if (!o.includeIncomplete && !e.complete) continue;
      const s = e.served;
      for (let i = 0; i < s.h.length; i++) out.hostIds.add(s.h.buf[i]);
      for (let i = 0; i < s.q.length; i++) out.qids.add(s.q.buf[i]);
      for (let i = 0; i < s.dh.length; i++) out.detections.add(`${s.dh.buf[i]}:${s.dq.buf[i]}`);
    }
    return out;
  }

  toJSON(opts = {}) { return this.since(opts.since || 0).map((e) => e.toJSON(opts)); }
}

module.exports = { RequestLog, Entry, Served, redactParams };
