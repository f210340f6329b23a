'use strict';
// Deterministic Qualys data model. Every record is a pure function of (seed, index) plus the
// "touch" overrides, so any page can be produced without generating the ones before it and
// nothing proportional to the data size is ever held in memory.
const { hash, stream, seedFrom } = require('./prng');
const { IdSpace } = require('./idspace');
const V = require('./vocab');

const DAY = 86400000;
const U32 = 4294967296;
const MIN_PUBLISHED = Date.UTC(1999, 0, 1, 8, 0, 0);

// salts for the different record streams
const S = { HOST_IDS: 1, QIDS: 2, HOST: 101, HOST_TIME: 102, DET_PICK: 201, DET: 301, VULN_CORE: 401, VULN: 402 };

const DEFAULTS = {
  seed: 1,
  hosts: 1000,
  detectionsPerHost: 10,
  detectionsSpread: 0.5,
  kb: 2000,
  dataEnd: '2024-06-01T00:00:00Z',
  scanHistoryDays: 120,
  kbHistoryDays: 1500,
};

function toMs(t, name) {
  if (typeof t === 'number' && Number.isFinite(t)) return t;
  if (t instanceof Date) return t.getTime();
  const ms = Date.parse(String(t));
  if (!Number.isFinite(ms)) throw new Error(`invalid time for ${name}: ${t}`);
  return ms;
}

function uuidFrom(r) {
  const hex = (n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[r.int(0, 15)];
    return s;
  };
  return `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;
}

class Model {
  /**
   * @param {object} [options]
   * @param {number|string} [options.seed=1]
   * @param {number} [options.hosts=1000] number of hosts
   * @param {number} [options.detectionsPerHost=10] mean detections per host (before any filter)
   * @param {number} [options.detectionsSpread=0.5] per-host count is uniform in mean*(1 +- spread); 0 = exact
   * @param {number} [options.kb=2000] number of KnowledgeBase VULNs (QIDs)
   * @param {string|number|Date} [options.dataEnd='2024-06-01T00:00:00Z'] latest generated scan/modification time
   * @param {number} [options.scanHistoryDays=120] host scan dates spread over this many days before dataEnd
   * @param {number} [options.kbHistoryDays=1500] KB modification dates spread over this many days before dataEnd
   */
  constructor(options = {}) {
    const o = { ...DEFAULTS };
    for (const k of Object.keys(DEFAULTS)) if (options[k] !== undefined && options[k] !== null) o[k] = options[k];
    this.options = o;
    this.seed = seedFrom(o.seed);
    this.hostCount = Math.max(0, Math.floor(Number(o.hosts)));
    this.kbCount = Math.max(1, Math.floor(Number(o.kb)));
    this.detectionsPerHost = Math.max(0, Number(o.detectionsPerHost));
    this.detectionsSpread = Math.min(1, Math.max(0, Number(o.detectionsSpread)));
    this.dataEndMs = toMs(o.dataEnd, 'dataEnd');
    this.scanHistoryMs = Number(o.scanHistoryDays) * DAY;
    this.kbHistoryMs = Number(o.kbHistoryDays) * DAY;
    const seed = this.seed;
    this.hostIds = new IdSpace({ seed, salt: S.HOST_IDS, count: this.hostCount,
      start: 10000000 + (hash(seed, 11) % 90000000), blockSize: 5, span: 12 });
    this.qids = new IdSpace({ seed, salt: S.QIDS, count: this.kbCount,
      start: 6 + (hash(seed, 12) % 5000), blockSize: 16, span: 24 });
    /** @type {Map<number, number>} host ID -> touched time (ms) */
    this.touchedHosts = new Map();
    /** @type {Map<number, number>} QID -> touched time (ms) */
    this.touchedQids = new Map();
  }

  // ---- ID helpers -------------------------------------------------------------------------
  hostIdAt(i) { return this.hostIds.idAt(i); }
  hostIndexOf(id) { return this.hostIds.indexOf(id); }
  qidAt(k) { return this.qids.idAt(k); }
  qidIndexOf(q) { return this.qids.indexOf(q); }

  // ---- touch ------------------------------------------------------------------------------
  /**
   * Mark hosts and/or QIDs as modified at a time: a touched host gets LAST_VM_SCANNED_DATE (and
   * the dates derived from it) = at; a touched QID gets LAST_SERVICE_MODIFICATION_DATETIME = at.
   * @param {{hostIds?: number[], qids?: number[], at: string|number|Date}} t
   * @returns {{hosts: number, qids: number, unknownHostIds: number[], unknownQids: number[]}}
   */
  touch(t) {
    const at = toMs(t.at, 'at');
    /** @type {{hosts: number, qids: number, unknownHostIds: number[], unknownQids: number[]}} */
    const out = { hosts: 0, qids: 0, unknownHostIds: [], unknownQids: [] };
    for (const raw of t.hostIds || []) {
      const id = Number(raw);
      if (this.hostIndexOf(id) < 0) { out.unknownHostIds.push(raw); continue; }
      this.touchedHosts.set(id, at); out.hosts++;
    }
    for (const raw of t.qids || []) {
      const q = Number(raw);
      if (this.qidIndexOf(q) < 0) { out.unknownQids.push(raw); continue; }
      this.touchedQids.set(q, at); out.qids++;
    }
    return out;
  }

  clearTouches() { this.touchedHosts.clear(); this.touchedQids.clear(); }

  // ---- hosts ------------------------------------------------------------------------------
  /** LAST_VM_SCANNED_DATE of host i (ms), honouring touches. Cheap: used by filters. */
  hostScanMs(i) {
    const touched = this.touchedHosts.size ? this.touchedHosts.get(this.hostIdAt(i)) : undefined;
    if (touched !== undefined) return touched;
    const h = hash(this.seed, S.HOST_TIME, i);
    return Math.floor((this.dataEndMs - (h / U32) * this.scanHistoryMs) / 1000) * 1000;
  }

  /** Scan duration (s) and processing lag (s) of host i. */
  hostScanExtras(i) {
    const h = hash(this.seed, S.HOST_TIME, i, 1);
    return { durationSec: 30 + (h % 3000), processLagSec: 60 + ((h >>> 12) % 840), lastScanLagSec: 5 + ((h >>> 22) % 120) };
  }

  /** LAST_VM_PROCESSED time (ms) of host i, used by vm_processed_after/before. */
  hostProcessedMs(i) {
    const x = this.hostScanExtras(i);
    return this.hostScanMs(i) + (x.durationSec + x.processLagSec) * 1000;
  }

  /** Number of detections (all statuses) of host i. */
  detectionCount(i) {
    const mean = this.detectionsPerHost;
    let n;
    if (this.detectionsSpread === 0) n = Math.round(mean);
    else {
      const lo = Math.round(mean * (1 - this.detectionsSpread));
      const hi = Math.round(mean * (1 + this.detectionsSpread));
      n = lo + (hash(this.seed, S.HOST, i, 7) % (hi - lo + 1));
    }
    return Math.min(n, this.kbCount);
  }

  /**
   * Host i as a plain object (field values raw, dates in ms). Optional fields are undefined when
   * absent.
   */
  host(i) {
    const id = this.hostIdAt(i);
    const r = stream(hash(this.seed, S.HOST, i));
    const h = { index: i, id };
    const n = i + 1 + (hash(this.seed, 13) % 1000000);
    h.ip = `10.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    h.trackingMethod = r.weighted([[50, 'IP'], [15, 'DNS'], [10, 'NETBIOS'], [25, 'AGENT']]);
    const word = r.pick(V.HOST_WORDS);
    const shortName = `${word}-${String(r.int(1, 999)).padStart(3, '0')}`;
    if (r.chance(0.85) || h.trackingMethod === 'DNS') {
      const domain = r.pick(V.DOMAINS);
      h.dns = `${shortName}.${domain}`;
      h.dnsData = { hostname: shortName, domain, fqdn: h.dns };
    }
    if (r.chance(0.7) || h.trackingMethod === 'NETBIOS') h.netbios = shortName.toUpperCase().slice(0, 15);
    h.os = r.pick(V.OS);
    if (h.trackingMethod === 'AGENT' || r.chance(0.2)) h.qgHostId = uuidFrom(r);
    h.assetId = id * 3 + 17;
    const nTags = r.int(0, 4);
    if (nTags > 0) {
      const start = r.int(0, V.TAGS.length - 1);
      h.tags = [];
      for (let t = 0; t < nTags; t++) {
        const [tagId, name] = V.TAGS[(start + t * 3) % V.TAGS.length];
        h.tags.push({ id: tagId, name });
      }
    }
    h.scanMs = this.hostScanMs(i);
    const x = this.hostScanExtras(i);
    h.scanDurationSec = x.durationSec;
    h.lastScanMs = h.scanMs + x.lastScanLagSec * 1000;
    h.processedMs = h.scanMs + (x.durationSec + x.processLagSec) * 1000;
    if (r.chance(0.5)) {
      h.authScanMs = h.scanMs - r.int(0, 3) * DAY;
      h.authScanDurationSec = r.int(20, 900);
    }
    if (r.chance(0.25)) h.pcScanMs = h.scanMs - r.int(1, 200) * DAY;
    if (r.chance(0.4)) h.owner = r.pick(V.OWNERS);
    if (r.chance(0.2)) h.comments = r.pick(['Decommission after Q3 & migrate to <new> cluster', 'Managed by "Ops"', 'Legacy host']);
    if (r.chance(0.3)) h.assetGroupIds = `${r.int(100000, 999999)},${r.int(100000, 999999)}`;
    h.truriskScore = r.int(0, 1000);
    h.assetCriticalityScore = r.int(1, 5);
    h.touched = this.touchedHosts.size ? this.touchedHosts.has(id) : false;
    return h;
  }

  /** KB index of host i's detection j (ascending in j, distinct). */
  detectionKbIndex(i, j, count) {
    const K = this.kbCount;
    const lo = Math.floor((j * K) / count);
    const hi = Math.floor(((j + 1) * K) / count);
    return lo + (hash(this.seed, S.DET_PICK, i, j) % Math.max(1, hi - lo));
  }

  /**
   * Detection j of host i (QIDs ascending in j). `host` may be passed to avoid recomputing it.
   * @param {number} i @param {number} j @param {object} [host] result of host(i)
   * @param {{results?: boolean}} [opts]
   */
  detection(i, j, host, opts = {}) {
    const count = this.detectionCount(i);
    const k = this.detectionKbIndex(i, j, count);
    const qid = this.qidAt(k);
    const core = this.vulnCore(k);
    const r = stream(hash(this.seed, S.DET, i, j));
    const hostId = this.hostIdAt(i);
    const scanMs = host ? host.scanMs : this.hostScanMs(i);
    const lastScanMs = host ? host.lastScanMs : scanMs + this.hostScanExtras(i).lastScanLagSec * 1000;
    const processedMs = host ? host.processedMs : this.hostProcessedMs(i);
    const d = { hostId, qid, kbIndex: k };
    d.uniqueVulnId = hostId * 4194304 + qid;
    if (core.vulnType === 'Information Gathered') d.type = 'Info';
    else if (core.vulnType === 'Vulnerability') d.type = 'Confirmed';
    else if (core.vulnType === 'Potential Vulnerability') d.type = 'Potential';
    else d.type = r.chance(0.6) ? 'Confirmed' : 'Potential';
    d.severity = core.severity;
    if (r.chance(d.type === 'Info' ? 0.3 : 0.7)) {
      const [port, proto] = r.pick(V.PORTS);
      d.port = port; d.protocol = proto;
    }
    d.ssl = d.port === 443 || d.port === 8443 ? (r.chance(0.8) ? 1 : 0) : 0;
    d.status = d.type === 'Info'
      ? r.weighted([[20, 'New'], [70, 'Active'], [10, 'Fixed']])
      : r.weighted([[12, 'New'], [58, 'Active'], [20, 'Fixed'], [10, 'Re-Opened']]);
    const ageDays = r.int(0, 400);
    if (d.status === 'New') {
      d.firstFoundMs = scanMs; d.lastFoundMs = scanMs; d.timesFound = 1;
    } else if (d.status === 'Fixed') {
      d.firstFoundMs = scanMs - (ageDays + r.int(2, 30)) * DAY;
      d.lastFoundMs = scanMs - r.int(1, 30) * DAY;
      if (d.lastFoundMs < d.firstFoundMs) d.lastFoundMs = d.firstFoundMs;
      d.lastFixedMs = scanMs;
      d.timesFound = r.int(1, 300);
    } else {
      d.firstFoundMs = scanMs - ageDays * DAY - r.int(0, 86399) * 1000;
      d.lastFoundMs = scanMs;
      d.timesFound = r.int(2, 400);
      if (d.status === 'Re-Opened' || r.chance(0.1)) d.lastFixedMs = scanMs - r.int(1, Math.max(1, ageDays)) * DAY;
    }
    if (d.status === 'Re-Opened') {
      d.firstReopenedMs = d.lastFixedMs + r.int(1, 5) * DAY;
      if (d.firstReopenedMs > scanMs) d.firstReopenedMs = scanMs;
      d.lastReopenedMs = scanMs;
      d.timesReopened = r.int(1, 4);
    }
    if (this.touchedHosts.size && this.touchedHosts.has(hostId)) d.timesFound += 1;
    d.lastTestMs = scanMs;
    d.lastUpdateMs = lastScanMs;
    d.lastProcessedMs = processedMs;
    d.isIgnored = r.chance(0.02) ? 1 : 0;
    d.isDisabled = 0;
    if (d.type !== 'Info') {
      d.qds = Math.min(100, Math.max(1, d.severity * 18 + r.int(-15, 12)));
      d.qdsSeverity = d.qds >= 90 ? 'CRITICAL' : d.qds >= 70 ? 'HIGH' : d.qds >= 40 ? 'MEDIUM' : 'LOW';
    }
    if (opts.results !== false && r.chance(0.92)) {
      const product = V.PRODUCTS[k % V.PRODUCTS.length][1];
      const fqdn = host && host.dns ? host.dns : `host-${hostId}.example.com`;
      const tpl = V.RESULT_TEMPLATES[r.weighted(V.RESULT_WEIGHTS)];
      d.results = tpl(r, { product, port: d.port || 0, proto: d.protocol || 'tcp', fqdn });
    }
    return d;
  }

  /**
   * Detections of host i (QID ascending).
   * @param {number} i @param {object} [host] @param {{results?: boolean}} [opts]
   */
  detections(i, host, opts) {
    const n = this.detectionCount(i);
    const out = new Array(n);
    for (let j = 0; j < n; j++) out[j] = this.detection(i, j, host, opts);
    return out;
  }

  // ---- KnowledgeBase ----------------------------------------------------------------------
  /** Cheap KB fields used by filters and detections: {qid, vulnType, severity, modMs, publishedMs}. */
  vulnCore(k) {
    const qid = this.qidAt(k);
    const r = stream(hash(this.seed, S.VULN_CORE, k));
    const vulnType = r.weighted([[55, 'Vulnerability'], [10, 'Potential Vulnerability'],
      [15, 'Vulnerability or Potential Vulnerability'], [20, 'Information Gathered']]);
    const severity = vulnType === 'Information Gathered'
      ? r.weighted([[60, 1], [30, 2], [10, 3]])
      : r.weighted([[10, 1], [20, 2], [35, 3], [25, 4], [10, 5]]);
    let modMs = Math.floor((this.dataEndMs - r.next() * this.kbHistoryMs) / 1000) * 1000;
    let publishedMs = Math.max(MIN_PUBLISHED, Math.floor((modMs - r.next() * 3000 * DAY) / 1000) * 1000);
    const touched = this.touchedQids.size ? this.touchedQids.get(qid) : undefined;
    if (touched !== undefined) { modMs = touched; if (publishedMs > modMs) publishedMs = modMs; }
    return { qid, index: k, vulnType, severity, modMs, publishedMs, patchable: r.chance(0.7) ? 1 : 0 };
  }

  /** Full KB VULN k. */
  vuln(k) {
    const c = this.vulnCore(k);
    const r = stream(hash(this.seed, S.VULN, k));
    /** @type {Record<string, any>} */
    const v = { ...c };
    const [vendor, product, productName] = V.PRODUCTS[k % V.PRODUCTS.length];
    const pubDate = new Date(c.publishedMs);
    const month = V.MONTHS[pubDate.getUTCMonth()];
    const year = pubDate.getUTCFullYear();
    const version = `${r.int(1, 12)}.${r.int(0, 9)}.${r.int(0, 40)}`;
    const isIg = c.vulnType === 'Information Gathered';
    if (isIg) {
      v.title = V.IG_TITLES[k % V.IG_TITLES.length];
      v.category = 'Information gathering';
    } else {
      v.title = `${productName} ${r.pick(V.ISSUES)}`.replace('%M', month).replace('%Y', String(year)).replace('%V', version);
      if (r.chance(0.3)) v.title += ` (${vendor}-sa-${year}-${String(r.int(1, 9999)).padStart(4, '0')})`;
      v.category = r.pick(V.CATEGORIES);
    }
    if (r.chance(0.03)) v.title = ''; // real KB has empty TITLE CDATA now and then
    if (r.chance(0.15)) v.bugtraq = [{ id: String(r.int(1000, 110000)), url: r.chance(0.5) ? '' : undefined }];
    if (r.chance(0.75)) v.software = [{ product: r.chance(0.05) ? '' : product, vendor }];
    if (!isIg && r.chance(0.5)) {
      const ref = `${vendor.toUpperCase()}-${year}-${r.int(100, 9999)}`;
      v.vendorRefs = [{ id: ref, url: `https://security.example.com/advisories/${ref}` }];
    }
    if (!isIg && r.chance(0.7)) {
      v.cves = [];
      const n = r.int(1, 6);
      const base = r.int(1000, 49000);
      for (let t = 0; t < n; t++) {
        const id = `CVE-${year}-${base + t}`;
        v.cves.push({ id, url: r.chance(0.8) ? `http://cve.mitre.org/cgi-bin/cvename.cgi?name=${id}` : undefined });
      }
    }
    const lead = r.pick(V.DIAG_LEADS).replace('%P', productName).replace('%V', version);
    v.diagnosis = `${lead}<P>\n\n<P>QID Detection Logic (Authenticated):<BR>The check matches ${productName} version retrieved via ` +
      `&quot;${product} --version&quot; command. <BR>Affected versions:<BR>\n<UL>\n<LI>${productName} prior to ${version}</LI>\n</UL>`;
    if (!isIg || r.chance(0.5)) {
      v.consequence = r.chance(0.05) ? '' : (isIg ? 'Not  applicable.' :
        ' A successful exploit could allow the attacker to execute commands with elevated privileges or cause a denial of service.<P>');
    }
    if (!isIg || r.chance(0.5)) {
      v.solution = isIg ? 'Not  applicable.' :
        `<P>Customers are advised to upgrade to ${productName} ${version} or later. Refer to ` +
        `<A HREF="https://security.example.com/${vendor}/${product}" TARGET="_blank">${vendor} advisory</A> for more information.\n` +
        '<P>Patch:<BR>\nFollowing are links for downloading patches to fix the vulnerabilities:\n' +
        `<P> <A HREF="https://download.example.com/${product}/${version}" TARGET="_blank">${productName} ${version}</A>`;
    }
    if (v.cves && r.chance(0.4)) {
      v.exploits = [{ src: r.pick(['nvd', 'The Exploit-DB', 'exploitdb', 'Metasploit']),
        list: [{ ref: v.cves[0].id, desc: `${productName} exploit`, link: r.chance(0.5) ? `https://www.exploit-db.com/exploits/${r.int(10000, 52000)}` : undefined }] }];
    }
    if (!isIg && r.chance(0.75)) {
      const b = (r.int(20, 100) / 10);
      v.cvss = { base: b.toFixed(1), temporal: Math.max(0, b - r.int(0, 15) / 10).toFixed(1),
        vector: `CVSS:2.0/AV:N/AC:${r.pick(['L', 'M', 'H'])}/Au:N/C:P/I:P/A:${r.pick(['N', 'P', 'C'])}/E:U/RL:OF/RC:C` };
      if (r.chance(0.5)) v.cvss.baseSource = 'service';
    }
    if (!isIg && r.chance(0.65)) {
      const b = (r.int(31, 100) / 10);
      v.cvss3 = { base: b.toFixed(1), temporal: Math.max(0, b - r.int(0, 12) / 10).toFixed(1),
        vector: `CVSS:3.1/AV:N/AC:L/PR:${r.pick(['N', 'L', 'H'])}/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:C`, version: '3.1' };
    }
    if (!isIg && r.chance(0.5)) {
      const b = (r.int(10, 100) / 10);
      v.cvss4 = { base: b.toFixed(1), threat: Math.max(0, b - r.int(0, 20) / 10).toFixed(1),
        vector: `CVSS:4.0/AV:N/AC:L/AT:N/PR:${r.pick(['N', 'L', 'H'])}/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N` };
    }
    if (c.patchable && !isIg) v.patchPublishedMs = Math.min(c.modMs, c.publishedMs + r.int(0, 60) * DAY);
    v.pciFlag = !isIg && c.severity >= 3 ? 1 : 0;
    if (!isIg && r.chance(0.6)) {
      const n = r.int(1, 4);
      const start = r.int(0, V.THREAT_INTEL.length - 1);
      v.threatIntel = [];
      for (let t = 0; t < n; t++) v.threatIntel.push(V.THREAT_INTEL[(start + t) % V.THREAT_INTEL.length]);
      v.threatIntel.sort((a, b) => a[0] - b[0]);
    }
    v.remote = r.chance(0.7) ? 1 : 0;
    if (r.chance(0.5)) {
      const a = r.int(0, V.AUTH_TYPES.length - 2);
      v.authTypes = V.AUTH_TYPES.slice(a, a + r.int(1, 2));
    }
    if (!isIg && r.chance(0.5)) v.additionalInfo = r.pick(['Patch Available', 'Exploit Available', 'Patch Available, Exploit Available']);
    return v;
  }
}

function createModel(options) { return new Model(options); }

module.exports = { createModel, Model, DEFAULTS, DAY, toMs };
