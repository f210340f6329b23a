'use strict';
// The contract between the run loop and an HTTP adapter, enforced in one place.
//
// An adapter's send(request, sink, control) makes one request and reports it through the sink
// (several may be in flight at once when the core asks for concurrency):
//   sink.head(status, [[name, value], ...])   once, when the status line and headers arrived
//   sink.body(uint8Array) -> boolean          per body chunk, in order; false = stop reading: the
//                                             adapter aborts the request, then calls sink.end()
//   sink.wire(bytes)                          optional: bytes of a compressed answer as received
//                                             (the body chunks are then the decoded bytes)
//   sink.tls(issuer)                          optional: the issuer of the server's TLS certificate
//                                             ("CN=..., O=..."), where the client exposes it
//   sink.end()                                the body ended (or reading was stopped)
//   sink.error(code, message)                 the request failed in transport (before or after
//                                             the head); code is the platform's (ECONNRESET, ...)
// Exactly one of end/error, once. guardSink makes late or repeated calls harmless and resolves the
// promise send() returns when the exchange is over.
//
// exchange() also makes every request end, whatever the client does (issue #11):
//   idle limit            requestTimeoutMs: no byte for that long, from send to the head (this
//                         covers connecting, a proxy's CONNECT, the TLS handshake and waiting for
//                         the answer) and between body chunks; reset on the head and every chunk
//   whole-response limit  responseTimeoutMs (the core's transport settings: 6 x requestTimeoutMs):
//                         from send to the end of the body, so a server dripping bytes is cut off
// On expiry the adapter's abort hook runs, then the exchange settles as ETIMEDOUT with a message
// naming the limit and its value. An adapter whose client queues requests (a keep-alive agent with
// fewer sockets than requests in flight) calls sink.dispatched() when the request got its socket:
// both limits then count from there (once).
//   unusable status       a head whose status is not 200-599 (101 Switching Protocols, which Node
//                         reports as 'upgrade'; 999; ...) is no answer to an API request: the
//                         adapter aborts and the exchange settles as EUNUSABLESTATUS (a network
//                         error the core retries). Informational 1xx before a final status are
//                         ignored (they do not reset the idle limit).

/** @typedef {import('../../../pkg-template/index').ResponseSink} ResponseSink */
/** @typedef {{idleMs: number, totalMs: number}} Limits the idle and whole-response limits (ms) */
/** @typedef {{abort?: () => void}} Control what the run loop gets to abandon a request */
/** @typedef {Array<[string, string]>} HeaderPairs */
/**
 * The sink an adapter's exchange function reports to: the contract's calls, plus dispatched() and
 * timedOut() (see exchange), and whether the exchange is over or has seen the head.
 * @typedef {ResponseSink & {wire(bytes: number): void, tls(issuer: string): void, dispatched(): void, timedOut(): void, readonly over: boolean, readonly headSeen: boolean}} ExchangeSink
 */

/** The whole-response limit when the core does not say: this many idle limits. */
const RESPONSE_TIMEOUT_FACTOR = 6;
const DEFAULT_IDLE_MS = 300000;

/**
 * The two limits of a request, from the core's transport settings.
 * @param {{requestTimeoutMs?: number, responseTimeoutMs?: number}} transport
 * @returns {{idleMs: number, totalMs: number}}
 */
function limitsOf(transport) {
  const t = transport || {};
  const idle = Number(t.requestTimeoutMs);
  const idleMs = idle > 0 ? idle : DEFAULT_IDLE_MS;
  const total = Number(t.responseTimeoutMs);
  const totalMs = total > 0 ? Math.max(total, idleMs) : idleMs * RESPONSE_TIMEOUT_FACTOR;
  return { idleMs, totalMs };
}

/**
 * 300000 -> "300 s", 1500 -> "1.5 s", 50 -> "50 ms".
 * @param {number} ms
 * @returns {string}
 */
function duration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms >= 120000 && ms % 60000 === 0) return `${ms / 60000} min`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/**
 * "requestTimeoutSec=300" (as the admin set it).
 * @param {Limits} limits
 */
function idleSetting(limits) {
  return `requestTimeoutSec=${Number((limits.idleMs / 1000).toFixed(3))}`;
}

/**
 * A short description of both limits, for the adapters' start line.
 * @param {Limits} limits
 */
function describeLimits(limits) {
  return `timeouts: idle ${duration(limits.idleMs)}, whole response ${duration(limits.totalMs)}`;
}

/**
 * @param {Limits} limits
 * @param {boolean} headSeen
 */
function idleMessage(limits, headSeen) {
  if (!headSeen) {
    return `no response from the server within ${duration(limits.idleMs)} of sending the request (${idleSetting(limits)}, the idle limit; it also covers connecting, a proxy's CONNECT and the TLS handshake)`;
  }
  return `no data from the server for ${duration(limits.idleMs)} in the middle of the response (${idleSetting(limits)}, the idle limit)`;
}

/**
 * @param {Limits} limits
 */
function totalMessage(limits) {
  const factor = limits.totalMs / limits.idleMs;
  const rule = Number.isInteger(factor) ? `${factor} x ${idleSetting(limits)}` : `responseTimeoutMs=${limits.totalMs}`;
  return `the response did not complete within ${duration(limits.totalMs)} (the whole response limit, ${rule}): the server sends too slowly or never finishes`;
}

/**
 * Is this a final HTTP status an API answer can have?
 * @param {any} status
 * @returns {boolean}
 */
function usableStatus(status) {
  return Number.isInteger(status) && status >= 200 && status <= 599;
}

/**
 * @param {unknown} status
 * @param {HeaderPairs} [headers]
 */
function unusableMessage(status, headers) {
  const shown = Number.isFinite(Number(status)) ? String(Math.trunc(Number(status))).slice(0, 12) : 'without a valid status';
  let what = '';
  if (Number(status) === 101) {
    const up = (headers || []).find((h) => Array.isArray(h) && /^upgrade$/i.test(String(h[0])));
    what = ` Switching Protocols (an upgrade${up ? ` to ${JSON.stringify(String(up[1]).slice(0, 60))}` : ''})`;
  }
  return `the server answered HTTP ${shown}${what}, which is no answer to an API request (a server or proxy that is not Qualys, or a broken connection); the connection was closed`;
}

/**
 * @param {ResponseSink} sink the run loop's sink
 * @param {() => void} done called once when the exchange is over
 */
function guardSink(sink, done) {
  let headSeen = false;
  let over = false;
  return {
    /**
     * @param {number} status
     * @param {HeaderPairs} headers
     */
    head(status, headers) {
      if (over || headSeen) return;
      headSeen = true;
      sink.head(status, headers);
    },
    /** @param {Uint8Array} chunk */
    body(chunk) {
      if (over) return false;
      if (!headSeen) return false;
      return sink.body(chunk) !== false;
    },
    /** @param {number} bytes */
    wire(bytes) {
      if (over || !headSeen || typeof sink.wire !== 'function') return;
      sink.wire(bytes);
    },
    /** @param {string} issuer */
    tls(issuer) {
      if (over || typeof sink.tls !== 'function') return;
      sink.tls(issuer);
    },
    end() {
      if (over) return;
      over = true;
      sink.end();
      done();
    },
    /**
     * @param {string} code
     * @param {string} message
     */
    error(code, message) {
      if (over) return;
      over = true;
      sink.error(code, message);
      done();
    },
    get over() { return over; },
    get headSeen() { return headSeen; },
  };
}

/**
 * Runs fn(sink, onAbort) and returns a promise that resolves when the exchange is over.
 * `control` (optional, from the run loop) gets control.abort(): it calls the adapter's abort hook
 * (registered with onAbort) and settles the exchange as ECONNABORTED, so the promise resolves even
 * when the client emits nothing after an abort. `limits` ({idleMs, totalMs}, see limitsOf) arms
 * the idle and whole-response timers; without it the exchange has none (unit tests of adapters).
 * The sink fn gets holds head/body/end/error as in the contract, plus dispatched(), timedOut()
 * (the client's own idle timeout fired: settle with the exchange's message), over and headSeen.
 *
 * @param {ResponseSink} sink
 * @param {(s: ExchangeSink, onAbort: (hook: () => void) => void) => void} fn starts the request
 * @param {Control} [control]
 * @param {Limits} [limits]
 * @returns {Promise<void>}
 */
function exchange(sink, fn, control, limits) {
  return new Promise((resolve) => {
    /** @type {ReturnType<typeof setTimeout> | null} */
    let idleTimer = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    let totalTimer = null;
    const clearTimers = () => {
      if (idleTimer) clearTimeout(idleTimer);
      if (totalTimer) clearTimeout(totalTimer);
      idleTimer = null;
      totalTimer = null;
    };
    const g = guardSink(sink, () => { clearTimers(); resolve(); });
    /** @type {(() => void) | null} */
    let abortHook = null;
    let closing = false; // the exchange is ending the request itself: the client's events are ignored
    /**
     * @param {string} code
     * @param {string} message
     */
    const stop = (code, message) => {
      if (g.over || closing) return;
      closing = true;
      clearTimers();
      try { if (abortHook) abortHook(); } catch (e) { /* best effort */ }
      g.error(code, message);
    };
    const armIdle = () => {
      if (!limits || g.over) return;
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => stop('ETIMEDOUT', idleMessage(limits, g.headSeen)), limits.idleMs);
    };
    const armTotal = () => {
      if (!limits || g.over) return;
      if (totalTimer) clearTimeout(totalTimer);
      totalTimer = setTimeout(() => stop('ETIMEDOUT', totalMessage(limits)), limits.totalMs);
    };
    let dispatched = false;
    /** @type {ExchangeSink} */
    const s = {
      /**
       * @param {number} status
       * @param {HeaderPairs} headers
       */
      head(status, headers) {
        if (closing || g.over || g.headSeen) return;
        if (!usableStatus(status)) {
          stop('EUNUSABLESTATUS', unusableMessage(status, headers));
          return;
        }
        armIdle();
        g.head(status, headers);
      },
      /** @param {Uint8Array} chunk */
      body(chunk) {
        if (closing || g.over) return false;
        armIdle();
        return g.body(chunk);
      },
      /** Compressed bytes arrived (the server is not idle, whatever the decoder has produced). */
      wire(bytes) {
        if (closing || g.over) return;
        armIdle();
        g.wire(bytes);
      },
      /** @param {string} issuer */
      tls(issuer) {
        if (!closing) g.tls(issuer);
      },
      end() {
        if (!closing) g.end();
      },
      /**
       * @param {string} code
       * @param {string} message
       */
      error(code, message) {
        if (!closing) g.error(code, message);
      },
      /** The client's own timeout fired: settle with the message of the limit that applies. */
      timedOut() {
        stop('ETIMEDOUT', idleMessage(limits || { idleMs: 0, totalMs: 0 }, g.headSeen));
      },
      /** The request left the client's queue (got its socket): the limits count from now (once). */
      dispatched() {
        if (dispatched || g.headSeen || g.over) return;
        dispatched = true;
        armIdle();
        armTotal();
      },
      get over() { return g.over || closing; },
      get headSeen() { return g.headSeen; },
    };
    if (control) {
      control.abort = () => {
        if (g.over || closing) return;
        closing = true;
        clearTimers();
        try { if (abortHook) abortHook(); } catch (e) { /* best effort */ }
        g.error('ECONNABORTED', 'the request was abandoned because the run ended');
      };
    }
    armIdle();
    armTotal();
    try {
      fn(s, (hook) => { abortHook = hook; });
    } catch (x) {
      const e = /** @type {any} */ (x);
      s.error(e && e.code ? String(e.code) : 'ETRANSPORT', e && e.message ? String(e.message) : String(e));
    }
  });
}

/**
 * UTF-8 byte length of a string (a POST body is percent-encoded ASCII, but count bytes anyway).
 * @param {string} text
 * @returns {number}
 */
function utf8Length(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) { n += 4; i++; } else n += 3;
  }
  return n;
}

/**
 * The body of a send action (a POST's form body, the core's Content-Type among its headers) and
 * its Content-Length; null for a GET.
 * @param {{body?: string | null}} request
 * @returns {{text: string, length: number} | null}
 */
function requestBody(request) {
  const b = request.body;
  if (b === null || b === undefined) return null;
  const text = String(b);
  return { text, length: utf8Length(text) };
}

/**
 * Node's rawHeaders ([k, v, k, v, ...]) -> [[k, v], ...].
 * @param {unknown[]} raw
 * @returns {HeaderPairs}
 */
function pairsFromRaw(raw) {
  /** @type {HeaderPairs} */
  const out = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([String(raw[i]), String(raw[i + 1])]);
  return out;
}

/**
 * A headers object ({k: v | [v...]}) -> [[k, v], ...].
 * @param {Record<string, unknown> | null | undefined} obj
 * @returns {HeaderPairs}
 */
function pairsFromObject(obj) {
  /** @type {HeaderPairs} */
  const out = [];
  for (const k of Object.keys(obj || {})) {
    const v = /** @type {Record<string, unknown>} */ (obj)[k];
    if (Array.isArray(v)) for (const x of v) out.push([k, String(x)]);
    else if (v !== undefined) out.push([k, String(v)]);
  }
  return out;
}

/**
 * [[k, v], ...] -> {k: v} (the request headers the core hands out have unique names).
 * @param {HeaderPairs} pairs
 * @returns {Record<string, string>}
 */
function objectFromPairs(pairs) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const [k, v] of pairs) out[k] = v;
  return out;
}

module.exports = {
  guardSink, exchange, limitsOf, describeLimits, duration, usableStatus, pairsFromRaw, pairsFromObject, objectFromPairs,
  requestBody, utf8Length,
  RESPONSE_TIMEOUT_FACTOR,
};
