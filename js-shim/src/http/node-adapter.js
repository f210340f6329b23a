'use strict';
// HTTP through Node's own http/https modules: the adapter for standalone and CLI use, and inside
// Archer when its sandbox allows Node's built-ins. Honours every transport setting:
//   socketLimit       keep-alive Agent with maxSockets = socketLimit (one agent per run)
//   requestTimeoutMs  the idle limit, responseTimeoutMs the whole-response limit: both enforced by
//                     exchange.js (from send, or from the moment the agent gave the request a
//                     socket); the agent's sockets also time out when idle that long
//   verifyCerts       rejectUnauthorized on the agent and on each request: it overrides the
//                     process-wide NODE_TLS_REJECT_UNAUTHORIZED=0 a host may carry, in both
//                     directions (the variable is never read for the decision, nor changed)
//   caCert            added to Node's default root certificates for this run's requests
//   proxy             https:// targets through an HTTP CONNECT tunnel (Proxy-Authorization on the
//                     CONNECT only); http:// targets (loopback test servers) as absolute-form
//                     requests to the proxy
// A POST's form body (send action `body`) goes with Content-Length; its Content-Type comes from the
// core's headers.
// Compressed answers: `Accept-Encoding: gzip` only when the host lets the script load zlib; a
// gzip (or deflate) body is decoded as it streams in (zlib, with backpressure), its compressed
// bytes reported to sink.wire and bounded against decompression bombs (decode.js).
// Bodies are streamed: each 'data' chunk goes to the sink synchronously before the next is read.
// A 101 Switching Protocols answer (Node's 'upgrade' event) is reported as its status, which the
// exchange refuses (EUNUSABLESTATUS); other informational 1xx ('information') are ignored.

const { exchange, limitsOf, describeLimits, pairsFromRaw, objectFromPairs, requestBody } = require('./exchange');
const { transportFailure } = require('../errors');
const { tlsEnvOverridden, verificationNote, tlsIssuer } = require('./tls-env');
const { contentEncoding, bombGuard, bombError, badEncodingMessage, decodeFailure } = require('./decode');

/** @typedef {import('../../../pkg-template/index').TransportSettings} TransportSettings */
/** @typedef {import('../../../pkg-template/index').HttpAdapter} HttpAdapter */
/** @typedef {import('../../../pkg-template/index').SendAction} SendAction */
/** @typedef {import('../../../pkg-template/index').ResponseSink} ResponseSink */
/** @typedef {{hostname: string, port: number, authorization: string | null, url: string}} Proxy */
// Node's http, https, tls and their objects come from the host's require (any host, stubs in
// tests): they are typed `any` here, on purpose.

/** Splits http://host:port/ into {hostname, port} (IPv6 brackets removed). */
/**
 * @param {{hostname: string, port: string}} u a URL
 * @param {number} defaultPort
 */
function hostPort(u, defaultPort) {
  const hostname = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return { hostname, port: Number(u.port) || defaultPort };
}

/**
 * An https Agent whose sockets are TLS connections through an HTTP proxy's CONNECT tunnel. Keep-alive
 * and maxSockets work as for any Agent: a tunnelled TLS socket is reused for the same target.
 */
/**
 * @param {any} https
 * @param {any} http
 * @param {any} tls
 */
function makeTunnelAgentClass(https, http, tls) {
  return class TunnelAgent extends https.Agent {
    /**
     * @param {object} options
     * @param {Proxy} proxy
     */
    constructor(options, proxy) {
      super(options);
      this.proxy = proxy; // {hostname, port, authorization}
    }

    /**
     * @param {any} options
     * @param {(err: any, socket?: any) => void} callback
     */
    createConnection(options, callback) {
      const target = `${options.host}:${options.port}`;
      /** @type {Record<string, string>} */
      const headers = { Host: target };
      if (this.proxy.authorization) headers['Proxy-Authorization'] = this.proxy.authorization;
      const connectReq = http.request({
        host: this.proxy.hostname,
        port: this.proxy.port,
        method: 'CONNECT',
        path: target,
        headers,
        agent: false,
      });
      let settled = false;
      /**
       * @param {any} err
       * @param {any} [socket]
       */
      const settle = (err, socket) => {
        if (settled) return;
        settled = true;
        callback(err, socket);
      };
      connectReq.once('connect', (/** @type {any} */ res, /** @type {any} */ socket, /** @type {any} */ head) => {
        if (res.statusCode !== 200) {
          socket.destroy();
          const e = /** @type {any} */ (new Error(`the proxy ${this.proxy.hostname}:${this.proxy.port} answered CONNECT ${target} with HTTP ${res.statusCode}${res.statusMessage ? ' ' + res.statusMessage : ''}`));
          e.code = res.statusCode === 407 ? 'EPROXYAUTH' : 'EPROXYCONNECT';
          e.proxyStatus = res.statusCode;
          e.proxyHeaders = pairsFromRaw(res.rawHeaders || []);
          settle(e);
          return;
        }
        if (head && head.length) socket.unshift(head);
        const tlsOptions = Object.assign({}, options, { socket });
        delete tlsOptions.host;
        delete tlsOptions.port;
        delete tlsOptions.path;
        if (!tlsOptions.servername && options.host && !/^[\d.]+$|:/.test(options.host)) tlsOptions.servername = options.host;
        let tlsSocket;
        try {
          tlsSocket = tls.connect(tlsOptions);
        } catch (e) {
          socket.destroy();
          settle(e);
          return;
        }
        settle(null, tlsSocket);
      });
      connectReq.once('error', (/** @type {any} */ e) => {
        if (!e.code) e.code = 'EPROXY';
        e.message = `proxy ${this.proxy.hostname}:${this.proxy.port}: ${e.message}`;
        settle(e);
      });
      connectReq.setTimeout(options.timeout || 60000, () => {
        const e = /** @type {any} */ (new Error(`the proxy ${this.proxy.hostname}:${this.proxy.port} did not answer CONNECT ${target} in time`));
        e.code = 'ETIMEDOUT';
        connectReq.destroy(e);
      });
      connectReq.end();
      return undefined; // the socket comes through the callback
    }
  };
}

/**
 * @param {TransportSettings} transport Feed.transport()
 * @param {{http: any, https: any, tls?: any, url?: any, zlib?: any, env?: Record<string, string | undefined> | null}} mods Node modules
 *        (zlib: when given, gzip is asked for and decoded)
 *        (and env: the host's environment variables, for the start line)
 * @returns {HttpAdapter & {name: string, describe: string, close(): void}}
 */
function createNodeAdapter(transport, mods) {
  const { http, https } = mods;
  const tls = mods.tls;
  const URLClass = (mods.url && mods.url.URL) || (typeof URL === 'function' ? URL : null);
  const maxSockets = Math.max(1, Number(transport.socketLimit) || 1);
  const limits = limitsOf(transport);
  const timeoutMs = limits.idleMs;
  const envTls = tlsEnvOverridden(transport, mods.env);
  const zlib = mods.zlib && typeof mods.zlib.createGunzip === 'function' ? mods.zlib : null;

  /** @type {{rejectUnauthorized: boolean, ca?: string[]}} */
  const tlsOptions = { rejectUnauthorized: transport.verifyCerts !== false };
  if (transport.caCert) {
    /** @type {string[]} */
    const roots = tls && Array.isArray(tls.rootCertificates) ? tls.rootCertificates : [];
    tlsOptions.ca = roots.concat([transport.caCert]);
  }

  /** @type {Proxy | null} */
  let proxy = null;
  if (transport.proxy) {
    const pu = new URLClass(transport.proxy.url);
    proxy = Object.assign(hostPort(pu, 80), { authorization: transport.proxy.authorization || null, url: transport.proxy.url });
  }

  const agentBase = { keepAlive: true, maxSockets, timeout: timeoutMs };
  const httpAgent = new http.Agent(agentBase);
  /** @type {any} */
  let httpsAgent;
  if (proxy) {
    const TunnelAgent = makeTunnelAgentClass(https, http, tls);
    httpsAgent = new TunnelAgent(Object.assign({}, agentBase, tlsOptions), proxy);
  } else {
    httpsAgent = new https.Agent(Object.assign({}, agentBase, tlsOptions));
  }

  /**
   * @param {SendAction} request
   * @param {ResponseSink} sink
   * @param {import('./exchange').Control} [control]
   */
  function send(request, sink, control) {
    return exchange(sink, (s, onAbort) => {
      const u = new URLClass(request.url);
      const isHttps = u.protocol === 'https:';
      const headers = objectFromPairs(request.headers);
      const body = requestBody(request);
      if (body) headers['Content-Length'] = String(body.length);
      if (zlib) headers['Accept-Encoding'] = 'gzip';
      /** @type {any} */
      let options;
      /** @type {any} */
      let mod;
      if (isHttps) {
        mod = https;
        options = Object.assign({
          protocol: 'https:',
          method: request.method,
          path: u.pathname + u.search,
          headers,
          agent: httpsAgent,
        }, hostPort(u, 443), tlsOptions);
      } else if (proxy) {
        mod = http;
        headers.Host = u.host;
        if (proxy.authorization) headers['Proxy-Authorization'] = proxy.authorization;
        options = { protocol: 'http:', hostname: proxy.hostname, port: proxy.port, method: request.method, path: request.url, headers, agent: httpAgent };
      } else {
        mod = http;
        options = Object.assign({ protocol: 'http:', method: request.method, path: u.pathname + u.search, headers, agent: httpAgent }, hostPort(u, 80));
      }

      const req = mod.request(options);
      onAbort(() => req.destroy());
      req.on('socket', () => s.dispatched());
      req.on('upgrade', (/** @type {any} */ res, /** @type {any} */ socket) => {
        // 101 Switching Protocols: the socket is no longer HTTP. Report the status (the exchange
        // refuses it and aborts) and drop the socket Node handed over.
        try { socket.destroy(); } catch (e) { /* gone */ }
        s.head(res.statusCode, pairsFromRaw(res.rawHeaders || []));
        s.error('EUNUSABLESTATUS', `the server answered HTTP ${res.statusCode} (an upgrade to another protocol)`);
      });
      req.on('response', (/** @type {any} */ res) => {
        const head = pairsFromRaw(res.rawHeaders);
        const encoding = contentEncoding(head);
        s.head(res.statusCode, head);
        tlsIssuer(res.socket, s);
        /** @type {any} */
        let decoder = null;
        const guard = bombGuard(encoding, null);
        if (encoding && !s.over) {
          if (!zlib || !/^(x-)?gzip$|^deflate$/.test(encoding)) {
            s.error('EBADENCODING', badEncodingMessage(encoding, Boolean(zlib)));
            req.destroy();
            return;
          }
          decoder = encoding === 'deflate' ? zlib.createInflate() : zlib.createGunzip();
          onAbort(() => { req.destroy(); decoder.destroy(); });
          decoder.on('data', (/** @type {Uint8Array} */ chunk) => {
            if (s.over) return;
            const why = guard.decoded(chunk.length);
            if (why) {
              bombError(s, why);
              req.destroy();
              decoder.destroy();
            } else if (!s.body(chunk)) {
              s.end();
              req.destroy();
              decoder.destroy();
            }
          });
          decoder.on('drain', () => res.resume());
          decoder.on('end', () => s.end());
          decoder.on('error', (/** @type {any} */ e) => {
            const f = decodeFailure(e && e.message ? String(e.message) : String(e));
            s.error(f.code, f.message);
            req.destroy();
          });
        }
        res.on('data', (/** @type {Uint8Array} */ chunk) => {
          if (s.over) return;
          if (decoder) {
            guard.wire(chunk.length);
            s.wire(chunk.length);
            if (!decoder.write(chunk)) res.pause();
            return;
          }
          if (!s.body(chunk)) {
            // The core knows the response is bad: stop reading, drop the connection, settle.
            s.end();
            req.destroy();
          }
        });
        res.on('end', () => {
          if (res.complete === false) s.error('ECONNRESET', 'the connection closed before the response was complete');
          else if (decoder && guard.wireBytes === 0) {
            // An empty body labelled compressed (a 401 or a proxy's error page): nothing to decode.
            decoder.destroy();
            s.end();
          } else if (decoder) decoder.end(); // the decoder's 'end' settles, after its last bytes
          else s.end();
        });
        res.on('error', (/** @type {unknown} */ e) => {
          const f = transportFailure(e);
          s.error(f.code, f.message);
        });
        res.on('aborted', () => s.error('ECONNRESET', 'the connection closed before the response was complete'));
        res.on('close', () => {
          if (!res.complete) s.error('ECONNRESET', 'the connection closed before the response was complete');
          else if (!decoder) s.end();
        });
      });
      req.on('error', (/** @type {any} */ e) => {
        if (e && e.proxyStatus === 407 && !s.headSeen) {
          // The proxy refused our credentials: report it as the response it was, so the core
          // gives the admin its PROXY_AUTH_REQUIRED advice.
          s.head(407, e.proxyHeaders || []);
          s.end();
          return;
        }
        const f = transportFailure(e);
        s.error(f.code, f.message);
      });
      req.end(body ? body.text : undefined);
    }, control, limits);
  }

  function close() {
    httpAgent.destroy();
    httpsAgent.destroy();
  }

  const features = [`keep-alive, maxSockets=${maxSockets}`, describeLimits(limits)];
  features.push(verificationNote(transport, envTls));
  if (transport.caCert) features.push('extra CA from caCert');
  if (proxy) features.push(`proxy ${proxy.url}`);
  features.push(zlib ? 'gzip asked for and decoded with zlib' : 'gzip not asked for (zlib is not available to the script)');
  return { name: 'node', describe: `Node http/https (${features.join(', ')})`, send, close };
}

module.exports = { createNodeAdapter };
