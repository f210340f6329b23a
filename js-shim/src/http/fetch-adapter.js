'use strict';
// HTTP through the global `fetch` (Archer 2025.04+ replaced `request` with it). Used only when
// neither Node's http/https nor `request` can be loaded, because fetch in Node 18-22 takes no
// per-request agent, proxy or CA without the undici package, which a transporter script cannot
// load. What it honours and what it cannot:
//   honoured:  method, headers (Basic auth, X-Requested-With), requestTimeoutMs (time to the
//              response head and between body chunks; abort through AbortController when the host
//              has one, else the request is abandoned), streaming (body read chunk by chunk from
//              response.body), certificate verification against the runtime's default roots,
//              redirects not followed (redirect: "manual")
//   socketLimit: not per request: fetch's own pool decides; the core never has more than
//              `concurrency` requests in flight (1 by default), which bounds the sockets in use
//   cannot:    proxy, caCert, verifyCerts=False -> a configuration error before any request
//              (silently ignoring them would bypass the proxy or fail on every request)

const { exchange } = require('./exchange');
const { shimError, transportFailure } = require('../errors');

/**
 * The settings fetch cannot honour, as a configuration error, or null.
 * @param {object} transport Feed.transport()
 */
function fetchLimitations(transport) {
  const problems = [];
  if (transport.proxy) problems.push('proxy: the fetch of this host cannot use an HTTP proxy per request');
  if (transport.caCert) problems.push('caCert: the fetch of this host cannot trust an extra CA per request');
  if (transport.verifyCerts === false) problems.push('verifyCerts=False: the fetch of this host cannot switch certificate checks off per request (and the process-wide NODE_TLS_REJECT_UNAUTHORIZED is never used)');
  if (!problems.length) return null;
  return shimError(
    'HTTP_OPTION_UNSUPPORTED',
    'configuration',
    `The only HTTP client available to this script is the global fetch, which cannot honour ${problems.length === 1 ? 'this parameter' : 'these parameters'}: ${problems.join('; ')}. Remove the parameter, or run the feed where Node's https module or the request package is available (Archer 6.x, or the qualys-vm-transporter CLI).`,
  );
}

/** Races a promise against a timer; the timer calls onTimeout and rejects with ETIMEDOUT. */
function withTimeout(promise, ms, onTimeout) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => {
      const e = new Error(`no data from the server for ${Math.round(ms / 1000)} s (requestTimeoutSec)`);
      e.code = 'ETIMEDOUT';
      try { onTimeout(); } catch (x) { /* best effort */ }
      reject(e);
    }, ms);
  });
  return Promise.race([promise, timeout]).then(
    (v) => { clearTimeout(timer); return v; },
    (e) => { clearTimeout(timer); throw e; },
  );
}

/**
 * @param {object} transport Feed.transport()
 * @param {Function} fetchFn the global fetch
 * @param {{AbortController?: Function}} [globals]
 */
function createFetchAdapter(transport, fetchFn, globals = {}) {
  const problem = fetchLimitations(transport);
  if (problem) throw problem;
  const timeoutMs = Math.max(1, Number(transport.requestTimeoutMs) || 300000);
  const Abort = typeof globals.AbortController === 'function' ? globals.AbortController : null;

  function send(req, sink, control) {
    return exchange(sink, (s, onAbort) => {
      const ctrl = Abort ? new Abort() : null;
      let reader = null;
      const abort = () => {
        if (ctrl) ctrl.abort();
        if (reader) try { Promise.resolve(reader.cancel()).catch(() => {}); } catch (e) { /* closed */ }
      };
      onAbort(abort);
      const init = { method: req.method, headers: req.headers.map(([k, v]) => [k, v]), redirect: 'manual' };
      if (ctrl) init.signal = ctrl.signal;
      const fail = (e) => {
        const f = transportFailure(e);
        s.error(f.code, f.message);
      };
      (async () => {
        let res;
        try {
          res = await withTimeout(Promise.resolve().then(() => fetchFn(req.url, init)), timeoutMs, abort);
        } catch (e) {
          fail(e);
          return;
        }
        const headers = [];
        if (res.headers && typeof res.headers.forEach === 'function') res.headers.forEach((v, k) => headers.push([k, v]));
        s.head(res.status, headers);
        if (!res.body || typeof res.body.getReader !== 'function') {
          s.end();
          return;
        }
        reader = res.body.getReader();
        const cancel = abort;
        for (;;) {
          let r;
          try {
            r = await withTimeout(reader.read(), timeoutMs, cancel);
          } catch (e) {
            cancel();
            fail(e);
            return;
          }
          if (r.done) break;
          if (!s.body(r.value)) {
            cancel();
            break;
          }
        }
        s.end();
      })().catch(fail);
    }, control);
  }

  const features = [`timeout ${Math.round(timeoutMs / 1000)} s${Abort ? '' : ' (no AbortController: a timed-out request is abandoned)'}`];
  return { name: 'fetch', describe: `global fetch (${features.join(', ')})`, send, close() {} };
}

module.exports = { createFetchAdapter, fetchLimitations };
