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
//   the logger. Nothing here decides anything about paging, retries, pacing, concurrency or what a
//   response means: the core does. With concurrency=1 (the default) one request is in flight.

const { createLogger, Secrets } = require('./log');
const { shimError } = require('./errors');
const { createHttp } = require('./http');
const { takeOutputText, takeOutputBytes } = require('./output-text');

const MAX_TIMER_MS = 2147483647; // setTimeout's limit

/** Sleeps ms milliseconds (in slices setTimeout accepts). */
function realSleep(ms) {
  return new Promise((resolve) => {
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

/** The core's module (lazy, so a host that never runs a feed never instantiates the wasm). */
function defaultCore() {
  return require('./core');
}

/** The transport settings without the proxy credentials (for hooks and logs). */
function publicTransport(t) {
  return {
    socketLimit: t.socketLimit,
    requestTimeoutMs: t.requestTimeoutMs,
    verifyCerts: t.verifyCerts,
    caCert: t.caCert ? '(PEM given)' : null,
    proxy: t.proxy ? { url: t.proxy.url, authorization: t.proxy.authorization ? '***' : null } : null,
    rootNode: t.rootNode,
    dataSource: t.dataSource,
  };
}

/**
 * Runs one data-feed execution.
 *
 * @param {object} options
 * @param {Record<string,string>} options.params Archer's CustomParameters (strings)
 * @param {{LastRunTime?: string|null, PreviousRunContext?: string|null}} [options.tokens]
 * @param {{writeItem: (chunk: string) => any}|((chunk: string) => any)} options.writer receives each
 *        output chunk (sibling XML record fragments), in order; "" once when no record was written
 * @param {((level: string, text: string) => void)|{log: Function}} [options.log] log sink; default:
 *        console.log in RSA's format. Every text is scrubbed of secrets before it gets here.
 * @param {string|object|Function} [options.http] 'node' | 'request' | 'fetch' | an adapter
 *        {send, close} | a factory (transport) => adapter; default: the first that loads
 * @param {() => number} [options.now] clock in ms since the epoch (default Date.now)
 * @param {(ms: number) => Promise<void>} [options.sleep] (default: setTimeout)
 * @param {(info: {transport: object, http: string, describe: string}) => void} [options.onStart]
 *        called once the parameters are valid and the HTTP client is chosen, before any request
 * @param {(action: object) => void} [options.onAction] every action the core returns (the send
 *        action without its headers)
 * @param {(summary: object) => void} [options.onProgress] after each response event
 * @param {{require?: Function, global?: object}} [options.host] what the HTTP picker may load
 * @param {Secrets} [options.secrets] shared scrubber (the Archer glue passes its own)
 * @returns {Promise<{summary: object, previousRunContext: string}>} rejects with an Error carrying
 *          code, blame, retryable, summary (when the run got that far) and previousRunContext (the
 *          core's resume checkpoint, when a failed run left one)
 */
async function runFeed(options) {
  const o = options || {};
  const now = typeof o.now === 'function' ? o.now : Date.now;
  const sleep = typeof o.sleep === 'function' ? o.sleep : realSleep;
  const secrets = o.secrets || (o.log && o.log.secrets) || new Secrets();
  secrets.addFromParams(o.params);

  let emitLine;
  if (typeof o.log === 'function') emitLine = (level, text) => o.log(level, secrets.scrub(text));
  else if (o.log && typeof o.log.log === 'function') emitLine = (level, text) => o.log.log(level, text);
  else {
    const logger = createLogger({ secrets });
    emitLine = logger.log;
  }
  const emit = (level, text) => emitLine(level, secrets.scrub(text));

  // Output chunks as strings, or as Buffers of UTF-8 bytes (outputBytes: the Archer entry's
  // choice for OutputWriter.writeItem; see output-text.js).
  const takeOutput = o.outputBytes ? takeOutputBytes : takeOutputText;
  let writeFn;
  if (typeof o.writer === 'function') writeFn = o.writer;
  else if (o.writer && typeof o.writer.writeItem === 'function') writeFn = (c) => o.writer.writeItem(c);
  else throw shimError('BAD_ARGUMENT', 'caller', 'runFeed: options.writer must have a writeItem(chunk) method');

  let core;
  const clean = (e, summary) => {
    const err = e instanceof Error || (e && typeof e === 'object' && 'message' in e) ? e : new Error(String(e));
    try { err.message = secrets.scrub(err.message); } catch (x) { /* frozen */ }
    if (err.stack) try { err.stack = secrets.scrub(err.stack); } catch (x) { /* frozen */ }
    if (summary && err.summary === undefined) err.summary = summary;
    return err;
  };

  let feed;
  try {
    core = o.core || defaultCore();
    feed = new core.Feed(o.params || {}, o.tokens || {}, now());
  } catch (e) {
    const err = clean(e);
    emit('ERROR', err.code ? `${err.code}: ${err.message}` : err.message);
    throw err;
  }

  const state = { written: 0, fatal: null };
  const fatal = (e, code, what) => {
    if (state.fatal) return;
    const err = e && e.code && e.blame ? e : shimError(code, code === 'OUTPUT_WRITE_FAILED' ? 'configuration' : 'caller', `${what}: ${e && e.message ? e.message : String(e)}`);
    state.fatal = err;
  };
  const drain = () => {
    for (const line of feed.takeLogs()) emit(line.level, line.text);
    let chunk;
    while ((chunk = takeOutput(feed)) !== undefined) {
      if (state.fatal) continue; // the run is failing; nothing more is written
      try {
        writeFn(chunk);
        state.written++;
      } catch (e) {
        fatal(e, 'OUTPUT_WRITE_FAILED', "the host's output writer failed (writeItem)");
      }
    }
  };
  const progress = () => {
    if (o.onProgress) {
      try { o.onProgress(feed.summary()); } catch (e) { /* a display hook must not break the run */ }
    }
  };
  // Each sink call drives the core and drains it; an exception (a host writer that throws, a
  // misbehaving adapter) stops the exchange and fails the run after it settles.
  const guarded = (what, fn) => (...args) => {
    try {
      return fn(...args);
    } catch (e) {
      fatal(e, 'SHIM_ERROR', what);
      return false;
    }
  };
  // The run is over (done or failed): late events of abandoned requests are ignored.
  let finished = false;
  const sinkFor = (id) => ({
    head: guarded('response head', (status, headers) => {
      if (finished) return;
      feed.handleResponseHead(now(), status, headers, id);
      drain();
      progress();
    }),
    body: guarded('response body', (chunk) => {
      if (finished) return false;
      const more = feed.handleBody(chunk, id);
      drain();
      progress();
      return more && !state.fatal;
    }),
    end: guarded('response end', () => {
      if (finished) return;
      feed.handleResponseEnd(now(), id);
      drain();
      progress();
    }),
    error: guarded('transport error', (code, message) => {
      if (finished) return;
      feed.handleTransportError(now(), String(code || 'ETRANSPORT'), secrets.scrub(String(message || '')), id);
      drain();
      progress();
    }),
  });

  // Requests in flight: id -> {done: Promise, control: {abort}}. With concurrency=1 (the default)
  // the core never has more than one.
  const inflight = new Map();
  const anySettled = () => Promise.race(Array.from(inflight.values(), (x) => x.done));
  const abandonAll = async () => {
    finished = true;
    const all = Array.from(inflight.values());
    for (const x of all) {
      try { if (x.control.abort) x.control.abort(); } catch (e) { /* best effort */ }
    }
    await Promise.all(all.map((x) => x.done));
  };
  /** Sleeps ms, or less when a request settles first (the core then has news). */
  const sleepOrSettle = async (ms, reason) => {
    if (!inflight.size) {
      await sleep(ms, reason);
      return;
    }
    if (o.sleep) {
      await Promise.race([sleep(ms, reason), anySettled()]);
      return;
    }
    let timer;
    await Promise.race([new Promise((r) => { timer = setTimeout(r, Math.min(ms, MAX_TIMER_MS)); }), anySettled()]);
    clearTimeout(timer);
  };

  let adapter = null;
  let coreFailed = false;
  try {
    drain();
    const transport = feed.transport();
    if (transport.proxy && transport.proxy.authorization) secrets.addAuthorization(transport.proxy.authorization);

    const h = o.http;
    if (h && typeof h === 'object' && typeof h.send === 'function') adapter = h;
    else if (typeof h === 'function') adapter = h(transport);
    else adapter = createHttp(transport, { prefer: h || undefined, require: o.host && o.host.require, global: o.host && o.host.global });

    emit('INFO', `qualys-vm-transporter ${core.version()}: HTTP client: ${adapter.describe || adapter.name || 'custom'}; output root node ${transport.rootNode}`);
    if (o.onStart) o.onStart({ transport: publicTransport(transport), http: adapter.name || 'custom', describe: adapter.describe || '' });

    for (;;) {
      if (state.fatal) throw state.fatal;
      const action = feed.poll(now());
      drain();
      if (o.onAction) {
        const { headers, ...visible } = action; // eslint-disable-line no-unused-vars
        o.onAction(visible);
      }
      if (action.kind === 'send') {
        for (const [k, v] of action.headers) if (/^(proxy-)?authorization$/i.test(k)) secrets.addAuthorization(v);
        const id = action.id;
        const control = {};
        const entry = { control, done: null };
        entry.done = Promise.resolve()
          .then(() => adapter.send(action, sinkFor(id), control))
          .catch((e) => { fatal(e, 'SHIM_ERROR', 'the HTTP adapter failed'); })
          .then(() => { inflight.delete(id); drain(); });
        inflight.set(id, entry);
        // Poll again at once: the core answers with another send, a wait, or pending.
      } else if (action.kind === 'pending') {
        if (!inflight.size) throw shimError('SHIM_ERROR', 'caller', 'the core is waiting for a response, but none is in flight');
        await anySettled();
      } else if (action.kind === 'wait') {
        await sleepOrSettle(action.ms, action.reason);
      } else if (action.kind === 'done') {
        if (state.fatal) throw state.fatal;
        finished = true;
        if (inflight.size) await abandonAll();
        if (state.written === 0) {
          try {
            writeFn('');
          } catch (e) {
            fatal(e, 'OUTPUT_WRITE_FAILED', "the host's output writer failed (writeItem)");
            throw state.fatal;
          }
        }
        const summary = action.summary || feed.summary();
        let prc = summary.previousRunContext == null ? '' : String(summary.previousRunContext);
        if (prc.length > 256) {
          emit('WARN', `previousRunContext is ${prc.length} characters; Archer keeps at most 256, so it was cut`);
          prc = prc.slice(0, 256);
        }
        return { summary, previousRunContext: prc };
      } else if (action.kind === 'fail') {
        coreFailed = true; // the core has logged it
        throw clean(action.error, feed.summary());
      } else {
        throw shimError('SHIM_ERROR', 'caller', `the core returned an unknown action ${JSON.stringify(action.kind)}`);
      }
    }
  } catch (e) {
    finished = true;
    if (inflight.size) await abandonAll();
    let summary;
    try { summary = feed.summary(); } catch (x) { /* freed */ }
    const err = clean(e, summary);
    // The checkpoint a failed run leaves for the next one (the core's resume token).
    if (summary && summary.previousRunContext && err.previousRunContext === undefined) {
      try { err.previousRunContext = String(summary.previousRunContext).slice(0, 256); } catch (x) { /* frozen */ }
    }
    // The core logs its own failures; the shim's (HTTP client, output writer, ...) are logged here.
    if (!coreFailed) emit('ERROR', err.code ? `${err.code}: ${err.message}` : err.message);
    throw err;
  } finally {
    if (adapter && typeof adapter.close === 'function') {
      try { adapter.close(); } catch (e) { /* closing is best effort */ }
    }
    try { feed.free(); } catch (e) { /* already freed */ }
  }
}

module.exports = { runFeed, realSleep, publicTransport };
