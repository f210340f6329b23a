'use strict';
// Picks the HTTP adapter at run time by what the host lets the script load, so one code path (the
// run loop) sits above all three:
//   1. Node's http/https  (standalone, CLI, and Archer hosts that allow Node's built-ins)
//   2. the request package (Archer 6.x's whitelist)
//   3. the global fetch    (Archer 2025.04+; only what fetch can honour, see fetch-adapter.js)
// `prefer` forces one ('node' | 'request' | 'fetch'); an adapter object is used as given.

const { optionalRequire, globalObject } = require('../host');
const { shimError } = require('../errors');
const { codes } = require('../codes');
const { createNodeAdapter } = require('./node-adapter');
const { createRequestAdapter } = require('./request-adapter');
const { createFetchAdapter } = require('./fetch-adapter');
const { hostEnv } = require('./tls-env');

/** @typedef {import('../../../pkg-template/index').HttpClientName} HttpClientName */
/** @typedef {import('../../../pkg-template/index').HttpAdapter} HttpAdapter */
/** @typedef {import('../../../pkg-template/index').TransportSettings} TransportSettings */
/**
 * What the host offers: a require that answers null, its global object, its environment variables.
 * @typedef {{require: (name: string) => any, global: any, vars?: Record<string, string | undefined> | null}} HostEnv
 */

/** @type {HttpClientName[]} */
const NAMES = ['node', 'request', 'fetch'];

/**
 * What each adapter needs, loaded if the host allows it; null when it cannot be had.
 * @type {Record<string, (env: HostEnv) => ((t: TransportSettings) => HttpAdapter) | null>}
 */
const loaders = {
  node: (env) => {
    const http = env.require('http');
    const https = env.require('https');
    if (!http || !https || typeof http.request !== 'function' || typeof https.Agent !== 'function') return null;
    const url = env.require('url');
    const URLClass = (url && url.URL) || (typeof env.global.URL === 'function' ? env.global.URL : null);
    if (!URLClass) return null;
    return (t) => createNodeAdapter(t, { http, https, tls: env.require('tls'), url: { URL: URLClass }, zlib: env.require('zlib'), env: env.vars });
  },
  request: (env) => {
    const request = env.require('request');
    if (typeof request !== 'function') return null;
    return (t) => createRequestAdapter(t, request, { tls: env.require('tls'), env: env.vars });
  },
  fetch: (env) => {
    const fetchFn = env.global.fetch;
    if (typeof fetchFn !== 'function') return null;
    return (t) => createFetchAdapter(t, fetchFn.bind(env.global), { AbortController: env.global.AbortController, env: env.vars });
  },
};

/**
 * A require that answers null instead of throwing.
 * @param {((name: string) => unknown) | undefined} req
 * @returns {(name: string) => any}
 */
function guarded(req) {
  if (!req) return optionalRequire;
  return (name) => {
    try {
      return req(name);
    } catch (e) {
      return null;
    }
  };
}

/**
 * @param {TransportSettings} transport Feed.transport()
 * @param {{prefer?: string, require?: (name: string) => unknown, global?: object, env?: Record<string, string | undefined> | null}} [options]
 *        env: the host's environment variables (default: global.process.env), read for
 *        NODE_TLS_REJECT_UNAUTHORIZED (see tls-env.js)
 * @returns {HttpAdapter}
 */
function createHttp(transport, options = {}) {
  const global = options.global || globalObject;
  const env = {
    require: guarded(options.require),
    global,
    vars: options.env || hostEnv(global),
  };
  const prefer = options.prefer;
  if (prefer !== undefined && prefer !== null && prefer !== '' && !(/** @type {string[]} */ (NAMES)).includes(prefer)) {
    throw shimError(codes.BAD_ARGUMENT, 'caller', `unknown HTTP client "${prefer}"; use one of ${NAMES.join(', ')}`);
  }
  const order = prefer ? [prefer] : NAMES;
  for (const name of order) {
    const make = loaders[name](env);
    if (make) return make(transport);
  }
  if (prefer) {
    throw shimError(codes.NO_HTTP_CLIENT, 'configuration', `the HTTP client "${prefer}" was asked for but cannot be loaded here`);
  }
  throw shimError(
    codes.NO_HTTP_CLIENT,
    'configuration',
    'No HTTP client is available to this script: Node\'s https module, the request package and the global fetch all failed to load. Run the feed on Archer 6.x (request) or 2025.04+ (fetch), or with Node 18 or later.',
  );
}

/**
 * Which adapters can be loaded here (for the CLI's diagnostics and tests).
 * @param {{require?: (name: string) => unknown, global?: object}} [options]
 * @returns {HttpClientName[]}
 */
function availableHttp(options = {}) {
  const env = { require: guarded(options.require), global: options.global || globalObject };
  return NAMES.filter((n) => loaders[n](env));
}

module.exports = { createHttp, availableHttp, HTTP_CLIENTS: NAMES };
