'use strict';
// Fault injection. A fault spec says what goes wrong and when:
//   { type, endpoint?, request?, page?, probability?, seed?, times?, ...type options }
// See README.md "Faults" for the list of types and their options, and parseFaultSpec for the
// CLI string syntax.
const { stream, hash, seedFrom } = require('./prng');

const TYPES = {
  reset: { afterBytes: 2048 },
  truncate: { afterBytes: 2048 },
  http5xx: { status: 503, body: 'html' },
  generic_return: { status: 200 },
  expired: {},
  slow: { chunkBytes: 512, intervalMs: 25 },
  bad_utf8: { record: 1, bytes: [0xc3, 0x28, 0xff, 0xfe] },
  huge_record: { record: 1, bytes: 5 * 1024 * 1024 },
  delay: { ms: 0 },
  // Hostile servers and odd paging (issue #11); see README.md "Faults".
  drip: { bytes: 1, intervalMs: 2000 },
  status: { status: 101, close: false },
  hang: {},
  page_cycle: {},
  overlap: { hosts: 2 },
  ignore_window: {},
  empty_pages: { pages: 1 },
  id_range: { range: '0-18446744073709551615' },
  wait_header: { toWaitSec: 60 },
  forged_text: { status: 200, code: 999 },
  warnings_flood: { count: 1000, code: 1999, text: 'Simulated warning', numbered: false },
  big_text: { bytes: 1024 * 1024, status: 200, code: 999 },
  // Adaptive page size (issue #13): a page of N hosts takes N x msPerHost before its first byte;
  // a host (hostId, else the model's host at index) that never arrives.
  slow_page: { msPerHost: 1000 },
  stall_host: { index: 0 },
  // Compressed answers (issue #13): a small gzip stream that decodes to `bytes` (a bomb); a gzip
  // answer whose stream is damaged after `afterBytes` of the document (an invalid deflate block).
  gzip_bomb: { bytes: 1024 * 1024 * 1024 },
  gzip_corrupt: { afterBytes: 2048 },
};
/** The default TEXT of forged_text: a line break, then what a forged "done" log line looks like. */
const FORGED_TEXT = 'Temporary problem, please retry.\n2024-06-01T00:00:00.000Z :: INFO :: done: dataSource=detections records=999999 pages=1 requests=1 retries=0 waits=0 (0.0 s)';
const ENDPOINT_NAMES = ['kb', 'hosts', 'detections', '*'];
const NUMERIC = ['afterBytes', 'status', 'chunkBytes', 'intervalMs', 'record', 'probability', 'times', 'minMs', 'maxMs',
  'hosts', 'pages', 'toWaitSec', 'count', 'msPerHost', 'index', 'hostId'];
const BOOLEAN = ['close', 'numbered'];

/** "Upgrade: websocket|Connection: upgrade" (CLI) or {Upgrade: 'websocket'} -> [[name, value]]. */
function headerList(v) {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(([k, x]) => [String(k), String(x)]);
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => [k, String(x)]);
  return String(v).split('|').filter((x) => x.trim()).map((h) => {
    const i = h.indexOf(':');
    if (i <= 0) throw new Error(`fault option headers: want "Name: value|Name: value", got ${h}`);
    return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
  });
}

function wholeAtLeast(f, name, min) {
  if (!Number.isInteger(f[name]) || f[name] < min) throw new Error(`${f.type} ${name} must be a whole number >= ${min}, got ${f[name]}`);
}

function toNumberList(v, name) {
  if (v === undefined || v === null) return undefined;
  const arr = Array.isArray(v) ? v : String(v).split(/[|;]/);
  const out = arr.map((x) => Number(x));
  if (out.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`fault option ${name}: want positive integers, got ${v}`);
  return out;
}

/**
 * Validate and fill defaults of one fault spec (object form).
 * @returns {object} normalised spec (with `used` counter)
 */
function normaliseFault(spec, index = 0) {
  if (typeof spec === 'string') spec = parseFaultSpec(spec);
  if (!spec || typeof spec !== 'object') throw new Error('fault spec must be an object or a string');
  const type = spec.type;
  if (!(type in TYPES)) throw new Error(`unknown fault type "${type}" (known: ${Object.keys(TYPES).join(', ')})`);
  const f = { ...TYPES[type], ...spec };
  f.type = type;
  f.endpoint = f.endpoint || '*';
  if (!ENDPOINT_NAMES.includes(f.endpoint)) throw new Error(`fault endpoint must be one of ${ENDPOINT_NAMES.join(', ')}`);
  for (const k of NUMERIC) if (f[k] !== undefined) f[k] = Number(f[k]);
  for (const k of BOOLEAN) if (typeof f[k] === 'string') f[k] = f[k] === 'true' || f[k] === '1';
  if (f.request !== undefined) f.request = toNumberList(f.request, 'request');
  if (f.page !== undefined) f.page = toNumberList(f.page, 'page');
  if (f.probability !== undefined && !(f.probability >= 0 && f.probability <= 1)) throw new Error('fault probability must be in [0,1]');
  if (f.times !== undefined && !(f.times >= 0)) throw new Error('fault times must be >= 0');
  if (type === 'huge_record' && f.size !== undefined) f.bytes = Number(f.size);
  if (type === 'huge_record') f.bytes = Number(f.bytes);
  if (type === 'bad_utf8' && typeof f.bytes === 'string') {
    const hex = f.bytes.replace(/[^0-9a-f]/gi, '');
    f.bytes = hex.match(/../g).map((h) => parseInt(h, 16));
  }
  if (type === 'delay') {
    if (typeof f.ms === 'string' && /^\d+\s*-\s*\d+$/.test(f.ms)) {
      const [a, b] = f.ms.split('-').map(Number);
      f.minMs = a; f.maxMs = b; delete f.ms;
    } else if (Array.isArray(f.ms)) { f.minMs = Number(f.ms[0]); f.maxMs = Number(f.ms[1]); delete f.ms; } else f.ms = Number(f.ms);
  }
  if (type === 'http5xx' && !(f.status >= 500 && f.status <= 599)) throw new Error('http5xx status must be 5xx');
  if (type === 'drip' || type === 'big_text') {
    f.bytes = Number(f.bytes);
    wholeAtLeast(f, 'bytes', type === 'drip' ? 1 : 0);
  }
  if (type === 'drip') wholeAtLeast(f, 'intervalMs', 0);
  if (type === 'status') {
    wholeAtLeast(f, 'status', 100);
    if (f.status > 999) throw new Error('status must be 100-999');
    f.headers = headerList(f.headers);
  }
  if (type === 'overlap') wholeAtLeast(f, 'hosts', 1);
  if (type === 'empty_pages') wholeAtLeast(f, 'pages', 0);
  if (type === 'id_range') {
    f.range = String(f.range).trim();
    if (!/^\d+-\d+$/.test(f.range)) throw new Error(`id_range range must be "A-B" (digits), got ${f.range}`);
  }
  if (type === 'wait_header') wholeAtLeast(f, 'toWaitSec', 0);
  if (type === 'slow_page') wholeAtLeast(f, 'msPerHost', 0);
  if (type === 'stall_host') {
    wholeAtLeast(f, 'index', 0);
    if (f.hostId !== undefined) wholeAtLeast(f, 'hostId', 0);
  }
  if (type === 'gzip_bomb') {
    f.bytes = Number(f.bytes);
    wholeAtLeast(f, 'bytes', 0);
  }
  if (type === 'warnings_flood') wholeAtLeast(f, 'count', 0);
  if (type === 'forged_text' && f.text === undefined) f.text = FORGED_TEXT;
  if (type === 'forged_text' || type === 'warnings_flood' || type === 'big_text') f.code = String(f.code);
  f.seed = f.seed !== undefined ? seedFrom(f.seed) : hash(0x5eed, index);
  f.rng = stream(f.seed);
  f.used = 0;
  return f;
}

/**
 * Parse the CLI syntax: `type[:key=value[,key=value...]]`, lists with `|`:
 *   reset:endpoint=detections,page=2,afterBytes=10000,times=1
 *   delay:ms=100-500          http5xx:status=502,body=text,probability=0.1,seed=7
 *   bad_utf8:bytes=c328       huge_record:bytes=20000000,request=1|3
 */
function parseFaultSpec(s) {
  const str = String(s).trim();
  const colon = str.indexOf(':');
  const type = colon === -1 ? str : str.slice(0, colon);
  const spec = { type };
  if (colon !== -1) {
    for (const kv of str.slice(colon + 1).split(',')) {
      if (!kv.trim()) continue;
      const eq = kv.indexOf('=');
      if (eq === -1) throw new Error(`fault option "${kv}" is not key=value`);
      const k = kv.slice(0, eq).trim();
      const v = kv.slice(eq + 1).trim();
      spec[k] = v;
    }
  }
  return spec;
}

/** Public view of a spec (no PRNG state). */
function describeFault(f) {
  const { rng, ...rest } = f;
  return rest;
}

class Faults {
  /** @param {Array<object|string>} [specs] */
  constructor(specs = []) {
    /** @type {any[]} the normalised faults */
    this.list = [];
    this.set(specs);
  }

  set(specs) { this.list = []; for (const s of specs || []) this.add(s); }
  add(spec) { const f = normaliseFault(spec, this.list.length); this.list.push(f); return f; }
  clear() { this.list = []; }
  describe() { return this.list.map(describeFault); }

  /**
   * Faults for one request.
   * @param {{endpoint:string, requestNo:number, globalRequestNo:number, page:number}} r
   * @returns {{delay?: object, main?: object}}
   */
  select(r) {
    const out = {};
    for (const f of this.list) {
      const isDelay = f.type === 'delay';
      if (isDelay ? out.delay : out.main) continue;
      if (f.endpoint !== '*' && f.endpoint !== r.endpoint) continue;
      if (f.times !== undefined && f.used >= f.times) continue;
      const reqNo = f.endpoint === '*' ? r.globalRequestNo : r.requestNo;
      if (f.request && !f.request.includes(reqNo)) continue;
      if (f.page && !f.page.includes(r.page)) continue;
      if (f.probability !== undefined && !(f.rng.next() < f.probability)) continue;
      f.used++;
      if (isDelay) out.delay = f; else out.main = f;
    }
    return out;
  }
}

/** Milliseconds a delay fault waits for this request. */
function delayMs(f) {
  if (f.minMs !== undefined && f.maxMs !== undefined) return f.minMs + Math.floor(f.rng.next() * (f.maxMs - f.minMs + 1));
  return f.ms || 0;
}

module.exports = { Faults, normaliseFault, parseFaultSpec, describeFault, delayMs, FAULT_TYPES: Object.keys(TYPES), FORGED_TEXT };
