'use strict';
// Logging in RSA's format, `<ISO timestamp> :: <LEVEL> :: <text>`, with two last lines of defence
// (the core already keeps secrets out, escapes and caps server text and collapses repeated
// warnings; this layer holds whatever reaches it):
//
// Secrets. Every line (and every error text the shim hands to Archer) is cleaned of the password,
// the proxy password and the Authorization values, in every form they could take: raw; escaped as
// JSON (\" \\ \t \uXXXX) or as Rust Debug (\" \\ \t \n \u{..}); as XML/HTML references;
// percent-encoded (either hex case, + for a space, any mix of encoded and plain characters); and
// base64 (of the password and of user:password, exact and in all three alignments, standard and
// URL-safe alphabets). A secret shorter than MIN_SECRET (4, the core's MIN_SCRUB_CHARS) characters
// is not substring-scrubbed: it would rewrite every "0" or "ab" in the log, and the core never
// echoes secrets anyway (the base64 of user:password, which is long, still is).
//
// Lines. Every physical line printed starts with the prefix: a text with line breaks (CR, LF,
// CRLF) becomes several lines, the continuation lines indented by two spaces (so the core's
// multi-line CONFIG_INVALID stays readable and a forged "... :: INFO :: done: ..." after a line
// break is visibly part of the line before); other control characters (and Unicode line/paragraph
// separators, bidi overrides) are shown escaped (\t, \x1b, \u2028); each line is capped at
// MAX_LINE characters and one text at MAX_LINES lines, each with a note of how much was cut.
//
// Summary. A successful run logs the core's final Summary once more, after the core's "done: ..."
// line (prose, for people), as one machine-readable line: `<ISO> :: INFO :: summary {"dataSource":
// "kb","records":...}` (the core's camelCase Summary as JSON, scrubbed like every line). Tools read
// it with summaryFromLines(), never by parsing the prose; a forged copy inside a server text can
// only show up indented in a continuation line, which summaryFromLines() does not read.
//
// Recent lines. The logger keeps the most recent lines for the failure callback, whose argument
// (recent lines + the error text) failureLines() bounds to CALLBACK_MAX_BYTES (64 KiB) in total.

const REDACTED = '***';
const RECENT_DEFAULT = 40;
/** Secrets shorter than this are not substring-scrubbed (see above). */
const MIN_SECRET = 4; // = the core's secret::MIN_SCRUB_CHARS
/** Base64 fragments (misaligned forms) shorter than this are not scrubbed. */
const MIN_BASE64_FRAGMENT = 6;
/** Characters per physical log line (the prefix not counted). */
const MAX_LINE = 4000;
/** Physical lines one log text may become. */
const MAX_LINES = 100;
/** The failure callback's argument (recent lines + error text), in UTF-8 bytes. */
const CALLBACK_MAX_BYTES = 64 * 1024;
/** The error text in it. */
const ERROR_TEXT_MAX = 16 * 1024;

// ---- secrets ----------------------------------------------------------------------------------

/** @param {string} s */
const reEscape = (s) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/**
 * A hex number matching either case: 0x2f -> "2[fF]".
 * @param {number} n
 * @param {number} [width]
 */
function hexAnyCase(n, width = 0) {
  let h = n.toString(16);
  while (h.length < width) h = `0${h}`;
  return h.replace(/[a-f]/g, (c) => `[${c}${c.toUpperCase()}]`);
}

/**
 * The UTF-8 bytes of one code point.
 * @param {number} cp
 * @returns {number[]}
 */
function utf8Bytes(cp) {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

/** @type {Record<string, string>} */
const SHORT_ESCAPES = { '"': '"', '\\': '\\', '/': '/', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\0': '0', "'": "'", '\v': 'v' };
/** @type {Record<string, string>} */
const XML_NAMED = { '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' };

/**
 * Every way one character of a secret can be written in a text we might print.
 * @param {string} ch
 * @returns {string}
 */
function characterForms(ch) {
  const cp = /** @type {number} */ (ch.codePointAt(0));
  const alts = [reEscape(ch)];
  // Percent-encoded UTF-8 (either hex case); a space also as + (form encoding).
  alts.push(utf8Bytes(cp).map((b) => `%${hexAnyCase(b, 2)}`).join(''));
  if (ch === ' ') alts.push('\\+');
  // JSON / JavaScript / Rust short escapes (\" \\ \t \n ...).
  if (SHORT_ESCAPES[ch] !== undefined) alts.push(`\\\\${reEscape(SHORT_ESCAPES[ch])}`);
  // JSON \uXXXX (a surrogate pair above U+FFFF), JavaScript \xXX, Rust \u{X...}.
  if (cp > 0xffff) {
    const hi = 0xd800 + ((cp - 0x10000) >> 10);
    const lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    alts.push(`\\\\u${hexAnyCase(hi, 4)}\\\\u${hexAnyCase(lo, 4)}`);
  } else {
    alts.push(`\\\\u${hexAnyCase(cp, 4)}`);
  }
  if (cp < 0x100) alts.push(`\\\\x${hexAnyCase(cp, 2)}`);
  alts.push(`\\\\u\\{0*${hexAnyCase(cp)}\\}`);
  // XML / HTML character references.
  if (XML_NAMED[ch]) alts.push(`&${XML_NAMED[ch]};`);
  alts.push(`&#0*${cp};`, `&#[xX]0*${hexAnyCase(cp)};`);
  return `(?:${alts.join('|')})`;
}

/**
 * A pattern matching the secret in any of its text forms (see the module comment).
 * @param {string} secret
 */
function secretPattern(secret) {
  return new RegExp(Array.from(secret, characterForms).join(''), 'g');
}

/**
 * Base64 forms of some bytes: exact (with padding) and in the three alignments inside a longer stream.
 * @param {Buffer} bytes
 * @returns {string[]}
 */
function base64Forms(bytes) {
  if (typeof Buffer !== 'function' || !bytes.length) return [];
  const out = new Set([bytes.toString('base64'), bytes.toString('base64').replace(/=+$/, '')]);
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), bytes]);
    const enc = padded.toString('base64');
    // Characters fully determined by the secret's bytes: after the prefix's, within whole groups.
    const from = [0, 2, 3][k];
    const to = Math.floor(padded.length / 3) * 4;
    if (to - from >= MIN_BASE64_FRAGMENT) out.add(enc.slice(from, to));
  }
  for (const f of Array.from(out)) out.add(f.replace(/\+/g, '-').replace(/\//g, '_'));
  return Array.from(out).filter((f) => f.length >= MIN_BASE64_FRAGMENT || f === bytes.toString('base64'));
}

/** Values that must never be printed, in every form they could show up in. */
class Secrets {
  constructor() {
    /** @type {Set<string>} */
    this.seen = new Set();
    /** @type {Array<{length: number, re: RegExp}>} longest secret first */
    this.patterns = [];
    /** @type {string[]} exact strings (Authorization values, base64 forms), longest first */
    this.literals = [];
  }

  /**
   * Adds a secret (all its text forms). Ignores empty values and values shorter than MIN_SECRET characters.
   * @param {unknown} value
   * @returns {this}
   */
  add(value) {
    if (value === undefined || value === null) return this;
    const s = String(value);
    if (Array.from(s).length < MIN_SECRET || this.seen.has(s)) return this;
    this.seen.add(s);
    this.patterns.push({ length: s.length, re: secretPattern(s) });
    this.patterns.sort((a, b) => b.length - a.length);
    if (typeof Buffer === 'function') for (const f of base64Forms(Buffer.from(s, 'utf8'))) this.addLiteral(f);
    return this;
  }

  /**
   * Adds an exact string (not its other forms).
   * @param {unknown} value
   * @returns {this}
   */
  addLiteral(value) {
    const s = String(value);
    if (s.length < MIN_SECRET || this.literals.includes(s)) return this;
    this.literals.push(s);
    this.literals.sort((a, b) => b.length - a.length);
    return this;
  }

  /**
   * The password of a user: the password, and the base64 forms of `user:password` (Basic auth).
   * @param {unknown} user
   * @param {unknown} password
   * @returns {this}
   */
  addCredentials(user, password) {
    if (password === undefined || password === null || String(password) === '') return this;
    this.add(password);
    if (typeof Buffer === 'function') {
      const pair = Buffer.from(`${user === undefined || user === null ? '' : String(user)}:${String(password)}`, 'utf8');
      for (const f of base64Forms(pair)) this.addLiteral(f);
    }
    return this;
  }

  /**
   * An Authorization-style value: `Basic <token>` adds the whole value, the token and what it holds.
   * @param {unknown} value
   * @returns {this}
   */
  addAuthorization(value) {
    if (!value) return this;
    const s = String(value);
    this.addLiteral(s);
    const m = /^\s*\S+\s+(\S+)\s*$/.exec(s);
    if (m) {
      this.addLiteral(m[1]);
      if (typeof Buffer === 'function') {
        try {
          const decoded = Buffer.from(m[1], 'base64').toString('utf8');
          const i = decoded.indexOf(':');
          if (i >= 0 && i < decoded.length - 1) this.addCredentials(decoded.slice(0, i), decoded.slice(i + 1));
        } catch (e) { /* not base64 */ }
      }
    }
    return this;
  }

  /**
   * Secrets from Archer's Custom Parameters: `password` and the credentials inside `proxy`.
   * @param {any} params the Custom Parameters (any object; a throwing getter is ignored)
   * @returns {this}
   */
  addFromParams(params) {
    if (!params || typeof params !== 'object') return this;
    let password;
    let username;
    try {
      password = params.password;
      username = params.username;
    } catch (e) {
      return this;
    }
    if (password !== undefined && password !== null && String(password) !== '') this.addCredentials(username, password);
    const proxy = params.proxy;
    if (proxy) {
      const m = /^[^:/?#]*:\/\/([^@/?#]*)@/.exec(String(proxy).trim());
      if (m) {
        const userinfo = m[1];
        const i = userinfo.indexOf(':');
        if (i >= 0) {
          const pw = userinfo.slice(i + 1);
          const user = userinfo.slice(0, i);
          this.addCredentials(user, pw);
          try { this.addCredentials(decodeURIComponent(user), decodeURIComponent(pw)); } catch (e) { /* malformed escape */ }
        }
        this.add(userinfo);
      }
    }
    return this;
  }

  /**
   * The text with every secret replaced by ***.
   * @param {unknown} text
   * @returns {string}
   */
  scrub(text) {
    let s = String(text);
    for (const p of this.patterns) {
      p.re.lastIndex = 0;
      if (p.re.test(s)) {
        p.re.lastIndex = 0;
        s = s.replace(p.re, REDACTED);
      }
    }
    for (const v of this.literals) {
      if (s.indexOf(v) !== -1) s = s.split(v).join(REDACTED);
    }
    return s;
  }
}

// ---- lines ------------------------------------------------------------------------------------

// Control characters except the line breaks split on; DEL and C1; Unicode line and paragraph
// separators; bidi embeddings, overrides and isolates; BOM.
const CONTROL = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g; // eslint-disable-line no-control-regex
/** @type {Record<string, string>} */
const CONTROL_NAMES = { '\t': '\\t', '\0': '\\0', '\v': '\\v', '\f': '\\f', '\u001b': '\\x1b' };

/**
 * Shows control characters escaped.
 * @param {string} s
 * @returns {string}
 */
function escapeControls(s) {
  return s.replace(CONTROL, (c) => {
    if (CONTROL_NAMES[c]) return CONTROL_NAMES[c];
    const cp = c.charCodeAt(0);
    return cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

/**
 * s cut to n characters without splitting a surrogate pair.
 * @param {string} s
 * @param {number} n
 * @returns {string}
 */
function cutAt(s, n) {
  if (s.length <= n) return s;
  let end = n;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return s.slice(0, end);
}

/**
 * One physical line's text: escaped, capped at MAX_LINE characters, with a note of what was cut.
 * @param {string} raw the line, or its first MAX_LINE + 1 characters or more
 * @param {number} fullLength the line's whole length
 */
function capLine(raw, fullLength) {
  const part = cutAt(raw, MAX_LINE);
  let shown = escapeControls(part);
  let kept = part.length;
  if (shown.length > MAX_LINE) {
    // Escapes made it longer: keep whole characters (and whole escapes) up to MAX_LINE.
    let out = '';
    let i = 0;
    while (i < part.length) {
      const c = part.charCodeAt(i);
      const w = c >= 0xd800 && c <= 0xdbff && i + 1 < part.length ? 2 : 1;
      const e = escapeControls(part.slice(i, i + w));
      if (out.length + e.length > MAX_LINE) break;
      out += e;
      i += w;
    }
    shown = out;
    kept = i;
  }
  const cut = fullLength - kept;
  return cut > 0 ? `${shown} ... [${cut} more characters cut]` : shown;
}

const BREAK = /\r\n|\n|\r/g;

/**
 * The physical lines of a log text (no prefix): split on line breaks, continuation lines indented
 * by two spaces, control characters escaped, each line capped, at most MAX_LINES lines.
 * @param {unknown} text
 * @returns {string[]}
 */
function logLines(text) {
  const s = String(text);
  const out = [];
  let pos = 0;
  while (out.length < MAX_LINES) {
    BREAK.lastIndex = pos;
    const m = BREAK.exec(s);
    const end = m ? m.index : s.length;
    const line = capLine(s.slice(pos, Math.min(end, pos + MAX_LINE + 2)), end - pos);
    out.push(out.length ? `  ${line}` : line);
    if (!m) return out;
    pos = m.index + m[0].length;
  }
  if (pos < s.length) out.push(`  ... [${s.length - pos} more characters in further lines cut]`);
  return out;
}

/**
 * A log level as printed: the known ones, else INFO.
 * @param {unknown} level
 * @returns {LogLevel}
 */
function levelName(level) {
  const l = String(level || 'INFO').toUpperCase();
  return /** @type {LogLevel} */ (/^(DEBUG|INFO|WARN|WARNING|ERROR)$/.test(l) ? (l === 'WARNING' ? 'WARN' : l) : 'INFO');
}

/** @typedef {import('../../pkg-template/index').LogLevel} LogLevel */
/** @typedef {import('../../pkg-template/index').Logger} Logger */

/**
 * A logger. `print` receives each physical line (default console.log).
 * @param {{print?: (line: string) => void, secrets?: import('../../pkg-template/index').Secrets, clock?: () => Date,
 *          recent?: number, minLevel?: LogLevel}} [options]
 * @returns {Logger}
 */
function createLogger(options = {}) {
  const secrets = options.secrets || new Secrets();
  const print = options.print || ((line) => console.log(line)); // eslint-disable-line no-console
  const clock = options.clock || (() => new Date());
  const keep = options.recent || RECENT_DEFAULT;
  /** @type {Record<string, number>} */
  const order = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3 };
  const min = order[options.minLevel || 'INFO'];
  /** @type {string[]} */
  const recent = [];
  /** @type {Array<(level: LogLevel, line: string) => void>} */
  const listeners = [];

  /**
   * @param {string} level
   * @param {string} text
   * @returns {string}
   */
  function log(level, text) {
    const lvl = levelName(level);
    const prefix = `${clock().toISOString()} :: ${lvl} :: `;
    // Scrub the whole text (a secret cut in two by a line cap would survive), then again each
    // shown line (escaping could have made one of its forms).
    const lines = logLines(secrets.scrub(text)).map((l) => prefix + secrets.scrub(l));
    for (const line of lines) {
      recent.push(line);
      if (recent.length > keep) recent.shift();
      for (const l of listeners) l(lvl, line);
      if (order[lvl] >= min) print(line);
    }
    return lines.join('\n');
  }

  return {
    secrets,
    log,
    debug: (/** @type {string} */ t) => log('DEBUG', t),
    info: (/** @type {string} */ t) => log('INFO', t),
    warn: (/** @type {string} */ t) => log('WARN', t),
    error: (/** @type {string} */ t) => log('ERROR', t),
    /** The last physical lines logged (formatted, scrubbed), oldest first. */
    recent: () => recent.slice(),
    scrub: (/** @type {string} */ t) => secrets.scrub(t),
    /** Calls fn(level, line) for every physical line logged. */
    onLine: (/** @type {(level: LogLevel, line: string) => void} */ fn) => listeners.push(fn),
  };
}

/**
 * UTF-8 length of a string.
 * @param {string} s
 */
function byteLength(s) {
  return typeof Buffer === 'function' ? Buffer.byteLength(s, 'utf8') : s.length * 3;
}

/**
 * One text of an error for an admin: `<code>: <message>`, scrubbed, control characters other than
 * line breaks escaped, at most ERROR_TEXT_MAX characters.
 * @param {any} err
 * @param {{scrub(text: unknown): string}} [secrets]
 * @returns {string}
 */
function errorText(err, secrets) {
  let text;
  try {
    if (err && typeof err === 'object') {
      const code = err.code ? String(err.code) : '';
      const msg = err.message !== undefined ? String(err.message) : String(err);
      text = code && msg.indexOf(code) !== 0 ? `${code}: ${msg}` : msg;
    } else {
      text = String(err);
    }
  } catch (e) {
    text = 'an error that cannot be shown';
  }
  if (secrets) text = secrets.scrub(text);
  const cut = cutAt(text, ERROR_TEXT_MAX);
  let shown = cut.split(/\r\n|\r|\n/).map(escapeControls).join('\n');
  if (cut.length < text.length) shown += ` ... [${text.length - cut.length} more characters cut]`;
  return secrets ? secrets.scrub(shown) : shown;
}

/**
 * The failure callback's argument: the most recent lines that fit, oldest first, then the error
 * text; CALLBACK_MAX_BYTES in total at most.
 * @param {string[]} recentLines
 * @param {string} text
 * @returns {string[]}
 */
function failureLines(recentLines, text) {
  let budget = CALLBACK_MAX_BYTES - byteLength(text);
  const kept = [];
  for (let i = recentLines.length - 1; i >= 0; i--) {
    const n = byteLength(recentLines[i]);
    if (n > budget) break;
    budget -= n;
    kept.unshift(recentLines[i]);
  }
  return kept.concat([text]);
}

// ---- the summary line -------------------------------------------------------------------------

const SUMMARY_TAG = 'summary ';
const SUMMARY_LINE = /^\S+ :: INFO :: summary (\{.*\})$/;

/**
 * The text of the summary line (see the module comment).
 * @param {object} summary the core's Summary
 * @returns {string}
 */
function summaryText(summary) {
  return SUMMARY_TAG + JSON.stringify(summary);
}

/**
 * The core's Summary from printed log lines: the last summary line's JSON, or null when there is
 * none (a failed run logs none).
 * @param {string[]} lines physical log lines as printed
 * @returns {object|null}
 */
function summaryFromLines(lines) {
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = SUMMARY_LINE.exec(lines[i]);
    if (!m) continue;
    try {
      return JSON.parse(m[1]);
    } catch (e) {
      continue; // cut by the line cap: not a summary
    }
  }
  return null;
}

module.exports = {
  createLogger, Secrets, errorText, failureLines, logLines, escapeControls, summaryText, summaryFromLines, REDACTED,
  MIN_SECRET, MAX_LINE, MAX_LINES, CALLBACK_MAX_BYTES,
};
