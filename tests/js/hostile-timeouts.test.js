'use strict';
// Every request ends (issue #11, class 3): hostile servers and proxies on 127.0.0.1, each run
// through the single file in the mirrored Archer host (tools/archer-host.js) on all three kinds
// of host: 6x (the request package), node (Node's https) and 2025 (global fetch). Each run must
// call back exactly once, with a network error, within a bounded time, and with the resume
// checkpoint when a page completed before the hostile one:
//   - a body dripping one byte every 2 s (never idle for requestTimeoutSec=5, so only the
//     whole-response limit, 6 x requestTimeoutSec, ends it)
//   - "HTTP/1.1 101 Switching Protocols" (kept open, or closed), a 999 status, a lone
//     "102 Processing" followed by silence
//   - a server that accepts TCP and never answers
//   - a proxy that accepts TCP and never answers CONNECT (fetch refuses a proxy before any request)

const { describe, test } = require('node:test');
const assert = require('node:assert/strict');
const { sim, paramsFor, runInSandbox, buildBundle } = require('./helpers/shim-util');
const { front, drip, rawStatus, silentServer, elapsed } = require('./helpers/hostile');

const MODES = ['6x', 'node', '2025'];
const TIMEOUT_SEC = 5; // the smallest requestTimeoutSec: idle limit 5 s, whole response 30 s
// Pages of one host: a page that times out cannot shrink (see README "Adaptive page size"), so with
// maxRetry=0 the hostile page is tried once, then the host-list request naming its host (which has
// id_min too, so it meets the same hostile server) ends the run: two timed-out requests once page 1
// was answered; one when nothing ever answered.
const PARAMS = { batchSize: '1', maxRetry: '0', retryDelaySec: '0', requestTimeoutSec: String(TIMEOUT_SEC) };

/** Runs the single file on one kind of host; resolves to {r, ms, text, checkpoint}. */
async function runMode(mode, params, timeoutMs) {
  const [r, ms] = await elapsed(() => runInSandbox({ mode, params, timeoutMs }));
  assert.equal(r.calls.length, 1, `${mode}: exactly one callback`);
  const [err, result] = r.calls[0];
  const text = Array.isArray(err) ? String(err[err.length - 1]) : err ? String(err.message || err) : null;
  return { r, ms, err, text, checkpoint: result && result.previousRunContext ? result.previousRunContext : '' };
}

/**
 * Page 1 of the host list comes from the simulator; every next page (a request with id_min, from
 * the WARNING URL) meets `hostile`. Several runs may share the front.
 */
async function withHostilePage2(hostile, fn) {
  const s = await sim({ rateLimit: 'off', concurrency: 'off' });
  const f = await front(s.url, (n, req, res) => (/[?&]id_min=/.test(req.url) ? hostile(req, res) : 'pass'));
  try {
    await fn(f);
  } finally {
    await f.close();
    await s.close();
  }
}

function assertNetworkFailure(got, label, { maxMs, message, checkpoint = true }) {
  assert.ok(got.err, `${label}: the run failed (callback(err))`);
  assert.match(got.text, /^NETWORK: /, `${label}: a network error: ${got.text}`);
  if (message) assert.match(got.text, message, `${label}: says what happened: ${got.text}`);
  assert.ok(got.ms < maxMs, `${label}: called back after ${got.ms} ms (bound ${maxMs} ms)`);
  if (checkpoint) assert.match(got.checkpoint, /^qvt2;ds=hosts;/, `${label}: the checkpoint of page 1 rides along`);
  assert.ok(!got.r.logs.some((l) => / :: INFO :: done: /.test(l)), `${label}: no "done" line`);
}

test.before(() => buildBundle());

describe('hostile servers: every request ends, in every HTTP client', { concurrency: true }, () => {
  test('a body dripping 1 byte every 2 s is cut off by the whole-response limit (6 x requestTimeoutSec)', { timeout: 150000 }, async () => {
    const body = '<?xml version="1.0" encoding="UTF-8" ?>\n<HOST_LIST_OUTPUT><RESPONSE><DATETIME>2024-06-01T00:00:00Z</DATETIME><HOST_LIST>';
    await withHostilePage2((req, res) => drip(res, body, { bytes: 1, everyMs: 2000 }), async (f) => {
      const runs = await Promise.all(MODES.map((mode) => runMode(mode, paramsFor(f.url, 'hosts', PARAMS), 120000)));
      runs.forEach((got, i) => {
        const label = `drip (${MODES[i]})`;
        assertNetworkFailure(got, label, { maxMs: 2 * 6 * TIMEOUT_SEC * 1000 + 15000, message: /ETIMEDOUT: the response did not complete within 30 s \(the whole response limit/ });
        assert.ok(got.ms >= 6 * TIMEOUT_SEC * 1000 - 1000, `${label}: not cut before the whole-response limit (${got.ms} ms)`);
      });
    });
  });

  test('101 Switching Protocols (socket kept open, or closed) ends as a network error at once', { timeout: 60000 }, async () => {
    for (const close of [false, true]) {
      await withHostilePage2((req) => rawStatus(req, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', { close }), async (f) => {
        const runs = await Promise.all(MODES.map((mode) => runMode(mode, paramsFor(f.url, 'hosts', PARAMS), 30000)));
        runs.forEach((got, i) => assertNetworkFailure(got, `101 close=${close} (${MODES[i]})`, { maxMs: 4000, message: /101/ }));
      });
    }
  });

  test('a 999 status and a lone 102 Processing end as network errors (999 at once, 102 at the idle limit)', { timeout: 60000 }, async () => {
    await withHostilePage2((req) => rawStatus(req, 'HTTP/1.1 999 Weird\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\nhello'), async (f) => {
      const runs = await Promise.all(MODES.map((mode) => runMode(mode, paramsFor(f.url, 'hosts', PARAMS), 30000)));
      runs.forEach((got, i) => assertNetworkFailure(got, `999 (${MODES[i]})`, { maxMs: 4000, message: /999/ }));
    });
    await withHostilePage2((req) => rawStatus(req, 'HTTP/1.1 102 Processing\r\n\r\n'), async (f) => {
      const runs = await Promise.all(MODES.map((mode) => runMode(mode, paramsFor(f.url, 'hosts', PARAMS), 30000)));
      runs.forEach((got, i) => assertNetworkFailure(got, `102 (${MODES[i]})`, { maxMs: 2 * TIMEOUT_SEC * 1000 + 5000, message: /ETIMEDOUT.*idle/ }));
    });
  });

  test('a server that accepts TCP and never answers fails at the idle limit', { timeout: 60000 }, async () => {
    const silent = await silentServer();
    try {
      const runs = await Promise.all(MODES.map((mode) => runMode(mode, paramsFor(silent.url, 'hosts', PARAMS), 30000)));
      runs.forEach((got, i) => assertNetworkFailure(got, `silent server (${MODES[i]})`, { maxMs: TIMEOUT_SEC * 1000 + 5000, message: /ETIMEDOUT.*idle/, checkpoint: false }));
      assert.ok(silent.accepted.length >= 3, 'each client connected');
    } finally {
      await silent.close();
    }
  });

  test('a proxy that accepts TCP and never answers CONNECT fails at the idle limit (6x, node); fetch refuses the proxy', { timeout: 60000 }, async () => {
    const s = await sim({ rateLimit: 'off', concurrency: 'off' });
    const proxy = await silentServer();
    try {
      const params = paramsFor(s.httpsUrl, 'hosts', Object.assign({ caCert: s.caCertPem, proxy: proxy.url }, PARAMS));
      const runs = await Promise.all(MODES.map((mode) => runMode(mode, params, 30000)));
      runs.forEach((got, i) => {
        const mode = MODES[i];
        if (mode === '2025') {
          assert.match(got.text, /^HTTP_OPTION_UNSUPPORTED: .*proxy/, `fetch refuses the proxy: ${got.text}`);
          assert.ok(got.ms < 4000, `fetch: refused at once (${got.ms} ms)`);
        } else {
          assertNetworkFailure(got, `silent proxy (${mode})`, { maxMs: TIMEOUT_SEC * 1000 + 5000, message: /ETIMEDOUT/, checkpoint: false });
        }
      });
      assert.ok(proxy.accepted.length >= 2, `the 6x and node clients reached the proxy (${proxy.accepted.length})`);
    } finally {
      await proxy.close();
      await s.close();
    }
  });
});
