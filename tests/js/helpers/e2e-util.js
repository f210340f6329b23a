'use strict';
// Shared helpers of the end-to-end tests (tests/js/e2e-*.test.js): the single file built into a
// temp dir (shim-util's bundlePath), the Qualys simulator on 127.0.0.1, runs of the single file
// through tools/archer-host.js exactly as Archer runs it, a small parser for the output XML
// fragments, and the expected record sets computed independently from the simulator's data model
// (sim.model), so every run can be compared exactly with what Qualys (the simulator) holds and
// with what it served (sim.log).
//
// Every run also checks that the password never shows up: in log lines, output, the callback's
// arguments, or the simulator's request log.

const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ROOT, bundlePath } = require('./shim-util');
const { startSimulator } = require(path.join(ROOT, 'js-shim', 'simulator'));
const { runArcherScript, runInChild } = require(path.join(ROOT, 'tools', 'archer-host.js'));
const DAY = 86400000;
const USER = 'e2e.user';
// Recognisable, with characters that get encoded (so every form of it can be searched for).
const PASSWORD = 'Qv7!e2e#Secr3t@pw:x';
const SECRET_FORMS = [
  PASSWORD,
  encodeURIComponent(PASSWORD),
  Buffer.from(`${USER}:${PASSWORD}`).toString('base64'),
  Buffer.from(PASSWORD).toString('base64'),
];

const FEEDS = ['kb', 'hosts', 'hostDetections', 'detections'];
const URL_KEY = { kb: 'kbUrl', hosts: 'hostsUrl', hostDetections: 'detectionUrl', detections: 'detectionUrl' };
/** Which simulator endpoint (sim.log entry.endpoint) a data source reads. */
const ENDPOINT = { kb: 'kb', hosts: 'hosts', hostDetections: 'detections', detections: 'detections' };
/** The record element of each data source's output. */
const RECORD = { kb: 'VULN', hosts: 'HOST', hostDetections: 'HOST', detections: 'DETECTION' };
const ROOT_NODE = { kb: 'QUALYS_KB_VULNS', hosts: 'QUALYS_HOSTS', hostDetections: 'QUALYS_DETECTION_HOSTS', detections: 'QUALYS_DETECTIONS' };

/** Starts a quiet simulator (plain HTTP, no limits unless asked, our credentials). */
function startSim(options = {}) {
  return startSimulator(Object.assign({
    quiet: true, https: false, rateLimit: 'off', concurrency: 'off', username: USER, password: PASSWORD,
  }, options));
}

/** The API path of a data source, as an admin would configure it (with <LastRunTime>). */
function apiPath(ds, { version = '2.0', kbDetails = 'All', extraQuery = '' } = {}) {
  let p;
  if (ds === 'kb') p = `/api/${version}/fo/knowledge_base/vuln/?action=list&details=${kbDetails}&last_modified_after=<LastRunTime>`;
  else if (ds === 'hosts') p = `/api/${version}/fo/asset/host/?action=list&details=All&vm_scan_since=<LastRunTime>`;
  else p = `/api/${version}/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>`;
  return p + extraQuery;
}

/** Archer Custom Parameters (strings) for a data source against a simulator. */
function paramsFor(sim, ds, extra = {}, urlOptions = {}) {
  const base = urlOptions.https ? sim.httpsUrl : sim.url;
  const p = {
    dataSource: ds,
    [URL_KEY[ds]]: base + apiPath(ds, urlOptions),
    username: USER,
    password: PASSWORD,
    retryDelaySec: '0',
    requestsPerMin: '10000',
  };
  if (urlOptions.https) p.caCert = sim.caCertPem;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined || v === null) delete p[k];
    else p[k] = String(v);
  }
  return p;
}

// ---- output parsing ---------------------------------------------------------------------------

const ENTITY = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (m, e) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    if (e in ENTITY) return ENTITY[e];
    throw new Error(`unknown entity ${m} in the output`);
  });
}

/**
 * Parses the output (a sequence of sibling XML record fragments) into element nodes
 * {name, attrs, children, text}. Strict: unbalanced tags, CDATA, comments or stray text between
 * records fail, so a malformed output cannot pass unnoticed.
 */
function parseFragments(text) {
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.:-]*="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  const top = [];
  const stack = [];
  let m;
  while ((m = re.exec(text))) {
    if (m[6]) throw new Error(`malformed markup at offset ${m.index}: ${JSON.stringify(text.slice(m.index, m.index + 40))}`);
    if (m[5] !== undefined) {
      if (!stack.length) {
        if (m[5].trim()) throw new Error(`text outside any record at offset ${m.index}: ${JSON.stringify(m[5].slice(0, 40))}`);
        continue;
      }
      stack[stack.length - 1].text += decodeEntities(m[5]);
      continue;
    }
    const [, close, name, attrText, selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`</${name}> does not close ${open ? `<${open.name}>` : 'anything'} at offset ${m.index}`);
      continue;
    }
    const attrs = {};
    for (const a of attrText.matchAll(/([A-Za-z_][\w.:-]*)="([^"]*)"/g)) attrs[a[1]] = decodeEntities(a[2]);
    const node = { name, attrs, children: [], text: '' };
    if (stack.length) stack[stack.length - 1].children.push(node);
    else top.push(node);
    if (!selfClose) stack.push(node);
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1].name}> at the end of the output`);
  return top;
}

/** The first child element of a node with that name (or undefined). */
const child = (node, name) => node && node.children.find((c) => c.name === name);
/** Text of a child element (undefined when absent). */
const textOf = (node, name) => {
  const c = child(node, name);
  return c ? c.text : undefined;
};

/** The key of an output record: QID, host ID, or "hostId:qid". */
function recordKey(ds, rec) {
  if (ds === 'kb') return Number(textOf(rec, 'QID'));
  if (ds === 'detections') return `${textOf(child(rec, 'HOST'), 'ID')}:${textOf(rec, 'QID')}`;
  return Number(textOf(rec, 'ID'));
}

// ---- expected records from the model ----------------------------------------------------------

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const DEFAULT_STATUS = new Set(['New', 'Active', 'Re-Opened']); // Qualys's default: not Fixed

/** Whether detection d passes the detection API's defaults (status, no IGs, not ignored/disabled). */
const detectionDefault = (d) => DEFAULT_STATUS.has(d.status) && d.type !== 'Info' && !d.isIgnored && !d.isDisabled;

/**
 * The records a data source must output for a LastRunTime substitution `sinceMs` (the URL's
 * `<LastRunTime>` value), computed from the model: the expected keys in order and a record
 * lookup {key -> {host?, vuln?, detection?}}. Options: `detections` (a filter replacing the
 * detection API's defaults), `idMin` / `idMax` (an ID window given in the URL).
 */
function expected(model, ds, sinceMs, o = {}) {
  const keys = [];
  const byKey = new Map();
  const passes = o.detections || detectionDefault;
  const inWindow = (id) => (o.idMin === undefined || id >= o.idMin) && (o.idMax === undefined || id <= o.idMax);
  if (ds === 'kb') {
    for (let k = 0; k < model.kbCount; k++) {
      const c = model.vulnCore(k);
      if (c.modMs < sinceMs || !inWindow(c.qid)) continue;
      keys.push(c.qid);
      byKey.set(c.qid, { k });
    }
    return { keys, byKey };
  }
  for (let i = 0; i < model.hostCount; i++) {
    if (model.hostScanMs(i) < sinceMs) continue;
    const id = model.hostIdAt(i);
    if (!inWindow(id)) continue;
    if (ds === 'hosts') {
      keys.push(id);
      byKey.set(id, { i });
      continue;
    }
    const h = model.host(i);
    const dets = model.detections(i, h).filter(passes);
    if (!dets.length) continue;
    if (ds === 'hostDetections') {
      keys.push(id);
      byKey.set(id, { i, host: h });
    } else {
      for (const d of dets) {
        const key = `${id}:${d.qid}`;
        keys.push(key);
        byKey.set(key, { i, host: h, detection: d });
      }
    }
  }
  return { keys, byKey };
}

/**
 * Field-by-field comparison of one output record with the model; returns mismatch texts. With
 * shape 'qualys' (outputShape=qualys) there are no ARCHER_* fields, and for detections `rec` is one
 * DETECTION of the DETECTION_LIST of `host`, the HOST record holding it.
 */
function compareRecord(model, ds, rec, exp, { version = '2.0', shape = 'records', host, showQds = false } = {}) {
  const bad = [];
  const records = shape === 'records';
  const v3 = parseFloat(version) >= 3;
  const v4 = parseFloat(version) >= 4;
  const eq = (what, got, want) => {
    if (got !== want) bad.push(`${ds} ${recordKey(ds, rec)} ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  const opt = (x) => (x === undefined || x === null ? undefined : String(x).trim());
  if (ds === 'kb') {
    const v = model.vuln(exp.k);
    eq('ARCHER_VULN_LINK', textOf(rec, 'ARCHER_VULN_LINK'), records ? String(v.qid) : undefined);
    eq('first child', rec.children[0] && rec.children[0].name, records ? 'ARCHER_VULN_LINK' : 'QID');
    eq('QID', textOf(rec, 'QID'), String(v.qid));
    eq('VULN_TYPE', textOf(rec, 'VULN_TYPE'), v.vulnType);
    eq('SEVERITY_LEVEL', textOf(rec, 'SEVERITY_LEVEL'), String(v.severity));
    eq('TITLE', textOf(rec, 'TITLE'), v.title.trim());
    eq('CATEGORY', textOf(rec, 'CATEGORY'), v.category);
    eq('LAST_SERVICE_MODIFICATION_DATETIME', textOf(rec, 'LAST_SERVICE_MODIFICATION_DATETIME'), iso(v.modMs));
    eq('PUBLISHED_DATETIME', textOf(rec, 'PUBLISHED_DATETIME'), iso(v.publishedMs));
    eq('CVE count', (child(rec, 'CVE_LIST') || { children: [] }).children.length, v.cves ? v.cves.length : 0);
    eq('CVSS_V4/BASE', textOf(child(rec, 'CVSS_V4'), 'BASE'), v4 && v.cvss4 ? v.cvss4.base : undefined);
    eq('PATCH_PUBLISHED_DATE', textOf(rec, 'PATCH_PUBLISHED_DATE'), v4 && v.patchPublishedMs !== undefined ? iso(v.patchPublishedMs) : undefined);
    return bad;
  }
  const hostNode = ds === 'detections' ? (records ? child(rec, 'HOST') : host) : rec;
  const h = exp.host || model.host(exp.i);
  eq('ARCHER_DEVICE_LINK', textOf(rec, 'ARCHER_DEVICE_LINK'), records ? String(h.id) : undefined);
  eq('HOST ID', textOf(hostNode, 'ID'), String(h.id));
  eq('IP', textOf(hostNode, 'IP'), h.ip);
  eq('TRACKING_METHOD', textOf(hostNode, 'TRACKING_METHOD'), h.trackingMethod);
  eq('DNS', textOf(hostNode, 'DNS'), opt(h.dns));
  eq('DNS_DATA/FQDN', textOf(child(hostNode, 'DNS_DATA'), 'FQDN'), opt(h.dns));
  eq('NETBIOS', textOf(hostNode, 'NETBIOS'), opt(h.netbios));
  eq('OS', textOf(hostNode, 'OS'), h.os.trim());
  eq('QG_HOSTID', textOf(hostNode, 'QG_HOSTID'), opt(h.qgHostId));
  eq('LAST_VM_SCANNED_DATE', textOf(hostNode, 'LAST_VM_SCANNED_DATE'), iso(h.scanMs));
  // TruRisk and asset criticality belong to the host list (v3+), not to a detection host.
  eq('TRURISK_SCORE', textOf(hostNode, 'TRURISK_SCORE'), v3 && ds === 'hosts' ? String(h.truriskScore) : undefined);
  eq('ASSET_CRITICALITY_SCORE', textOf(hostNode, 'ASSET_CRITICALITY_SCORE'), v3 && ds === 'hosts' ? String(h.assetCriticalityScore) : undefined);
  if (ds === 'hosts') {
    eq('OWNER', textOf(rec, 'OWNER'), opt(h.owner));
    eq('COMMENTS', textOf(rec, 'COMMENTS'), opt(h.comments));
  }
  if (ds === 'hostDetections' && records) eq('DETECTION_LIST', child(rec, 'DETECTION_LIST'), undefined);
  if (ds === 'detections') {
    const d = exp.detection;
    const names = rec.children.slice(0, 4).map((c) => c.name).join(',');
    const dkey = h.dns
      ? `${h.dns}|${d.qid}|${d.port === undefined ? '' : d.port}|${d.protocol || ''}`
      : `${h.id}|${d.qid}|${d.port === undefined ? '' : d.port}|${d.protocol || ''}|${iso(d.firstFoundMs)}`;
    if (records) {
      eq('first children', names, 'ARCHER_DETECTION_KEY,ARCHER_DEVICE_LINK,ARCHER_VULN_LINK,HOST');
      eq('ARCHER_DETECTION_KEY', textOf(rec, 'ARCHER_DETECTION_KEY'), dkey);
      eq('ARCHER_VULN_LINK', textOf(rec, 'ARCHER_VULN_LINK'), String(d.qid));
    } else {
      eq('ARCHER_* fields', rec.children.filter((c) => c.name.startsWith('ARCHER_')).length, 0);
    }
    eq('QID', textOf(rec, 'QID'), String(d.qid));
    eq('TYPE', textOf(rec, 'TYPE'), d.type);
    eq('SEVERITY', textOf(rec, 'SEVERITY'), String(d.severity));
    eq('STATUS', textOf(rec, 'STATUS'), d.status);
    eq('PORT', textOf(rec, 'PORT'), d.port === undefined ? undefined : String(d.port));
    eq('PROTOCOL', textOf(rec, 'PROTOCOL'), d.protocol);
    eq('FIRST_FOUND_DATETIME', textOf(rec, 'FIRST_FOUND_DATETIME'), iso(d.firstFoundMs));
    eq('TIMES_FOUND', textOf(rec, 'TIMES_FOUND'), String(d.timesFound));
    eq('RESULTS', textOf(rec, 'RESULTS'), opt(d.results));
    eq('UNIQUE_VULN_ID', textOf(rec, 'UNIQUE_VULN_ID'), v3 ? String(d.uniqueVulnId) : undefined);
    // QDS only when the URL asks for it (show_qds=1), in any version.
    eq('QDS', textOf(rec, 'QDS'), showQds && d.qds !== undefined ? String(d.qds) : undefined);
  }
  return bad;
}

/**
 * Asserts that an output holds exactly the expected records: each key once, no other, and the
 * field values of each record equal the model's. Returns the parsed records.
 */
function assertExactOutput(model, ds, text, exp, { version, label = ds, fields = true, showQds = false } = {}) {
  const recs = parseFragments(text);
  const wrong = recs.filter((r) => r.name !== RECORD[ds]);
  assert.equal(wrong.length, 0, `${label}: records other than <${RECORD[ds]}>: ${wrong.slice(0, 3).map((r) => r.name)}`);
  const keys = recs.map((r) => recordKey(ds, r));
  assertSameKeys(keys, exp.keys, label);
  if (fields) {
    const bad = [];
    for (const r of recs) bad.push(...compareRecord(model, ds, r, exp.byKey.get(recordKey(ds, r)), { version, showQds }));
    assert.equal(bad.length, 0, `${label}: ${bad.length} field mismatches, e.g.\n${bad.slice(0, 10).join('\n')}`);
  }
  return recs;
}

/** Asserts a list of keys is exactly a set: no duplicate, nothing missing, nothing extra. */
function assertSameKeys(gotKeys, wantKeys, label) {
  const counts = new Map();
  for (const k of gotKeys) counts.set(k, (counts.get(k) || 0) + 1);
  const dups = [...counts].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`);
  const want = new Set(wantKeys);
  const missing = [...want].filter((k) => !counts.has(k));
  const extra = [...counts.keys()].filter((k) => !want.has(k));
  assert.ok(dups.length === 0 && missing.length === 0 && extra.length === 0,
    `${label}: ${gotKeys.length} records, want ${want.size}; ${dups.length} duplicated (${dups.slice(0, 5)}), ` +
    `${missing.length} missing (${missing.slice(0, 5)}), ${extra.length} unexpected (${extra.slice(0, 5)})`);
}

// ---- the simulator's log ------------------------------------------------------------------------

const lastSeq = (sim) => (sim.log.entries.length ? sim.log.entries[sim.log.entries.length - 1].seq : 0);

/** The record-fetching requests (not the details=None ID listings) among log entries. */
const fetches = (entries, ds) => entries.filter((e) => e.endpoint === ENDPOINT[ds] && e.params.details !== 'None');

/** Keys of the records the simulator served to a data source's record fetches. */
function servedKeys(entries, ds, { complete = true } = {}) {
  const out = [];
  for (const e of fetches(entries, ds)) {
    if (complete && !(e.complete && e.status === 200)) continue;
    const s = e.served;
    if (ds === 'kb') out.push(...s.qids);
    else if (ds === 'detections') for (const [h, q] of s.detections) out.push(`${h}:${q}`);
    else out.push(...s.hostIds);
  }
  return out;
}

/** The largest number of requests in flight at once, from the log's start times and durations. */
function maxOverlap(entries) {
  const ev = [];
  for (const e of entries) {
    const start = Date.parse(e.time);
    ev.push([start, 1], [start + (e.durationMs || 0), -1]);
  }
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // an end before a start at the same ms
  let cur = 0;
  let max = 0;
  for (const [, d] of ev) { cur += d; max = Math.max(max, cur); }
  return max;
}

// ---- running the single file ------------------------------------------------------------------

/** Asserts that no form of the password appears in a text. */
function assertNoSecret(text, label) {
  for (const s of SECRET_FORMS) assert.ok(!String(text).includes(s), `${label}: the password (or a form of it) appears`);
}

/**
 * Runs the single file like Archer: a fresh vm context per run (tools/archer-host.js). Never
 * rejects on a failed feed. Returns runArcherScript's result plus text (all items), lines (log),
 * entries (the simulator's log entries of this run), errText (the failure callback's last line)
 * and previousRunContext (from the callback's second argument). Checks for the password in every
 * log line, the output, both callback arguments and the simulator's log of the run.
 * outputWriter=false: a host without context.OutputWriter (Archer 6.4/6.5); withoutModules: modules
 * the host refuses on top of its mode's list (tools/archer-host.js).
 */
async function runScript(sim, params, { tokens, mode = '6x', timeoutMs = 120000, outputWriter = true, withoutModules } = {}) {
  const since = lastSeq(sim);
  const r = await runArcherScript({ script: bundlePath(), params, tokens, mode, timeoutMs, outputWriter, withoutModules });
  r.text = r.items.join('');
  r.entries = sim.log.since(since);
  r.calls = r.calls || [];
  r.errText = r.err ? (Array.isArray(r.err) ? String(r.err[r.err.length - 1]) : String(r.err.message || r.err)) : null;
  const second = r.calls[0] && r.calls[0][1];
  r.previousRunContext = second && typeof second.previousRunContext === 'string' ? second.previousRunContext : null;
  const label = `${params.dataSource} run (${mode})`;
  assert.equal(r.calls.length, 1, `${label}: callback called ${r.calls.length} times`);
  // OutputWriter gets every chunk as a Buffer of bytes; only an empty run's writeItem("") is text.
  assert.equal(r.bufferItems, r.writeItems - r.items.filter((x) => x === '').length, `${label}: writeItem given Buffers`);
  assertNoSecret(r.logs.join('\n'), `${label} log`);
  assertNoSecret(r.text, `${label} output`);
  assertNoSecret(JSON.stringify(r.calls.map(([e, res]) => [Array.isArray(e) ? e : e && String(e.stack || e), res])), `${label} callback`);
  assertNoSecret(JSON.stringify(r.entries.map((e) => e.toJSON({ served: false }))), `${label} simulator log`);
  return r;
}

/** Asserts a run succeeded, with one clear message when it did not. */
function assertOk(r, label) {
  assert.ok(r.ok, `${label}: the run failed: ${r.errText}\n${r.logs.slice(-8).join('\n')}`);
  assert.equal(r.calls[0][0], null, `${label}: success callback has err=null`);
}

/** Asserts a run failed through callback(err) and did not report success. */
function assertFailed(r, label, codeRe) {
  assert.equal(r.ok, false, `${label}: the run should have failed`);
  assert.equal(r.calls.length, 1, `${label}: exactly one callback`);
  const [err, result] = r.calls[0];
  assert.ok(err !== null && err !== undefined, `${label}: failure callback(err) with err set`);
  assert.ok(!result || result.output === null || result.output === undefined, `${label}: no output reported with a failure`);
  if (codeRe) assert.match(r.errText, codeRe, `${label}: error text`);
  return r.errText;
}

/**
 * Runs the single file in its own process (node tools/archer-host.js ...), so its peak RSS is
 * the transporter's own. Resolves to the host's JSON report plus the output file path. Files go to
 * `dir` (the caller removes it) or to a temp dir removed when the test process exits.
 */
async function runChild(params, { tokens, mode = '6x', dir, name = 'run', timeoutSec = 120 } = {}) {
  let d = dir;
  if (!d) {
    d = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-e2e-'));
    process.on('exit', () => { try { fs.rmSync(d, { recursive: true, force: true }); } catch (e) { /* gone */ } });
  }
  const paramsFile = path.join(d, `${name}.params.json`);
  fs.writeFileSync(paramsFile, JSON.stringify(params));
  let tokensFile;
  if (tokens) {
    tokensFile = path.join(d, `${name}.tokens.json`);
    fs.writeFileSync(tokensFile, JSON.stringify(tokens));
  }
  const run = await runInChild({ script: bundlePath(), paramsFile, tokensFile, out: path.join(d, `${name}.xml`), mode,
    log: path.join(d, `${name}.log`), timeoutSec, execTimeoutMs: (timeoutSec + 30) * 1000 });
  const report = run.report;
  if (!report) throw new Error(`archer-host.js printed no report (${run.err && run.err.message}): ${run.stderr}`);
  report.out = path.join(d, `${name}.xml`);
  report.logFile = path.join(d, `${name}.log`);
  report.dir = d;
  return report;
}

module.exports = {
  ROOT, DAY, USER, PASSWORD, SECRET_FORMS, FEEDS, URL_KEY, ENDPOINT, RECORD, ROOT_NODE,
  startSim, apiPath, paramsFor, parseFragments, child, textOf, recordKey, iso, expected, compareRecord,
  assertExactOutput, assertSameKeys, lastSeq, fetches, servedKeys, maxOverlap, assertNoSecret,
  runScript, assertOk, assertFailed, runChild, bundlePath, detectionDefault,
};
