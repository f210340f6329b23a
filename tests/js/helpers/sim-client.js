'use strict';
// Minimal HTTP(S) client for talking to the Qualys simulator in tests (Node built-ins only).
const http = require('http');
const https = require('https');

/**
 * Send one request and collect the whole response.
 * @param {string} url absolute URL
 * @param {object} [o]
 * @param {'GET'|'POST'} [o.method]
 * @param {string|Buffer} [o.body]
 * @param {object} [o.headers] extra headers
 * @param {{user:string, pass:string}|null} [o.auth] default simuser/simpass; null = no Authorization
 * @param {boolean} [o.requestedWith=true] send X-Requested-With
 * @param {string} [o.ca] CA PEM for https
 * @param {number} [o.timeoutMs=30000]
 * @returns {Promise<{status:number, headers:object, body:Buffer, text:string, error:Error|null,
 *   firstByteMs:number|null, totalMs:number}>} error is set when the connection broke mid-body
 */
function request(url, o = {}) {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  const headers = { ...(o.headers || {}) };
  const auth = o.auth === undefined ? { user: 'simuser', pass: 'simpass' } : o.auth;
  if (auth) headers.authorization = 'Basic ' + Buffer.from(`${auth.user}:${auth.pass}`).toString('base64');
  if (o.requestedWith !== false) headers['x-requested-with'] = 'simulator-test';
  if (o.body !== undefined) {
    headers['content-type'] = headers['content-type'] || 'application/x-www-form-urlencoded';
    headers['content-length'] = Buffer.byteLength(o.body);
  }
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method: o.method || (o.body !== undefined ? 'POST' : 'GET'), headers, ca: o.ca, agent: false }, (res) => {
      const chunks = [];
      let firstByteMs = null;
      let done = false;
      const finish = (error) => {
        if (done) return;
        done = true;
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body, text: body.toString('utf8'), error,
          firstByteMs, totalMs: Date.now() - t0 });
      };
      res.on('data', (c) => { if (firstByteMs === null) firstByteMs = Date.now() - t0; chunks.push(c); });
      res.on('end', () => finish(res.complete ? null : new Error('incomplete response')));
      res.on('aborted', () => finish(new Error('aborted')));
      res.on('error', (e) => finish(e));
      res.on('close', () => finish(res.complete ? null : new Error('closed before end')));
    });
    req.setTimeout(o.timeoutMs || 30000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/** Stream a response without keeping it: returns {status, bytes, count of `needle`, error}. */
function countStream(url, needle, o = {}) {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  const headers = { authorization: 'Basic ' + Buffer.from('simuser:simpass').toString('base64'), 'x-requested-with': 'simulator-test' };
  return new Promise((resolve, reject) => {
    const req = lib.get(u, { headers, ca: o.ca, agent: false }, (res) => {
      let bytes = 0;
      let count = 0;
      let carry = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        bytes += Buffer.byteLength(c);
        const s = carry + c;
        let i = s.indexOf(needle);
        while (i !== -1) { count++; i = s.indexOf(needle, i + needle.length); }
        carry = s.slice(Math.max(0, s.length - needle.length + 1));
        if (o.onData) o.onData();
      });
      res.on('end', () => resolve({ status: res.statusCode, bytes, count, error: null }));
      res.on('aborted', () => resolve({ status: res.statusCode, bytes, count, error: new Error('aborted') }));
    });
    req.on('error', reject);
  });
}

/** Host IDs of a HOST_LIST page, in order. */
function hostIdsOf(xml) {
  return Array.from(xml.matchAll(/<HOST>\s*<ID>(\d+)<\/ID>/g), (m) => Number(m[1]));
}

/** [hostId, qid] pairs of a detection page, in order. */
function detectionPairsOf(xml) {
  const out = [];
  for (const seg of xml.split('<HOST>').slice(1)) {
    const id = Number(/<ID>(\d+)<\/ID>/.exec(seg)[1]);
    for (const m of seg.matchAll(/<DETECTION>[\s\S]*?<QID>(\d+)<\/QID>/g)) out.push([id, Number(m[1])]);
  }
  return out;
}

/** Text of the first element `tag` (CDATA unwrapped), or null. */
function tagText(xml, tag) {
  const m = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`).exec(xml);
  if (!m) return null;
  return m[1].replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1').trim();
}

/** All texts of element `tag`. */
function tagTexts(xml, tag) {
  return Array.from(xml.matchAll(new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}>`, 'g')),
    (m) => m[1].replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1').trim());
}

/** The WARNING 1980 next-page URL of a page, or null. */
function nextUrlOf(xml) {
  const m = /<WARNING>\s*<CODE>1980<\/CODE>[\s\S]*?<URL><!\[CDATA\[([\s\S]*?)\]\]><\/URL>/.exec(xml);
  return m ? m[1] : null;
}

/** Expand an ID_SET (ID and ID_RANGE) into numbers. */
function idSetOf(xml) {
  const out = [];
  for (const m of xml.matchAll(/<(ID|ID_RANGE)>(\d+)(?:-(\d+))?<\/\1>/g)) {
    const a = Number(m[2]);
    const b = m[3] !== undefined ? Number(m[3]) : a;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

module.exports = { request, countStream, hostIdsOf, detectionPairsOf, tagText, tagTexts, nextUrlOf, idSetOf };
