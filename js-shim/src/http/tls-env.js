'use strict';
// NODE_TLS_REJECT_UNAUTHORIZED=0 in the host process (RSA's own framework sets it when its
// verifyCerts is false, so an Archer host may carry it) switches certificate checks off for every
// TLS connection that does not ask for them itself. Node's https and the request package ask per
// request (rejectUnauthorized: true when verifyCerts is True), so the variable changes nothing for
// them; the global fetch takes no per-request TLS option, so with the variable set it would send
// the credentials to any server: it refuses to run instead (TLS_VERIFY_DISABLED_IN_PROCESS). The
// variable is only read, never changed.

const { shimError } = require('../errors');
const { codes } = require('../codes');

const VAR = 'NODE_TLS_REJECT_UNAUTHORIZED';

/**
 * The host's environment variables, or null when the host shows none.
 * @param {any} global
 * @returns {Record<string, string | undefined> | null}
 */
function hostEnv(global) {
  try {
    const p = global && global.process;
    return p && p.env && typeof p.env === 'object' ? p.env : null;
  } catch (e) {
    return null;
  }
}

/**
 * Does the process switch certificate checks off (exactly what Node reads: the string "0")?
 * @param {Record<string, string | undefined> | null | undefined} env
 * @returns {boolean}
 */
function processDisablesVerification(env) {
  try {
    return Boolean(env) && /** @type {Record<string, string | undefined>} */ (env)[VAR] === '0';
  } catch (e) {
    return false;
  }
}

/**
 * verifyCerts is True while the process says 0: a per-request client overrides the variable.
 * @param {{verifyCerts: boolean}} transport
 * @param {Record<string, string | undefined> | null | undefined} env
 */
function tlsEnvOverridden(transport, env) {
  return transport.verifyCerts !== false && processDisablesVerification(env);
}

/**
 * What the start line says about certificate checks for a client that verifies per request.
 * @param {{verifyCerts: boolean}} transport
 * @param {boolean} overridden
 */
function verificationNote(transport, overridden) {
  if (transport.verifyCerts === false) return 'certificate verification OFF';
  if (overridden) return `certificate verification: per request (${VAR}=0 in this process is overridden)`;
  return 'certificate verification: per request';
}

/**
 * The configuration error of a client that cannot verify per request (fetch), or null.
 * @param {{verifyCerts: boolean}} transport
 * @param {Record<string, string | undefined> | null | undefined} env
 */
function processTlsProblem(transport, env) {
  if (!tlsEnvOverridden(transport, env)) return null;
  return shimError(
    codes.TLS_VERIFY_DISABLED_IN_PROCESS,
    'configuration',
    `verifyCerts is True, but this host process has the environment variable ${VAR}=0, which switches certificate checks off for the whole process, and the only HTTP client available here (the global fetch) cannot switch them back on per request: the credentials could go to a server that is not Qualys. Nothing was sent. Remove ${VAR} from the Archer host's environment (in RSA's own framework it is set when verifyCerts is False), or run the feed where Node's https module or the request package is available (Archer 6.x, or the qualys-vm-transporter CLI), which check certificates per request.`,
  );
}

/**
 * Reports the issuer of a TLS socket's peer certificate to the sink (`CN=..., O=..., C=...`), for
 * the connection test's TLS line; nothing for a plain socket or a client that does not expose it.
 * @param {any} socket
 * @param {{tls(issuer: string): void}} sink
 */
function tlsIssuer(socket, sink) {
  try {
    if (!socket || typeof socket.getPeerCertificate !== 'function') return;
    const issuer = socket.getPeerCertificate().issuer;
    if (!issuer || typeof issuer !== 'object') return;
    const text = ['CN', 'O', 'C'].filter((k) => issuer[k]).map((k) => `${k}=${[].concat(issuer[k]).join('+')}`).join(', ');
    if (text) sink.tls(text);
  } catch (e) {
    // Not exposed: the TLS line then names only which CAs were trusted.
  }
}

module.exports = { hostEnv, processDisablesVerification, tlsEnvOverridden, verificationNote, processTlsProblem, tlsIssuer, TLS_ENV_VAR: VAR };
