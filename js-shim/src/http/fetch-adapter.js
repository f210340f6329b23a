'use strict';
// HTTP through the global `fetch` (Archer 2025.04+ replaced `request` with it). Used only when
// neither Node's http/https nor `request` can be loaded, because fetch in Node 18-22 takes no
// per-request agent, proxy or CA without the undici package, which a transporter script cannot
// load. What it honours and what it cannot:
//   honoured:  method, headers (Basic auth, X-Requested-With), a POST's form body, gzip (asked for;
//              fetch decodes it: the compressed size is known only from a Content-Length, the
//              decompression-bomb bounds of decode.js apply to the decoded bytes), requestTimeoutMs and
//              responseTimeoutMs (the idle and whole-response limits of exchange.js; on expiry
//              the request is aborted through AbortController when the host has one, else
//              abandoned), streaming (body read chunk by chunk from response.body), certificate
//              verification against the runtime's default roots, redirects not followed
//              (redirect: "manual"), a 101 answer (undici's "bad upgrade") reported as HTTP 101
//   socketLimit: not per request: fetch's own pool decides; the core never has more than
//              `concurrency` requests in flight (1 by default), which bounds the sockets in use
//   cannot:    proxy, caCert, verifyCerts=False -> a configuration error before any request
//              (silently ignoring them would bypass the proxy or fail on every request); and
//              verifyCerts=True while the process has NODE_TLS_REJECT_UNAUTHORIZED=0 (fetch would
//              not check the certificate) -> TLS_VERIFY_DISABLED_IN_PROCESS, see tls-env.js

const { exchange, limitsOf, describeLimits, requestBody } = require('./exchange');
const { shimError, transportFailure } = require('../errors');
const { codes } = require('../codes');
const { processTlsProblem } = require('./tls-env');
const { contentEncoding, bombGuard, bombError, badEncodingMessage, decodeFailure, isDecodeFailure } = require('./decode');

/**
 * The settings fetch cannot honour, as a configuration error, or null.
 * @param {import('../../../pkg-template/index').TransportSettings} transport Feed.transport()
 * @param {Record<string, string | undefined> | null} [env] the host's environment variables
 */
function fetchLimitations(transport, env) {
  const problems = [];
  if (transport.proxy) problems.push('proxy: the fetch of this host cannot use an HTTP proxy per request');
  if (transport.caCert) problems.push('caCert: the fetch of this host cannot trust an extra CA per request');
  if (transport.verifyCerts === false) problems.push('verifyCerts=False: the fetch of this host cannot switch certificate checks off per request (and the process-wide NODE_TLS_REJECT_UNAUTHORIZED is never used)');
  if (!problems.length) return processTlsProblem(transport, env);
  return shimError(
    codes.HTTP_OPTION_UNSUPPORTED,
    'configuration',
    `The only HTTP client available to this script is the global fetch, which cannot honour ${problems.length === 1 ? 'this parameter' : 'these parameters'}: ${problems.join('; ')}. Remove the parameter, or run the feed where Node's https module or the request package is available (Archer 6.x, or the qualys-vm-transporter CLI).`,
  );
}

/**
 * undici refuses a 101 answer to a plain request with "bad upgrade": that is an HTTP 101.
 * @param {any} e
 */
function isUpgradeRefusal(e) {
  for (let x = e, depth = 0; x && typeof x === 'object' && depth < 5; depth++, x = x.cause) {
    if (/bad upgrade/i.test(String(x.message || ''))) return true;
  }
  return false;
}

/**
 * @param {import('../../../pkg-template/index').TransportSettings} transport Feed.transport()
 * @param {(url: string, init: any) => Promise<any>} fetchFn the global fetch (the host's: its response typed any)
 * @param {{AbortController?: any, env?: Record<string, string | undefined> | null}} [globals] env: the host's environment variables
 * @returns {import('../../../pkg-template/index').HttpAdapter & {name: string, describe: string, close(): void}}
 */
function createFetchAdapter(transport, fetchFn, globals = {}) {
  const problem = fetchLimitations(transport, globals.env);
  if (problem) throw problem;
  const limits = limitsOf(transport);
  const Abort = typeof globals.AbortController === 'function' ? globals.AbortController : null;

  /**
   * @param {import('../../../pkg-template/index').SendAction} req
   * @param {import('../../../pkg-template/index').ResponseSink} sink
   * @param {import('./exchange').Control} [control]
   */
  function send(req, sink, control) {
    return exchange(sink, (s, onAbort) => {
      const ctrl = Abort ? new Abort() : null;
      /** @type {any} */
      let reader = null;
      const abort = () => {
        if (ctrl) ctrl.abort();
        if (reader) try { Promise.resolve(reader.cancel()).catch(() => {}); } catch (e) { /* closed */ }
      };
      onAbort(abort);
      /** @type {{method: string, headers: string[][], redirect: string, signal?: any, body?: string}} */
      const init = { method: req.method, headers: req.headers.map(([k, v]) => [k, v]), redirect: 'manual' };
      if (!init.headers.some(([k]) => /^accept-encoding$/i.test(k))) init.headers.push(['Accept-Encoding', 'gzip']);
      if (ctrl) init.signal = ctrl.signal;
      // A POST's form body: fetch sets Content-Length itself (the core's headers carry Content-Type).
      const body = requestBody(req);
      if (body) init.body = body.text;
      /** @param {unknown} e */
      const fail = (e) => {
        if (isUpgradeRefusal(e) && !s.headSeen) {
          s.head(101, []);
          return;
        }
        let f = transportFailure(e);
        // fetch's decoder failing ("terminated", caused by zlib's Z_DATA_ERROR): a damaged answer.
        if (isDecodeFailure(f)) f = decodeFailure(f.message);
        s.error(f.code, f.message);
      };
      (async () => {
        let res;
        try {
          res = await Promise.resolve().then(() => fetchFn(req.url, init));
        } catch (e) {
          fail(e);
          return;
        }
        if (s.over) {
          abort();
          return;
        }
        /** @type {Array<[string, string]>} */
        const headers = [];
        if (res.headers && typeof res.headers.forEach === 'function') res.headers.forEach((/** @type {string} */ v, /** @type {string} */ k) => headers.push([k, v]));
        s.head(res.status, headers);
        if (s.over) return; // refused (an unusable status)
        const encoding = contentEncoding(headers);
        if (encoding && !/^(x-)?gzip$|^deflate$|^br$/.test(encoding)) {
          abort();
          s.error('EBADENCODING', badEncodingMessage(encoding, true));
          return;
        }
        // fetch hands out decoded bytes; the compressed size is the Content-Length, when sent.
        const length = encoding ? Number((headers.find(([k]) => /^content-length$/i.test(k)) || [])[1]) : NaN;
        const guard = bombGuard(encoding, Number.isFinite(length) && length >= 0 ? length : null);
        if (!res.body || typeof res.body.getReader !== 'function') {
          s.end();
          return;
        }
        reader = res.body.getReader();
        for (;;) {
          let r;
          try {
            r = await reader.read();
          } catch (e) {
            abort();
            fail(e);
            return;
          }
          if (s.over) return; // the exchange ended it (a limit)
          if (r.done) break;
          const why = encoding ? guard.decoded(r.value.length) : null;
          if (why) {
            abort();
            bombError(s, why);
            return;
          }
          if (!s.body(r.value)) {
            abort();
            break;
          }
        }
        if (encoding && Number.isFinite(length) && length >= 0) s.wire(length);
        s.end();
      })().catch(fail);
    }, control, limits);
  }

  const features = [`${describeLimits(limits)}${Abort ? '' : ' (no AbortController: a timed-out request is abandoned)'}`, 'certificate verification: the runtime\'s default roots', 'gzip asked for and decoded by fetch'];
  return { name: 'fetch', describe: `global fetch (${features.join(', ')})`, send, close() {} };
}

module.exports = { createFetchAdapter, fetchLimitations };
