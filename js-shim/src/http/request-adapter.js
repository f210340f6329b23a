'use strict';
// HTTP through the `request` package: the client Archer 6.x whitelists for transporter scripts.
// Transport settings map to request's own options:
//   socketLimit       pool: { maxSockets } (one pool object per run, so its agents are reused)
//                     and agentOptions.keepAlive
//   requestTimeoutMs  timeout (time to the response head, then socket idle time); with
//                     responseTimeoutMs both limits are also enforced by exchange.js, which covers
//                     what request's own timeout misses (a proxy that never answers CONNECT, a
//                     body dripping slower than the idle limit)
//   verifyCerts       strictSSL / agentOptions.rejectUnauthorized, per request (it overrides a
//                     process-wide NODE_TLS_REJECT_UNAUTHORIZED=0)
//   caCert            ca / agentOptions.ca (Node's default roots plus caCert when the tls module
//                     is available to the script, else caCert alone)
//   proxy             proxy: the proxy URL; Proxy-Authorization as a header, which request sends
//                     only on the CONNECT for https targets (its proxyHeaderExclusiveList)
// A POST's form body (send action `body`) is request's `body`, with Content-Length; its Content-Type
// comes from the core's headers.
// Compressed answers: request's gzip option asks for gzip/deflate and decodes as the body streams;
// the compressed bytes (counted on the raw response) go to sink.wire, bounded against decompression
// bombs (decode.js).
// Redirects are not followed (credentials stay with the configured host) and the body is streamed
// from request's 'data' events, never buffered. A 101 Switching Protocols answer (an 'upgrade' on
// the underlying Node request, which request itself never handles) is reported as its status,
// which the exchange refuses (EUNUSABLESTATUS).

const { exchange, limitsOf, describeLimits, pairsFromRaw, pairsFromObject, objectFromPairs, requestBody } = require('./exchange');
const { transportFailure } = require('../errors');
const { tlsEnvOverridden, verificationNote, tlsIssuer } = require('./tls-env');
const { contentEncoding, bombGuard, bombError, badEncodingMessage, decodeFailure, isDecodeFailure } = require('./decode');

/**
 * @param {import('../../../pkg-template/index').TransportSettings} transport Feed.transport()
 * @param {any} request the `request` package (from the host's require: typed any on purpose)
 * @param {{tls?: any, env?: Record<string, string | undefined> | null}} [mods] env: the host's environment variables
 * @returns {import('../../../pkg-template/index').HttpAdapter & {name: string, describe: string, close(): void}}
 */
function createRequestAdapter(transport, request, mods = {}) {
  const maxSockets = Math.max(1, Number(transport.socketLimit) || 1);
  const limits = limitsOf(transport);
  const timeoutMs = limits.idleMs;
  const verify = transport.verifyCerts !== false;
  /** @type {string[] | undefined} */
  let ca;
  if (transport.caCert) {
    /** @type {string[]} */
    const roots = mods.tls && Array.isArray(mods.tls.rootCertificates) ? mods.tls.rootCertificates : [];
    ca = roots.concat([transport.caCert]);
  }
  /** @type {Record<string, any>} request keeps its agents in here */
  const pool = { maxSockets };
  /** @type {{keepAlive: boolean, rejectUnauthorized: boolean, ca?: string[]}} */
  const agentOptions = { keepAlive: true, rejectUnauthorized: verify };
  if (ca) agentOptions.ca = ca;

  /**
   * @param {import('../../../pkg-template/index').SendAction} req
   * @param {import('../../../pkg-template/index').ResponseSink} sink
   * @param {import('./exchange').Control} [control]
   */
  function send(req, sink, control) {
    return exchange(sink, (s, onAbort) => {
      const headers = objectFromPairs(req.headers);
      /** @type {Record<string, any>} */
      const options = {
        method: req.method,
        url: req.url,
        headers,
        encoding: null,
        gzip: true,
        followRedirect: false,
        timeout: timeoutMs,
        pool,
        agentOptions,
        strictSSL: verify,
      };
      if (ca) options.ca = ca;
      const body = requestBody(req);
      if (body) {
        options.body = body.text;
        headers['Content-Length'] = String(body.length);
      }
      if (transport.proxy) {
        options.proxy = transport.proxy.url;
        if (transport.proxy.authorization) headers['Proxy-Authorization'] = transport.proxy.authorization;
      } else {
        // Never pick up HTTP(S)_PROXY from the environment: the proxy is a feed parameter.
        options.proxy = false;
      }
      const r = request(options);
      onAbort(() => r.abort());
      r.on('request', (/** @type {any} */ nodeReq) => {
        if (!nodeReq || typeof nodeReq.on !== 'function') return;
        nodeReq.on('socket', () => s.dispatched());
        nodeReq.on('upgrade', (/** @type {any} */ res, /** @type {any} */ socket) => {
          try { socket.destroy(); } catch (e) { /* gone */ }
          s.head(res.statusCode, pairsFromRaw(res.rawHeaders || []));
          s.error('EUNUSABLESTATUS', `the server answered HTTP ${res.statusCode} (an upgrade to another protocol)`);
        });
      });
      let guard = bombGuard('', null);
      r.on('response', (/** @type {any} */ res) => {
        const head = res.rawHeaders ? pairsFromRaw(res.rawHeaders) : pairsFromObject(res.headers);
        const encoding = contentEncoding(head);
        s.head(res.statusCode, head);
        tlsIssuer(res.socket, s);
        if (encoding && !s.over) {
          if (!/^(x-)?gzip$|^deflate$/.test(encoding)) {
            s.error('EBADENCODING', badEncodingMessage(encoding, true));
            r.abort();
            return;
          }
          guard = bombGuard(encoding, null);
          // request decodes it: the raw response's bytes are the compressed ones.
          res.on('data', (/** @type {Uint8Array} */ chunk) => {
            guard.wire(chunk.length);
            s.wire(chunk.length);
          });
        }
        res.on('aborted', () => s.error('ECONNRESET', 'the connection closed before the response was complete'));
        res.on('close', () => {
          if (res.complete === false) s.error('ECONNRESET', 'the connection closed before the response was complete');
        });
      });
      r.on('data', (/** @type {Uint8Array} */ chunk) => {
        if (s.over) return;
        const why = guard.decoded(chunk.length);
        if (why) {
          bombError(s, why);
          r.abort();
          return;
        }
        if (!s.body(chunk)) {
          s.end();
          r.abort();
        }
      });
      r.on('end', () => s.end());
      r.on('error', (/** @type {any} */ e) => {
        // request reports a refused CONNECT as "tunneling socket could not be established,
        // statusCode=407"; give the core the 407 it was, for its proxy-credentials advice.
        const m = /statusCode=(\d{3})/.exec(e && e.message ? e.message : '');
        if (m && Number(m[1]) === 407 && !s.headSeen) {
          s.head(407, []);
          s.end();
          return;
        }
        let f = transportFailure(e);
        if (isDecodeFailure(f)) f = decodeFailure(f.message);
        if (m && f.code === 'ECONNRESET') f.code = 'EPROXYCONNECT';
        // request's own timeout: the same limit as the exchange's, said the same way.
        if (f.code === 'ESOCKETTIMEDOUT' || (f.code === 'ETIMEDOUT' && /^E(SOCKET)?TIMEDOUT$/.test(f.message))) {
          s.timedOut();
          return;
        }
        s.error(f.code === 'ESOCKETTIMEDOUT' ? 'ETIMEDOUT' : f.code, f.message);
      });
    }, control, limits);
  }

  function close() {
    for (const k of Object.keys(pool)) {
      const agent = pool[k];
      if (agent && typeof agent.destroy === 'function') agent.destroy();
    }
  }

  const features = [`keep-alive pool, maxSockets=${maxSockets}`, describeLimits(limits)];
  features.push(verificationNote(transport, tlsEnvOverridden(transport, mods.env)));
  if (ca) features.push(mods.tls ? 'extra CA from caCert' : 'caCert as the only trusted CA (the tls module is not available to add it to the defaults)');
  if (transport.proxy) features.push(`proxy ${transport.proxy.url}`);
  features.push('gzip asked for and decoded by request');
  return { name: 'request', describe: `request package (${features.join(', ')})`, send, close };
}

module.exports = { createRequestAdapter };
