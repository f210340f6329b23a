'use strict';
// Streaming XML renderers in the shapes of the real Qualys responses (tests/fixtures/real; the API: docs/QUALYS-API.md).
// List renderers are generators yielding string pieces (one record at a time, never a whole
// page) and, for the bad_utf8 fault, Buffer pieces.
const { escapeText: esc, cdata, isoSeconds: dt } = require('./xml');
const { ENDPOINTS } = require('./params');
const { indicesInWindow, hostPasses, detectionPasses, vulnPasses } = require('./select');
const { STALL } = require('./stream');

const EVAL_COMMENT = '<!-- This report was generated with an evaluation version of Qualys //--> \n';
const BAD = '\u0000SIM_BAD_UTF8\u0000';
const HUGE = '\u0000SIM_HUGE\u0000';
const HUGE_CHUNK = 65536;

/**
 * @typedef {object} RenderContext
 * @property {import('./generate').Model} model
 * @property {'kb'|'hosts'|'detections'} endpoint
 * @property {string} version         e.g. "2.0" (from the URL prefix)
 * @property {object} p               interpreted parameters (params.interpretParams)
 * @property {Array<[string,string]>} pairs original parameters in order (for the WARNING URL)
 * @property {string} urlBase         scheme://host:port + request path, for the WARNING URL
 * @property {number} now             DATETIME (ms)
 * @property {string} [dtdHost]       host in DOCTYPE URLs (default qualysapi.qualys.com)
 * @property {number} [keepAliveEvery] keep-alive comment every N records (0 = never)
 * @property {boolean} [evaluationComments] emit the "evaluation version" comments (default true)
 * @property {{type:'bad_utf8'|'huge_record', record?:number, bytes?:number|number[]}} [inject]
 * @property {(kind:'host'|'qid'|'detection', a:number, b?:number)=>void} [mark] called after each record's
 *           closing piece was handed out (host ID / QID / host ID + QID)
 * @property {(nextIdMin:number, url:string)=>void} [onNextPage]
 * @property {(nextIdMin:number)=>string} [nextPageUrl] the WARNING URL instead of the usual one (page_cycle)
 * @property {number} [overlap] the next page's id_min points this many hosts back (overlap fault)
 * @property {string} [idRange] a details=None answer claims this ID_RANGE instead of the real IDs (id_range)
 * @property {boolean} [kbNextPage] a KB list page with records ends with a WARNING 1980 (page_cycle, overlap:
 *           Qualys does not page the KB, a hostile server might)
 * @property {number} [stallHost] a page reaching this host stops before its record (STALL: stall_host)
 */

function versionAtLeast(v, major) { return parseFloat(v) >= major; }

function header(ctx) {
  const e = ENDPOINTS[ctx.endpoint];
  const dtdHost = ctx.dtdHost || 'qualysapi.qualys.com';
  return '<?xml version="1.0" encoding="UTF-8" ?>\n' +
    `<!DOCTYPE ${e.root} SYSTEM "https://${dtdHost}/api/${ctx.version}/${e.dtd}">\n` +
    (ctx.evaluationComments === false ? '' : EVAL_COMMENT) +
    `<${e.root}>\n  <RESPONSE>\n    <DATETIME>${dt(ctx.now)}</DATETIME>\n` +
    `<!-- keep-alive for ${e.root}  -->\n`;
}

function footer(ctx) {
  const e = ENDPOINTS[ctx.endpoint];
  const year = new Date(ctx.now).getUTCFullYear();
  return `  </RESPONSE>\n</${e.root}>\n` + (ctx.evaluationComments === false ? '' : EVAL_COMMENT) +
    '<!-- CONFIDENTIAL AND PROPRIETARY INFORMATION. Qualys provides the QualysGuard Service "As Is," without any ' +
    'warranty of any kind. Qualys makes no warranty that the information contained in this report is complete or ' +
    `error-free. Copyright ${year}, Qualys, Inc. //--> \n`;
}

function keepAlive(ctx) { return `<!-- keep-alive for ${ENDPOINTS[ctx.endpoint].root}  -->\n`; }

/** URL of the next page: all original parameters, id_min replaced by the next ID (appended last). */
function nextPageUrl(ctx, nextId) {
  const enc = (s) => encodeURIComponent(s).replace(/%2C/gi, ',').replace(/%3A/gi, ':');
  const parts = ctx.pairs.filter(([k]) => k !== 'id_min').map(([k, v]) => `${enc(k)}=${enc(v)}`);
  parts.push(`id_min=${nextId}`);
  return `${ctx.urlBase}?${parts.join('&')}`;
}

/** A URL from a base and parameters, encoded as nextPageUrl encodes them. */
function urlFromPairs(urlBase, pairs) {
  const enc = (x) => encodeURIComponent(x).replace(/%2C/gi, ',').replace(/%3A/gi, ':');
  return `${urlBase}?${pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}`;
}

function warning(ctx, limit, nextId) {
  const url = ctx.nextPageUrl ? ctx.nextPageUrl(nextId) : nextPageUrl(ctx, nextId);
  if (ctx.onNextPage) ctx.onNextPage(nextId, url);
  return '    <WARNING>\n      <CODE>1980</CODE>\n' +
    `      <TEXT>${limit} record limit exceeded. Use URL to get next batch of results.</TEXT>\n` +
    `      <URL>${cdata(url)}</URL>\n    </WARNING>\n`;
}

/** Yield a record string; only the injected record contains sentinels and is split. */
function* emitRecord(s, ctx) {
  if (!ctx.inject || (s.indexOf(BAD) === -1 && s.indexOf(HUGE) === -1)) { yield s; return; }
  const re = new RegExp(`(${BAD}|${HUGE})`);
  for (const part of s.split(re)) {
    if (part === BAD) {
      const bytes = ctx.inject.bytes || [0xc3, 0x28, 0xff, 0xfe];
      yield Buffer.from(Array.isArray(bytes) ? bytes : [bytes]);
    } else if (part === HUGE) {
      let left = Math.max(1, Math.floor(ctx.inject.bytes || 5 * 1024 * 1024));
      let line = 0;
      while (left > 0) {
        let chunk = '';
        while (chunk.length < HUGE_CHUNK && chunk.length < left) {
          chunk += `huge field line ${line++}\tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n`;
        }
        if (chunk.length > left) chunk = chunk.slice(0, left);
        left -= chunk.length;
        yield chunk;
      }
    } else if (part) yield part;
  }
}

function injectionFor(ctx, recordNo) {
  const inj = ctx.inject;
  if (!inj || (inj.record || 1) !== recordNo) return undefined;
  if (inj.type === 'bad_utf8') return BAD;
  if (inj.type === 'huge_record') return HUGE;
  return undefined;
}

/** Text for a CDATA field carrying an injection sentinel (sentinel survives cdata()). */
function withInj(text, inj) {
  if (!inj) return text;
  return inj === BAD ? `${text.slice(0, 3)}${BAD}${text.slice(3)}` : `${text}\n${HUGE}`;
}

/**
 * The next page's first ID: the first one not on the page, or with the overlap fault the host
 * `ctx.overlap` places back (the first of the page when it has fewer).
 */
function backTracker(ctx) {
  const n = ctx.overlap || 0;
  const recent = [];
  return {
    push(id) {
      if (!n) return;
      recent.push(id);
      if (recent.length > n) recent.shift();
    },
    next(id) { return n && recent.length ? recent[0] : id; },
  };
}

/** The ID_SET of the id_range fault: one ID_RANGE, whatever the data holds. */
function claimedIdSet(ctx) {
  return `    <ID_SET>\n      <ID_RANGE>${esc(ctx.idRange)}</ID_RANGE>\n    </ID_SET>\n`;
}

// ---- ID_SET --------------------------------------------------------------------------------
function* idSet(ctx, space, ids, limit, kind) {
  // ids: iterator of indices; groups consecutive IDs into ID_RANGE like Qualys
  let count = 0;
  let runStart = null;
  let runEnd = null;
  let open = false;
  let buf = '';
  const flushRun = () => {
    if (runStart === null) return;
    buf += runStart === runEnd ? `      <ID>${runStart}</ID>\n` : `      <ID_RANGE>${runStart}-${runEnd}</ID_RANGE>\n`;
  };
  let nextId = null;
  const back = backTracker(ctx);
  for (const i of ids) {
    const id = space.idAt(i);
    if (limit > 0 && count >= limit) { nextId = back.next(id); break; }
    back.push(id);
    if (!open) { yield '    <ID_SET>\n'; open = true; }
    if (runStart !== null && id === runEnd + 1) runEnd = id;
    else { flushRun(); runStart = id; runEnd = id; }
    count++;
    if (ctx.mark) ctx.mark(kind, id);
    if (buf.length > 16384) { yield buf; buf = ''; }
  }
  flushRun();
  if (buf) yield buf;
  if (open) yield '    </ID_SET>\n';
  if (nextId !== null) yield warning(ctx, limit, nextId);
}

// ---- host list -----------------------------------------------------------------------------
function hostTags(h, ind) {
  if (!h.tags) return '';
  let s = `${ind}<TAGS>\n`;
  for (const t of h.tags) {
    s += `${ind}  <TAG>\n${ind}    <TAG_ID>${t.id}</TAG_ID>\n${ind}    <NAME>${cdata(t.name)}</NAME>\n${ind}  </TAG>\n`;
  }
  return s + `${ind}</TAGS>\n`;
}

function dnsBlock(h, ind) {
  if (!h.dns) return '';
  return `${ind}<DNS>${cdata(h.dns)}</DNS>\n${ind}<DNS_DATA>\n` +
    `${ind}  <HOSTNAME>${cdata(h.dnsData.hostname)}</HOSTNAME>\n${ind}  <DOMAIN>${cdata(h.dnsData.domain)}</DOMAIN>\n` +
    `${ind}  <FQDN>${cdata(h.dnsData.fqdn)}</FQDN>\n${ind}</DNS_DATA>\n`;
}

function hostListRecord(h, ctx, inj) {
  const p = ctx.p;
  const I = '        ';
  const all = p.details === 'All' || p.details === 'All/AGs';
  let s = `      <HOST>\n${I}<ID>${h.id}</ID>\n`;
  if (p.show_asset_id) s += `${I}<ASSET_ID>${h.assetId}</ASSET_ID>\n`;
  s += `${I}<IP>${h.ip}</IP>\n${I}<TRACKING_METHOD>${h.trackingMethod}</TRACKING_METHOD>\n`;
  s += dnsBlock(h, I);
  if (h.netbios) s += `${I}<NETBIOS>${cdata(h.netbios)}</NETBIOS>\n`;
  s += `${I}<OS>${cdata(withInj(h.os, inj))}</OS>\n`;
  if (h.qgHostId) s += `${I}<QG_HOSTID>${cdata(h.qgHostId)}</QG_HOSTID>\n`;
  if (p.show_tags) s += hostTags(h, I);
  if (versionAtLeast(ctx.version, 3)) {
    s += `${I}<TRURISK_SCORE>${h.truriskScore}</TRURISK_SCORE>\n${I}<ASSET_CRITICALITY_SCORE>${h.assetCriticalityScore}</ASSET_CRITICALITY_SCORE>\n`;
  }
  if (all) {
    s += `${I}<LAST_VULN_SCAN_DATETIME>${dt(h.lastScanMs)}</LAST_VULN_SCAN_DATETIME>\n` +
      `${I}<LAST_VM_SCANNED_DATE>${dt(h.scanMs)}</LAST_VM_SCANNED_DATE>\n` +
      `${I}<LAST_VM_SCANNED_DURATION>${h.scanDurationSec}</LAST_VM_SCANNED_DURATION>\n`;
    if (h.authScanMs !== undefined) {
      s += `${I}<LAST_VM_AUTH_SCANNED_DATE>${dt(h.authScanMs)}</LAST_VM_AUTH_SCANNED_DATE>\n` +
        `${I}<LAST_VM_AUTH_SCANNED_DURATION>${h.authScanDurationSec}</LAST_VM_AUTH_SCANNED_DURATION>\n`;
    }
    if (h.pcScanMs !== undefined) s += `${I}<LAST_COMPLIANCE_SCAN_DATETIME>${dt(h.pcScanMs)}</LAST_COMPLIANCE_SCAN_DATETIME>\n`;
    if (h.owner) s += `${I}<OWNER>${esc(h.owner)}</OWNER>\n`;
    if (h.comments) s += `${I}<COMMENTS>${cdata(h.comments)}</COMMENTS>\n`;
  }
  if ((p.details === 'Basic/AGs' || p.details === 'All/AGs') && h.assetGroupIds) {
    s += `${I}<ASSET_GROUP_IDS>${h.assetGroupIds}</ASSET_GROUP_IDS>\n`;
  }
  return s + '      </HOST>\n';
}

function* renderHostList(ctx) {
  const { model, p } = ctx;
  const limit = p.truncation_limit;
  yield header(ctx);
  const candidates = indicesInWindow(model.hostIds, p);
  if (p.details === 'None') {
    if (ctx.idRange !== undefined) {
      yield claimedIdSet(ctx);
      yield footer(ctx);
      return;
    }
    const filtered = (function* () { for (const i of candidates) if (hostPasses(model, i, p)) yield i; })();
    yield* idSet(ctx, model.hostIds, filtered, limit, 'host');
    yield footer(ctx);
    return;
  }
  let count = 0;
  let open = false;
  const every = ctx.keepAliveEvery || 0;
  const back = backTracker(ctx);
  for (const i of candidates) {
    if (!hostPasses(model, i, p)) continue;
    if (limit > 0 && count >= limit) {
      yield '    </HOST_LIST>\n';
      yield warning(ctx, limit, back.next(model.hostIdAt(i)));
      yield footer(ctx);
      return;
    }
    if (model.hostIdAt(i) === ctx.stallHost) { yield STALL; return; }
    if (!open) { yield '    <HOST_LIST>\n'; open = true; }
    count++;
    const h = model.host(i);
    back.push(h.id);
    yield* emitRecord(hostListRecord(h, ctx, injectionFor(ctx, count)), ctx);
    if (ctx.mark) ctx.mark('host', h.id);
    if (every > 0 && count % every === 0) yield keepAlive(ctx);
  }
  if (open) yield '    </HOST_LIST>\n';
  yield footer(ctx);
}

// ---- detections ----------------------------------------------------------------------------
function detectionHostHead(h, ctx) {
  const p = ctx.p;
  const I = '        ';
  let s = `      <HOST>\n${I}<ID>${h.id}</ID>\n`;
  if (p.show_asset_id) s += `${I}<ASSET_ID>${h.assetId}</ASSET_ID>\n`;
  s += `${I}<IP>${h.ip}</IP>\n${I}<TRACKING_METHOD>${h.trackingMethod}</TRACKING_METHOD>\n`;
  s += `${I}<OS>${cdata(h.os)}</OS>\n`;
  s += dnsBlock(h, I);
  if (h.netbios) s += `${I}<NETBIOS>${cdata(h.netbios)}</NETBIOS>\n`;
  if (h.qgHostId) s += `${I}<QG_HOSTID>${cdata(h.qgHostId)}</QG_HOSTID>\n`;
  // No TRURISK_SCORE / ASSET_CRITICALITY_SCORE here: they belong to the host list (docs/QUALYS-API.md).
  s += `${I}<LAST_SCAN_DATETIME>${dt(h.lastScanMs)}</LAST_SCAN_DATETIME>\n` +
    `${I}<LAST_VM_SCANNED_DATE>${dt(h.scanMs)}</LAST_VM_SCANNED_DATE>\n` +
    `${I}<LAST_VM_SCANNED_DURATION>${h.scanDurationSec}</LAST_VM_SCANNED_DURATION>\n`;
  if (h.authScanMs !== undefined) {
    s += `${I}<LAST_VM_AUTH_SCANNED_DATE>${dt(h.authScanMs)}</LAST_VM_AUTH_SCANNED_DATE>\n` +
      `${I}<LAST_VM_AUTH_SCANNED_DURATION>${h.authScanDurationSec}</LAST_VM_AUTH_SCANNED_DURATION>\n`;
  }
  if (h.pcScanMs !== undefined) s += `${I}<LAST_PC_SCANNED_DATE>${dt(h.pcScanMs)}</LAST_PC_SCANNED_DATE>\n`;
  if (p.show_tags) s += hostTags(h, I);
  return s + `${I}<DETECTION_LIST>\n`;
}

function detectionRecord(d, ctx, inj) {
  const p = ctx.p;
  const I = '            ';
  const v3 = versionAtLeast(ctx.version, 3);
  let s = `          <DETECTION>\n`;
  if (v3) s += `${I}<UNIQUE_VULN_ID>${d.uniqueVulnId}</UNIQUE_VULN_ID>\n`;
  s += `${I}<QID>${d.qid}</QID>\n${I}<TYPE>${d.type}</TYPE>\n${I}<SEVERITY>${d.severity}</SEVERITY>\n`;
  if (d.port !== undefined) s += `${I}<PORT>${d.port}</PORT>\n${I}<PROTOCOL>${d.protocol}</PROTOCOL>\n`;
  s += `${I}<SSL>${d.ssl}</SSL>\n`;
  if (inj) s += `${I}<RESULTS>${cdata(withInj(d.results || 'Injected result', inj))}</RESULTS>\n`;
  else if (p.show_results && d.results !== undefined) s += `${I}<RESULTS>${cdata(d.results)}</RESULTS>\n`;
  s += `${I}<STATUS>${d.status}</STATUS>\n`;
  if (p.show_reopened_info && d.firstReopenedMs !== undefined) {
    s += `${I}<FIRST_REOPENED_DATETIME>${dt(d.firstReopenedMs)}</FIRST_REOPENED_DATETIME>\n` +
      `${I}<LAST_REOPENED_DATETIME>${dt(d.lastReopenedMs)}</LAST_REOPENED_DATETIME>\n` +
      `${I}<TIMES_REOPENED>${d.timesReopened}</TIMES_REOPENED>\n`;
  }
  s += `${I}<FIRST_FOUND_DATETIME>${dt(d.firstFoundMs)}</FIRST_FOUND_DATETIME>\n` +
    `${I}<LAST_FOUND_DATETIME>${dt(d.lastFoundMs)}</LAST_FOUND_DATETIME>\n`;
  // QDS only with show_qds=1, its factors only with show_qds_factors=1, in any version.
  if (d.qds !== undefined && p.show_qds) s += `${I}<QDS severity="${d.qdsSeverity}">${d.qds}</QDS>\n`;
  if (d.qds !== undefined && p.show_qds_factors) s += qdsFactors(d, I);
  s += `${I}<TIMES_FOUND>${d.timesFound}</TIMES_FOUND>\n` +
    `${I}<LAST_TEST_DATETIME>${dt(d.lastTestMs)}</LAST_TEST_DATETIME>\n` +
    `${I}<LAST_UPDATE_DATETIME>${dt(d.lastUpdateMs)}</LAST_UPDATE_DATETIME>\n`;
  if (d.lastFixedMs !== undefined) s += `${I}<LAST_FIXED_DATETIME>${dt(d.lastFixedMs)}</LAST_FIXED_DATETIME>\n`;
  s += `${I}<IS_IGNORED>${d.isIgnored}</IS_IGNORED>\n${I}<IS_DISABLED>${d.isDisabled}</IS_DISABLED>\n` +
    `${I}<LAST_PROCESSED_DATETIME>${dt(d.lastProcessedMs)}</LAST_PROCESSED_DATETIME>\n          </DETECTION>\n`;
  return s;
}

/**
 * QDS_FACTORS of a detection with a QDS, derived from its fields (no draw from the model's
 * generator: the model stays the same whatever the request asks for).
 */
function qdsFactors(d, I) {
  const factors = [
    ['CVSS', (Math.min(10, d.severity * 2) - 0.1).toFixed(1)],
    ['CVSS_version', 'v3.x'],
    ['epss', (d.qds / 1000).toFixed(5)],
    ['RTI', d.qds >= 70 ? 'Easy_Exploit,High_Lateral_Movement' : 'Denial_of_Service'],
  ];
  let s = `${I}<QDS_FACTORS>\n`;
  for (const [name, value] of factors) s += `${I}  <QDS_FACTOR name="${name}">${cdata(value)}</QDS_FACTOR>\n`;
  return s + `${I}</QDS_FACTORS>\n`;
}

/** Matching detections of host i (array, possibly empty). */
function hostDetections(model, i, h, p, withResults) {
  const n = model.detectionCount(i);
  const out = [];
  for (let j = 0; j < n; j++) {
    const d = model.detection(i, j, h, { results: withResults });
    if (detectionPasses(d, p)) out.push(d);
  }
  return out;
}

function* renderDetections(ctx) {
  const { model, p } = ctx;
  const limit = p.truncation_limit;
  const every = ctx.keepAliveEvery || 0;
  yield header(ctx);
  let count = 0;
  let open = false;
  const back = backTracker(ctx);
  for (const i of indicesInWindow(model.hostIds, p)) {
    if (!hostPasses(model, i, p)) continue;
    const h = model.host(i);
    const injNext = injectionFor(ctx, count + 1);
    const dets = hostDetections(model, i, h, p, p.show_results || Boolean(injNext));
    if (dets.length === 0) continue;
    if (limit > 0 && count >= limit) {
      yield '    </HOST_LIST>\n';
      yield warning(ctx, limit, back.next(h.id));
      yield footer(ctx);
      return;
    }
    if (h.id === ctx.stallHost) { yield STALL; return; }
    if (!open) { yield '    <HOST_LIST>\n'; open = true; }
    count++;
    back.push(h.id);
    let piece = detectionHostHead(h, ctx);
    for (let j = 0; j < dets.length; j++) {
      const d = dets[j];
      const inj = j === 0 ? injNext : undefined;
      if (inj) { yield piece; piece = ''; yield* emitRecord(detectionRecord(d, ctx, inj), ctx); } else {
        piece += detectionRecord(d, ctx);
        if (piece.length > 32768) { yield piece; piece = ''; }
      }
    }
    piece += '        </DETECTION_LIST>\n      </HOST>\n';
    yield piece;
    if (ctx.mark) {
      for (const d of dets) ctx.mark('detection', h.id, d.qid);
      ctx.mark('host', h.id);
    }
    if (every > 0 && count % every === 0) yield keepAlive(ctx);
  }
  if (open) yield '    </HOST_LIST>\n';
  yield footer(ctx);
}

// ---- KnowledgeBase -------------------------------------------------------------------------
function idUrlList(listTag, itemTag, items, I) {
  let s = `${I}<${listTag}>\n`;
  for (const it of items) {
    s += `${I}  <${itemTag}>\n${I}    <ID>${cdata(it.id)}</ID>\n`;
    if (it.url !== undefined) s += `${I}    <URL>${cdata(it.url)}</URL>\n`;
    s += `${I}  </${itemTag}>\n`;
  }
  return s + `${I}</${listTag}>\n`;
}

function vulnRecord(v, ctx, inj) {
  const p = ctx.p;
  const I = '        ';
  const all = p.details === 'All';
  const v4 = versionAtLeast(ctx.version, 4);
  let s = `      <VULN>\n${I}<QID>${v.qid}</QID>\n${I}<VULN_TYPE>${v.vulnType}</VULN_TYPE>\n` +
    `${I}<SEVERITY_LEVEL>${v.severity}</SEVERITY_LEVEL>\n` +
    `${I}<TITLE>${cdata(inj === BAD || (inj === HUGE && !all) ? withInj(v.title || 'Title', inj) : v.title)}</TITLE>\n` +
    `${I}<CATEGORY>${esc(v.category)}</CATEGORY>\n` +
    `${I}<LAST_SERVICE_MODIFICATION_DATETIME>${dt(v.modMs)}</LAST_SERVICE_MODIFICATION_DATETIME>\n` +
    `${I}<PUBLISHED_DATETIME>${dt(v.publishedMs)}</PUBLISHED_DATETIME>\n`;
  if (v4 && v.patchPublishedMs !== undefined) s += `${I}<PATCH_PUBLISHED_DATE>${dt(v.patchPublishedMs)}</PATCH_PUBLISHED_DATE>\n`;
  if (v.bugtraq) s += idUrlList('BUGTRAQ_LIST', 'BUGTRAQ', v.bugtraq, I);
  s += `${I}<PATCHABLE>${v.patchable}</PATCHABLE>\n`;
  if (v.software) {
    s += `${I}<SOFTWARE_LIST>\n`;
    for (const sw of v.software) {
      s += `${I}  <SOFTWARE>\n${I}    <PRODUCT>${cdata(sw.product)}</PRODUCT>\n${I}    <VENDOR>${cdata(sw.vendor)}</VENDOR>\n${I}  </SOFTWARE>\n`;
    }
    s += `${I}</SOFTWARE_LIST>\n`;
  }
  if (v.vendorRefs) s += idUrlList('VENDOR_REFERENCE_LIST', 'VENDOR_REFERENCE', v.vendorRefs, I);
  if (v.cves) s += idUrlList('CVE_LIST', 'CVE', v.cves, I);
  if (all) {
    s += `${I}<DIAGNOSIS>${cdata(inj === HUGE && all ? withInj(v.diagnosis, inj) : v.diagnosis)}</DIAGNOSIS>\n`;
    if (v.consequence !== undefined) s += `${I}<CONSEQUENCE>${cdata(v.consequence)}</CONSEQUENCE>\n`;
    if (v.solution !== undefined) s += `${I}<SOLUTION>${cdata(v.solution)}</SOLUTION>\n`;
    if (v.exploits) {
      s += `${I}<CORRELATION>\n${I}  <EXPLOITS>\n`;
      for (const src of v.exploits) {
        s += `${I}    <EXPLT_SRC>\n${I}      <SRC_NAME>${cdata(src.src)}</SRC_NAME>\n${I}      <EXPLT_LIST>\n`;
        for (const e of src.list) {
          s += `${I}        <EXPLT>\n${I}          <REF>${cdata(e.ref)}</REF>\n${I}          <DESC>${cdata(e.desc)}</DESC>\n`;
          if (e.link !== undefined) s += `${I}          <LINK>${cdata(e.link)}</LINK>\n`;
          s += `${I}        </EXPLT>\n`;
        }
        s += `${I}      </EXPLT_LIST>\n${I}    </EXPLT_SRC>\n`;
      }
      s += `${I}  </EXPLOITS>\n${I}</CORRELATION>\n`;
    }
  }
  if (v.cvss) {
    s += `${I}<CVSS>\n${I}  <BASE${v.cvss.baseSource ? ` source="${v.cvss.baseSource}"` : ''}>${v.cvss.base}</BASE>\n` +
      `${I}  <TEMPORAL>${v.cvss.temporal}</TEMPORAL>\n${I}  <VECTOR_STRING>${v.cvss.vector}</VECTOR_STRING>\n${I}</CVSS>\n`;
  }
  if (v.cvss3) {
    s += `${I}<CVSS_V3>\n${I}  <BASE>${v.cvss3.base}</BASE>\n${I}  <TEMPORAL>${v.cvss3.temporal}</TEMPORAL>\n` +
      `${I}  <VECTOR_STRING>${v.cvss3.vector}</VECTOR_STRING>\n${I}  <CVSS3_VERSION>${v.cvss3.version}</CVSS3_VERSION>\n${I}</CVSS_V3>\n`;
  }
  if (v4 && v.cvss4) {
    s += `${I}<CVSS_V4>\n${I}  <BASE>${v.cvss4.base}</BASE>\n${I}  <THREAT>${v.cvss4.threat}</THREAT>\n` +
      `${I}  <VECTOR_STRING>${v.cvss4.vector}</VECTOR_STRING>\n${I}</CVSS_V4>\n`;
  }
  s += `${I}<PCI_FLAG>${v.pciFlag}</PCI_FLAG>\n`;
  if (all && v.threatIntel) {
    s += `${I}<THREAT_INTELLIGENCE>\n`;
    for (const [id, name] of v.threatIntel) s += `${I}  <THREAT_INTEL id="${id}">${cdata(name)}</THREAT_INTEL>\n`;
    s += `${I}</THREAT_INTELLIGENCE>\n`;
  }
  s += `${I}<DISCOVERY>\n${I}  <REMOTE>${v.remote}</REMOTE>\n`;
  if (v.authTypes) {
    s += `${I}  <AUTH_TYPE_LIST>\n`;
    for (const a of v.authTypes) s += `${I}    <AUTH_TYPE>${a}</AUTH_TYPE>\n`;
    s += `${I}  </AUTH_TYPE_LIST>\n`;
  }
  if (v.additionalInfo) s += `${I}  <ADDITIONAL_INFO>${esc(v.additionalInfo)}</ADDITIONAL_INFO>\n`;
  return s + `${I}</DISCOVERY>\n      </VULN>\n`;
}

function* renderKb(ctx) {
  const { model, p } = ctx;
  yield header(ctx);
  const candidates = indicesInWindow(model.qids, p);
  if (p.details === 'None') {
    if (ctx.idRange !== undefined) {
      yield claimedIdSet(ctx);
      yield footer(ctx);
      return;
    }
    const filtered = (function* () { for (const k of candidates) if (vulnPasses(model.vulnCore(k), p)) yield k; })();
    yield* idSet(ctx, model.qids, filtered, 0, 'qid');
    yield footer(ctx);
    return;
  }
  let count = 0;
  let open = false;
  let last = 0;
  const every = ctx.keepAliveEvery || 0;
  const back = backTracker(ctx);
  for (const k of candidates) {
    if (!vulnPasses(model.vulnCore(k), p)) continue;
    if (!open) { yield '    <VULN_LIST>\n'; open = true; }
    count++;
    const v = model.vuln(k);
    yield* emitRecord(vulnRecord(v, ctx, injectionFor(ctx, count)), ctx);
    if (ctx.mark) ctx.mark('qid', v.qid);
    back.push(v.qid);
    last = v.qid;
    if (every > 0 && count % every === 0) yield keepAlive(ctx);
  }
  if (open) yield '    </VULN_LIST>\n';
  // page_cycle / overlap: the next-page WARNING a hostile server would add (the URL is the
  // fault's: back to the chain's first page, or starting `overlap` records back).
  if (ctx.kbNextPage && count > 0) yield warning(ctx, count, back.next(last + 1));
  yield footer(ctx);
}

/** How many hosts the page `ctx` asks for holds (a dry run of its renderer; slow_page). */
function pageHosts(ctx) {
  let n = 0;
  const dry = { ...ctx, inject: undefined, stallHost: undefined, onNextPage: () => {}, mark: (kind) => { if (kind === 'host') n++; } };
  for (const piece of renderList(dry)) void piece;
  return n;
}

/** Generator of the body pieces of a list response. */
function renderList(ctx) {
  if (ctx.endpoint === 'kb') return renderKb(ctx);
  if (ctx.endpoint === 'hosts') return renderHostList(ctx);
  return renderDetections(ctx);
}

/** An empty page (no records) whose WARNING 1980 sends the client on to another URL (empty_pages). */
function* renderEmptyPage(ctx, limit, nextId) {
  yield header(ctx);
  yield warning(ctx, limit, nextId);
  yield footer(ctx);
}

/**
 * The pieces of `iter`, with `count` extra WARNING elements (CODE `code`, TEXT `text`, numbered
 * " #n" when asked) inside RESPONSE before its WARNING 1980 or its end (warnings_flood).
 */
function* withExtraWarnings(iter, { count, code, text, numbered }) {
  let done = false;
  for (const piece of iter) {
    if (!done && typeof piece === 'string' && (piece.startsWith('    <WARNING>') || piece.startsWith('  </RESPONSE>'))) {
      done = true;
      let buf = '';
      for (let n = 1; n <= count; n++) {
        buf += `    <WARNING>\n      <CODE>${esc(code)}</CODE>\n      <TEXT>${esc(numbered ? `${text} #${n}` : text)}</TEXT>\n    </WARNING>\n`;
        if (buf.length >= 65536) { yield buf; buf = ''; }
      }
      if (buf) yield buf;
    }
    yield piece;
  }
}

/** A SIMPLE_RETURN whose TEXT is `bytes` long (one line of ASCII), in 64 KiB pieces (big_text). */
function* bigSimpleReturn(o) {
  const dtdHost = o.dtdHost || 'qualysapi.qualys.com';
  yield '<?xml version="1.0" encoding="UTF-8" ?>\n' +
    `<!DOCTYPE SIMPLE_RETURN SYSTEM "https://${dtdHost}/api/${o.version || '2.0'}/simple_return.dtd">\n` +
    `<SIMPLE_RETURN>\n  <RESPONSE>\n    <DATETIME>${dt(o.now)}</DATETIME>\n    <CODE>${esc(o.code)}</CODE>\n    <TEXT>`;
  const unit = 'Simulated long error text. ';
  let left = Math.max(0, Math.floor(o.bytes));
  while (left > 0) {
    const n = Math.min(left, 65536);
    yield unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
    left -= n;
  }
  yield '</TEXT>\n  </RESPONSE>\n</SIMPLE_RETURN>\n';
}

// ---- small bodies --------------------------------------------------------------------------
/**
 * SIMPLE_RETURN body.
 * @param {{code:number|string, text:string, now:number, items?:Array<[string,string|number]>,
 *          declaration?:boolean, doctype?:boolean, dtdHost?:string, version?:string}} o
 */
function simpleReturn(o) {
  const dtdHost = o.dtdHost || 'qualysapi.qualys.com';
  let s = '';
  if (o.declaration !== false) s += '<?xml version="1.0" encoding="UTF-8" ?>\n';
  if (o.doctype !== false) s += `<!DOCTYPE SIMPLE_RETURN SYSTEM "https://${dtdHost}/api/${o.version || '2.0'}/simple_return.dtd">\n`;
  s += `<SIMPLE_RETURN>\n  <RESPONSE>\n    <DATETIME>${dt(o.now)}</DATETIME>\n    <CODE>${esc(o.code)}</CODE>\n    <TEXT>${esc(o.text)}</TEXT>\n`;
  if (o.items && o.items.length) {
    s += '    <ITEM_LIST>\n';
    for (const [k, v] of o.items) s += `      <ITEM>\n        <KEY>${esc(k)}</KEY>\n        <VALUE>${esc(v)}</VALUE>\n      </ITEM>\n`;
    s += '    </ITEM_LIST>\n';
  }
  return s + '  </RESPONSE>\n</SIMPLE_RETURN>\n';
}

/** GENERIC_RETURN (Qualys internal error shape). */
function genericReturn(o) {
  const dtdHost = o.dtdHost || 'qualysapi.qualys.com';
  return '<?xml version="1.0" encoding="UTF-8" ?>\n' +
    `<!DOCTYPE GENERIC_RETURN SYSTEM "https://${dtdHost}/generic_return.dtd">\n` +
    `<GENERIC_RETURN>\n  <API name="${esc(o.apiName || 'api/2.0/fo')}" username="${esc(o.username || '')}" at="${dt(o.now)}" />\n` +
    `  <RETURN status="FAILED" number="${o.number || 999}">${esc(o.text || 'Internal error. Please contact customer support.')}` +
    `${o.errorId ? ` (Internal error id: ${esc(o.errorId)})` : ''}</RETURN>\n</GENERIC_RETURN>\n`;
}

const REASONS = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/** Body of an HTTP 5xx from a proxy/load balancer: 'html' (Apache-like) or 'text'. */
function http5xxBody(status, kind) {
  const reason = REASONS[status] || 'Server Error';
  if (kind === 'text') return `${status} ${reason}\n`;
  return '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n' +
    `<title>${status} ${reason}</title>\n</head><body>\n<h1>${reason}</h1>\n` +
    '<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\n' +
    'problems. Please try again later.</p>\n</body></html>\n';
}

module.exports = {
  renderList, renderHostList, renderDetections, renderKb, renderEmptyPage, urlFromPairs, withExtraWarnings, bigSimpleReturn, pageHosts,
  simpleReturn, genericReturn, http5xxBody,
  nextPageUrl, header, footer, hostListRecord, detectionRecord, vulnRecord,
};
