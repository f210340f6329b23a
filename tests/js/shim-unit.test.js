'use strict';
// The shim's small parts on their own: the embedded-wasm inflater, the text codec for bare
// sandboxes, the secret scrubber, error mapping, the exchange guard, how each adapter maps the
// transport settings to its client's options (socketLimit, timeout, TLS, proxy), the adapter pick
// order, the run loop's handling of a failing writer, and transform().

const test = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('zlib');
const fs = require('fs');
const path = require('path');
const { SHIM, lib, sim, paramsFor, fetchWhole, API, run } = require('./helpers/shim-util');
const { codes } = lib;

const src = (p) => require(path.join(SHIM, 'src', p));
const { inflateRaw } = src('inflate.js');
const { BufferTextDecoder, BufferTextEncoder } = src('text-codec.js');
const { Secrets, errorText, createLogger } = src('log.js');
const { transportFailure, shimError } = src('errors.js');
const { guardSink } = src('http/exchange.js');
const { createNodeAdapter } = src('http/node-adapter.js');
const { createRequestAdapter } = src('http/request-adapter.js');
const { createFetchAdapter } = src('http/fetch-adapter.js');
const { createHttp, availableHttp } = src('http/index.js');

const TRANSPORT = { socketLimit: 7, requestTimeoutMs: 12000, verifyCerts: true, caCert: null, proxy: null, rootNode: 'R', dataSource: 'kb' };

test('inflateRaw decodes what zlib deflates (stored, fixed and dynamic blocks) and rejects garbage', () => {
  const wasm = fs.readFileSync(path.join(SHIM, '..', 'target', 'wasm-pkg', 'nodejs', 'qualys_vm_transporter_bg.wasm'));
  const text = Buffer.from('Qualys '.repeat(5000) + 'detections');
  const random = Buffer.alloc(70000);
  for (let i = 0; i < random.length; i++) random[i] = (i * 2654435761 >>> 13) & 0xff;
  for (const input of [Buffer.alloc(0), Buffer.from('a'), text, random, wasm]) {
    for (const opts of [{ level: 0 }, { level: 1 }, { level: 9 }, { level: 9, strategy: zlib.constants.Z_FIXED }, { level: 6, strategy: zlib.constants.Z_HUFFMAN_ONLY }]) {
      const out = inflateRaw(zlib.deflateRawSync(input, opts), input.length);
      assert.ok(Buffer.from(out).equals(input), `${input.length} bytes, ${JSON.stringify(opts)}`);
    }
  }
  assert.ok(Buffer.from(inflateRaw(zlib.deflateRawSync(text), 10)).equals(text), 'grows past a small size hint');
  assert.throws(() => inflateRaw(Buffer.from([0xff, 0xff, 0xff])), /inflate: /);
  assert.throws(() => inflateRaw(zlib.deflateRawSync(text).subarray(0, 20)), /inflate: unexpected end of data/);
});

test('the Buffer-based text codec matches TextDecoder/TextEncoder for the glue', () => {
  const s = 'Détections \u{1F512} ok \uFEFF';
  const enc = new BufferTextEncoder().encode(s);
  assert.ok(enc instanceof Uint8Array);
  assert.deepEqual(Array.from(enc), Array.from(new TextEncoder().encode(s)));
  const d = new BufferTextDecoder();
  assert.equal(d.decode(), '');
  assert.equal(d.decode(enc.subarray(0, enc.length)), new TextDecoder('utf-8', { ignoreBOM: true }).decode(enc));
  const bad = new Uint8Array([0x61, 0xc3, 0x28, 0xff]);
  assert.equal(d.decode(bad), new TextDecoder('utf-8', { ignoreBOM: true }).decode(bad));
});

test('Secrets: password, proxy password (plain and URL-encoded), Authorization values', () => {
  const sec = new Secrets().addFromParams({ password: 'p@ss w0rd!', proxy: 'http://svc:pr%23xy@proxy.example:8080' });
  sec.addAuthorization('Basic ' + Buffer.from('acme:p@ss w0rd!').toString('base64'));
  const text = `a p@ss w0rd! b ${encodeURIComponent('p@ss w0rd!')} c pr%23xy d pr#xy e ${Buffer.from('acme:p@ss w0rd!').toString('base64')} f svc:pr%23xy`;
  const out = sec.scrub(text);
  for (const v of ['p@ss w0rd!', 'pr%23xy', 'pr#xy', encodeURIComponent('p@ss w0rd!'), Buffer.from('acme:p@ss w0rd!').toString('base64')]) assert.ok(!out.includes(v), `${v} in ${out}`);
  assert.equal(new Secrets().add('').add(null).add(undefined).scrub('x'), 'x');
  const lines = [];
  const log = createLogger({ print: (l) => lines.push(l), recent: 2, clock: () => new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) });
  log.info('one');
  log.warn('two');
  log.debug('three (not printed at INFO)');
  assert.deepEqual(lines, ['2024-01-02T03:04:05.006Z :: INFO :: one', '2024-01-02T03:04:05.006Z :: WARN :: two']);
  assert.deepEqual(log.recent(), ['2024-01-02T03:04:05.006Z :: WARN :: two', '2024-01-02T03:04:05.006Z :: DEBUG :: three (not printed at INFO)']);
  assert.equal(errorText(shimError('X_Y', 'caller', 'bad thing')), 'X_Y: bad thing');
  assert.equal(errorText('plain'), 'plain');
});

test('transportFailure finds the platform code (fetch wraps it in cause)', () => {
  const e = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  assert.deepEqual(transportFailure(e), { code: 'ECONNRESET', message: 'read ECONNRESET' });
  const fetchErr = new TypeError('fetch failed', { cause: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }) });
  assert.deepEqual(transportFailure(fetchErr), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'fetch failed: self-signed certificate' });
  assert.equal(transportFailure(new Error('certificate has expired')).code, 'ERR_TLS_CERT');
  assert.equal(transportFailure(new Error('other')).code, 'ETRANSPORT');
  assert.equal(transportFailure('x').code, 'ETRANSPORT');
});

test('guardSink: one head, no body after the end, exactly one of end/error', () => {
  const calls = [];
  let done = 0;
  const g = guardSink({ head: (st) => calls.push(['head', st]), body: () => { calls.push(['body']); return true; }, end: () => calls.push(['end']), error: (c) => calls.push(['error', c]) }, () => done++);
  assert.equal(g.body(new Uint8Array(1)), false, 'no body before the head');
  g.head(200, []);
  g.head(500, []);
  assert.equal(g.body(new Uint8Array(1)), true);
  g.end();
  g.error('ECONNRESET', 'late');
  g.end();
  assert.equal(g.body(new Uint8Array(1)), false);
  assert.deepEqual(calls, [['head', 200], ['body'], ['end']]);
  assert.equal(done, 1);
});

test('node adapter: keep-alive agents with maxSockets = socketLimit, TLS options per request, CA added to the roots', () => {
  const made = [];
  const requests = [];
  class Agent { constructor(o) { this.options = o; made.push(this); } destroy() {} }
  const fakeReq = () => ({ setTimeout() {}, on() { return this; }, end() {}, destroy() {} });
  const http = { Agent, request: (o) => { requests.push(o); return fakeReq(); } };
  const https = { Agent, request: (o) => { requests.push(o); return fakeReq(); } };
  const tls = { rootCertificates: ['ROOT1', 'ROOT2'] };
  const a = createNodeAdapter(Object.assign({}, TRANSPORT, { caCert: 'MYCA', verifyCerts: false }), { http, https, tls, url: { URL } });
  assert.equal(made.length, 2);
  for (const ag of made) {
    assert.equal(ag.options.keepAlive, true);
    assert.equal(ag.options.maxSockets, 7);
  }
  assert.deepEqual(made[1].options.ca, ['ROOT1', 'ROOT2', 'MYCA']);
  assert.equal(made[1].options.rejectUnauthorized, false);
  a.send({ method: 'GET', url: 'https://q.example:8443/api/2.0/fo/x/?a=1', headers: [['Authorization', 'Basic x'], ['X-Requested-With', 'y']] }, { head() {}, body() { return true; }, end() {}, error() {} });
  assert.equal(requests[0].hostname, 'q.example');
  assert.equal(requests[0].port, 8443);
  assert.equal(requests[0].path, '/api/2.0/fo/x/?a=1');
  assert.equal(requests[0].rejectUnauthorized, false, 'per request, not process-wide');
  assert.deepEqual(requests[0].ca, ['ROOT1', 'ROOT2', 'MYCA']);
  assert.equal(requests[0].agent, made[1]);
  assert.deepEqual(requests[0].headers, { Authorization: 'Basic x', 'X-Requested-With': 'y' });
  assert.match(a.describe, /maxSockets=7/);
  assert.equal(process.env.NODE_TLS_REJECT_UNAUTHORIZED, undefined);
});

test('request adapter: pool.maxSockets, timeout, strictSSL/agentOptions, proxy + Proxy-Authorization, no redirects', () => {
  const seen = [];
  const fake = (o) => { seen.push(o); return { on() { return this; }, abort() {} }; };
  const a = createRequestAdapter(Object.assign({}, TRANSPORT, { verifyCerts: false, caCert: 'MYCA', proxy: { url: 'http://proxy:3128/', authorization: 'Basic cHg=' } }), fake, { tls: { rootCertificates: ['R'] } });
  a.send({ method: 'GET', url: 'https://q.example/x', headers: [['Authorization', 'Basic y']] }, { head() {}, body() { return true; }, end() {}, error() {} });
  const o = seen[0];
  assert.equal(o.pool.maxSockets, 7);
  assert.equal(o.timeout, 12000);
  assert.equal(o.strictSSL, false);
  assert.equal(o.agentOptions.rejectUnauthorized, false);
  assert.equal(o.agentOptions.keepAlive, true);
  assert.deepEqual(o.ca, ['R', 'MYCA']);
  assert.equal(o.proxy, 'http://proxy:3128/');
  assert.equal(o.headers['Proxy-Authorization'], 'Basic cHg=');
  assert.equal(o.followRedirect, false);
  assert.equal(o.encoding, null);
  const b = createRequestAdapter(TRANSPORT, fake, {});
  b.send({ method: 'GET', url: 'https://q.example/x', headers: [] }, { head() {}, body() { return true; }, end() {}, error() {} });
  assert.equal(seen[1].proxy, false, 'no proxy from the environment');
  assert.equal(seen[1].strictSSL, true);
});

test('fetch adapter refuses what it cannot honour; the pick order is node, request, fetch', () => {
  assert.throws(() => createFetchAdapter(Object.assign({}, TRANSPORT, { caCert: 'X' }), fetch), (e) => e.code === codes.HTTP_OPTION_UNSUPPORTED && e.blame === 'configuration' && /caCert/.test(e.message));
  assert.ok(createFetchAdapter(TRANSPORT, fetch).describe.includes('global fetch'));
  const only = (names) => (n) => { if (!names.includes(n)) throw new Error('no'); return require(n); };
  assert.equal(createHttp(TRANSPORT, { require: only(['http', 'https', 'url', 'tls', 'request']), global: globalThis }).name, 'node');
  assert.equal(createHttp(TRANSPORT, { require: only(['request']), global: globalThis }).name, 'request');
  assert.equal(createHttp(TRANSPORT, { require: only([]), global: { fetch } }).name, 'fetch');
  assert.throws(() => createHttp(TRANSPORT, { require: only([]), global: {} }), (e) => e.code === codes.NO_HTTP_CLIENT);
  assert.throws(() => createHttp(TRANSPORT, { prefer: 'curl' }), (e) => e.code === codes.BAD_ARGUMENT);
  assert.deepEqual(availableHttp(), ['node', 'request', 'fetch']);
  assert.deepEqual(availableHttp({ require: only([]), global: { fetch } }), ['fetch']);
});

test('runFeed: a writer that throws fails the run (OUTPUT_WRITE_FAILED), never a success', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  t.after(() => s.close());
  const r = await run({ params: paramsFor(s.url, 'hosts', { batchSize: '10' }), writer: { items: [], writeItem: () => { throw new Error('disk full'); } } });
  assert.equal(r.ok, false);
  assert.equal(r.error.code, codes.OUTPUT_WRITE_FAILED);
  assert.match(r.error.message, /disk full/);
  assert.ok(r.logs.some((l) => /^ERROR :: OUTPUT_WRITE_FAILED/.test(l)));
  // A custom adapter that misbehaves (events after the end) cannot break the loop.
  const page = (await fetchWhole(`${s.url}${API.kb.replace('<LastRunTime>', '2000-01-01')}`)).body;
  const sloppy = {
    name: 'sloppy',
    send: async (req, sink) => {
      sink.head(200, [['Content-Type', 'text/xml']]);
      sink.body(page);
      sink.end();
    },
  };
  const ok = await run({ params: paramsFor(s.url, 'kb'), http: sloppy });
  assert.equal(ok.ok, true, ok.error && ok.error.message);
  assert.equal(ok.summary.records, 30);
  // runFeed without a writer is a caller error.
  await assert.rejects(lib.runFeed({ params: paramsFor(s.url, 'kb') }), (e) => e.code === codes.BAD_ARGUMENT);
});

test('transform(): whole, byte by byte, from a stream; the same output as a feed run', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 6 });
  t.after(() => s.close());
  const body = (await fetchWhole(`${s.url}${API.detections.replace('<LastRunTime>', '2000-01-01')}&truncation_limit=1000`)).body;
  const whole = await lib.transform('detections', body);
  assert.ok(whole.records > 0);
  assert.equal(whole.rootNode, 'QUALYS_DETECTIONS');
  const bytes = [];
  for (let i = 0; i < body.length; i += 97) bytes.push(body.subarray(i, i + 97));
  const chunked = await lib.transform('detections', bytes);
  assert.equal(chunked.output, whole.output);
  const { Readable } = require('stream');
  const parts = [];
  const streamed = await lib.transform('detections', Readable.from(bytes), { write: (c) => parts.push(c) });
  assert.equal(streamed.output, undefined);
  assert.equal(parts.join(''), whole.output);
  const fed = await run({ params: paramsFor(s.url, 'detections', { batchSize: '1000' }) });
  assert.equal(fed.text, whole.output, 'offline transform == feed output');
  await assert.rejects(lib.transform('vulns', body), (e) => e.code === codes.CONFIG_INVALID);
  await assert.rejects(lib.transform('kb', 42), (e) => e.code === codes.BAD_ARGUMENT);
});

test('output chunks: takeOutputChunk bytes decode to exactly takeOutput, ASCII flagged, non-ASCII names kept', async () => {
  const core = require(path.join(SHIM, 'src', 'core'));
  const { takeOutputText } = src('output-text');
  // Two KB records: one with a non-ASCII element name (its chunk is UTF-8), one with only
  // non-ASCII text (escaped to ASCII references); one record per chunk.
  const doc = Buffer.from('<KNOWLEDGE_BASE_VULN_LIST_OUTPUT><RESPONSE><VULN_LIST>' +
    '<VULN><QID>1</QID><TITRE_FRAN\u00c7AIS>caf\u00e9</TITRE_FRAN\u00c7AIS></VULN>' +
    '<VULN><QID>2</QID><TITLE>caf\u00e9 \u2013 &amp; &lt;x&gt;</TITLE></VULN>' +
    '</VULN_LIST></RESPONSE></KNOWLEDGE_BASE_VULN_LIST_OUTPUT>', 'utf8');
  const strings = new core.Transformer('kb', 1);
  strings.push(doc);
  strings.finish();
  const viaString = [];
  let s;
  while ((s = strings.takeOutput()) !== undefined) viaString.push(s);
  const chunks = new core.Transformer('kb', 1);
  chunks.push(doc);
  chunks.finish();
  const first = chunks.takeOutputChunk();
  assert.equal(first.ascii, false);
  assert.equal(first.records, 1);
  assert.equal(Buffer.from(first.bytes).toString('utf8'), viaString[0]);
  const second = chunks.takeOutputChunk();
  assert.equal(second.ascii, true);
  assert.equal(Buffer.from(second.bytes).toString('latin1'), viaString[1]);
  assert.equal(chunks.takeOutputChunk(), undefined);
  assert.deepEqual(viaString, [
    '<VULN><ARCHER_VULN_LINK>1</ARCHER_VULN_LINK><QID>1</QID><TITRE_FRAN\u00c7AIS>caf&#233;</TITRE_FRAN\u00c7AIS></VULN>',
    '<VULN><ARCHER_VULN_LINK>2</ARCHER_VULN_LINK><QID>2</QID><TITLE>caf&#233; &#8211; &amp; &lt;x&gt;</TITLE></VULN>',
  ]);
  // The shim's decoder gives the same strings, with and without Buffer (a browser).
  const again = new core.Transformer('kb', 1);
  again.push(doc);
  again.finish();
  assert.equal(takeOutputText(again), viaString[0]);
  const savedBuffer = global.Buffer;
  try {
    global.Buffer = undefined;
    assert.equal(takeOutputText(again), viaString[1]);
  } finally {
    global.Buffer = savedBuffer;
  }
  for (const t of [strings, chunks, again]) t.free();
});
