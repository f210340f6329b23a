'use strict';
// Compressed answers through each HTTP adapter (issue #13 point 5): gzip is asked for only by a
// client that decodes it (fetch, request; Node's https when zlib can be loaded), decoded as it
// streams in, the core sees plain bytes (the same output as uncompressed), the log says once
// whether Qualys compressed, the summary says which side each byte count measures, and a
// decompression bomb, a damaged stream or an encoding nobody asked for end clearly.

const test = require('node:test');
const assert = require('node:assert/strict');
const zlib = require('zlib');
const { sim, paramsFor, run, scriptedServer, fetchWhole, detectionKeys, recordKeys, collector, API, lib } = require('./helpers/shim-util');
const { codes } = lib;

const ADAPTERS = ['node', 'request', 'fetch'];
/** A host whose `require` has no zlib (a sandbox refusing it): the node adapter must not ask. */
const NO_ZLIB = { require: (name) => (name === 'zlib' ? null : require(name)) };

test('every client asks for gzip when it can decode it: the same records, said once, bytes on both sides', async (t) => {
  const s = await sim({ gzip: true, rateLimit: 'off', concurrency: 'off', hosts: 40, detectionsPerHost: 4 });
  t.after(() => s.close());
  const params = paramsFor(s.url, 'detections', { batchSize: '9', retryDelaySec: '0' });
  const plain = await run({ params, http: 'node', host: NO_ZLIB });
  assert.equal(plain.ok, true, plain.error && plain.error.message);
  assert.ok(s.log.entries.every((e) => e.encoding === null), 'without zlib the node client does not ask');
  assert.ok(plain.logs.some((l) => /HTTP client: Node .*gzip not asked for \(zlib is not available to the script\)/.test(l)), plain.logs.join('\n'));
  assert.equal(plain.logs.filter((l) => /Qualys answered uncompressed/.test(l)).length, 1);
  assert.equal(plain.summary.bytesWire, plain.summary.bytesIn, 'uncompressed: both sides the same');
  for (const http of ADAPTERS) {
    s.log.clear();
    const r = await run({ params, http });
    assert.equal(r.ok, true, `${http}: ${r.error && r.error.message}`);
    assert.equal(r.text, plain.text, `${http}: the same records in the same order`);
    assert.deepEqual(detectionKeys(r.text), detectionKeys(plain.text));
    const entries = s.log.entries.filter((e) => e.endpoint === 'detections');
    assert.ok(entries.length >= 5 && entries.every((e) => e.encoding === 'gzip' && e.wireBytes < e.bytes), `${http}: asked for gzip, got it compressed`);
    assert.equal(r.logs.filter((l) => /Qualys answered compressed \(Content-Encoding: gzip\)/.test(l)).length, 1, `${http}: said once`);
    assert.ok(r.logs.some((l) => new RegExp(`gzip asked for and decoded (by ${http}|with zlib)`).test(l)), `${http}: the start line says so`);
    assert.equal(r.summary.bytesIn, plain.summary.bytesIn, `${http}: bytesIn counts decoded bytes`);
    const wire = entries.reduce((n, e) => n + e.wireBytes, 0);
    const done = r.logs.find((l) => /^INFO :: done: dataSource=/.test(l));
    if (http === 'fetch') {
      // fetch decodes inside; the simulator streams without Content-Length: the size is unknown.
      assert.equal(r.summary.bytesWire, null, `${http}`);
      assert.match(done, /MB decoded \(wire size unknown/);
    } else {
      assert.equal(r.summary.bytesWire, wire, `${http}: bytesWire counts what came over the wire`);
      assert.match(done, /MB decoded \([\d.]+ MB on the wire\)/);
    }
  }
});

test('records are decoded and written as the compressed body streams in, never a whole page at once', async (t) => {
  const s = await sim({ hosts: 12 });
  t.after(() => s.close());
  const whole = (await fetchWhole(`${s.url}${API.hosts.replace('<LastRunTime>', '2000-01-01')}&truncation_limit=1000`)).body.toString('utf8');
  const cut = whole.indexOf('<HOST>', whole.indexOf('<HOST>', whole.indexOf('<HOST>') + 1) + 1);
  for (const http of ADAPTERS) {
    let release;
    const held = new Promise((r) => { release = r; });
    const srv = await scriptedServer(async (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Encoding': 'gzip' });
      const gz = zlib.createGzip();
      gz.pipe(res);
      gz.write(whole.slice(0, cut));
      gz.flush();
      await held;
      gz.end(whole.slice(cut));
    });
    const writer = collector();
    const runP = run({ params: paramsFor(srv.url, 'hosts', { outputChunkRecords: '1' }), http, writer });
    for (let i = 0; i < 100 && writer.items.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const early = writer.items.length;
    release();
    const r = await runP;
    await srv.close();
    assert.ok(early >= 2, `${http}: the first records were written before the body ended (${early})`);
    assert.equal(r.ok, true, `${http}: ${r.error && r.error.message}`);
    assert.equal(r.summary.records, 12, http);
    assert.match(srv.requests[0].headers['accept-encoding'], /^gzip\b/, `${http}: asked for gzip`);
  }
});

test('a decompression bomb ends the run with DECOMPRESSED_TOO_LARGE at once, in every client', async (t) => {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  t.after(() => s.close());
  for (const http of ADAPTERS) {
    s.control.setFaults([{ type: 'gzip_bomb', bytes: 1024 * 1024 * 1024, endpoint: 'hosts' }]);
    const t0 = Date.now();
    const r = await run({ params: paramsFor(s.url, 'hosts', { maxRetry: '2', retryDelaySec: '0' }), http });
    assert.equal(r.ok, false, http);
    assert.equal(r.error.code, codes.DECOMPRESSED_TOO_LARGE, `${http}: ${r.error.message}`);
    assert.equal(r.error.blame, 'server');
    assert.equal(r.error.retryable, false);
    assert.match(r.error.message, /decoded to more than 100 times its compressed size/, http);
    assert.equal(s.control.faults()[0].used, 1, `${http}: not retried`);
    assert.ok(Date.now() - t0 < 10000, `${http}: stopped early (${Date.now() - t0} ms)`);
  }
  // Without a Content-Length, fetch cannot know the compressed size: the absolute cap (4 GiB)
  // bounds it; the node and request clients still see the ratio.
  const srv = await scriptedServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Encoding': 'gzip' });
    const gz = zlib.createGzip({ level: 9 });
    gz.pipe(res);
    gz.write('<?xml version="1.0" encoding="UTF-8" ?>\n<HOST_LIST_OUTPUT><RESPONSE><DATETIME>2024-06-01T00:00:00Z</DATETIME>');
    let left = 64;
    const more = () => {
      if (res.destroyed || left-- <= 0) { gz.end(); return; }
      if (gz.write(Buffer.alloc(1024 * 1024, 0x20))) setImmediate(more); else gz.once('drain', more);
    };
    more();
    res.on('close', () => gz.destroy());
  });
  t.after(() => srv.close());
  for (const http of ['node', 'request']) {
    const r = await run({ params: paramsFor(srv.url, 'hosts', { maxRetry: '0' }), http });
    assert.equal(r.ok, false, http);
    assert.equal(r.error.code, codes.DECOMPRESSED_TOO_LARGE, `${http}: ${r.error.message}`);
  }
});

test('a damaged or cut gzip stream is retried; an encoding nobody asked for is a clear network error', async (t) => {
  const whole = Buffer.from((await (async () => {
    const s = await sim({ hosts: 8 });
    try { return (await fetchWhole(`${s.url}${API.hosts.replace('<LastRunTime>', '2000-01-01')}&truncation_limit=1000`)).body; } finally { await s.close(); }
  })()).toString('utf8'));
  const gz = zlib.gzipSync(whole);
  // The first 3 records compressed and flushed, then an invalid deflate block (0xff), the HTTP
  // body itself complete: every client's decoder fails on it.
  const cutAt = whole.indexOf('</HOST>', whole.indexOf('</HOST>', whole.indexOf('</HOST>') + 1) + 1) + 7;
  const g = zlib.createGzip();
  const flushed = [];
  g.on('data', (c) => flushed.push(c));
  g.write(whole.subarray(0, cutAt));
  await new Promise((r) => g.flush(r));
  const damaged = Buffer.concat([...flushed, Buffer.alloc(16, 0xff)]);
  for (const [kind, bad] of [['damaged', damaged], ['cut', gz.subarray(0, Math.floor(gz.length / 2))]]) {
    const srv = await scriptedServer((req, res, n) => {
      res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Encoding': 'gzip' });
      res.end(n % 2 === 1 ? bad : gz);
    });
    try {
      for (const http of ADAPTERS) {
        const label = `${kind} (${http})`;
        srv.requests.length = 0;
        const r = await run({ params: paramsFor(srv.url, 'hosts', { maxRetry: '1', retryDelaySec: '0' }), http });
        assert.equal(r.ok, true, `${label}: ${r.error && r.error.message}`);
        assert.equal(r.summary.records, 8, label);
        assert.deepEqual(recordKeys(r.text, 'ID'), recordKeys(whole.toString('utf8'), 'ID'), `${label}: each record once`);
        assert.equal(r.summary.retries, 1, `${label}: the damaged answer was fetched again`);
        const warn = r.logs.filter((l) => /WARN :: page 1 failed/.test(l)).join('\n');
        if (kind === 'damaged' || http === 'node') {
          // The decoder's own error, the same in every client.
          assert.match(warn, /page 1 failed \(NETWORK \(network problem\): a compressed answer arrived damaged .*EDECOMPRESS/, label);
        } else {
          // request and fetch decode a cut stream as far as it goes without an error (zlib's
          // Z_SYNC_FLUSH): the page is then cut short, which the core retries too.
          assert.match(warn, /page 1 failed \(TRUNCATED_PAGE/, label);
        }
      }
    } finally {
      await srv.close();
    }
  }
  // A server answering in an encoding the client did not ask for (or cannot decode).
  const odd = await scriptedServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Encoding': 'compress' });
    res.end('whatever');
  });
  t.after(() => odd.close());
  for (const [http, host] of [['node', undefined], ['request', undefined], ['fetch', undefined], ['node', NO_ZLIB]]) {
    const r = await run({ params: paramsFor(odd.url, 'hosts', { maxRetry: '0' }), http, host });
    assert.equal(r.ok, false, http);
    assert.equal(r.error.code, codes.NETWORK, `${http}: ${r.error.message}`);
    assert.match(r.error.message, /EBADENCODING: the server answered with Content-Encoding: "compress"/, http);
  }
});

test('the bomb caps leave real pages alone: a 100 MB page at 20x passes, past 100x + 1 MiB or 4 GiB it stops', () => {
  const { bombGuard, MAX_RATIO, RATIO_SLACK, MAX_DECODED } = require('../../js-shim/src/http/decode');
  const MB = 1024 * 1024;
  // Fed as a client sees it: compressed bytes first, then what they decode to, 64 KiB at a time.
  const feed = (guard, wire, decoded) => {
    const steps = Math.ceil(decoded / (64 * 1024));
    for (let i = 0; i < steps; i++) {
      guard.wire(wire / steps);
      const why = guard.decoded(Math.min(64 * 1024, decoded - i * 64 * 1024));
      if (why) return why;
    }
    return null;
  };
  assert.equal(feed(bombGuard('gzip', null), 5 * MB, 100 * MB), null, 'a 100 MB page at 20x');
  assert.equal(feed(bombGuard('gzip', null), MB, 99 * MB), null, '99x');
  assert.match(feed(bombGuard('gzip', null), MB, 102 * MB), /more than 100 times its compressed size/);
  // fetch knows the compressed size from a Content-Length up front.
  assert.equal(bombGuard('gzip', 5 * MB).decoded(100 * MB), null);
  assert.match(bombGuard('gzip', MB).decoded(MAX_RATIO * MB + RATIO_SLACK + 1), /100 times/);
  // Without any compressed size (fetch, no Content-Length), only the absolute cap.
  const blind = bombGuard('gzip', null);
  assert.equal(blind.decoded(MAX_DECODED), null);
  assert.match(blind.decoded(1), /more than 4096\.0 MB, more than any page may hold/);
});

test('a large compressed detection page (17x, as the simulator\'s and Qualys\'s XML compress) passes in every client', { timeout: 120000 }, async (t) => {
  const s = await sim({ gzip: true, rateLimit: 'off', concurrency: 'off', hosts: 800, detectionsPerHost: 10 });
  t.after(() => s.close());
  for (const http of ADAPTERS) {
    s.log.clear();
    const r = await run({ params: paramsFor(s.url, 'detections', { batchSize: '800', retryDelaySec: '0' }), http });
    assert.equal(r.ok, true, `${http}: ${r.error && r.error.message}`);
    const [page] = s.log.entries.filter((e) => e.endpoint === 'detections');
    assert.ok(page.encoding === 'gzip' && page.bytes > 5 * 1024 * 1024 && page.bytes / page.wireBytes > 10, `${http}: one large compressed page (${page.bytes} / ${page.wireBytes})`);
    assert.equal(r.summary.records, detectionKeys(r.text).length, http);
    assert.ok(r.summary.records >= 4000, `${http}: ${r.summary.records}`);
  }
});

test('an empty answer labelled gzip is read as empty, not as a damaged stream: a 401 stays a credentials error', async (t) => {
  const srv = await scriptedServer((req, res) => {
    res.writeHead(401, { 'Content-Type': 'text/html', 'Content-Encoding': 'gzip', 'Content-Length': '0' });
    res.end();
  });
  t.after(() => srv.close());
  for (const http of ADAPTERS) {
    const r = await run({ params: paramsFor(srv.url, 'hosts', { maxRetry: '2', retryDelaySec: '0' }), http });
    assert.equal(r.ok, false, http);
    assert.equal(r.error.code, codes.QUALYS_CREDENTIALS, `${http}: ${r.error.message}`);
    assert.equal(r.summary.retries, 0, `${http}: not retried`);
  }
});
