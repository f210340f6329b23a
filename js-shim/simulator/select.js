'use strict';
// Which records a request selects: ID windows (ids, id_min, id_max) and the date/status filters.
const { inRanges } = require('./params');

/**
 * Indices (ascending ID order) of an IdSpace inside the request's ID window.
 * @param {import('./idspace').IdSpace} space
 * @param {{ids?: number[][], id_min?: number, id_max?: number}} p
 * @param {number} [fromId] start at this ID (inclusive), e.g. the next page's id_min
 */
function* indicesInWindow(space, p, fromId) {
  let lo = p.id_min !== undefined ? p.id_min : 0;
  if (fromId !== undefined && fromId > lo) lo = fromId;
  const hi = p.id_max !== undefined ? p.id_max : Number.MAX_SAFE_INTEGER;
  const ranges = p.ids || [[0, Number.MAX_SAFE_INTEGER]];
  for (const [a0, b0] of ranges) {
    const a = Math.max(a0, lo);
    const b = Math.min(b0, hi);
    if (a > b) continue;
    for (let i = space.indexAtOrAfter(a); i < space.count; i++) {
      if (space.idAt(i) > b) break;
      yield i;
    }
  }
}

/** Host-level filters (scan and processing dates). */
function hostPasses(model, i, p) {
  if (p.vm_scan_since !== undefined || p.vm_scan_date_after !== undefined || p.vm_scan_date_before !== undefined) {
    const scan = model.hostScanMs(i);
    if (p.vm_scan_since !== undefined && scan < p.vm_scan_since) return false;
    if (p.vm_scan_date_after !== undefined && scan <= p.vm_scan_date_after) return false;
    if (p.vm_scan_date_before !== undefined && scan >= p.vm_scan_date_before) return false;
  }
  if (p.vm_processed_after !== undefined || p.vm_processed_before !== undefined) {
    const proc = model.hostProcessedMs(i);
    if (p.vm_processed_after !== undefined && proc <= p.vm_processed_after) return false;
    if (p.vm_processed_before !== undefined && proc >= p.vm_processed_before) return false;
  }
  return true;
}

/** Detection-level filters. */
function detectionPasses(d, p) {
  if (!p.status.has(d.status)) return false;
  if (d.type === 'Info' && !p.show_igs) return false;
  if (p.include_vuln_type && d.type !== 'Info') {
    if (d.type === 'Confirmed' && !p.include_vuln_type.has('confirmed')) return false;
    if (d.type === 'Potential' && !p.include_vuln_type.has('potential')) return false;
  }
  if (d.isIgnored && !p.include_ignored) return false;
  if (d.isDisabled && !p.include_disabled) return false;
  if (p.qids && !inRanges(p.qids, d.qid)) return false;
  if (p.severities && !inRanges(p.severities, d.severity)) return false;
  if (p.qds_min !== undefined && !(d.qds >= p.qds_min)) return false;
  if (p.qds_max !== undefined && !(d.qds <= p.qds_max)) return false;
  if (p.detection_updated_since !== undefined && d.lastUpdateMs < p.detection_updated_since) return false;
  if (p.detection_updated_before !== undefined && d.lastUpdateMs >= p.detection_updated_before) return false;
  if (p.detection_processed_after !== undefined && d.lastProcessedMs <= p.detection_processed_after) return false;
  if (p.detection_processed_before !== undefined && d.lastProcessedMs >= p.detection_processed_before) return false;
  return true;
}

/** KB filters on the cheap VULN core. */
function vulnPasses(core, p) {
  const after = p.last_modified_after !== undefined ? p.last_modified_after : p.last_modified_by_service_after;
  const before = p.last_modified_before !== undefined ? p.last_modified_before : p.last_modified_by_service_before;
  if (after !== undefined && core.modMs < after) return false;
  if (before !== undefined && core.modMs >= before) return false;
  if (p.published_after !== undefined && core.publishedMs < p.published_after) return false;
  if (p.published_before !== undefined && core.publishedMs >= p.published_before) return false;
  if (p.is_patchable !== undefined && Boolean(core.patchable) !== p.is_patchable) return false;
  return true;
}

module.exports = { indicesInWindow, hostPasses, detectionPasses, vulnPasses };
