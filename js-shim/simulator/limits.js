'use strict';
// Qualys API rate and concurrency limits, per API (kb / hosts / detections), like a subscription.
// Every API response carries the X-RateLimit-* and X-Concurrency-Limit-* headers; when enforced,
// going over the rate gives 409 + SIMPLE_RETURN 1965 and over concurrency 409 + 1960.

const DEFAULT_RATE = { limit: 300, windowSec: 3600 };
const DEFAULT_CONCURRENCY = 2;

/**
 * Normalise a rate option: {limit, windowSec, enforce?} | "N/secs" | "off" | false | undefined.
 * @returns {{limit:number, windowSec:number, enforce:boolean}}
 */
function normaliseRate(v) {
  if (v === undefined || v === null || v === true) return { ...DEFAULT_RATE, enforce: true };
  if (v === false || v === 'off') return { ...DEFAULT_RATE, enforce: false };
  if (typeof v === 'string') {
    const m = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?)$/.exec(v.trim());
    if (!m) throw new Error(`invalid rate limit "${v}" (want N/secs or off)`);
    return { limit: Number(m[1]), windowSec: Number(m[2]), enforce: true };
  }
  return {
    limit: v.limit !== undefined ? Number(v.limit) : DEFAULT_RATE.limit,
    windowSec: v.windowSec !== undefined ? Number(v.windowSec) : DEFAULT_RATE.windowSec,
    enforce: v.enforce !== false,
  };
}

/** Normalise a concurrency option: number | {limit, enforce?} | "off" | false | undefined. */
function normaliseConcurrency(v) {
  if (v === undefined || v === null || v === true) return { limit: DEFAULT_CONCURRENCY, enforce: true };
  if (v === false || v === 'off') return { limit: DEFAULT_CONCURRENCY, enforce: false };
  if (typeof v === 'number' || /^\d+$/.test(String(v))) return { limit: Number(v), enforce: true };
  if (typeof v === 'object') {
    return { limit: v.limit !== undefined ? Number(v.limit) : DEFAULT_CONCURRENCY, enforce: v.enforce !== false };
  }
  throw new Error(`invalid concurrency "${v}" (want N or off)`);
}

/** "23 hours, 57 minutes and 54 seconds" like the Qualys 1965 text. */
function waitText(sec) {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return `${h} hours, ${m} minutes and ${s} seconds`;
}

class Limits {
  /**
   * @param {{rateLimit?: any, concurrency?: any, clock?: () => number}} [o]
   */
  constructor(o = {}) {
    this.clock = o.clock || Date.now;
    // Set by configure() and reset(); declared here for the type check.
    /** @type {{limit: number, windowSec: number, enforce: boolean}} calls per window */
    this.rate = /** @type {any} */ (undefined);
    /** @type {{limit: number, enforce: boolean}} concurrent calls */
    this.conc = /** @type {any} */ (undefined);
    /** @type {Map<string, number[]>} */
    this.calls = /** @type {any} */ (undefined);
    /** @type {Map<string, number>} */
    this.running = /** @type {any} */ (undefined);
    this.configure(o);
  }

  /** Change the limits (and clear all counters). */
  configure(o = {}) {
    if ('rateLimit' in o || !this.rate) this.rate = normaliseRate(o.rateLimit);
    if ('concurrency' in o || !this.conc) this.conc = normaliseConcurrency(o.concurrency);
    this.reset();
  }

  reset() {
    /** @type {Map<string, number[]>} api -> timestamps (ms) of counted calls in the window */
    this.calls = new Map();
    /** @type {Map<string, number>} api -> running calls */
    this.running = new Map();
  }

  windowCalls(api, now) {
    let arr = this.calls.get(api);
    if (!arr) { arr = []; this.calls.set(api, arr); }
    const from = now - this.rate.windowSec * 1000;
    let drop = 0;
    while (drop < arr.length && arr[drop] <= from) drop++;
    if (drop) arr.splice(0, drop);
    return arr;
  }

  /** Seconds until one more call fits in the window (0 if it fits now). */
  toWaitSec(api, now) {
    const arr = this.windowCalls(api, now);
    if (arr.length < this.rate.limit) return 0;
    const oldest = arr[arr.length - this.rate.limit];
    return Math.max(1, Math.ceil((oldest + this.rate.windowSec * 1000 - now) / 1000));
  }

  /** Headers describing the current state (for any API response). */
  headers(api, { excludeSelf = false } = {}) {
    const now = this.clock();
    const arr = this.windowCalls(api, now);
    const running = (this.running.get(api) || 0) - (excludeSelf ? 1 : 0);
    return {
      'X-RateLimit-Limit': String(this.rate.limit),
      'X-RateLimit-Window-Sec': String(this.rate.windowSec),
      'X-RateLimit-Remaining': String(Math.max(0, this.rate.limit - arr.length)),
      'X-RateLimit-ToWait-Sec': String(this.toWaitSec(api, now)),
      'X-Concurrency-Limit-Limit': String(this.conc.limit),
      'X-Concurrency-Limit-Running': String(Math.max(0, running)),
    };
  }

  /**
   * Try to start a call. On success the call is counted and running; call release() when the
   * response is over.
   * @returns {{ok:true, headers:object, release:()=>void} |
   *           {ok:false, code:1960|1965, text:string, items:Array<[string,number]>, headers:object}}
   */
  acquire(api) {
    const now = this.clock();
    const running = this.running.get(api) || 0;
    if (this.conc.enforce && running >= this.conc.limit) {
      const toFinish = running - this.conc.limit + 1;
      return { ok: false, code: 1960,
        text: `This API cannot be run again until ${toFinish} currently running API instance${toFinish > 1 ? 's have' : ' has'} finished.`,
        items: [['CALLS_TO_FINISH', toFinish]], headers: this.headers(api) };
    }
    const arr = this.windowCalls(api, now);
    if (this.rate.enforce && arr.length >= this.rate.limit) {
      const wait = this.toWaitSec(api, now);
      return { ok: false, code: 1965, text: `This API cannot be run again for another ${waitText(wait)}.`,
        items: [['SECONDS_TO_WAIT', wait]], headers: this.headers(api) };
    }
    // with rate enforcement off nothing is counted: Remaining stays at the limit and ToWait at 0,
    // so a client that paces itself on these headers is not slowed down in benchmarks
    if (this.rate.enforce) arr.push(now);
    this.running.set(api, running + 1);
    const headers = this.headers(api, { excludeSelf: true });
    let released = false;
    return { ok: true, headers, release: () => {
      if (released) return;
      released = true;
      this.running.set(api, Math.max(0, (this.running.get(api) || 1) - 1));
    } };
  }

  describe() {
    return { rateLimit: { ...this.rate }, concurrency: { ...this.conc } };
  }
}

module.exports = { Limits, normaliseRate, normaliseConcurrency, waitText, DEFAULT_RATE, DEFAULT_CONCURRENCY };
