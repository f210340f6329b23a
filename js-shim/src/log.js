'use strict';
// Logging in RSA's format, `<ISO timestamp> :: <LEVEL> :: <text>`, with a scrubber as the last line
// of defence: the core never puts a secret in a log line, but every line (and every error text the
// shim hands to Archer) is still cleaned of the password, the proxy password and the Authorization
// values before it leaves. The logger also keeps the most recent lines for the failure callback.

/* global Buffer */
const REDACTED = '***';
const RECENT_DEFAULT = 40;

/** Values that must never be printed, in the forms they could show up in. */
class Secrets {
  constructor() {
    this.values = [];
  }

  /** Adds a secret (and its URL-encoded and base64 forms). Ignores empty values. */
  add(value) {
    if (value === undefined || value === null) return this;
    const s = String(value);
    if (s === '') return this;
    const forms = [s];
    try {
      const enc = encodeURIComponent(s);
      if (enc !== s) forms.push(enc);
    } catch (e) { /* lone surrogate: no encoded form */ }
    for (const f of forms) if (!this.values.includes(f)) this.values.push(f);
    // Longest first, so a secret that contains another is removed whole.
    this.values.sort((a, b) => b.length - a.length);
    return this;
  }

  /** An Authorization-style value: `Basic <token>` adds both the whole value and the token. */
  addAuthorization(value) {
    if (!value) return this;
    const s = String(value);
    this.add(s);
    const m = /^\s*\S+\s+(\S+)\s*$/.exec(s);
    if (m) {
      this.add(m[1]);
      if (typeof Buffer === 'function') {
        // The decoded `user:password` and the password alone.
        try {
          const decoded = Buffer.from(m[1], 'base64').toString('utf8');
          const i = decoded.indexOf(':');
          if (i >= 0 && i < decoded.length - 1) this.add(decoded.slice(i + 1));
        } catch (e) { /* not base64 */ }
      }
    }
    return this;
  }

  /** Secrets from Archer's Custom Parameters: `password` and the password inside `proxy`. */
  addFromParams(params) {
    if (!params || typeof params !== 'object') return this;
    this.add(params.password);
    const proxy = params.proxy;
    if (proxy) {
      const m = /^[^:/?#]*:\/\/([^@/?#]*)@/.exec(String(proxy).trim());
      if (m) {
        const userinfo = m[1];
        const i = userinfo.indexOf(':');
        if (i >= 0) {
          const pw = userinfo.slice(i + 1);
          this.add(pw);
          try { this.add(decodeURIComponent(pw)); } catch (e) { /* malformed escape */ }
        }
        this.add(userinfo);
      }
    }
    return this;
  }

  /** The text with every secret replaced by ***. */
  scrub(text) {
    let s = String(text);
    for (const v of this.values) {
      if (s.indexOf(v) !== -1) s = s.split(v).join(REDACTED);
    }
    return s;
  }
}

/**
 * A logger. `print` receives each finished line (default console.log).
 * @param {{print?: (line: string) => void, secrets?: Secrets, clock?: () => Date, recent?: number,
 *          minLevel?: 'DEBUG'|'INFO'|'WARN'|'ERROR'}} [options]
 */
function createLogger(options = {}) {
  const secrets = options.secrets || new Secrets();
  const print = options.print || ((line) => console.log(line)); // eslint-disable-line no-console
  const clock = options.clock || (() => new Date());
  const keep = options.recent || RECENT_DEFAULT;
  const order = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3 };
  const min = order[options.minLevel || 'INFO'];
  const recent = [];
  const listeners = [];

  function log(level, text) {
    const lvl = String(level || 'INFO').toUpperCase();
    const line = `${clock().toISOString()} :: ${lvl} :: ${secrets.scrub(text)}`;
    recent.push(line);
    if (recent.length > keep) recent.shift();
    for (const l of listeners) l(lvl, line);
    if ((order[lvl] === undefined ? 1 : order[lvl]) >= min) print(line);
    return line;
  }

  return {
    secrets,
    log,
    debug: (t) => log('DEBUG', t),
    info: (t) => log('INFO', t),
    warn: (t) => log('WARN', t),
    error: (t) => log('ERROR', t),
    /** The last lines logged (formatted, scrubbed), oldest first. */
    recent: () => recent.slice(),
    scrub: (t) => secrets.scrub(t),
    /** Calls fn(level, line) for every line logged. */
    onLine: (fn) => listeners.push(fn),
  };
}

/** One-line text of an error for an admin: `<code>: <message>`, scrubbed. */
function errorText(err, secrets) {
  let text;
  if (err && typeof err === 'object') {
    const code = err.code ? String(err.code) : '';
    const msg = err.message !== undefined ? String(err.message) : String(err);
    text = code && msg.indexOf(code) !== 0 ? `${code}: ${msg}` : msg;
  } else {
    text = String(err);
  }
  return secrets ? secrets.scrub(text) : text;
}

module.exports = { createLogger, Secrets, errorText, REDACTED };
