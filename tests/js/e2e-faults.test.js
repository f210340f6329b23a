'use strict';
// End-to-end: every fault the simulator can inject, for every data source, through the single
// file in a mirrored Archer context. Each run either retries and ends with exactly the records
// the simulator holds (no duplicate, no gap), or fails through callback(err) with a clear error
// code and never reports success. The "fault matrix" test builds the outcome table and checks it
// against README.md's "## Fault outcomes (end-to-end)" section (printing the table when they
// differ), so the README says what the code does. Besides the simulator's faults, two rows change
// the world around the run: a silent proxy (the `proxy` parameter points at a TCP server here that
// accepts and never answers) and a stale checkpoint (a failed run's checkpoint handed to a run whose
// LastRunTime an admin reset).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const net = require('net');
const path = require('path');
const u = require('./helpers/e2e-util');

const FIRST_RUN_SINCE = Date.parse('1970-01-09T00:00:00Z');
const BAD_BYTES_TEXT = '\uFFFD(\uFFFD\uFFFD'; // the simulator's C3 28 FF FE, decoded as WHATWG does
const HUGE_SMALL = 300 * 1024;
const HUGE_BIG = 2 * 1024 * 1024;

/** Where a fault hits: page 3 of a host list / detection chain, or the 2nd KB window (request 3). */
function where(ds) {
  return ds === 'kb' ? { endpoint: 'kb', request: 3 } : { endpoint: u.ENDPOINT[ds], page: 3 };
}

const SIM = { hosts: 30, detectionsPerHost: 3, kb: 60, seed: 5 };
const PARAMS = { batchSize: 7, kbChunkSize: 15, maxRetry: 1, maxRecordMB: 1 };

// The fault matrix: each row is injected once (times: 1) for each data source.
const FAULTS = [
  { row: 'reset (connection reset mid-body)', spec: { type: 'reset', afterBytes: 5000 } },
  { row: 'truncate (200 cut before `</RESPONSE>`)', spec: { type: 'truncate', afterBytes: 5000 } },
  { row: 'http5xx (503 from a proxy)', spec: { type: 'http5xx' } },
  { row: 'generic_return (Qualys internal error 999)', spec: { type: 'generic_return' } },
  { row: 'expired (SIMPLE_RETURN 2001 with HTTP 200)', spec: { type: 'expired' } },
  { row: 'slow (512-byte chunks every 5 ms)', spec: { type: 'slow', chunkBytes: 512, intervalMs: 5 } },
  { row: 'bad_utf8 (C3 28 FF FE in a text field)', spec: { type: 'bad_utf8' } },
  { row: 'huge_record 300 KiB (under maxRecordMB=1)', spec: { type: 'huge_record', bytes: HUGE_SMALL } },
  { row: 'huge_record 2 MiB (over maxRecordMB=1)', spec: { type: 'huge_record', bytes: HUGE_BIG } },
  { row: 'delay 300 ms before the first byte', spec: { type: 'delay', ms: 300 } },
  { row: 'delay 6 s (over requestTimeoutSec=5)', spec: { type: 'delay', ms: 6000 }, params: { requestTimeoutSec: 5 } },
  // Never idle for 5 s, never done: only the whole-response limit (6 x requestTimeoutSec = 30 s) ends it.
  { row: 'drip (1 byte every 2 s, requestTimeoutSec=5)', spec: { type: 'drip', bytes: 1, intervalMs: 2000 }, params: { requestTimeoutSec: 5 } },
  // Paging a hostile server breaks (on the KB, which Qualys does not page, the simulator adds the
  // faulted WARNING 1980 to the window's page).
  { row: 'page_cycle (paging cycle: next page leads back to the first)', spec: { type: 'page_cycle' } },
  { row: 'overlap (duplicate IDs: next page starts 2 records back)', spec: { type: 'overlap', hosts: 2 } },
  { row: 'ignore_window (out-of-window IDs: id_min/id_max ignored)', spec: { type: 'ignore_window' } },
  // Compressed answers (issue #13): the fault answers gzip whether asked or not. Node's fetch can
  // lose its decoder's error at the end of a chunked body: requestTimeoutSec=5 bounds that wait.
  { row: 'gzip_corrupt (gzip stream damaged after 5,000 bytes)', spec: { type: 'gzip_corrupt', afterBytes: 5000 }, params: { requestTimeoutSec: 5 } },
  { row: 'gzip_bomb (2 GiB of spaces in about 2 MB of gzip)', spec: { type: 'gzip_bomb', bytes: 2 * 1024 * 1024 * 1024 } },
  // No simulator fault: every request goes to a proxy that accepts the connection and never answers.
  { row: 'silent proxy (never answers; requestTimeoutSec=5)', silentProxy: true, params: { requestTimeoutSec: 5 } },
  // A first run fails at the fault's page (maxRetry=0) and leaves a checkpoint; the next run gets
  // it together with a LastRunTime the admin reset (a different token than the failed run had).
  { row: 'stale checkpoint (LastRunTime reset after a failed run)', stale: { spec: { type: 'http5xx' }, lastRunTime: '2000-01-01T00:00:00Z' } },
];
const SILENT_PROXY_ROW = FAULTS.find((f) => f.silentProxy).row;

/**
 * Where another host kind's outcome differs from Archer 6.x's by design (README says so under the
 * table): the fetch of Archer 2025 cannot use a proxy, so the run refuses the parameter before any
 * request.
 */
const HOST_KIND_DIFFERENCES = { 2025: { [SILENT_PROXY_ROW]: 'fails: HTTP_OPTION_UNSUPPORTED' } };

/** A proxy on 127.0.0.1 that accepts TCP connections, reads what it is sent and never answers. */
async function silentProxy() {
  const sockets = new Set();
  const seen = { connections: 0, firstBytes: '' };
  const server = net.createServer((s) => {
    seen.connections++;
    sockets.add(s);
    s.on('data', (d) => { if (seen.firstBytes.length < 200) seen.firstBytes += d.toString('latin1').slice(0, 200); });
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    seen,
    /** Resolves to the connections still open once all are closed, or after `ms`. */
    async openAfter(ms) {
      for (const end = Date.now() + ms; sockets.size > 0 && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
      return sockets.size;
    },
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** Warning totals by kind from the run's summary line (Summary.warnings: {checkpoint: 1, ...}). */
function warningTotals(r) {
  return (r.summary && r.summary.warnings) || {};
}

/** Log lines at WARN level matching a pattern. */
const warnLines = (r, re) => r.logs.filter((l) => / :: WARN :: /.test(l) && re.test(l));
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

/**
 * What the run's summary and logs say it skipped or ignored, each checked to come with exactly one
 * warning: duplicates (an ID already written), out-of-window IDs, an ignored checkpoint.
 */
function skippedNotes(r, label) {
  const notes = [];
  const dups = r.summary.duplicatesSkipped;
  const outside = r.summary.outOfWindowSkipped;
  assert.ok(Number.isInteger(dups) && Number.isInteger(outside), `${label}: the summary counts duplicatesSkipped and outOfWindowSkipped`);
  const dupWarnings = warnLines(r, /already written in this run/).length;
  assert.equal(dupWarnings, dups > 0 ? 1 : 0, `${label}: one warning for ${dups} duplicate(s)`);
  if (dups > 0) notes.push(`${plural(dups, 'duplicate', 'duplicates')} skipped + warning`);
  const outWarnings = warnLines(r, /outside the IDs the request asked for/).length;
  assert.equal(outWarnings, outside > 0 ? 1 : 0, `${label}: one warning for ${outside} out-of-window record(s)`);
  if (outside > 0) notes.push(`${outside} out of window skipped + warning`);
  const ignored = warningTotals(r).checkpoint || 0;
  assert.equal(warnLines(r, /PreviousRunContext .*ignored/).length, ignored, `${label}: one warning per ignored checkpoint`);
  assert.ok(ignored <= 1, `${label}: at most one checkpoint warning`);
  if (ignored) notes.push('checkpoint ignored + warning');
  return notes;
}

/** The field a bad_utf8 / huge_record fault lands in, per data source (null: not in the output). */
function injectedField(ds, type, model, key) {
  if (ds === 'hostDetections') return null; // the detection's RESULTS: hostDetections drops DETECTION_LIST
  if (ds === 'hosts') {
    const h = model.host(model.hostIndexOf(key));
    return { name: 'OS', get: (rec) => u.textOf(rec, 'OS'), orig: h.os };
  }
  if (ds === 'kb') {
    const v = model.vuln(model.qidIndexOf(key));
    // details=All: a huge record goes into DIAGNOSIS, bad bytes into TITLE ('Title' when empty)
    return type === 'huge_record'
      ? { name: 'DIAGNOSIS', get: (rec) => u.textOf(rec, 'DIAGNOSIS'), orig: v.diagnosis }
      : { name: 'TITLE', get: (rec) => u.textOf(rec, 'TITLE'), orig: v.title || 'Title' };
  }
  const [hostId, qid] = key.split(':').map(Number);
  const i = model.hostIndexOf(hostId);
  const d = model.detections(i, model.host(i)).find((x) => x.qid === qid);
  return { name: 'RESULTS', get: (rec) => u.textOf(rec, 'RESULTS'), orig: d.results || 'Injected result' };
}

/** The key of the record a bad_utf8 / huge_record fault was injected into (record 1 of the page). */
function injectedKey(ds, entry) {
  if (ds === 'kb') return entry.served.qids[0];
  if (ds === 'detections') {
    const [h, q] = entry.served.detections[0];
    return `${h}:${q}`;
  }
  return entry.served.hostIds[0];
}

/**
 * Checks a run's output against the model, allowing the one field a fault changed on purpose,
 * which is checked on its own. Returns a short note on what the fault did to the output.
 */
function checkOutput(sim, ds, r, exp, spec, faultEntry, label) {
  const recs = u.parseFragments(r.text);
  u.assertSameKeys(recs.map((rec) => u.recordKey(ds, rec)), exp.keys, label);
  const changes = spec.type === 'bad_utf8' || spec.type === 'huge_record';
  const key = changes ? injectedKey(ds, faultEntry) : null;
  const field = changes ? injectedField(ds, spec.type, sim.model, key) : null;
  const bad = [];
  for (const rec of recs) {
    let mism = u.compareRecord(sim.model, ds, rec, exp.byKey.get(u.recordKey(ds, rec)));
    if (field && u.recordKey(ds, rec) === key) {
      mism = mism.filter((m) => !m.includes(` ${field.name}: `));
      const got = field.get(rec);
      if (spec.type === 'bad_utf8') {
        const want = `${field.orig.slice(0, 3)}${BAD_BYTES_TEXT}${field.orig.slice(3)}`.trim();
        if (got !== want) mism.push(`${label}: ${field.name} with bad bytes: got ${JSON.stringify(got.slice(0, 40))}, want ${JSON.stringify(want.slice(0, 40))}`);
      } else if (!(got.startsWith(field.orig.trim().slice(0, 50)) && got.length > HUGE_SMALL - 200 && /huge field line 0\t/.test(got))) {
        mism.push(`${label}: ${field.name} should hold the whole ${HUGE_SMALL}-byte field, got ${got.length} characters`);
      }
    }
    bad.push(...mism);
  }
  assert.equal(bad.length, 0, `${label}: ${bad.length} mismatches, e.g.\n${bad.slice(0, 8).join('\n')}`);
  if (spec.type === 'bad_utf8') {
    assert.ok(r.logs.some((l) => / :: WARN :: .*not valid UTF-8/.test(l)), `${label}: a warning names the invalid UTF-8`);
    return field ? `U+FFFD in ${field.name} + warning` : 'warning (RESULTS not in output)';
  }
  if (spec.type === 'huge_record') return field ? `${field.name} kept whole` : 'RESULTS not in output';
  return '';
}

/**
 * The stale-checkpoint row's first run: it fails at the fault's page without retrying and leaves a
 * checkpoint. Returns the tokens of the next run: that checkpoint and a LastRunTime an admin reset.
 */
async function failedRunTokens(sim, f, ds, mode, label) {
  sim.control.setFaults([{ ...f.stale.spec, ...where(ds), times: 1 }]);
  const first = await u.runScript(sim, u.paramsFor(sim, ds, { ...PARAMS, ...(f.params || {}), maxRetry: 0 }), { mode });
  assert.equal(sim.control.faults()[0].used, 1, `${label}: the first run's fault was injected`);
  u.assertFailed(first, `${label}: first run`, /^[A-Z_0-9]+: .*failed after 1 attempt/);
  assert.ok(u.parseFragments(first.text).length > 0, `${label}: the first run wrote records before failing`);
  assert.match(first.previousRunContext || '', new RegExp(`^qvt2;ds=${ds};`), `${label}: the first run left a checkpoint`);
  sim.control.clearFaults();
  return { LastRunTime: f.stale.lastRunTime, PreviousRunContext: first.previousRunContext, LastFileProcessed: null };
}

/** Runs one fault for one data source (on a host kind); returns the table cell. */
async function faultCell(f, ds, mode = '6x') {
  const sim = await u.startSim(SIM);
  const proxy = f.silentProxy ? await silentProxy() : null;
  try {
    const label = `${f.row} / ${ds} (${mode})`;
    const params = { ...PARAMS, ...(f.params || {}) };
    if (proxy) params.proxy = proxy.url;
    let tokens;
    let since = FIRST_RUN_SINCE;
    if (f.stale) {
      tokens = await failedRunTokens(sim, f, ds, mode, label);
      since = Date.parse(f.stale.lastRunTime) - u.DAY; // lastRunTimeOffset=-1
    }
    if (f.spec) sim.control.setFaults([{ ...f.spec, ...where(ds), times: 1 }]);
    const started = Date.now();
    const r = await u.runScript(sim, u.paramsFor(sim, ds, params), { mode, tokens });
    const seconds = (Date.now() - started) / 1000;
    if (f.spec) assert.equal(sim.control.faults()[0].used, 1, `${label}: the fault was injected`);
    const faultEntry = f.spec ? r.entries.find((e) => e.fault && e.fault.includes(f.spec.type)) || null : null;
    const exp = u.expected(sim.model, ds, since);
    if (proxy) {
      // Nothing reaches Qualys; each attempt (maxRetry + 1) gives up after requestTimeoutSec of
      // silence, unless the host's HTTP client refuses the proxy before sending anything.
      const refused = !r.ok && /^HTTP_OPTION_UNSUPPORTED: /.test(r.errText);
      const attempts = refused ? 0 : params.maxRetry + 1;
      assert.equal(r.entries.length, 0, `${label}: no request reached the simulator`);
      assert.equal(proxy.seen.connections, attempts, `${label}: ${attempts} connection(s) to the proxy`);
      if (attempts) assert.match(proxy.seen.firstBytes, new RegExp(`^(GET|POST) ${sim.url}/api/`), `${label}: the request went to the proxy`);
      const bound = attempts * params.requestTimeoutSec;
      assert.ok(seconds >= bound - 0.5 && seconds <= bound + 10, `${label}: ended after ${seconds} s, want about ${bound} s`);
      // The given-up requests closed their connections, and nothing called back a second time.
      assert.equal(await proxy.openAfter(3000), 0, `${label}: the client closed its connections to the proxy`);
      assert.equal(r.calls.length, 1, `${label}: one callback, also after the connections closed`);
    }
    if (!r.ok) {
      const text = u.assertFailed(r, label, /^[A-Z_]+: /);
      const code = /^([A-Z_]+): /.exec(text)[1];
      // What a failed run wrote before failing is a clean prefix: expected records, none twice,
      // and a checkpoint to resume after them.
      const keys = u.parseFragments(r.text).map((rec) => u.recordKey(ds, rec));
      const want = new Set(exp.keys);
      assert.equal(new Set(keys).size, keys.length, `${label}: no record written twice before failing`);
      assert.ok(keys.every((k) => want.has(k)), `${label}: only expected records written before failing`);
      assert.ok(!r.logs.some((l) => / :: INFO :: done: /.test(l)), `${label}: no "done" line on a failed run`);
      if (keys.length) assert.match(r.previousRunContext || '', new RegExp(`^qvt2;ds=${ds};`), `${label}: a checkpoint after ${keys.length} records`);
      return { cell: `fails: ${code}`, text };
    }
    // Ignored because the token changed (the reason the row is about), not for another reason.
    if (f.stale) assert.equal(warnLines(r, /PreviousRunContext .*LastRunTime.* ignored/).length, 1, `${label}: the warning names the reset LastRunTime`);
    const note = checkOutput(sim, ds, r, exp, f.spec || {}, faultEntry, label);
    const notes = (note ? [note] : []).concat(skippedNotes(r, label));
    const retried = r.summary.retries;
    const cell = [retried > 0 ? 'retried, exact' : 'exact', ...notes].join(', ');
    return { cell, retries: retried };
  } finally {
    await sim.close();
    if (proxy) await proxy.close();
  }
}

// The whole matrix runs at once, each run against its own simulator (most of the time is the
// 6-second delay row); the host-kind test below reuses its 6.x results.
let matrixRun = null;
function matrix() {
  if (!matrixRun) {
    matrixRun = Promise.all(FAULTS.map(async (f) => {
      const cells = await Promise.all(u.FEEDS.map((ds) => faultCell(f, ds)));
      return { row: f.row, cells: cells.map((c) => c.cell) };
    }));
  }
  return matrixRun;
}

// The detections column on the other host kinds (Archer 2025: fetch; a host with Node's http),
// started with the matrix so the slow rows (delay, drip, silent proxy) overlap.
let hostKindRun = null;
function hostKinds() {
  if (!hostKindRun) {
    hostKindRun = Promise.all(['2025', 'node'].flatMap((mode) => FAULTS.map(async (f, n) => [mode, n, (await faultCell(f, 'detections', mode)).cell])));
  }
  return hostKindRun;
}

/** README.md's "## Fault outcomes (end-to-end)" section, or null. */
function readmeSection() {
  const readme = fs.readFileSync(path.join(u.ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Fault outcomes (end-to-end)');
  if (start < 0) return null;
  const end = readme.indexOf('\n## ', start + 5);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The table in README.md's section, as {row -> [cells]}. */
function readmeTable() {
  const section = readmeSection();
  if (section === null) return null;
  const rows = new Map();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 7 || cells[1] === 'fault' || /^-+$/.test(cells[1])) continue;
    rows.set(cells[1], cells.slice(2, 6));
  }
  return rows;
}

test('fault matrix: every fault x every data source retries to an exact output or fails clearly (README table)', { timeout: 90000 }, async (t) => {
  hostKinds().catch(() => {}); // runs alongside; its test reports its outcome
  const table = await matrix();
  const md = ['| fault | kb | hosts | hostDetections | detections |', '|---|---|---|---|---|',
    ...table.map((r) => `| ${r.row} | ${r.cells.join(' | ')} |`)].join('\n');
  for (const line of md.split('\n')) t.diagnostic(line);

  // The outcomes the design promises.
  const byRow = new Map(table.map((r) => [r.row.split(' ')[0] + (r.row.includes('2 MiB') ? '-big' : r.row.includes('6 s') ? '-timeout' : ''), r.cells]));
  for (const kind of ['reset', 'truncate', 'http5xx', 'generic_return', 'delay-timeout', 'drip']) {
    // A KB window is retried from its start: what the cut attempt wrote comes again and is skipped
    // without a warning (the retry's own re-read is no duplicate the server sent).
    assert.ok(byRow.get(kind).every((c) => c === 'retried, exact'), `${kind}: retried, exact everywhere: ${byRow.get(kind)}`);
  }
  for (const kind of ['slow', 'delay', 'bad_utf8', 'huge_record']) {
    assert.ok(byRow.get(kind).every((c) => c.startsWith('exact')), `${kind}: exact without retry: ${byRow.get(kind)}`);
  }
  assert.ok(byRow.get('expired').every((c) => c === 'fails: QUALYS_CREDENTIALS'), `expired: ${byRow.get('expired')}`);
  assert.ok(byRow.get('huge_record-big').every((c) => c === 'fails: RECORD_TOO_LARGE'), `huge 2 MiB: ${byRow.get('huge_record-big')}`);
  // A next page that goes back is refused; overlapping pages write each record once.
  assert.ok(byRow.get('page_cycle').every((c) => c === 'fails: NEXT_PAGE_LOOP'), `page_cycle: ${byRow.get('page_cycle')}`);
  assert.ok(byRow.get('overlap').every((c) => c === 'exact, 2 duplicates skipped + warning'), `overlap: ${byRow.get('overlap')}`);
  // A KB window answered with every QID writes only its own (the other windows write theirs); a
  // host chain's page answered from the start hands back a next page that goes back.
  const [kbWindow, ...chains] = byRow.get('ignore_window');
  assert.equal(kbWindow, `exact, ${SIM.kb - PARAMS.kbChunkSize} out of window skipped + warning`, 'ignore_window / kb');
  assert.ok(chains.every((c) => c === 'fails: NEXT_PAGE_LOOP'), `ignore_window: ${chains}`);
  assert.ok(byRow.get('silent').every((c) => c === 'fails: NETWORK'), `silent proxy: ${byRow.get('silent')}`);
  assert.ok(byRow.get('stale').every((c) => c === 'exact, checkpoint ignored + warning'), `stale checkpoint: ${byRow.get('stale')}`);

  // README.md documents exactly this table.
  const readme = readmeTable();
  assert.ok(readme, `README.md has no "## Fault outcomes (end-to-end)" section; it should hold:\n${md}`);
  for (const r of table) {
    assert.deepEqual(readme.get(r.row), r.cells, `README.md row "${r.row}" differs from the outcome; the table is:\n${md}`);
  }
  assert.equal(readme.size, table.length, `README.md has other rows; the table is:\n${md}`);
});

test('the same fault outcomes on Archer 2025 (fetch) and on a host with Node\'s http (detections)', { timeout: 90000 }, async (t) => {
  const column = u.FEEDS.indexOf('detections');
  const base = (await matrix()).map((r) => r.cells[column]);
  const got = await hostKinds();
  const section = readmeSection() || '';
  for (const [mode, n, cell] of got) {
    const differs = (HOST_KIND_DIFFERENCES[mode] || {})[FAULTS[n].row];
    if (differs) {
      // A documented difference: it is one, and README.md says so under the table.
      assert.notEqual(differs, base[n], `${FAULTS[n].row} on ${mode}: the documented difference differs from 6.x`);
      assert.ok(section.includes(differs.replace(/^fails: /, '')), `README.md's fault section names ${differs} on ${mode}`);
    }
    assert.equal(cell, differs || base[n], `${FAULTS[n].row} on ${mode}: ${differs ? 'the documented difference' : 'the same outcome as on 6.x'}`);
  }
  t.diagnostic(`${FAULTS.length} faults x 3 host kinds: the same outcomes, except the documented ${JSON.stringify(HOST_KIND_DIFFERENCES)}`);
});

test('a page failing more often than maxRetry allows fails the run with a resume checkpoint; maxRetry=2 survives two', { timeout: 90000 }, async (t) => {
  const sim = await u.startSim(SIM);
  t.after(() => sim.close());
  for (const ds of ['hosts', 'detections', 'kb']) {
    const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
    // Two failures in a row on the same page: request 3 (page 3 / the 2nd KB window), then its retry.
    sim.control.reset();
    sim.control.setFaults([
      { type: 'reset', afterBytes: 3000, ...where(ds), times: 1 },
      { type: 'http5xx', status: 502, body: 'text', endpoint: u.ENDPOINT[ds], request: 4, times: 1 },
    ]);
    const one = await u.runScript(sim, u.paramsFor(sim, ds, { ...PARAMS, maxRetry: 1 }));
    const text = u.assertFailed(one, `${ds} maxRetry=1, two failures`, /^NETWORK|^HTTP_|^QUALYS|failed after 2 attempt/);
    assert.match(text, /failed after 2 attempt\(s\) \(maxRetry=1\)/, `${ds}: says how often it tried`);
    assert.match(one.previousRunContext || '', new RegExp(`^qvt2;ds=${ds};`), `${ds}: a failed run leaves a checkpoint`);

    sim.control.reset();
    sim.control.setFaults([
      { type: 'reset', afterBytes: 3000, ...where(ds), times: 1 },
      { type: 'http5xx', status: 502, body: 'text', endpoint: u.ENDPOINT[ds], request: 4, times: 1 },
    ]);
    const two = await u.runScript(sim, u.paramsFor(sim, ds, { ...PARAMS, maxRetry: 2 }));
    u.assertOk(two, `${ds} maxRetry=2, two failures`);
    assert.equal(two.summary.retries, 2, `${ds}: two retries`);
    u.assertExactOutput(sim.model, ds, two.text, exp, { label: `${ds} maxRetry=2` });
  }
});

test('faults on the ID listings (KB details=None, host IDs with concurrency) and on parallel ranges are retried on their own', { timeout: 90000 }, async (t) => {
  const sim = await u.startSim({ ...SIM, concurrency: 4 });
  t.after(() => sim.close());
  const cases = [
    ['kb', {}, [{ type: 'reset', endpoint: 'kb', request: 1, afterBytes: 300, times: 1 }]],
    ['kb', { concurrency: 2 }, [{ type: 'truncate', endpoint: 'kb', request: 3, afterBytes: 4000, times: 1 }, { type: 'generic_return', endpoint: 'kb', request: 4, times: 1 }]],
    ['hosts', { concurrency: 2 }, [{ type: 'reset', endpoint: 'hosts', request: 1, afterBytes: 500, times: 1 }]],
    ['detections', { concurrency: 3 }, [{ type: 'reset', endpoint: 'detections', request: 3, afterBytes: 5000, times: 1 }, { type: 'http5xx', endpoint: 'detections', request: 5, times: 1 }]],
    ['hostDetections', { concurrency: 2 }, [{ type: 'truncate', endpoint: 'detections', request: 2, afterBytes: 4000, times: 1 }]],
  ];
  for (const [ds, extra, faults] of cases) {
    sim.control.reset();
    sim.control.setFaults(faults);
    const label = `${ds} ${JSON.stringify(extra)} ${faults.map((f) => `${f.type}@${f.request}`).join('+')}`;
    const r = await u.runScript(sim, u.paramsFor(sim, ds, { ...PARAMS, maxRetry: 1, ...extra }));
    u.assertOk(r, label);
    assert.ok(sim.control.faults().every((f) => f.used === 1), `${label}: every fault hit`);
    assert.equal(r.summary.retries, faults.length, `${label}: one retry per fault`);
    u.assertExactOutput(sim.model, ds, r.text, u.expected(sim.model, ds, FIRST_RUN_SINCE), { label });
  }
});

test('random faults (seeded): every run is either exact or a clean failure', { timeout: 90000 }, async (t) => {
  const sim = await u.startSim({ hosts: 60, detectionsPerHost: 3, kb: 80, seed: 12 });
  t.after(() => sim.close());
  const outcomes = [];
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    for (const ds of ['detections', 'hosts', 'kb']) {
      sim.control.reset();
      const types = ['reset', 'truncate', 'http5xx', 'generic_return'];
      sim.control.setFaults([{ type: types[seed % 4], endpoint: u.ENDPOINT[ds], probability: 0.45, seed: seed * 7 + ds.length, afterBytes: 1500 + seed * 900 }]);
      const label = `${ds} seed ${seed} (${types[seed % 4]} p=0.45)`;
      const r = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 6, kbChunkSize: 9, maxRetry: 2 }));
      const exp = u.expected(sim.model, ds, FIRST_RUN_SINCE);
      if (r.ok) {
        u.assertExactOutput(sim.model, ds, r.text, exp, { label });
        outcomes.push(`${label}: exact after ${r.summary.retries} retries`);
      } else {
        const text = u.assertFailed(r, label, /failed after 3 attempt\(s\) \(maxRetry=2\)/);
        const keys = u.parseFragments(r.text).map((rec) => u.recordKey(ds, rec));
        assert.equal(new Set(keys).size, keys.length, `${label}: no duplicate before failing`);
        // The next run, with the checkpoint the failed one returned, completes the set exactly.
        // (A run that failed before writing anything has nothing to resume from.)
        assert.ok(r.previousRunContext || keys.length === 0, `${label}: a checkpoint after ${keys.length} records`);
        sim.control.clearFaults();
        const next = await u.runScript(sim, u.paramsFor(sim, ds, { batchSize: 6, kbChunkSize: 9, maxRetry: 2 }),
          { tokens: { LastRunTime: null, PreviousRunContext: r.previousRunContext, LastFileProcessed: null } });
        u.assertOk(next, `${label}: resumed`);
        const union = keys.concat(u.parseFragments(next.text).map((rec) => u.recordKey(ds, rec)));
        u.assertSameKeys(union, exp.keys, `${label}: failed run + resumed run`);
        outcomes.push(`${label}: ${text.slice(0, 60)}...; resumed: ${keys.length} + ${union.length - keys.length} records, exact`);
      }
    }
  }
  for (const o of outcomes) t.diagnostic(o);
  assert.ok(outcomes.some((o) => /exact after [1-9]/.test(o)), 'some runs needed retries');
});
