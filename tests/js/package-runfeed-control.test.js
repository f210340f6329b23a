'use strict';
// runFeed's backpressure and cancellation (issue #14 point 4), through the packed package as a user
// installs it (helpers/packed.js), against the Qualys simulator on 127.0.0.1:
//   - a writeItem that returns a Promise is awaited: one write at a time, and no new request starts
//     while a write is pending; the output is the same as with a synchronous writer
//   - a rejected write fails the run with OUTPUT_WRITE_FAILED and keeps the checkpoint of the writes
//     accepted before it: a resumed run fetches what is missing
//   - options.signal: aborting ends the request in flight at once (a 20 s server delay is cut
//     short), starts no new one, and rejects with ABORTED carrying the resume checkpoint; an
//     already aborted signal sends no request at all

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { sim, paramsFor, recordKeys } = require('./helpers/shim-util');
const { packedPackage } = require('./helpers/packed');

let s;
let pkg;
test.before(async () => {
  const p = await packedPackage();
  pkg = require(p.pkgDir);
  s = await sim({ hosts: 40, rateLimit: 'off', concurrency: 'off' });
});
test.after(async () => {
  if (s) await s.close();
});

const TOKENS = { LastRunTime: '2001-01-01T00:00:00Z', PreviousRunContext: '' };
const quiet = () => {};
const params = (extra = {}) => paramsFor(s.url, 'hosts', Object.assign({ batchSize: 10, outputChunkRecords: 3, maxRetry: 0 }, extra));
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** A full run with a synchronous writer: the reference output. */
async function reference() {
  s.control.reset();
  const items = [];
  await pkg.runFeed({ params: params(), tokens: TOKENS, writer: { writeItem: (c) => { items.push(c); } }, log: quiet });
  return items.join('');
}

test('runFeed awaits a Promise from writeItem: one write at a time, no new request while one is pending', { timeout: 60000 }, async () => {
  const want = await reference();
  s.control.reset();
  const items = [];
  let pending = 0;
  let maxPending = 0;
  let sends = 0;
  const sendsDuringWrite = [];
  const r = await pkg.runFeed({
    params: params(),
    tokens: TOKENS,
    log: quiet,
    writer: {
      writeItem: (c) => {
        pending++;
        maxPending = Math.max(maxPending, pending);
        return delay(15).then(() => { items.push(c); pending--; });
      },
    },
    onAction: (a) => {
      if (a.kind !== 'send') return;
      sends++;
      if (pending) sendsDuringWrite.push(`request ${sends} (page ${a.page}) started with ${pending} write(s) pending`);
    },
  });
  assert.equal(pending, 0, 'runFeed resolved only after every write settled');
  assert.equal(maxPending, 1, 'the next chunk is handed over only after the previous write settled');
  assert.deepEqual(sendsDuringWrite, [], 'no request starts while a write is pending');
  assert.ok(sends >= 4, `several pages (${sends} requests)`);
  assert.equal(items.join(''), want, 'the same output as with a synchronous writer, in order');
  assert.equal(r.summary.records, 40);
  assert.equal(r.previousRunContext, '');
});

test('a rejected writeItem Promise fails the run with OUTPUT_WRITE_FAILED; the checkpoint of the accepted writes is kept', { timeout: 60000 }, async () => {
  const all = recordKeys(await reference(), 'ID');
  assert.equal(all.length, 40);
  s.control.reset();
  const accepted = [];
  let calls = 0;
  const err = await pkg.runFeed({
    params: params(),
    tokens: TOKENS,
    log: quiet,
    writer: {
      writeItem: async (c) => {
        calls++;
        await delay(2);
        // Page 1 (10 hosts) is 4 chunks of at most 3 records; the 6th chunk is on page 2.
        if (calls === 6) throw new Error('disk full');
        accepted.push(c);
      },
    },
  }).then(() => null, (e) => e);
  assert.ok(err, 'the run failed');
  assert.equal(err.code, pkg.codes.OUTPUT_WRITE_FAILED, err.message);
  assert.equal(err.blame, 'configuration');
  assert.ok(err instanceof pkg.QualysTransporterError);
  assert.match(err.message, /disk full/);
  assert.equal(calls, 6, 'nothing is written after the failed write');
  assert.match(err.previousRunContext || '', /^qvt2;ds=hosts;/, 'the checkpoint of page 1 is kept');
  // The checkpoint resumes after what was accepted: the two runs together lose no record.
  s.control.reset();
  const resumed = [];
  await pkg.runFeed({ params: params(), tokens: { LastRunTime: TOKENS.LastRunTime, PreviousRunContext: err.previousRunContext }, log: quiet, writer: { writeItem: (c) => { resumed.push(c); } } });
  const got = new Set(recordKeys(accepted.join('') + resumed.join(''), 'ID'));
  assert.deepEqual(all.filter((id) => !got.has(id)), [], 'every record is in one of the two runs');
  assert.ok(recordKeys(resumed.join(''), 'ID').length < all.length, 'the resumed run did not start again from the beginning');
});

test('options.signal: aborting ends the request in flight, starts no new one, and rejects with ABORTED and the checkpoint', { timeout: 60000 }, async () => {
  s.control.reset();
  s.control.setFaults([{ type: 'delay', endpoint: 'hosts', page: 3, ms: 20000 }]);
  const ac = new AbortController();
  const sends = [];
  let abortedAt = 0;
  const t0 = Date.now();
  const err = await pkg.runFeed({
    params: params(),
    tokens: TOKENS,
    log: quiet,
    signal: ac.signal,
    writer: { writeItem: () => {} },
    onAction: (a) => {
      if (a.kind !== 'send') return;
      sends.push({ page: a.page, afterAbort: ac.signal.aborted });
      if (a.page === 3) setTimeout(() => { abortedAt = Date.now(); ac.abort('stopped by the test'); }, 300);
    },
  }).then(() => null, (e) => e);
  const ms = Date.now() - t0;
  assert.ok(err, 'the run was stopped');
  assert.equal(err.code, pkg.codes.ABORTED, err.message);
  assert.equal(err.blame, 'caller');
  assert.equal(err.retryable, false);
  assert.match(err.message, /stopped by the test/);
  assert.ok(abortedAt > 0 && Date.now() - abortedAt < 5000 && ms < 15000, `rejected soon after the abort (${ms} ms), not after the 20 s delay`);
  assert.deepEqual(sends.filter((x) => x.afterAbort), [], 'no request after the abort');
  assert.match(err.previousRunContext || '', /^qvt2;ds=hosts;/, 'the checkpoint after pages 1 and 2');
  assert.equal(err.summary && err.summary.pages, 2);
  // The server saw the delayed request end (the client closed it) long before its 20 s.
  const entry = s.log.entries.find((e) => e.endpoint === 'hosts' && e.page === 3);
  assert.ok(entry, 'page 3 was requested');
  for (let i = 0; i < 50 && entry.durationMs === null; i++) await delay(100);
  assert.ok(entry.durationMs !== null && entry.durationMs < 10000, `the request in flight was ended (${entry.durationMs} ms)`);
  assert.equal(entry.complete, false);
  s.control.reset();
});

test('options.signal already aborted: no request is sent; ABORTED with an empty checkpoint', { timeout: 30000 }, async () => {
  s.control.reset();
  const ac = new AbortController();
  ac.abort();
  const sends = [];
  const err = await pkg.runFeed({ params: params(), tokens: TOKENS, log: quiet, signal: ac.signal, writer: { writeItem: () => {} }, onAction: (a) => { if (a.kind === 'send') sends.push(a); } }).then(() => null, (e) => e);
  assert.ok(err);
  assert.equal(err.code, pkg.codes.ABORTED);
  assert.equal(err.previousRunContext, '');
  assert.equal(sends.length, 0);
  assert.equal(s.log.entries.length, 0, 'the server saw no request');
});

test('the package documents the Transformer call order and the new options', () => {
  const fs = require('fs');
  return packedPackage().then((p) => {
    const dts = fs.readFileSync(path.join(p.pkgDir, 'index.d.ts'), 'utf8');
    const readme = fs.readFileSync(path.join(p.pkgDir, 'README.md'), 'utf8');
    assert.match(dts, /signal\?: AbortSignalLike/);
    assert.match(dts, /take the output again after finish\(\)|take the\s+output again after\s+finish\(\)/);
    assert.match(readme, /`finish\(\)` once, and take the output again/);
    assert.match(readme, /ABORTED/);
  });
});

test('options.signal: aborting during a wait (a retry delay of 60 s) rejects at once with ABORTED', { timeout: 30000 }, async () => {
  s.control.reset();
  s.control.setFaults([{ type: 'http5xx', endpoint: 'hosts', page: 2, status: 503, times: 1 }]);
  const ac = new AbortController();
  const waits = [];
  const t0 = Date.now();
  const err = await pkg.runFeed({
    params: params({ retryDelaySec: 60, maxRetry: 2 }),
    tokens: TOKENS,
    log: quiet,
    signal: ac.signal,
    writer: { writeItem: () => {} },
    onAction: (a) => {
      if (a.kind !== 'wait') return;
      waits.push(a.ms);
      if (a.ms > 30000) setTimeout(() => ac.abort(), 200);
    },
  }).then(() => null, (e) => e);
  s.control.reset();
  assert.ok(waits.some((ms) => ms > 30000), `the retry waited: ${waits}`);
  assert.ok(err, 'the run was stopped');
  assert.equal(err.code, pkg.codes.ABORTED, err.message);
  assert.ok(Date.now() - t0 < 10000, `rejected soon after the abort (${Date.now() - t0} ms), not after the wait`);
  assert.match(err.previousRunContext || '', /^qvt2;ds=hosts;/, 'the checkpoint after page 1');
});

test('options.signal: aborting while a write never settles rejects within a few seconds with ABORTED', { timeout: 30000 }, async () => {
  s.control.reset();
  const ac = new AbortController();
  const t0 = Date.now();
  let calls = 0;
  const err = await pkg.runFeed({
    params: params(),
    tokens: TOKENS,
    log: quiet,
    signal: ac.signal,
    writer: { writeItem: () => { calls++; setTimeout(() => ac.abort(), 100); return new Promise(() => {}); } },
  }).then(() => null, (e) => e);
  assert.ok(err);
  assert.equal(err.code, pkg.codes.ABORTED, err.message);
  assert.equal(calls, 1, 'nothing more is handed over while the write is pending');
  assert.ok(Date.now() - t0 < 15000, `${Date.now() - t0} ms`);
  assert.equal(err.previousRunContext, '', 'no checkpoint: the write of page 1 was never accepted');
});
