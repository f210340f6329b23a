'use strict';
// Tests of the Qualys VM API simulator (js-shim/simulator). Run: node --test tests/js/simulator.test.js
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const v8 = require('v8');
const vm = require('vm');
const { TextDecoder } = require('util');

const SIM = path.join(__dirname, '..', '..', 'js-shim', 'simulator');
const { startSimulator } = require(path.join(SIM, 'server'));
const { createModel } = require(path.join(SIM, 'generate'));
const { cdata, escapeText } = require(path.join(SIM, 'xml'));
const { parseFaultSpec, normaliseFault } = require(path.join(SIM, 'faults'));
const cli = require(path.join(SIM, 'cli'));
const {
  request, countStream, hostIdsOf, detectionPairsOf, tagText, tagTexts, nextUrlOf, idSetOf,
} = require('./helpers/sim-client');

const DET = '/api/2.0/fo/asset/host/vm/detection/';
const HOSTS = '/api/2.0/fo/asset/host/';
const KB = '/api/2.0/fo/knowledge_base/vuln/';
const MAX_PAGES = 200; // bound for every paging loop

const started = [];
async function sim(options) {
  const s = await startSimulator({ rateLimit: 'off', concurrency: 'off', ...options });
  started.push(s);
  return s;
}
test.after(async () => { await Promise.all(started.map((s) => s.close())); });

/** Follow WARNING URLs from a first URL; returns the pages' texts. */
async function followChain(firstUrl, o = {}) {
  const pages = [];
  let url = firstUrl;
  for (let i = 0; i < MAX_PAGES && url; i++) {
    const r = await request(url, o);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.error, null);
    pages.push(r.text);
    url = nextUrlOf(r.text);
  }
  assert.equal(url, null, 'paging chain did not end');
  return pages;
}

/** Detections the default detection request must return, computed from the model. */
function expectedDetections(model, { statuses = ['New', 'Active', 'Re-Opened'], igs = false } = {}) {
  const pairs = [];
  for (let i = 0; i < model.hostCount; i++) {
    const h = model.host(i);
    for (const d of model.detections(i, h, { results: false })) {
      if (!statuses.includes(d.status)) continue;
      if (d.type === 'Info' && !igs) continue;
      if (d.isIgnored) continue;
      pairs.push([h.id, d.qid]);
    }
  }
  return pairs;
}

function allHostIds(model) {
  return Array.from({ length: model.hostCount }, (_, i) => model.hostIdAt(i));
}

// ---------------------------------------------------------------------------------------------

test('XML helpers: text escaping and CDATA split', () => {
  assert.equal(escapeText('a & <b> "c"'), 'a &amp; &lt;b&gt; &quot;c&quot;');
  assert.equal(cdata('x]]>y'), '<![CDATA[x]]]]><![CDATA[>y]]>');
  assert.equal(cdata('plain'), '<![CDATA[plain]]>');
});

test('model: IDs ascending with gaps, records a pure function of (seed, index)', () => {
  const m = createModel({ seed: 42, hosts: 5000, kb: 3000 });
  let gaps = 0;
  for (let i = 1; i < m.hostCount; i++) {
    const d = m.hostIdAt(i) - m.hostIdAt(i - 1);
    assert.ok(d >= 1);
    if (d > 1) gaps++;
  }
  assert.ok(gaps > 100, 'host IDs must have gaps');
  for (let k = 1; k < m.kbCount; k++) assert.ok(m.qidAt(k) > m.qidAt(k - 1));
  // index lookups invert idAt
  for (const i of [0, 1, 7, 1234, 4999]) assert.equal(m.hostIndexOf(m.hostIdAt(i)), i);
  assert.equal(m.hostIndexOf(m.hostIdAt(5) + 100000000), -1);
  // pure: a fresh model gives the same record 4321 without generating the others
  const m2 = createModel({ seed: 42, hosts: 5000, kb: 3000 });
  assert.deepEqual(m2.host(4321), m.host(4321));
  assert.deepEqual(m2.detections(4321, m2.host(4321)), m.detections(4321, m.host(4321)));
  assert.deepEqual(m2.vuln(2999), m.vuln(2999));
  assert.notDeepEqual(createModel({ seed: 43, hosts: 5000 }).host(10), m.host(10));
  // detections of a host: distinct QIDs ascending
  const qids = m.detections(10).map((d) => d.qid);
  assert.deepEqual(qids, [...new Set(qids)].sort((a, b) => a - b));
  // a huge population is addressable without building it
  const big = createModel({ hosts: 5000000, detectionsPerHost: 50 });
  assert.ok(big.hostIdAt(4999999) > big.hostIdAt(4999998));
  assert.equal(big.detections(4999999).length >= 25, true);
});

test('host list paging covers every host exactly once (limit divides / does not divide)', async () => {
  const s = await sim({ hosts: 60, kb: 200, detectionsPerHost: 3 });
  for (const limit of [10, 7]) {
    const pages = await followChain(`${s.url}${HOSTS}?action=list&details=All&show_tags=1&truncation_limit=${limit}`);
    assert.equal(pages.length, Math.ceil(60 / limit));
    const ids = pages.flatMap(hostIdsOf);
    assert.deepEqual(ids, allHostIds(s.model));
    for (const [n, p] of pages.entries()) {
      assert.ok(hostIdsOf(p).length <= limit);
      if (n < pages.length - 1) {
        assert.match(p, new RegExp(`<TEXT>${limit} record limit exceeded. Use URL to get next batch of results.</TEXT>`));
        const next = new URL(nextUrlOf(p));
        // all original parameters kept, id_min = first ID of the next page
        assert.equal(next.searchParams.get('details'), 'All');
        assert.equal(next.searchParams.get('show_tags'), '1');
        assert.equal(next.searchParams.get('truncation_limit'), String(limit));
        assert.equal(Number(next.searchParams.get('id_min')), hostIdsOf(pages[n + 1])[0]);
        assert.ok(p.indexOf('<WARNING>') > p.indexOf('</HOST_LIST>') && p.indexOf('<WARNING>') < p.indexOf('</RESPONSE>'));
      }
    }
  }
});

test('detection paging: truncation_limit counts hosts, union equals what the model says', async () => {
  const s = await sim({ hosts: 45, kb: 300, detectionsPerHost: 6 });
  const expected = expectedDetections(s.model);
  for (const limit of [5, 8]) {
    const pages = await followChain(`${s.url}${DET}?action=list&truncation_limit=${limit}`);
    for (const p of pages) assert.ok(hostIdsOf(p).length <= limit);
    const pairs = pages.flatMap(detectionPairsOf);
    assert.deepEqual(pairs, expected);
    const hostIds = pages.flatMap(hostIdsOf);
    assert.equal(new Set(hostIds).size, hostIds.length, 'no host twice');
  }
  // truncation_limit=0 = everything in one page
  const one = await request(`${s.url}${DET}?action=list&truncation_limit=0`);
  assert.equal(nextUrlOf(one.text), null);
  assert.deepEqual(detectionPairsOf(one.text), expected);
});

test('detections: default status excludes Fixed; Fixed only when asked; show_igs; qids filter', async () => {
  const s = await sim({ hosts: 40, kb: 200, detectionsPerHost: 8 });
  const def = await request(`${s.url}${DET}?action=list&truncation_limit=0`);
  const statuses = new Set(tagTexts(def.text, 'STATUS'));
  assert.ok(!statuses.has('Fixed'));
  assert.ok(statuses.has('Active') && statuses.has('New'));
  assert.ok(!tagTexts(def.text, 'TYPE').includes('Info'), 'IGs only with show_igs=1');
  const all = await request(`${s.url}${DET}?action=list&truncation_limit=0&show_igs=1&status=New,Active,Fixed,Re-Opened`);
  assert.ok(new Set(tagTexts(all.text, 'STATUS')).has('Fixed'));
  assert.ok(tagTexts(all.text, 'TYPE').includes('Info'));
  assert.deepEqual(detectionPairsOf(all.text),
    expectedDetections(s.model, { statuses: ['New', 'Active', 'Fixed', 'Re-Opened'], igs: true }));
  const fixedOnly = await request(`${s.url}${DET}?action=list&truncation_limit=0&status=Fixed`);
  assert.deepEqual([...new Set(tagTexts(fixedOnly.text, 'STATUS'))], ['Fixed']);
  // show_results=0 drops RESULTS; qids restricts
  const noRes = await request(`${s.url}${DET}?action=list&truncation_limit=0&show_results=0`);
  assert.ok(!noRes.text.includes('<RESULTS>'));
  assert.ok(def.text.includes('<RESULTS><![CDATA['));
  const q = detectionPairsOf(def.text)[0][1];
  const byQid = await request(`${s.url}${DET}?action=list&truncation_limit=0&qids=${q}`);
  assert.ok(detectionPairsOf(byQid.text).length >= 1);
  assert.ok(detectionPairsOf(byQid.text).every(([, qq]) => qq === q));
});

test('vm_scan_since filters hosts by LAST_VM_SCANNED_DATE', async () => {
  const s = await sim({ hosts: 80, kb: 100 });
  const m = s.model;
  const cut = m.dataEndMs - 30 * 86400000;
  const since = new Date(cut).toISOString().slice(0, 19) + 'Z';
  const expected = allHostIds(m).filter((id) => m.hostScanMs(m.hostIndexOf(id)) >= cut);
  assert.ok(expected.length > 5 && expected.length < 80);
  const r = await request(`${s.url}${HOSTS}?action=list&details=All&truncation_limit=0&vm_scan_since=${since}`);
  assert.deepEqual(hostIdsOf(r.text), expected);
  for (const d of tagTexts(r.text, 'LAST_VM_SCANNED_DATE')) assert.ok(Date.parse(d) >= cut);
  const det = await request(`${s.url}${DET}?action=list&truncation_limit=0&vm_scan_since=${since.slice(0, 10)}`);
  for (const id of hostIdsOf(det.text)) assert.ok(m.hostScanMs(m.hostIndexOf(id)) >= Date.parse(since.slice(0, 10)));
});

test('touch + incremental run: only records changed after the last run come back', async () => {
  const s = await sim({ hosts: 50, kb: 120 });
  const m = s.model;
  const lastRun = '2024-06-02T00:00:00Z';
  const r0 = await request(`${s.url}${HOSTS}?action=list&details=All&truncation_limit=0&vm_scan_since=${lastRun}`);
  assert.deepEqual(hostIdsOf(r0.text), [], 'nothing scanned after the data end');
  const touchedHosts = [m.hostIdAt(3), m.hostIdAt(17), m.hostIdAt(40)];
  const touchedQids = [m.qidAt(5), m.qidAt(99)];
  s.control.setNow('2024-06-03T12:00:00Z');
  const res = s.control.touch({ hostIds: touchedHosts, qids: touchedQids, at: '2024-06-03T10:00:00Z' });
  assert.equal(res.hosts, 3);
  assert.equal(res.qids, 2);
  const r1 = await request(`${s.url}${HOSTS}?action=list&details=All&truncation_limit=0&vm_scan_since=${lastRun}`);
  assert.deepEqual(hostIdsOf(r1.text), touchedHosts);
  assert.ok(tagTexts(r1.text, 'LAST_VM_SCANNED_DATE').every((d) => d === '2024-06-03T10:00:00Z'));
  assert.equal(tagText(r1.text, 'DATETIME'), '2024-06-03T12:00:00Z');
  const d1 = await request(`${s.url}${DET}?action=list&truncation_limit=0&vm_scan_since=${lastRun}&status=New,Active,Fixed,Re-Opened`);
  assert.deepEqual(hostIdsOf(d1.text), touchedHosts);
  const k1 = await request(`${s.url}${KB}?action=list&last_modified_after=${lastRun}`);
  assert.deepEqual(tagTexts(k1.text, 'QID').map(Number), touchedQids);
  // over HTTP too
  const t = await request(`${s.url}/__control/touch`, { method: 'POST', body: JSON.stringify({ hostIds: [m.hostIdAt(0)], at: '2024-06-04T00:00:00Z' }), headers: { 'content-type': 'application/json' } });
  assert.equal(JSON.parse(t.text).hosts, 1);
  const r2 = await request(`${s.url}${HOSTS}?action=list&details=Basic&truncation_limit=0&vm_processed_after=2024-06-03T23:00:00Z`);
  assert.deepEqual(hostIdsOf(r2.text), [m.hostIdAt(0)]);
});

test('details=None answers ID_SET with ID and ID_RANGE (hosts and KB)', async () => {
  const s = await sim({ hosts: 37, kb: 90 });
  const h = await request(`${s.url}${HOSTS}?action=list&details=None&truncation_limit=0`);
  assert.match(h.text, /<ID_SET>\n\s+<ID_RANGE>\d+-\d+<\/ID_RANGE>/);
  assert.ok(!h.text.includes('<HOST>'));
  assert.deepEqual(idSetOf(h.text), allHostIds(s.model));
  const k = await request(`${s.url}${KB}?action=list&details=None`);
  assert.match(k.text, /<ID_RANGE>/);
  assert.deepEqual(idSetOf(k.text), Array.from({ length: 90 }, (_, i) => s.model.qidAt(i)));
  // paged ID_SET
  const pages = await followChain(`${s.url}${HOSTS}?action=list&details=None&truncation_limit=10`);
  assert.equal(pages.length, 4);
  assert.deepEqual(pages.flatMap(idSetOf), allHostIds(s.model));
});

test('KB ids / id_min / id_max windows and details levels', async () => {
  const s = await sim({ hosts: 5, kb: 400 });
  const q = (k) => s.model.qidAt(k);
  const ids = `${q(3)},${q(10)}-${q(14)},${q(399)}`;
  const r = await request(`${s.url}${KB}?action=list&ids=${ids}`);
  assert.deepEqual(tagTexts(r.text, 'QID').map(Number), [q(3), q(10), q(11), q(12), q(13), q(14), q(399)]);
  const w = await request(`${s.url}${KB}?action=list&id_min=${q(100)}&id_max=${q(149)}`);
  assert.deepEqual(tagTexts(w.text, 'QID').map(Number), Array.from({ length: 50 }, (_, i) => q(100 + i)));
  // a window starting in a gap
  const g = await request(`${s.url}${KB}?action=list&id_min=${q(15) + 1}&id_max=${q(16)}`);
  assert.deepEqual(tagTexts(g.text, 'QID').map(Number), [q(16)]);
  const unknown = await request(`${s.url}${KB}?action=list&ids=1`);
  assert.equal(unknown.status, 200);
  assert.ok(!unknown.text.includes('<VULN_LIST>'));
  // Basic has no DIAGNOSIS, All has HTML in CDATA
  assert.ok(!r.text.includes('<DIAGNOSIS>'));
  const all = await request(`${s.url}${KB}?action=list&details=All&id_max=${q(60)}`);
  assert.match(all.text, /<DIAGNOSIS><!\[CDATA\[[^\]]*<P>/);
  assert.match(all.text, /<CVE_LIST>/);
  assert.match(all.text, /&quot;/);
  // published_after / last_modified windows partition the KB
  const a = await request(`${s.url}${KB}?action=list&details=None&last_modified_before=2023-01-01`);
  const b = await request(`${s.url}${KB}?action=list&details=None&last_modified_after=2023-01-01`);
  const union = [...idSetOf(a.text), ...idSetOf(b.text)].sort((x, y) => x - y);
  assert.deepEqual(union, Array.from({ length: 400 }, (_, i) => q(i)));
});

test('GET and POST (form body) both work and merge', async () => {
  const s = await sim({ hosts: 30, kb: 50 });
  const get = await request(`${s.url}${HOSTS}?action=list&details=All&truncation_limit=4`);
  const post = await request(`${s.url}${HOSTS}`, { body: 'action=list&details=All&truncation_limit=4' });
  const mixed = await request(`${s.url}${HOSTS}?action=list`, { body: 'details=All&truncation_limit=4' });
  assert.equal(post.status, 200);
  assert.deepEqual(hostIdsOf(post.text), hostIdsOf(get.text));
  assert.deepEqual(hostIdsOf(mixed.text), hostIdsOf(get.text));
  const next = new URL(nextUrlOf(mixed.text));
  assert.equal(next.searchParams.get('details'), 'All', 'POSTed parameters are in the next-page URL');
});

test('a request target over maxUrlBytes gets 414 (GET or POST), a long query as a POST body does not', async () => {
  const s = await sim({ hosts: 30 });
  assert.equal(s.options.maxUrlBytes, 8190, 'on by default at Apache\'s LimitRequestLine');
  const ids = Array.from({ length: 1200 }, (_, i) => 9000000 + i).join(',');
  const query = `action=list&details=All&ids=${s.model.hostIdAt(3)},${ids}`;
  const get = await request(`${s.url}${HOSTS}?${query}`);
  assert.equal(get.status, 414);
  assert.match(get.text, /Request-URI Too Long/);
  const post = await request(`${s.url}${HOSTS}`, { body: query });
  assert.equal(post.status, 200);
  assert.deepEqual(hostIdsOf(post.text), [s.model.hostIdAt(3)]);
  const entries = s.log.entries.slice(-2);
  assert.deepEqual(entries.map((e) => [e.method, e.status]), [['GET', 414], ['POST', 200]]);
  assert.ok(entries[0].urlBytes > 8190 && entries[0].bodyBytes === null);
  assert.equal(entries[1].bodyBytes, Buffer.byteLength(query));
  assert.equal(Number(entries[1].contentLength), Buffer.byteLength(query));
  assert.equal(entries[1].contentType, 'application/x-www-form-urlencoded');
  // The limit is an option; 0 switches it off.
  const low = await sim({ hosts: 5, maxUrlBytes: 60 });
  assert.equal((await request(`${low.url}${HOSTS}?action=list&details=All&truncation_limit=4&x=${'1'.repeat(40)}`)).status, 414);
  const off = await sim({ hosts: 5, maxUrlBytes: 0 });
  assert.equal((await request(`${off.url}${HOSTS}?${query}`)).status, 200);
});

test('errors: unknown parameter 1901, bad values 1905, missing action 1903', async () => {
  const s = await sim({ hosts: 5, kb: 10 });
  const r = await request(`${s.url}${DET}?action=list&foo=1&bar=2`);
  assert.equal(r.status, 400);
  assert.equal(tagText(r.text, 'CODE'), '1901');
  assert.equal(tagText(r.text, 'TEXT'), 'Unrecognized parameter(s): foo, bar');
  assert.match(r.text, /^<!DOCTYPE SIMPLE_RETURN SYSTEM "https:\/\/qualysapi\.qualys\.com\/api\/2\.0\/simple_return\.dtd">\n<SIMPLE_RETURN>/);
  const ids = await request(`${s.url}${DET}?action=list&ids=abc123`);
  assert.equal(ids.status, 400);
  assert.equal(tagText(ids.text, 'CODE'), '1905');
  assert.equal(tagText(ids.text, 'TEXT'), 'parameter ids has invalid value: abc123 (neither a positive integer nor a range: abc123)');
  const date = await request(`${s.url}${HOSTS}?action=list&vm_scan_since=2024-13-45`);
  assert.equal(date.status, 400);
  assert.equal(tagText(date.text, 'CODE'), '1905');
  const noAction = await request(`${s.url}${KB}?details=All`);
  assert.equal(tagText(noAction.text, 'CODE'), '1903');
  const kbTrunc = await request(`${s.url}${KB}?action=list&truncation_limit=10`);
  assert.equal(tagText(kbTrunc.text, 'CODE'), '1901', 'the KB has no truncation_limit');
  const notFound = await request(`${s.url}/api/2.0/fo/nothing/?action=list`);
  assert.equal(notFound.status, 404);
});

test('missing X-Requested-With -> 400; bad or missing credentials -> 401', async () => {
  const s = await sim({ hosts: 5, kb: 10, username: 'alice', password: 's3cret' });
  const creds = { user: 'alice', pass: 's3cret' };
  const ok = await request(`${s.url}${HOSTS}?action=list`, { auth: creds });
  assert.equal(ok.status, 200);
  const noHdr = await request(`${s.url}${HOSTS}?action=list`, { auth: creds, requestedWith: false });
  assert.equal(noHdr.status, 400);
  assert.match(tagText(noHdr.text, 'TEXT'), /Missing required header X-Requested-With/);
  const bad = await request(`${s.url}${HOSTS}?action=list`, { auth: { user: 'alice', pass: 'nope' } });
  assert.equal(bad.status, 401);
  assert.equal(tagText(bad.text, 'TEXT'), 'Bad Login/Password');
  assert.match(bad.text, /<SIMPLE_RETURN>/);
  assert.ok(bad.headers['x-ratelimit-limit'], 'limit headers on every response');
  const none = await request(`${s.url}${HOSTS}?action=list`, { auth: null });
  assert.equal(none.status, 401);
  assert.ok(!JSON.stringify(s.log.toJSON()).includes('s3cret'), 'password never logged');
});

test('rate limit: 409 + 1965 with SECONDS_TO_WAIT and X-RateLimit-ToWait-Sec, then recovers', async () => {
  const s = await sim({ hosts: 5, kb: 10, rateLimit: '5/2', concurrency: 2 });
  const remaining = [];
  for (let i = 0; i < 5; i++) {
    const r = await request(`${s.url}${HOSTS}?action=list`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-ratelimit-limit'], '5');
    assert.equal(r.headers['x-ratelimit-window-sec'], '2');
    assert.equal(r.headers['x-concurrency-limit-limit'], '2');
    assert.equal(r.headers['x-concurrency-limit-running'], '0');
    remaining.push(Number(r.headers['x-ratelimit-remaining']));
  }
  assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
  const over = await request(`${s.url}${HOSTS}?action=list`);
  assert.equal(over.status, 409);
  assert.equal(tagText(over.text, 'CODE'), '1965');
  assert.match(tagText(over.text, 'TEXT'), /This API cannot be run again for another 0 hours, 0 minutes and \d seconds\./);
  assert.match(over.text, /<KEY>SECONDS_TO_WAIT<\/KEY>\s*<VALUE>\d+<\/VALUE>/);
  const wait = Number(over.headers['x-ratelimit-towait-sec']);
  assert.ok(wait >= 1 && wait <= 2);
  assert.equal(over.headers['x-ratelimit-remaining'], '0');
  // limits are per API: the KB is still fine
  assert.equal((await request(`${s.url}${KB}?action=list&ids=1`)).status, 200);
  await new Promise((r) => setTimeout(r, wait * 1000 + 100));
  assert.equal((await request(`${s.url}${HOSTS}?action=list`)).status, 200);
});

test('concurrency limit: 409 + 1960 with CALLS_TO_FINISH and running header', async () => {
  const s = await sim({ hosts: 20, kb: 10, concurrency: 1, rateLimit: { limit: 300, windowSec: 3600 },
    faults: [{ type: 'delay', endpoint: 'detections', request: 1, ms: 600 }] });
  const slow = request(`${s.url}${DET}?action=list`);
  await new Promise((r) => setTimeout(r, 150));
  const busy = await request(`${s.url}${DET}?action=list`);
  assert.equal(busy.status, 409);
  assert.equal(tagText(busy.text, 'CODE'), '1960');
  assert.match(busy.text, /<KEY>CALLS_TO_FINISH<\/KEY>\s*<VALUE>1<\/VALUE>/);
  assert.equal(busy.headers['x-concurrency-limit-limit'], '1');
  assert.equal(busy.headers['x-concurrency-limit-running'], '1');
  const first = await slow;
  assert.equal(first.status, 200);
  assert.ok(first.firstByteMs >= 500, 'delay fault holds the first byte');
  assert.equal((await request(`${s.url}${DET}?action=list`)).status, 200);
  // enforcement off: same burst passes
  s.control.setLimits({ concurrency: 'off' });
  s.control.setFaults([{ type: 'delay', ms: 300, times: 1 }]);
  const a = request(`${s.url}${DET}?action=list`);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await request(`${s.url}${DET}?action=list`)).status, 200);
  assert.equal((await a).status, 200);
});

test('faults: every type observed as specified', async () => {
  const s = await sim({ hosts: 200, kb: 300, detectionsPerHost: 5 });
  const url = `${s.url}${DET}?action=list&truncation_limit=50`;
  const lastEntry = () => s.log.entries[s.log.entries.length - 1];

  s.control.setFaults([{ type: 'reset', afterBytes: 3000, times: 1 }]);
  const reset = await request(url);
  assert.equal(reset.status, 200);
  assert.ok(reset.error, 'connection broken mid-body');
  assert.ok(reset.body.length <= 3000 && reset.body.length > 0);
  assert.equal(lastEntry().fault, 'reset');
  assert.equal(lastEntry().complete, false);
  assert.equal((await request(url)).error, null, 'times=1: next request is clean');

  s.control.setFaults([{ type: 'truncate', afterBytes: 10000, times: 1 }]);
  const trunc = await request(url);
  assert.equal(trunc.status, 200);
  assert.equal(trunc.error, null, 'ends cleanly');
  assert.equal(trunc.body.length, 10000);
  assert.ok(!trunc.text.includes('</RESPONSE>'));
  assert.equal(lastEntry().complete, false);
  // truncate never lets the closing tag out even when afterBytes exceeds the body
  s.control.setFaults([{ type: 'truncate', afterBytes: 50000000, times: 1 }]);
  const trunc2 = await request(`${s.url}${KB}?action=list&ids=${s.model.qidAt(0)}`);
  assert.ok(trunc2.text.includes('</VULN_LIST>') && !trunc2.text.includes('</RESPONSE>'));

  s.control.setFaults([{ type: 'http5xx', status: 503, times: 1 }, { type: 'http5xx', status: 502, body: 'text', times: 1 }]);
  const e503 = await request(url);
  assert.equal(e503.status, 503);
  assert.match(e503.text, /<title>503 Service Unavailable<\/title>/);
  const e502 = await request(url);
  assert.equal(e502.status, 502);
  assert.equal(e502.text, '502 Bad Gateway\n');

  s.control.setFaults([{ type: 'generic_return', times: 1 }]);
  const gen = await request(url);
  assert.equal(gen.status, 200);
  assert.match(gen.text, /<GENERIC_RETURN>[\s\S]*<RETURN status="FAILED" number="999">Internal error/);

  s.control.setFaults([{ type: 'expired', times: 1 }]);
  const exp = await request(url);
  assert.equal(exp.status, 200);
  assert.equal(tagText(exp.text, 'CODE'), '2001');
  assert.equal(tagText(exp.text, 'TEXT'), 'This account has expired.');
  assert.match(exp.text, /^<\?xml version="1.0" encoding="UTF-8" \?>\n<!DOCTYPE SIMPLE_RETURN/);

  s.control.setFaults([{ type: 'slow', chunkBytes: 4096, intervalMs: 20, times: 1 }]);
  const slowUrl = `${s.url}${DET}?action=list&truncation_limit=10`;
  const slow = await request(slowUrl);
  assert.equal(slow.error, null);
  assert.ok(slow.text.trimEnd().endsWith('//-->'));
  assert.ok(slow.totalMs >= Math.floor(slow.body.length / 4096) * 20 * 0.8, `slow took ${slow.totalMs} ms`);

  s.control.setFaults([{ type: 'bad_utf8', record: 2, times: 1 }]);
  const bad = await request(url);
  assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(bad.body));
  assert.ok(bad.body.includes(Buffer.from([0xc3, 0x28, 0xff, 0xfe])));
  assert.ok(bad.text.includes('</RESPONSE>'), 'rest of the document intact');
  const good = await request(url);
  assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(good.body));

  s.control.setFaults([{ type: 'huge_record', bytes: 3 * 1024 * 1024, times: 1 }]);
  const huge = await request(`${s.url}${DET}?action=list&truncation_limit=3`);
  assert.ok(huge.body.length > 3 * 1024 * 1024);
  const firstResults = /<RESULTS><!\[CDATA\[([\s\S]*?)\]\]><\/RESULTS>/.exec(huge.text)[1];
  assert.ok(firstResults.length >= 3 * 1024 * 1024);
  assert.ok(huge.text.includes('</RESPONSE>'));

  s.control.setFaults([{ type: 'delay', ms: '200-300', times: 1 }]);
  const del = await request(`${s.url}${HOSTS}?action=list`);
  assert.ok(del.firstByteMs >= 190, `first byte after ${del.firstByteMs} ms`);
  assert.equal(lastEntry().fault, 'delay');
  s.control.clearFaults();
});

test('faults: by page of a paging chain, per endpoint, by seeded probability', async () => {
  const s = await sim({ hosts: 100, kb: 50, faults: [{ type: 'http5xx', endpoint: 'hosts', page: 3, times: 1 }] });
  const pages = [];
  let url = `${s.url}${HOSTS}?action=list&truncation_limit=20`;
  const statuses = [];
  for (let i = 0; i < MAX_PAGES && url; i++) {
    const r = await request(url);
    statuses.push(r.status);
    if (r.status !== 200) continue; // retry the same URL
    pages.push(r.text);
    url = nextUrlOf(r.text);
  }
  assert.deepEqual(statuses, [200, 200, 503, 200, 200, 200]);
  assert.deepEqual(pages.flatMap(hostIdsOf), allHostIds(s.model));
  assert.deepEqual(s.log.entries.map((e) => e.page), [1, 2, 3, 3, 4, 5]);
  // KB is untouched by a hosts-only fault
  s.control.setFaults([{ type: 'http5xx', endpoint: 'hosts' }]);
  assert.equal((await request(`${s.url}${KB}?action=list`)).status, 200);
  // probability with a seed is reproducible
  const runOnce = async () => {
    s.control.setFaults([{ type: 'generic_return', endpoint: 'kb', probability: 0.5, seed: 99 }]);
    const out = [];
    for (let i = 0; i < 16; i++) out.push((await request(`${s.url}${KB}?action=list&ids=1`)).text.includes('GENERIC_RETURN'));
    return out;
  };
  const first = await runOnce();
  assert.deepEqual(await runOnce(), first);
  assert.ok(first.includes(true) && first.includes(false));
  // faults over HTTP control
  const set = await request(`${s.url}/__control/faults`, { body: JSON.stringify({ faults: ['expired:endpoint=kb,times=1'] }), headers: { 'content-type': 'application/json' } });
  assert.equal(JSON.parse(set.text)[0].type, 'expired');
  assert.equal(tagText((await request(`${s.url}${KB}?action=list`)).text, 'CODE'), '2001');
  assert.equal((await request(`${s.url}${KB}?action=list`)).status, 200);
  await request(`${s.url}/__control/faults`, { method: 'DELETE' });
  assert.deepEqual(s.control.faults(), []);
});

test('fault spec strings parse and validate', () => {
  assert.deepEqual(parseFaultSpec('reset:endpoint=detections,page=2,afterBytes=10000,times=1'),
    { type: 'reset', endpoint: 'detections', page: '2', afterBytes: '10000', times: '1' });
  const d = normaliseFault('delay:ms=100-500');
  assert.equal(d.minMs, 100);
  assert.equal(d.maxMs, 500);
  assert.deepEqual(normaliseFault('bad_utf8:bytes=c328').bytes, [0xc3, 0x28]);
  assert.deepEqual(normaliseFault('http5xx:request=1|3').request, [1, 3]);
  assert.throws(() => normaliseFault('explode'), /unknown fault type/);
  assert.throws(() => normaliseFault('http5xx:status=404'), /5xx/);
});

test('HTTPS with the shipped CA is accepted and rejected without it', async () => {
  const s = await sim({ hosts: 5, kb: 10 });
  assert.ok(s.httpsUrl.startsWith('https://127.0.0.1:'));
  const ok = await request(`${s.httpsUrl}${HOSTS}?action=list`, { ca: s.caCertPem });
  assert.equal(ok.status, 200);
  assert.match(ok.text, /<HOST_LIST_OUTPUT>/);
  const viaLocalhost = await request(`https://localhost:${s.httpsPort}${HOSTS}?action=list`, { ca: s.caCertPem });
  assert.equal(viaLocalhost.status, 200);
  await assert.rejects(request(`${s.httpsUrl}${HOSTS}?action=list`),
    (e) => /self.signed|unable to verify|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(`${e.code} ${e.message}`));
  // next-page URLs point back at the HTTPS listener
  const paged = await request(`${s.httpsUrl}${HOSTS}?action=list&truncation_limit=2`, { ca: s.caCertPem });
  assert.ok(nextUrlOf(paged.text).startsWith(s.httpsUrl));
});

test('/api/2.0 vs newer versions: the fields of real v4/v5 responses, each where and when Qualys sends it', async () => {
  const s = await sim({ hosts: 20, kb: 300, detectionsPerHost: 5 });
  const D5 = '/api/5.0/fo/asset/host/vm/detection/';
  const d2 = await request(`${s.url}${DET}?action=list&truncation_limit=5`);
  const d5 = await request(`${s.url}${D5}?action=list&truncation_limit=5`);
  // UNIQUE_VULN_ID on v3+ detections, not opt-in.
  assert.ok(!d2.text.includes('<UNIQUE_VULN_ID>'), 'UNIQUE_VULN_ID absent in 2.0');
  assert.ok(d5.text.includes('<UNIQUE_VULN_ID>'), 'UNIQUE_VULN_ID present in 5.0');
  // QDS only with show_qds=1, QDS_FACTORS only with show_qds_factors=1 (any version); ASSET_ID only with show_asset_id=1.
  for (const tag of ['QDS', 'QDS_FACTORS', 'ASSET_ID']) {
    assert.ok(!d2.text.includes(`<${tag}`) && !d5.text.includes(`<${tag}`), `${tag} only when asked for`);
  }
  // TruRisk and asset criticality belong to the host list, never to a detection host.
  for (const tag of ['TRURISK_SCORE', 'ASSET_CRITICALITY_SCORE']) {
    assert.ok(!d2.text.includes(`<${tag}`) && !d5.text.includes(`<${tag}`), `${tag} not in the detection list`);
  }
  const q = await request(`${s.url}${D5}?action=list&truncation_limit=5&show_qds=1&show_qds_factors=1&show_asset_id=1`);
  assert.equal(q.status, 200, q.text);
  assert.match(q.text, /<QDS severity="(LOW|MEDIUM|HIGH|CRITICAL)">\d+<\/QDS>/);
  assert.match(q.text, /<QDS_FACTORS>\s*<QDS_FACTOR name="[A-Za-z_]+">(<!\[CDATA\[[^\]]*\]\]>|[^<]*)<\/QDS_FACTOR>/);
  assert.ok(tagTexts(q.text, 'ASSET_ID').length > 0, 'ASSET_ID with show_asset_id=1');
  const qdsOnly = await request(`${s.url}${D5}?action=list&truncation_limit=5&show_qds=1`);
  assert.ok(qdsOnly.text.includes('<QDS ') && !qdsOnly.text.includes('<QDS_FACTORS>'), 'QDS_FACTORS only with show_qds_factors=1');
  assert.match(d5.text, /api\/5\.0\/fo\/asset\/host\/vm\/detection\/host_list_vm_detection_output\.dtd/);
  assert.ok(nextUrlOf(d5.text).includes('/api/5.0/'));
  assert.deepEqual(detectionPairsOf(d5.text), detectionPairsOf(d2.text), 'same records in every version');
  assert.deepEqual(detectionPairsOf(q.text), detectionPairsOf(d2.text), 'the show_* options add fields, not records');
  const h2 = await request(`${s.url}${HOSTS}?action=list&details=All&truncation_limit=0`);
  const h5 = await request(`${s.url}/api/5.0/fo/asset/host/?action=list&details=All&truncation_limit=0`);
  assert.ok(!h2.text.includes('<TRURISK_SCORE>'));
  for (const tag of ['TRURISK_SCORE', 'ASSET_CRITICALITY_SCORE']) assert.ok(h5.text.includes(`<${tag}>`), `${tag} in the 5.0 host list`);
  assert.ok(!h5.text.includes('<ASSET_ID>'));
  const h5a = await request(`${s.url}/api/5.0/fo/asset/host/?action=list&details=All&truncation_limit=0&show_asset_id=1`);
  assert.ok(h5a.text.includes('<ASSET_ID>'));
  const k2 = await request(`${s.url}${KB}?action=list&details=All`);
  const k4 = await request(`${s.url}/api/4.0/fo/knowledge_base/vuln/?action=list&details=All`);
  for (const tag of ['CVSS_V4', 'PATCH_PUBLISHED_DATE']) {
    assert.ok(!k2.text.includes(`<${tag}>`), `${tag} absent in 2.0`);
    assert.ok(k4.text.includes(`<${tag}>`), `${tag} present in 4.0`);
  }
  assert.ok(k2.text.includes('<CVSS_V3>'));
});

test('retireVersions: a retired version answers 404 or 410 on every API; the active ones still answer', async () => {
  for (const status of [404, 410]) {
    const s = await sim({ hosts: 5, kb: 10, retireVersions: ['2.0', '3.0'], retireStatus: status });
    for (const p of [DET, HOSTS, KB, '/api/3.0/fo/knowledge_base/vuln/']) {
      const r = await request(`${s.url}${p}?action=list`);
      assert.equal(r.status, status, `${p}: ${r.text}`);
      assert.ok(!r.text.includes('<RESPONSE>'), 'no Qualys document');
    }
    for (const p of ['/api/5.0/fo/asset/host/vm/detection/', '/api/5.0/fo/asset/host/', '/api/4.0/fo/knowledge_base/vuln/']) {
      const r = await request(`${s.url}${p}?action=list`);
      assert.equal(r.status, 200, `${p}: ${r.text}`);
    }
    const e = s.log.entries.find((x) => x.version === '2.0');
    assert.equal(e.status, status, 'the log records the refusal');
  }
  await assert.rejects(sim({ retireVersions: ['2.0'], retireStatus: 500 }), /retireStatus/);
  await assert.rejects(sim({ retireVersions: ['v2'] }), /retireVersions/);
  const cliOpts = cli.parseArgs(['--retire-version', '2.0', '--retire-version=3.0', '--retire-status', '410']);
  assert.deepEqual([cliOpts.retireVersions, cliOpts.retireStatus], [['2.0', '3.0'], 410]);
});

test('determinism: same seed gives byte-identical pages; another seed differs', async () => {
  const opts = { hosts: 300, kb: 500, detectionsPerHost: 7, seed: 'acme', warningBaseUrl: 'https://qualysapi.example.com' };
  const a = await sim(opts);
  const b = await sim(opts);
  const c = await sim({ ...opts, seed: 'other' });
  for (const p of [`${DET}?action=list&truncation_limit=25&id_min=0`, `${KB}?action=list&details=All`, `${HOSTS}?action=list&details=All&show_tags=1`]) {
    const ra = await request(a.url + p);
    const rb = await request(b.url + p);
    assert.ok(ra.body.equals(rb.body), `byte-identical: ${p}`);
    assert.ok(!ra.body.equals((await request(c.url + p)).body));
  }
  const ra = await request(`${a.url}${DET}?action=list&truncation_limit=25`);
  assert.ok(nextUrlOf(ra.text).startsWith('https://qualysapi.example.com/api/2.0/'));
});

test('shapes follow the real responses (prolog, comments, keep-alive, CDATA, empty lists)', async () => {
  const s = await sim({ hosts: 30, kb: 30, detectionsPerHost: 4, keepAliveEvery: 5 });
  const r = await request(`${s.url}${DET}?action=list&truncation_limit=0&show_tags=1`);
  assert.match(r.text, /^<\?xml version="1.0" encoding="UTF-8" \?>\n<!DOCTYPE HOST_LIST_VM_DETECTION_OUTPUT SYSTEM "https:\/\/qualysapi\.qualys\.com\/api\/2\.0\/fo\/asset\/host\/vm\/detection\/host_list_vm_detection_output\.dtd">\n<!-- This report was generated with an evaluation version of Qualys \/\/--> \n<HOST_LIST_VM_DETECTION_OUTPUT>\n {2}<RESPONSE>\n {4}<DATETIME>2024-06-01T00:00:00Z<\/DATETIME>\n/);
  const inside = r.text.slice(r.text.indexOf('<RESPONSE>'), r.text.indexOf('</RESPONSE>'));
  const hosts = hostIdsOf(r.text).length;
  assert.equal((inside.match(/<!-- keep-alive for HOST_LIST_VM_DETECTION_OUTPUT {2}-->/g) || []).length, 1 + Math.floor(hosts / 5));
  assert.match(r.text, /<\/HOST_LIST_VM_DETECTION_OUTPUT>\n<!-- This report was generated[^\n]*\n<!-- CONFIDENTIAL AND PROPRIETARY INFORMATION[^\n]*\n$/);
  assert.match(r.text, /<TAGS>\s*<TAG>\s*<TAG_ID>\d+<\/TAG_ID>\s*<NAME><!\[CDATA\[/);
  assert.match(r.headers['content-type'], /xml/);
  assert.equal(r.headers['transfer-encoding'], 'chunked');
  // empty results: no list element at all (like j1_hld_empty_real.xml)
  const empty = await request(`${s.url}${DET}?action=list&ids=1`);
  assert.match(empty.text, /<RESPONSE>\n {4}<DATETIME>[^<]+<\/DATETIME>\n<!-- keep-alive[^\n]*\n {2}<\/RESPONSE>/);
  // multi-line tab-separated RESULTS exist in a larger population, and sometimes DNS is absent
  const big = await sim({ hosts: 400, kb: 500, detectionsPerHost: 10 });
  const t = (await request(`${big.url}${DET}?action=list&truncation_limit=0&show_igs=1`)).text;
  assert.match(t, /<RESULTS><!\[CDATA\[[^\]]*\t[^\]]*\n/);
  assert.match(t, /\]\]\]\]><!\[CDATA\[>/, 'a `]]>` inside RESULTS is split across CDATA sections');
  const hostBlocks = t.split('<HOST>').slice(1);
  assert.ok(hostBlocks.some((b) => !b.includes('<DNS>')) && hostBlocks.some((b) => b.includes('<DNS>')));
  assert.ok(hostBlocks.some((b) => !b.includes('<QG_HOSTID>')) && hostBlocks.some((b) => b.includes('<QG_HOSTID>')));
  assert.ok(t.split('<DETECTION>').slice(1).some((d) => !d.split('</DETECTION>')[0].includes('<PORT>')), 'PORT sometimes absent');
});

test('the log records served IDs per response and whether it was complete', async () => {
  const s = await sim({ hosts: 40, kb: 80, detectionsPerHost: 4 });
  const pages = await followChain(`${s.url}${DET}?action=list&truncation_limit=15`);
  const entries = s.log.entries;
  assert.equal(entries.length, pages.length);
  for (const [n, e] of entries.entries()) {
    assert.equal(e.endpoint, 'detections');
    assert.equal(e.status, 200);
    assert.equal(e.complete, true);
    assert.deepEqual(e.served.hostIds, hostIdsOf(pages[n]));
    assert.deepEqual(e.served.detections, detectionPairsOf(pages[n]));
    assert.equal(e.page, n + 1);
    assert.equal(e.nextIdMin, n < pages.length - 1 ? hostIdsOf(pages[n + 1])[0] : null);
  }
  const union = s.log.servedUnion({ endpoint: 'detections' });
  assert.equal(union.detections.size, pages.flatMap(detectionPairsOf).length);
  // a truncated response logs only the records fully sent
  s.control.setFaults([{ type: 'truncate', afterBytes: 20000, times: 1 }]);
  const t = await request(`${s.url}${DET}?action=list&truncation_limit=0`);
  const last = s.log.entries[s.log.entries.length - 1];
  assert.equal(last.complete, false);
  const fullyInBody = hostIdsOf(t.text).filter((id) => t.text.indexOf('</HOST>\n', t.text.indexOf(`<ID>${id}</ID>`)) !== -1);
  assert.deepEqual(last.served.hostIds, fullyInBody);
  // over HTTP, with parameters and without passwords
  await request(`${s.url}${KB}?action=list&password=hunter2`);
  const log = JSON.parse((await request(`${s.url}/__control/log`)).text);
  assert.equal(log.length, pages.length + 2);
  const kbEntry = log[log.length - 1];
  assert.equal(kbEntry.code, 1901);
  assert.equal(kbEntry.params.password, '[redacted]');
  assert.ok(!JSON.stringify(log).includes('hunter2') && !JSON.stringify(log).includes('simpass'));
  assert.deepEqual(log[0].served.detections, detectionPairsOf(pages[0]));
  const slim = JSON.parse((await request(`${s.url}/__control/log?served=0&since=${log.length - 1}`)).text);
  assert.equal(slim.length, 1);
  assert.equal(slim[0].served, undefined);
  // reset clears everything
  await request(`${s.url}/__control/reset`, { method: 'POST', body: '', headers: { 'content-type': 'application/json' } });
  assert.equal(s.log.entries.length, 0);
  assert.deepEqual(s.control.faults(), []);
  const info = JSON.parse((await request(`${s.url}/__control`)).text);
  assert.equal(info.model.hosts, 40);
});

test('memory stays flat serving 100,000 hosts x 1 detection with truncation_limit=0', async () => {
  const s = await sim({ hosts: 100000, kb: 5000, detectionsPerHost: 1, detectionsSpread: 0, recordServed: true });
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  let n = 0;
  const r = await countStream(`${s.url}${DET}?action=list&truncation_limit=0&show_igs=1&status=New,Active,Fixed,Re-Opened&include_ignored=1`,
    '</HOST>', { onData: () => { if (++n % 64 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed); } });
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  assert.equal(r.status, 200);
  assert.equal(r.error, null);
  assert.equal(r.count, 100000);
  assert.ok(r.bytes > 80e6, `served ${r.bytes} bytes`);
  const growth = (peak - base) / 1e6;
  assert.ok(growth < 50, `heap grew ${growth.toFixed(1)} MB`);
  const e = s.log.entries[0];
  assert.equal(e.complete, true);
  assert.equal(e.served.counts.detections, 100000);
});

test('cli: parses options and main(argv) starts a working simulator', async () => {
  const o = cli.parseArgs(['--port', '0', '--hosts', '12', '--kb=40', '--seed', 'x', '--rate-limit', '5/2',
    '--concurrency', 'off', '--fault', 'reset:endpoint=detections,page=2', '--fault', 'delay:ms=10-20']);
  assert.equal(o.hosts, 12);
  assert.equal(o.kb, 40);
  assert.equal(o.rateLimit, '5/2');
  assert.equal(o.faults.length, 2);
  assert.throws(() => cli.parseArgs(['--fault', 'nope']), /unknown fault type/);
  assert.throws(() => cli.parseArgs(['--rate-limit', 'many']), /N\/secs/);
  assert.throws(() => cli.parseArgs(['--bogus']), /unknown option/);
  let printed = '';
  const out = { write: (s) => { printed += s; } };
  assert.equal(await cli.main(['--help'], { stdout: out, signals: false }), null);
  assert.match(printed, /usage:/);
  printed = '';
  const run = await cli.main(['--hosts', '12', '--kb', '40'], { stdout: out, signals: false });
  try {
    assert.match(printed, /http: {3}http:\/\/127\.0\.0\.1:\d+/);
    assert.match(printed, /CA: {5}.*ca-cert\.pem/);
    const r = await request(`${run.sim.url}${DET}?action=list&truncation_limit=10`);
    assert.equal(r.status, 200);
    assert.ok(hostIdsOf(r.text).length > 0);
  } finally {
    await run.stop();
  }
});

/**
 * A raw HTTP/1.1 GET over a plain socket (for answers Node's client does not report: 101, a lone
 * status line, silence): what arrived within waitMs, and whether the server closed the socket.
 */
function rawGet(url, waitMs) {
  const net = require('net');
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = net.connect(Number(u.port), u.hostname);
    let text = '';
    let closed = false;
    sock.on('data', (d) => { text += d.toString('latin1'); });
    sock.on('end', () => { closed = true; });
    sock.on('error', () => { closed = true; });
    sock.on('connect', () => {
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Basic ${Buffer.from('simuser:simpass').toString('base64')}\r\nX-Requested-With: raw\r\n\r\n`);
    });
    setTimeout(() => { sock.destroy(); resolve({ text, closed }); }, waitMs);
  });
}

test('faults for hostile servers: drip, status (101, 999), hang, wait_header, forged_text, big_text, warnings_flood', async () => {
  const s = await sim({ hosts: 40, kb: 30 });
  const lastEntry = () => s.log.entries[s.log.entries.length - 1];
  const small = `${s.url}${KB}?action=list&ids=${s.model.qidAt(0)}`;
  const clean = await request(small);

  // drip: the head at once, then the body `bytes` at a time; the same bytes in the end.
  s.control.setFaults([{ type: 'drip', bytes: 1, intervalMs: 1000, times: 1 }]);
  const early = await rawGet(small, 400);
  assert.match(early.text, /^HTTP\/1\.1 200 OK\r\n/, 'the head is sent at once');
  const bodySoFar = early.text.slice(early.text.indexOf('\r\n\r\n') + 4);
  assert.ok(bodySoFar.length <= 8, `one byte (chunk-framed) at most after 400 ms: ${JSON.stringify(bodySoFar)}`);
  assert.equal(lastEntry().fault, 'drip');
  s.control.setFaults([{ type: 'drip', bytes: 400, intervalMs: 20, times: 1 }]);
  const dripped = await request(small);
  assert.equal(dripped.error, null);
  assert.ok(dripped.body.equals(clean.body), 'drip changes the timing, not the bytes');
  assert.ok(dripped.totalMs >= Math.floor(clean.body.length / 400) * 20 * 0.8, `took ${dripped.totalMs} ms`);

  // status: 101 with Upgrade headers, kept open; or closed; any status with a body.
  s.control.setFaults([{ type: 'status', times: 1 }]);
  const up = await rawGet(small, 300);
  assert.equal(up.text, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  assert.equal(up.closed, false, 'kept open');
  s.control.setFaults(['status:status=101,close=true,headers=Upgrade: h2c|Connection: upgrade,times=1']);
  const upClosed = await rawGet(small, 300);
  assert.equal(upClosed.text, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n');
  assert.equal(upClosed.closed, true);
  s.control.setFaults([{ type: 'status', status: 999, reason: 'Weird', body: 'hello', close: true, times: 1 }]);
  const weird = await rawGet(small, 300);
  assert.equal(weird.text, 'HTTP/1.1 999 Weird\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');
  assert.equal(lastEntry().status, 999);

  // hang: accepted, never answered.
  s.control.setFaults([{ type: 'hang', times: 1 }]);
  const silent = await rawGet(small, 300);
  assert.deepEqual(silent, { text: '', closed: false });
  assert.equal(s.log.entries.find((e) => e.fault === 'hang').status, null);

  // wait_header: a normal page that says "no calls left, wait N s".
  s.control.setFaults([{ type: 'wait_header', toWaitSec: 7, times: 1 }]);
  const held = await request(small);
  assert.equal(held.headers['x-ratelimit-remaining'], '0');
  assert.equal(held.headers['x-ratelimit-towait-sec'], '7');
  assert.ok(held.body.equals(clean.body));

  // forged_text: a SIMPLE_RETURN whose TEXT holds a line break and a forged log line.
  s.control.setFaults([{ type: 'forged_text', times: 1 }]);
  const forged = await request(small);
  assert.equal(forged.status, 200);
  assert.equal(tagText(forged.text, 'CODE'), '999');
  assert.match(tagText(forged.text, 'TEXT'), /\n\d{4}-\d\d-\d\dT[\d:.]+Z :: INFO :: done: .*records=999999/);
  s.control.setFaults(['forged_text:status=400,code=1905,text=x,times=1']);
  const forged2 = await request(small);
  assert.equal(forged2.status, 400);
  assert.equal(tagText(forged2.text, 'TEXT'), 'x');

  // big_text: TEXT of N bytes.
  s.control.setFaults([{ type: 'big_text', bytes: 300000, times: 1 }]);
  const big = await request(small);
  assert.equal(big.error, null);
  assert.equal(tagText(big.text, 'TEXT').length, 300000);
  assert.equal(tagText(big.text, 'CODE'), '999');
  assert.match(big.text, /<\/SIMPLE_RETURN>\n$/);

  // warnings_flood: N extra WARNINGs before the 1980 one; records and next page unchanged.
  const page = `${s.url}${HOSTS}?action=list&truncation_limit=10`;
  const plain = await request(page);
  s.control.setFaults([{ type: 'warnings_flood', count: 50, numbered: true, times: 1 }]);
  const flood = await request(page);
  const codes = tagTexts(flood.text, 'CODE');
  assert.equal(codes.filter((c) => c === '1999').length, 50);
  assert.equal(codes[codes.length - 1], '1980', 'the next-page WARNING stays last');
  assert.deepEqual(tagTexts(flood.text, 'TEXT').slice(0, 2), ['Simulated warning #1', 'Simulated warning #2']);
  assert.deepEqual(hostIdsOf(flood.text), hostIdsOf(plain.text));
  assert.equal(nextUrlOf(flood.text), nextUrlOf(plain.text));
  s.control.setFaults([{ type: 'warnings_flood', count: 3, times: 1 }]);
  const kbFlood = await request(small);
  assert.equal(tagTexts(kbFlood.text, 'CODE').length, 3, 'also on a page without a next page');
  s.control.clearFaults();
});

test('faults for odd paging: page_cycle, overlap, ignore_window, empty_pages, id_range', async () => {
  const s = await sim({ hosts: 35, kb: 30 });
  const all = allHostIds(s.model);
  const first = `${s.url}${HOSTS}?action=list&truncation_limit=10`;

  // page_cycle: page 2's WARNING points back to page 1, with a changing extra parameter.
  s.control.setFaults([{ type: 'page_cycle', endpoint: 'hosts', page: 2, times: 1 }]);
  const p1 = await request(first);
  const p2 = await request(nextUrlOf(p1.text));
  const back = nextUrlOf(p2.text);
  assert.equal(back, `${first}&sim_cycle=1`);
  const again = await request(back);
  assert.deepEqual(hostIdsOf(again.text), hostIdsOf(p1.text), 'the first page again');
  assert.equal(s.log.entries[s.log.entries.length - 1].page, 3, 'counted as the next page of the chain');
  s.control.setFaults([{ type: 'page_cycle', endpoint: 'hosts', page: 1 }]);
  assert.equal(nextUrlOf((await request(first)).text), `${first}&sim_cycle=2`, 'a new value each time');

  // overlap: the next page's id_min is N hosts back.
  s.control.setFaults([{ type: 'overlap', hosts: 3, times: 1 }]);
  const o1 = await request(first);
  assert.deepEqual(hostIdsOf(o1.text), all.slice(0, 10));
  assert.match(nextUrlOf(o1.text), new RegExp(`id_min=${all[7]}$`));
  assert.deepEqual(hostIdsOf((await request(nextUrlOf(o1.text))).text), all.slice(7, 17));

  // ignore_window: id_min / id_max ignored on the faulted request.
  const windowed = `${s.url}${HOSTS}?action=list&truncation_limit=5&id_min=${all[20]}&id_max=${all[30]}`;
  s.control.setFaults([{ type: 'ignore_window', times: 1 }]);
  assert.deepEqual(hostIdsOf((await request(windowed)).text), all.slice(0, 5));
  assert.deepEqual(hostIdsOf((await request(windowed)).text), all.slice(20, 25), 'times=1: the next request is windowed');

  // empty_pages: N empty pages, each with a WARNING to a new URL; then the real page.
  s.control.setFaults([{ type: 'empty_pages', endpoint: 'hosts', page: 2, pages: 2, times: 1 }]);
  const e1 = await request(first);
  const e2url = nextUrlOf(e1.text);
  const e2 = await request(e2url);
  assert.deepEqual(hostIdsOf(e2.text), []);
  assert.ok(!e2.text.includes('<HOST_LIST>'));
  const e3url = nextUrlOf(e2.text);
  assert.equal(e3url, `${e2url}&sim_empty=1.2`);
  const e3 = await request(e3url);
  assert.deepEqual(hostIdsOf(e3.text), []);
  const e4url = nextUrlOf(e3.text);
  assert.equal(e4url, `${e2url}&sim_empty=2.2`);
  const e4 = await request(e4url);
  assert.deepEqual(hostIdsOf(e4.text), all.slice(10, 20), 'after N empty pages, the page itself');
  assert.deepEqual(s.log.entries.slice(-3).map((e) => e.fault), ['empty_pages', 'empty_pages', null]);
  s.control.setFaults([{ type: 'empty_pages', endpoint: 'hosts', pages: 0, times: 1 }]);
  let url = first;
  const seen = new Set();
  for (let i = 0; i < 6; i++) {
    const r = await request(url);
    assert.deepEqual(hostIdsOf(r.text), [], 'forever: every page empty');
    url = nextUrlOf(r.text);
    assert.ok(url && !seen.has(url), 'each WARNING names a new URL');
    seen.add(url);
  }

  // id_range: a details=None answer claims the given range.
  s.control.setFaults([{ type: 'id_range', times: 2 }]);
  const claimed = await request(`${s.url}${HOSTS}?action=list&details=None&truncation_limit=0`);
  assert.deepEqual(tagTexts(claimed.text, 'ID_RANGE'), ['0-18446744073709551615']);
  assert.ok(!claimed.text.includes('<ID>'));
  const kbClaimed = await request(`${s.url}${KB}?action=list&details=None`);
  assert.deepEqual(tagTexts(kbClaimed.text, 'ID_RANGE'), ['0-18446744073709551615']);
  s.control.setFaults(['id_range:range=5-9,times=1']);
  assert.deepEqual(tagTexts((await request(`${s.url}${KB}?action=list&details=None`)).text, 'ID_RANGE'), ['5-9']);
  s.control.clearFaults();
});

test('page_cycle and overlap on the KnowledgeBase: a list page gets the faulted WARNING 1980, nothing else changes', async () => {
  // Qualys does not page the KB, so these faults add the next-page WARNING a hostile server would.
  const s = await sim({ hosts: 5, kb: 40 });
  const qids = Array.from({ length: s.model.kbCount }, (_, k) => s.model.qidAt(k));
  const windowUrl = `${s.url}${KB}?action=list&details=All&id_min=${qids[10]}&id_max=${qids[19]}`;
  const plain = await request(windowUrl);
  assert.equal(nextUrlOf(plain.text), null, 'no WARNING without a fault');
  assert.deepEqual(tagTexts(plain.text, 'QID'), qids.slice(10, 20).map(String));
  /** The plain page with one WARNING inserted before </RESPONSE>: every other byte the same. */
  const withWarning = (text) => {
    const m = /\n {4}<WARNING>\n[\s\S]*?<\/WARNING>\n/.exec(text);
    assert.ok(m, 'a WARNING element');
    assert.equal(text.slice(0, m.index + 1) + text.slice(m.index + m[0].length), plain.text, 'the records and the rest unchanged');
    assert.ok(/<\/VULN_LIST>\n {4}<WARNING>/.test(text) && /<\/WARNING>\n {2}<\/RESPONSE>/.test(text), 'after VULN_LIST, inside RESPONSE');
    assert.deepEqual(tagTexts(m[0], 'CODE'), ['1980']);
    assert.equal(tagText(m[0], 'TEXT'), '10 record limit exceeded. Use URL to get next batch of results.');
    return nextUrlOf(text);
  };

  // page_cycle: back to the chain's first page (here the window itself), a new sim_cycle each time.
  s.control.setFaults([{ type: 'page_cycle', endpoint: 'kb', times: 2 }]);
  assert.equal(withWarning((await request(windowUrl)).text), `${windowUrl}&sim_cycle=1`);
  const cycled = await request(`${windowUrl}&sim_cycle=1`);
  assert.equal(withWarning(cycled.text), `${windowUrl}&sim_cycle=2`, 'the cycled page is the chain\'s page 2, cycling again');
  assert.equal(s.log.entries[s.log.entries.length - 1].page, 2);
  assert.equal(nextUrlOf((await request(windowUrl)).text), null, 'times=2: then no WARNING');

  // overlap: the next page starts `hosts` records back (id_max kept), so it re-serves them.
  s.control.setFaults([{ type: 'overlap', endpoint: 'kb', hosts: 3, times: 1 }]);
  const next = withWarning((await request(windowUrl)).text);
  assert.equal(next, `${s.url}${KB}?action=list&details=All&id_max=${qids[19]}&id_min=${qids[17]}`);
  const again = await request(next);
  assert.deepEqual(tagTexts(again.text, 'QID'), qids.slice(17, 20).map(String));
  assert.equal(nextUrlOf(again.text), null);
  assert.equal(s.log.entries[s.log.entries.length - 1].page, 2, 'counted as the next page of the chain');
  s.control.setFaults([{ type: 'overlap', endpoint: 'kb', hosts: 50, times: 1 }]);
  assert.match(withWarning((await request(windowUrl)).text), new RegExp(`&id_min=${qids[10]}$`), 'fewer records than hosts: the page\'s first');

  // The details=None listing and an empty page stay as they were.
  const listing = `${s.url}${KB}?action=list&details=None`;
  const plainListing = (await request(listing)).text;
  const empty = `${s.url}${KB}?action=list&details=All&id_min=${qids[39] + 1}`;
  const plainEmpty = (await request(empty)).text;
  for (const type of ['page_cycle', 'overlap']) {
    s.control.setFaults([{ type, endpoint: 'kb' }]);
    assert.equal((await request(listing)).text, plainListing, `${type}: details=None unchanged`);
    assert.equal((await request(empty)).text, plainEmpty, `${type}: a page without records unchanged`);
  }
  s.control.clearFaults();
});

test('new fault specs parse and validate', () => {
  assert.equal(normaliseFault('drip').intervalMs, 2000);
  assert.equal(normaliseFault('drip:bytes=3,intervalMs=50').bytes, 3);
  assert.deepEqual(normaliseFault('status:status=101,headers=Upgrade: websocket|Connection: upgrade').headers, [['Upgrade', 'websocket'], ['Connection', 'upgrade']]);
  assert.equal(normaliseFault('status:close=true').close, true);
  assert.equal(normaliseFault('overlap:hosts=4').hosts, 4);
  assert.equal(normaliseFault('empty_pages:pages=0').pages, 0);
  assert.equal(normaliseFault('wait_header:toWaitSec=3').toWaitSec, 3);
  assert.equal(normaliseFault('warnings_flood:count=7,numbered=1').numbered, true);
  assert.equal(normaliseFault('big_text:bytes=10').bytes, 10);
  assert.match(normaliseFault('forged_text').text, /\n.* :: INFO :: done: /);
  for (const t of ['hang', 'page_cycle', 'ignore_window', 'id_range']) assert.equal(normaliseFault(t).type, t);
  assert.throws(() => normaliseFault('drip:bytes=0'), /bytes/);
  assert.throws(() => normaliseFault('status:status=1000'), /100-999/);
  assert.throws(() => normaliseFault('status:headers=nocolon'), /headers/);
  assert.throws(() => normaliseFault('overlap:hosts=0'), /hosts/);
  assert.throws(() => normaliseFault('id_range:range=abc'), /range/);
});

test('faults for adaptive page size: slow_page (N hosts take N x msPerHost) and stall_host (a host that never arrives)', async () => {
  const s = await sim({ hosts: 30, detectionsPerHost: 2, detectionsSpread: 0 });
  const m = s.model;
  const last = () => s.log.entries[s.log.entries.length - 1];
  // slow_page: silence of N x msPerHost before the first byte, N the hosts the page holds.
  s.control.setFaults([{ type: 'slow_page', msPerHost: 60 }]);
  for (const [path, n] of [[HOSTS, 6], [DET, 2], [HOSTS, 5]]) {
    const from = m.hostIdAt(25);
    const url = `${s.url}${path}?action=list&truncation_limit=${n}${n === 5 ? `&id_min=${from}` : ''}`;
    const r = await request(url);
    assert.equal(r.status, 200);
    const held = n === 5 ? 5 : n; // from host 25 on there are 5 hosts
    assert.equal(hostIdsOf(r.text).length, held);
    assert.equal(last().slowMs, held * 60, `${path} truncation_limit=${n}`);
    assert.ok(r.firstByteMs >= held * 60 - 5, `${path}: first byte after ${r.firstByteMs} ms`);
    assert.equal(last().fault, 'slow_page');
  }
  const listing = await request(`${s.url}${HOSTS}?action=list&details=None&truncation_limit=20`);
  assert.ok(listing.firstByteMs < 500 && last().slowMs === null, 'an ID listing is not slowed');
  // stall_host: the hosts before it arrive, then nothing; the response never ends.
  const bad = m.hostIdAt(4);
  const clean = {};
  for (const path of [HOSTS, DET]) clean[path] = hostIdsOf((await request(`${s.url}${path}?action=list&truncation_limit=10`)).text);
  s.control.setFaults([{ type: 'stall_host', hostId: bad }]);
  for (const path of [HOSTS, DET]) {
    const got = await rawGet(`${s.url}${path}?action=list&truncation_limit=10`, 500);
    const ids = (got.text.match(/<ID>(\d+)<\/ID>/g) || []).map((x) => Number(/\d+/.exec(x)[0]));
    assert.deepEqual(ids, clean[path].filter((id) => id < bad), `${path}: the hosts before it, then silence`);
    assert.ok(ids.length >= 2, `${path}: some hosts came first`);
    assert.ok(!got.closed && !/<\/RESPONSE>/.test(got.text), `${path}: never ends`);
  }
  // A page without it, and the host list's ID listing (how a client finds out which host it
  // is), are answered as usual.
  const after = await request(`${s.url}${DET}?action=list&truncation_limit=3&id_min=${bad + 1}`);
  assert.equal(hostIdsOf(after.text).length, 3);
  const lookup = await request(`${s.url}${HOSTS}?action=list&details=None&truncation_limit=1&id_min=${m.hostIdAt(3) + 1}`);
  assert.deepEqual(idSetOf(lookup.text), [bad]);
  s.control.setFaults([{ type: 'stall_host', index: 0, endpoint: 'hosts' }]);
  const first = await rawGet(`${s.url}${HOSTS}?action=list&truncation_limit=3`, 300);
  assert.ok(/<DATETIME>/.test(first.text) && !/<HOST>/.test(first.text), 'index 0: the first host stalls at once');
  assert.equal(normaliseFault('slow_page').msPerHost, 1000);
  assert.equal(normaliseFault('slow_page:msPerHost=250').msPerHost, 250);
  assert.equal(normaliseFault('stall_host:hostId=123').hostId, 123);
  assert.throws(() => normaliseFault('stall_host:index=-1'), /index/);
  assert.throws(() => normaliseFault('slow_page:msPerHost=x'), /msPerHost/);
  s.control.clearFaults();
});
