'use strict';
// The run loop: the one code path between the core's decisions and an HTTP adapter.
//
//   feed = new Feed(params, tokens, now)
//   loop: action = feed.poll(now)
//         send    -> start it (the adapter streams the response into handleResponseHead/handleBody/
//                    handleResponseEnd, or handleTransportError, under the request's id), poll again
//         pending -> wait until an in-flight response settles, poll again
//         wait    -> sleep ms (or until an in-flight response settles), poll again
//         done    -> success; fail -> abandon what is in flight, throw the core's error
//   after every call: each output chunk -> one writer.writeItem(chunk), in order; each log line ->
//   the logger; on done, the core's Summary once more as one JSON line (log.js summaryText). Nothing here decides anything about paging, retries, pacing, concurrency or what a
//   response means: the core does. With concurrency=1 (the default) one request is in flight.
//
// Backpressure: a writeItem that returns a Promise (a thenable) is awaited. While it is pending
// no further output chunk is taken from the core (they stay in the core's queue, in order), the
// core is not polled (so no new request starts and no wait begins), and no checkpoint is adopted
// (a checkpoint counts as resumable only once every chunk it counts as written has been
// accepted). What does NOT wait: the body of a response already in flight keeps flowing into the
// core (the HTTP exchange has no pause; the core's queue then holds at most that response's
// output), and log lines. A rejected write fails the run with OUTPUT_WRITE_FAILED and the last
// adopted checkpoint.
// Cancellation: options.signal (an AbortSignal). Aborting wakes the loop at once, starts no new
// request, ends the requests in flight through their exchange's abort hook (control.abort), and
// rejects with ABORTED carrying summary and previousRunContext (the last adopted checkpoint).
//
// Two guards keep the promise of one callback, whatever the adapter or the core does:
//   watchdog  a request that has not settled within the whole-response limit (responseTimeoutMs,
//             times the queue depth when more requests are in flight than sockets) plus a grace
//             (30 s) is settled here as a transport error (ETIMEDOUT, "the HTTP client did not
//             finish the request"); its late events are ignored and the run goes on (the core
//             retries). This holds for custom adapters too; the built-in ones end their requests
//             themselves (http/exchange.js) well before.
//   traps     an exception from a core call that is not one of the core's coded errors (a wasm
//             trap such as `unreachable`; wasm-bindgen's "recursive use of an object" after one)
//             stops the run with INTERNAL (blame caller): the core is never called again (except a
//             guarded free), and the error carries the last checkpoint the run had (Feed.checkpoint(),
//             read after every settled response) as previousRunContext.

const { createLogger, Secrets, summaryText } = require('./log');
const { shimError } = require('./errors');
const { codes } = require('./codes');
const { createHttp } = require('./http');
const { limitsOf, duration } = require('./http/exchange');
const { takeOutputText, takeOutputBytes } = require('./output-text');

/** @typedef {import('../../pkg-template/index').Summary} Summary */
/** @typedef {import('../../pkg-template/index').TransportSettings} TransportSettings */
/** @typedef {import('../../pkg-template/index').HttpAdapter} HttpAdapter */
/** @typedef {import('../../pkg-template/index').RunFeedResult} RunFeedResult */
/** @typedef {import('./errors').CodedError} CodedError */
/**
 * runFeed's options: the declared ones (pkg-template/index.d.ts) and the shim's own (below).
 * @typedef {import('../../pkg-template/index').RunFeedOptions & {
 *   host?: {require?: (name: string) => unknown, global?: object, env?: Record<string, string | undefined> | null},
 *   secrets?: import('./log').Secrets,
 *   core?: import('./core').CoreModule,
 *   watchdogGraceMs?: number,
 * }} RunFeedOptions
 */
/**
 * A request in flight.
 * @typedef {{control: import('./http/exchange').Control, settled: boolean, headSeen: boolean,
 *   watchdog: ReturnType<typeof setTimeout> | null, release: () => void, sent: Promise<void>, done: Promise<void>}} InFlight
 */

const MAX_TIMER_MS = 2147483647; // setTimeout's limit
/** How long after its whole-response limit a request that has not settled is given up on. */
const WATCHDOG_GRACE_MS = 30000;
/** How long an ending run waits for abandoned requests to wind down. */
const ABANDON_WAIT_MS = 5000;

/**
 * Sleeps ms milliseconds (in slices setTimeout accepts).
 * @param {number} ms
 * @returns {Promise<void>}
 */
function realSleep(ms) {
  return new Promise((/** @type {() => void} */ resolve) => {
    let left = Math.max(0, Number(ms) || 0);
    const step = () => {
      if (left <= 0) { resolve(); return; }
      const slice = Math.min(left, MAX_TIMER_MS);
      left -= slice;
      setTimeout(step, slice);
    };
    step();
  });
}

/**
 * A promise that resolves after ms, and its cancel.
 * @param {number} ms
 */
function timer(ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let t;
  const p = new Promise((resolve) => { t = setTimeout(resolve, Math.min(Math.max(0, ms), MAX_TIMER_MS)); });
  return { promise: p, cancel: () => clearTimeout(t) };
}

/**
 * The core's module (lazy, so a host that never runs a feed never instantiates the wasm).
 * @returns {import('./core').CoreModule}
 */
function defaultCore() {
  return require('./core');
}

/**
 * The transport settings without the proxy credentials (for hooks and logs).
 * @param {TransportSettings} t
 * @returns {TransportSettings}
 */
function publicTransport(t) {
  return {
    socketLimit: t.socketLimit,
    requestTimeoutMs: t.requestTimeoutMs,
    responseTimeoutMs: limitsOf(t).totalMs,
    verifyCerts: t.verifyCerts,
    caCert: t.caCert ? '(PEM given)' : null,
    proxy: t.proxy ? { url: t.proxy.url, authorization: t.proxy.authorization ? '***' : null } : null,
    rootNode: t.rootNode,
    dataSource: t.dataSource,
    testConnection: Boolean(t.testConnection),
  };
}

/**
 * One of our coded errors (the core's, or the shim's shimError): code, blame and retryable.
 * @param {any} e
 * @returns {e is CodedError}
 */
function isCoded(e) {
  return Boolean(e) && typeof e === 'object' && typeof e.code === 'string' && e.code !== '' &&
    typeof e.blame === 'string' && typeof e.retryable === 'boolean';
}

/**
 * Text of an exception, short.
 * @param {any} e
 * @returns {string}
 */
function describeException(e) {
  let text;
  try {
    text = e && typeof e === 'object' ? `${e.name || 'Error'}: ${e.message}` : String(e);
  } catch (x) {
    text = 'an exception that cannot be shown';
  }
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

/**
 * The error a core exception that is not a coded error (a trap) becomes.
 * @param {unknown} e
 * @param {string} what
 * @param {string} version
 * @returns {CodedError}
 */
function internalError(e, what, version) {
  const err = shimError(
    codes.INTERNAL,
    'caller',
    `qualys-vm-transporter ${version} stopped the run: ${what === 'the shim' ? 'it' : 'its core'} failed unexpectedly${what === 'the shim' ? '' : ` in ${what}`} (${describeException(e)}). ` +
      'This is a bug in qualys-vm-transporter, not a problem with the Custom Parameters or with Qualys. ' +
      'Please report it to the qualys-vm-transporter maintainers with this message, the version, the dataSource and the log lines before it (they never contain the password). ' +
      'The run was stopped; what it wrote so far stays, and when it left a checkpoint (previousRunContext) the next run resumes from there.',
  );
  err.cause = e;
  return err;
}

/**
 * Makes sure an error has code, blame and retryable (the shim's promise to every caller): a coded
 * error is kept; an exception from code outside this module without them becomes `fallback`.
 * @param {any} e
 * @param {(e: any) => CodedError} fallback
 * @returns {CodedError}
 */
function ensureCoded(e, fallback) {
  if (isCoded(e)) return e;
  if (e && typeof e === 'object' && typeof e.code === 'string' && e.code) {
    // A code but no blame (a Node system error from a host hook): keep the code.
    try {
      if (typeof e.blame !== 'string') e.blame = 'caller';
      if (typeof e.retryable !== 'boolean') e.retryable = false;
      if (isCoded(e)) return e;
    } catch (x) { /* frozen */ }
    const copy = shimError(String(e.code), 'caller', String(e.message || e.code));
    copy.cause = e;
    return copy;
  }
  return fallback(e);
}

/**
 * Runs one data-feed execution.
 *
 * The options (RunFeedOptions; the declared ones are documented in pkg-template/index.d.ts):
 *   params      Archer's CustomParameters (strings, or any value the core converts)
 *   tokens      {LastRunTime, PreviousRunContext}
 *   writer      receives each output chunk (sibling XML record fragments), in order; "" once when
 *               no record was written ({writeItem(chunk)} or a function); a returned Promise is
 *               awaited before the next chunk (backpressure, see the top of this file)
 *   outputBytes chunks as Buffers of UTF-8 bytes instead of strings
 *   log         log sink (level, text) or {log(level, text)}; default: console.log in RSA's format.
 *               Every text is scrubbed of secrets before it gets here.
 *   http        'node' | 'request' | 'fetch' | an adapter {send, close} | a factory (transport) =>
 *               adapter; default: the first that loads
 *   now, sleep  clock in ms since the epoch (default Date.now); sleep (default: setTimeout)
 *   onStart     called once the parameters are valid and the HTTP client is chosen, before any request
 *   onAction    every action the core returns (the send action without its headers)
 *   onProgress  the counters after each response event
 *   host        what the HTTP picker may load ({require, global}), and the host's environment
 *               variables (env; default: process.env)
 *   secrets     shared scrubber (the Archer glue passes its own)
 *   core        the core module ({Feed, version}); default: the embedded wasm
 *   watchdogGraceMs  how long after its whole-response limit a request that has not settled is
 *               given up on (default 30000)
 *   signal      an AbortSignal: aborting stops the run (ABORTED, with the resume checkpoint)
 *
 * @param {RunFeedOptions} options
 * @returns {Promise<RunFeedResult>} rejects with an Error carrying code, blame, retryable, summary
 *          (when the run got that far) and previousRunContext (the core's resume checkpoint, when
 *          a failed run left one)
 */
async function runFeed(options) {
  const o = /** @type {RunFeedOptions} */ (options || {});
  const now = typeof o.now === 'function' ? o.now : Date.now;
  const sleep = typeof o.sleep === 'function' ? o.sleep : realSleep;
  const secrets = o.secrets || (o.log && /** @type {any} */ (o.log).secrets) || new Secrets();
  secrets.addFromParams(o.params);
  const graceMs = Number(o.watchdogGraceMs) >= 0 ? Number(o.watchdogGraceMs) : WATCHDOG_GRACE_MS;
  const signal = o.signal && typeof o.signal === 'object' && typeof o.signal.aborted === 'boolean' ? o.signal : null;

  /** @type {(level: any, text: string) => void} */
  let emitLine;
  const sink = o.log;
  if (typeof sink === 'function') emitLine = (level, text) => sink(level, secrets.scrub(text));
  else if (sink && typeof sink.log === 'function') emitLine = (level, text) => sink.log(level, text);
  else {
    const logger = createLogger({ secrets });
    emitLine = logger.log;
  }
  /**
   * @param {string} level
   * @param {string} text
   */
  const emit = (level, text) => emitLine(level, secrets.scrub(text));

  // Output chunks as strings, or as Buffers of UTF-8 bytes (outputBytes: the Archer entry's
  // choice for OutputWriter.writeItem; see output-text.js).
  const takeOutput = o.outputBytes ? takeOutputBytes : takeOutputText;
  /** @type {(chunk: string | Uint8Array) => unknown} */
  let writeFn;
  const writer = o.writer;
  if (typeof writer === 'function') writeFn = writer;
  else if (writer && typeof writer.writeItem === 'function') writeFn = (c) => writer.writeItem(c);
  else throw shimError(codes.BAD_ARGUMENT, 'caller', 'runFeed: options.writer must have a writeItem(chunk) method');

  let version = 'unknown version';
  const bug = (/** @type {unknown} */ e) => internalError(e, 'the shim', version);
  /**
   * @param {any} e
   * @param {Summary} [summary]
   * @returns {CodedError}
   */
  const clean = (e, summary) => {
    let err = e instanceof Error || (e && typeof e === 'object' && 'message' in e) ? e : new Error(String(e));
    err = ensureCoded(err, bug);
    try { err.message = secrets.scrub(err.message); } catch (x) { /* frozen */ }
    if (err.stack) try { err.stack = secrets.scrub(err.stack); } catch (x) { /* frozen */ }
    if (summary && err.summary === undefined) try { err.summary = summary; } catch (x) { /* frozen */ }
    return err;
  };

  // Every call into the core goes through core(): after a trap the core is never called again.
  /** @type {{written: number, fatal: CodedError | null, trap: CodedError | null, freed: boolean}} */
  const state = { written: 0, fatal: null, trap: null, freed: false };
  // What the loop awaits also races `wakeUp`: it resolves when the run must stop (a fatal error,
  // an abort) so that a pending response, sleep or write does not hold the failure back.
  /** @type {() => void} */
  let wake = () => {};
  const wakeUp = /** @type {Promise<void>} */ (new Promise((r) => { wake = r; }));
  /**
   * @template T
   * @param {string} what
   * @param {() => T} fn
   * @returns {T}
   */
  const coreCall = (what, fn) => {
    if (state.trap) throw state.trap;
    try {
      return fn();
    } catch (e) {
      if (isCoded(e)) throw e;
      state.trap = internalError(e, what, version);
      if (!state.fatal) state.fatal = state.trap;
      throw state.trap;
    }
  };

  /** @type {import('./core').CoreModule} */
  let core;
  /** @type {import('../../pkg-template/index').Feed} */
  let feed;
  try {
    core = o.core || defaultCore();
    try { version = String(core.version()); } catch (e) { /* shown as "unknown version" */ }
    feed = coreCall('new Feed()', () => new core.Feed(o.params || {}, o.tokens || {}, now()));
  } catch (e) {
    const err = clean(e);
    emit('ERROR', err.code ? `${err.code}: ${err.message}` : err.message);
    throw err;
  }

  /**
   * @param {any} e
   * @param {string} code
   * @param {string} what
   */
  const fatal = (e, code, what) => {
    if (state.fatal) return;
    const err = isCoded(e) ? e : shimError(code, code === codes.OUTPUT_WRITE_FAILED ? 'configuration' : 'caller', `${what}: ${e && e.message ? e.message : String(e)}`);
    state.fatal = err;
    wake();
  };
  // The write in progress (a writeItem that returned a Promise), and the checkpoint waiting for
  // the chunks it counts to be written (see saveCheckpoint).
  /** @type {Promise<void> | null} */
  let pendingWrite = null;
  /** @type {string | null} */
  let pendingCheckpoint = null;
  let lastCheckpoint = '';
  const writeFailed = (/** @type {unknown} */ e) => fatal(e, codes.OUTPUT_WRITE_FAILED, "the host's output writer failed (writeItem)");
  /**
   * Hands one chunk to the writer; a returned thenable becomes the pending write.
   * @param {string | Uint8Array} chunk
   */
  const write = (chunk) => {
    let r;
    try {
      r = writeFn(chunk);
      state.written++;
    } catch (e) {
      writeFailed(e);
      return;
    }
    if (r && (typeof r === 'object' || typeof r === 'function') && typeof (/** @type {any} */ (r).then) === 'function') {
      const p = /** @type {Promise<void>} */ (new Promise((resolve) => {
        try {
          /** @type {PromiseLike<unknown>} */ (r).then(() => resolve(), (e) => { writeFailed(e); resolve(); });
        } catch (e) {
          writeFailed(e);
          resolve();
        }
      }));
      pendingWrite = p.then(() => {
        pendingWrite = null;
        if (!state.freed) try { drain(); } catch (e) { /* a trap: state.fatal holds it */ }
      });
    }
  };
  const drain = () => {
    for (const line of coreCall('takeLogs', () => feed.takeLogs())) emit(line.level, line.text);
    // While a write is pending, the chunks stay in the core's queue (backpressure).
    while (!pendingWrite) {
      const chunk = coreCall('takeOutputChunk', () => takeOutput(feed));
      if (chunk === undefined) {
        // Everything the core produced has been accepted: the checkpoint read before is good.
        if (pendingCheckpoint !== null && !state.fatal) lastCheckpoint = pendingCheckpoint;
        pendingCheckpoint = null;
        break;
      }
      if (state.fatal) continue; // the run is failing; nothing more is written
      write(chunk);
    }
  };
  /** Waits until no write is pending (or the run must stop). */
  const flushWrites = async () => {
    while (pendingWrite && !state.fatal && !(signal && signal.aborted)) await Promise.race([pendingWrite, wakeUp]);
  };
  // The last counters and checkpoint read from the core, for a run the core can no longer answer.
  /** @type {Summary | undefined} */
  let lastSummary;
  const hasCheckpoint = typeof feed.checkpoint === 'function';
  const readSummary = () => {
    lastSummary = coreCall('summary', () => feed.summary());
    return lastSummary;
  };
  const saveCheckpoint = () => {
    if (!hasCheckpoint || state.fatal) return;
    const c = coreCall('checkpoint', () => feed.checkpoint());
    // What the checkpoint counts as written must reach the writer first: drain adopts it once the
    // core's queue is empty and no write is pending (at once with a synchronous writer).
    if (typeof c === 'string') pendingCheckpoint = c.slice(0, 256);
    drain();
  };
  // The counters are read per response event only for an onProgress hook (a summary per body
  // chunk costs), else once per settled response (what a trap leaves in err.summary).
  const progress = () => {
    if (o.onProgress) {
      readSummary();
      try { o.onProgress(/** @type {Summary} */ (lastSummary)); } catch (e) { /* a display hook must not break the run */ }
    }
  };
  // Each sink call drives the core and drains it; an exception (a host writer that throws, a
  // misbehaving adapter, a core trap) stops the exchange and fails the run after it settles.
  /**
   * @template {any[]} A
   * @template R
   * @param {string} what
   * @param {(...args: A) => R} fn
   * @returns {(...args: A) => R | false}
   */
  const guarded = (what, fn) => (...args) => {
    try {
      return fn(...args);
    } catch (e) {
      fatal(e, codes.SHIM_ERROR, what);
      return false;
    }
  };
  // The run is over (done or failed): late events of abandoned requests are ignored.
  let finished = false;
  const afterSettle = () => {
    drain();
    saveCheckpoint();
    if (o.onProgress) progress();
    else readSummary();
  };
  // One sink per request. Once the request settled (end, error, or the watchdog), its late or
  // repeated events are ignored.
  /**
   * @param {number} id
   * @param {InFlight} entry
   * @returns {import('../../pkg-template/index').ResponseSink}
   */
  const sinkFor = (id, entry) => ({
    head: guarded('response head', (/** @type {number} */ status, /** @type {Array<[string, string]>} */ headers) => {
      if (finished || entry.settled || entry.headSeen) return;
      entry.headSeen = true;
      coreCall('handleResponseHead', () => feed.handleResponseHead(now(), status, headers, id));
      drain();
      progress();
    }),
    body: guarded('response body', (/** @type {Uint8Array} */ chunk) => {
      if (finished || entry.settled) return false;
      const more = coreCall('handleBody', () => feed.handleBody(chunk, id));
      drain();
      progress();
      return more && !state.fatal;
    }),
    wire: guarded('wire bytes', (/** @type {number} */ bytes) => {
      if (finished || entry.settled || typeof feed.handleWireBytes !== 'function') return;
      coreCall('handleWireBytes', () => feed.handleWireBytes(bytes, id));
    }),
    tls: guarded('TLS issuer', (/** @type {string} */ issuer) => {
      if (finished || entry.settled || typeof feed.noteTlsIssuer !== 'function') return;
      coreCall('noteTlsIssuer', () => feed.noteTlsIssuer(String(issuer)));
    }),
    end: guarded('response end', () => {
      if (finished || entry.settled) return;
      entry.settled = true;
      entry.release();
      coreCall('handleResponseEnd', () => feed.handleResponseEnd(now(), id));
      afterSettle();
    }),
    error: guarded('transport error', (/** @type {string} */ code, /** @type {string} */ message) => {
      if (finished || entry.settled) return;
      entry.settled = true;
      entry.release();
      coreCall('handleTransportError', () => feed.handleTransportError(now(), String(code || 'ETRANSPORT'), secrets.scrub(String(message || '')), id));
      afterSettle();
    }),
  });

  // Requests in flight: id -> {done: Promise, control: {abort}, ...}. With concurrency=1 (the
  // default) the core never has more than one.
  /** @type {Map<number, InFlight>} */
  const inflight = new Map();
  const anySettled = () => Promise.race(Array.from(inflight.values(), (x) => x.done));
  const abandonAll = async () => {
    finished = true;
    const all = Array.from(inflight.values());
    for (const x of all) {
      x.settled = true;
      try { if (x.control.abort) x.control.abort(); } catch (e) { /* best effort */ }
    }
    // Built-in adapters settle at once on abort; a custom one gets a short while, then is left.
    const wait = timer(Math.min(graceMs, ABANDON_WAIT_MS));
    await Promise.race([Promise.all(all.map((x) => x.sent)), wait.promise]);
    wait.cancel();
    for (const x of all) x.release();
    await Promise.all(all.map((x) => x.done));
  };
  /**
   * Sleeps ms, or less when a request settles first (the core then has news).
   * @param {number} ms
   * @param {string} reason
   */
  const sleepOrSettle = async (ms, reason) => {
    // An abort or a fatal error (wakeUp) ends any wait at once.
    const settled = inflight.size ? [anySettled()] : [];
    if (o.sleep) {
      await Promise.race([sleep(ms, reason), ...settled, wakeUp]);
      return;
    }
    // The default sleep, cancelled when the race is over (no timer keeps the process alive after
    // an abort). A wait beyond setTimeout's limit ends early: the core then asks for the rest.
    const t = timer(ms);
    await Promise.race([t.promise, ...settled, wakeUp]);
    t.cancel();
  };
  /** The error of an aborted run (options.signal). */
  const abortedError = () => {
    let why = '';
    try {
      const r = /** @type {any} */ (signal && signal.reason);
      why = typeof r === 'string' ? r : r && typeof r.message === 'string' ? r.message : '';
    } catch (x) { /* a reason that cannot be shown */ }
    why = why.replace(/\s+/g, ' ').trim().slice(0, 200);
    return shimError(codes.ABORTED, 'caller', `the run was stopped before it finished${why ? ` (${why})` : ''}: no new request was started and the ones in flight were ended. ` +
      'What it wrote so far stays. Give previousRunContext to the next run to resume from the checkpoint; when it is empty the next run starts again from LastRunTime.');
  };
  const onAbort = () => wake();
  if (signal && typeof signal.addEventListener === 'function') signal.addEventListener('abort', onAbort, { once: true });
  /** Throws what stops the run now: its fatal error, or ABORTED. */
  const check = () => {
    if (state.fatal) throw state.fatal;
    if (signal && signal.aborted) throw abortedError();
  };

  /**
   * Runs a caller's hook; what it throws fails the run with a coded error.
   * @param {string} name
   * @param {() => void} fn
   */
  const hook = (name, fn) => {
    try {
      fn();
    } catch (e) {
      throw ensureCoded(e, (x) => shimError(codes.SHIM_ERROR, 'caller', `the ${name} hook failed: ${describeException(x)}`));
    }
  };

  /** @type {HttpAdapter | null} */
  let adapter = null;
  let coreFailed = false;
  try {
    drain();
    saveCheckpoint();
    const transport = coreCall('transport', () => feed.transport());
    if (transport.proxy && transport.proxy.authorization) secrets.addAuthorization(transport.proxy.authorization);
    const limits = limitsOf(transport);
    const socketLimit = Math.max(1, Number(transport.socketLimit) || 1);

    const h = o.http;
    try {
      if (h && typeof h === 'object' && typeof h.send === 'function') adapter = h;
      else if (typeof h === 'function') adapter = h(transport);
      else adapter = createHttp(transport, { prefer: /** @type {string | undefined} */ (h) || undefined, require: o.host && o.host.require, global: o.host && o.host.global, env: o.host && o.host.env });
    } catch (e) {
      throw ensureCoded(e, (x) => shimError(codes.SHIM_ERROR, 'caller', `the HTTP adapter could not be created: ${describeException(x)}`));
    }
    if (!adapter || typeof adapter.send !== 'function') throw shimError(codes.BAD_ARGUMENT, 'caller', 'runFeed: the HTTP adapter has no send(request, sink, control) method');

    const chosen = adapter;
    emit('INFO', `qualys-vm-transporter ${version}: HTTP client: ${chosen.describe || chosen.name || 'custom'}; output root node ${transport.rootNode}`);
    const onStart = o.onStart;
    if (onStart) hook('onStart', () => onStart({ transport: publicTransport(transport), http: chosen.name || 'custom', describe: chosen.describe || '' }));

    /**
     * Starts one request under its watchdog. The request is in flight until its sink settled
     * (end or error), the watchdog gave up on it, or the adapter threw.
     */
    /** @param {import('../../pkg-template/index').SendAction} action */
    const start = (action) => {
      const id = action.id;
      /** @type {import('./http/exchange').Control} */
      const control = {};
      const entry = /** @type {InFlight} */ ({ control, settled: false, headSeen: false, watchdog: null });
      const over = /** @type {Promise<void>} */ (new Promise((r) => { entry.release = /** @type {() => void} */ (r); }));
      entry.sent = Promise.resolve()
        .then(() => chosen.send(action, sinkFor(id, entry), control))
        .catch((e) => {
          fatal(e, codes.SHIM_ERROR, 'the HTTP adapter failed');
          entry.release();
        });
      // With more requests in flight than sockets, a request may queue behind whole responses.
      const queued = Math.max(1, Math.ceil((inflight.size + 1) / socketLimit));
      const deadline = limits.totalMs * queued + graceMs;
      entry.watchdog = setTimeout(() => {
        if (finished || entry.settled) return;
        entry.settled = true;
        entry.release();
        try { if (control.abort) control.abort(); } catch (e) { /* best effort */ }
        guarded('abandoning a request', () => {
          coreCall('handleTransportError', () => feed.handleTransportError(now(), 'ETIMEDOUT',
            `the HTTP client did not finish the request within ${duration(deadline)} (the whole response limit, ${duration(limits.totalMs)}${queued > 1 ? ` x ${queued} for requests queued behind others` : ''}, plus ${duration(graceMs)}); it was abandoned and its late events are ignored`, id));
          afterSettle();
        })();
      }, Math.min(deadline, MAX_TIMER_MS));
      entry.done = over.then(() => {
        if (entry.watchdog) clearTimeout(entry.watchdog);
        inflight.delete(id);
        try { drain(); } catch (e) { /* a trap: state.fatal holds it */ }
      });
      inflight.set(id, entry);
    };

    for (;;) {
      check();
      // Backpressure: the core is polled (and a new request started) only once every write is done.
      await flushWrites();
      check();
      const action = coreCall('poll', () => feed.poll(now()));
      drain();
      const onAction = o.onAction;
      if (onAction) {
        const { headers, ...visible } = /** @type {any} */ (action);
        hook('onAction', () => onAction(visible));
      }
      if (action.kind === 'send') {
        for (const [k, v] of action.headers) if (/^(proxy-)?authorization$/i.test(k)) secrets.addAuthorization(v);
        start(action);
        // Poll again at once: the core answers with another send, a wait, or pending.
      } else if (action.kind === 'pending') {
        if (!inflight.size) throw shimError(codes.SHIM_ERROR, 'caller', 'the core is waiting for a response, but none is in flight');
        await Promise.race([anySettled(), wakeUp]);
      } else if (action.kind === 'wait') {
        await sleepOrSettle(action.ms, action.reason);
      } else if (action.kind === 'done') {
        await flushWrites();
        check();
        finished = true;
        if (inflight.size) await abandonAll();
        if (state.written === 0) {
          write('');
          await flushWrites();
          check();
        }
        const summary = action.summary || readSummary();
        emit('INFO', summaryText(summary)); // after the core's "done: ..." line (drained above)
        let prc = summary.previousRunContext == null ? '' : String(summary.previousRunContext);
        if (prc.length > 256) {
          emit('WARN', `previousRunContext is ${prc.length} characters; Archer keeps at most 256, so it was cut`);
          prc = prc.slice(0, 256);
        }
        return { summary, previousRunContext: prc };
      } else if (action.kind === 'fail') {
        coreFailed = true; // the core has logged it
        let summary;
        try { summary = readSummary(); } catch (x) { summary = lastSummary; }
        throw clean(action.error, summary);
      } else {
        throw shimError(codes.SHIM_ERROR, 'caller', `the core returned an unknown action ${JSON.stringify(/** @type {any} */ (action).kind)}`);
      }
    }
  } catch (e) {
    finished = true;
    if (inflight.size) await abandonAll();
    if (pendingWrite) {
      // A write still in progress gets a short while to end before the run reports its failure.
      const wait = timer(Math.min(graceMs, ABANDON_WAIT_MS));
      await Promise.race([pendingWrite, wait.promise]);
      wait.cancel();
    }
    let summary = lastSummary;
    if (!state.trap) {
      try { summary = readSummary(); } catch (x) { summary = lastSummary; }
    }
    const err = clean(state.trap || e, summary);
    // The checkpoint a failed run leaves for the next one (the core's resume token). After a trap
    // the core cannot be asked: the last checkpoint read after a settled response is used.
    try {
      const fromCore = err !== state.trap && summary && summary.previousRunContext ? String(summary.previousRunContext).slice(0, 256) : '';
      const checkpoint = fromCore || lastCheckpoint;
      if ((checkpoint || err.code === codes.ABORTED) && err.previousRunContext === undefined) err.previousRunContext = checkpoint;
    } catch (x) { /* frozen */ }
    // The core logs its own failures; the shim's (HTTP client, output writer, a trap, ...) are logged here.
    if (!coreFailed || err === state.trap) emit('ERROR', err.code ? `${err.code}: ${err.message}` : err.message);
    throw err;
  } finally {
    if (signal && typeof signal.removeEventListener === 'function') signal.removeEventListener('abort', onAbort);
    for (const x of inflight.values()) clearTimeout(x.watchdog || undefined);
    if (adapter && typeof adapter.close === 'function') {
      try { adapter.close(); } catch (e) { /* closing is best effort */ }
    }
    state.freed = true;
    try { feed.free(); } catch (e) { /* already freed, or the core trapped */ }
  }
}

module.exports = { runFeed, realSleep, publicTransport, isCoded, ensureCoded, WATCHDOG_GRACE_MS };
