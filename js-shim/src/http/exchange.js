'use strict';
// The contract between the run loop and an HTTP adapter, enforced in one place.
//
// An adapter's send(request, sink, control) makes one request and reports it through the sink
// (several may be in flight at once when the core asks for concurrency):
//   sink.head(status, [[name, value], ...])   once, when the status line and headers arrived
//   sink.body(uint8Array) -> boolean          per body chunk, in order; false = stop reading: the
//                                             adapter aborts the request, then calls sink.end()
//   sink.end()                                the body ended (or reading was stopped)
//   sink.error(code, message)                 the request failed in transport (before or after
//                                             the head); code is the platform's (ECONNRESET, ...)
// Exactly one of end/error, once. guardSink makes late or repeated calls harmless and resolves the
// promise send() returns when the exchange is over.

/**
 * @param {object} sink the run loop's sink
 * @param {() => void} done called once when the exchange is over
 */
function guardSink(sink, done) {
  let headSeen = false;
  let over = false;
  return {
    head(status, headers) {
      if (over || headSeen) return;
      headSeen = true;
      sink.head(status, headers);
    },
    body(chunk) {
      if (over) return false;
      if (!headSeen) return false;
      return sink.body(chunk) !== false;
    },
    end() {
      if (over) return;
      over = true;
      sink.end();
      done();
    },
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
 * Runs fn(guardedSink, onAbort) and returns a promise that resolves when the exchange is over.
 * `control` (optional, from the run loop) gets control.abort(): it calls the adapter's abort hook
 * (registered with onAbort) and settles the exchange as ECONNABORTED, so the promise resolves even
 * when the client emits nothing after an abort.
 */
function exchange(sink, fn, control) {
  return new Promise((resolve) => {
    const g = guardSink(sink, resolve);
    let abortHook = null;
    if (control) {
      control.abort = () => {
        if (g.over) return;
        try { if (abortHook) abortHook(); } catch (e) { /* best effort */ }
        g.error('ECONNABORTED', 'the request was abandoned because the run ended');
      };
    }
    try {
      fn(g, (hook) => { abortHook = hook; });
    } catch (e) {
      g.error(e && e.code ? String(e.code) : 'ETRANSPORT', e && e.message ? String(e.message) : String(e));
    }
  });
}

/** Node's rawHeaders ([k, v, k, v, ...]) -> [[k, v], ...]. */
function pairsFromRaw(raw) {
  const out = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([String(raw[i]), String(raw[i + 1])]);
  return out;
}

/** A headers object ({k: v | [v...]}) -> [[k, v], ...]. */
function pairsFromObject(obj) {
  const out = [];
  for (const k of Object.keys(obj || {})) {
    const v = obj[k];
    if (Array.isArray(v)) for (const x of v) out.push([k, String(x)]);
    else if (v !== undefined) out.push([k, String(v)]);
  }
  return out;
}

/** [[k, v], ...] -> {k: v} (the request headers the core hands out have unique names). */
function objectFromPairs(pairs) {
  const out = {};
  for (const [k, v] of pairs) out[k] = v;
  return out;
}

module.exports = { guardSink, exchange, pairsFromRaw, pairsFromObject, objectFromPairs };
