'use strict';
// Request parameters of the three simulated Qualys list APIs: which names exist, which the
// simulator implements, and validation with Qualys-like SIMPLE_RETURN codes
// (1901 unrecognized, 1903 missing, 1905 invalid value).
const { parseQualysDate } = require('./xml');

/** Endpoint table: key -> path after /api/<version>/ (without slashes), root element, DTD path. */
const ENDPOINTS = {
  kb: { path: 'fo/knowledge_base/vuln', root: 'KNOWLEDGE_BASE_VULN_LIST_OUTPUT',
    dtd: 'fo/knowledge_base/vuln/knowledge_base_vuln_list_output.dtd', list: 'VULN_LIST', item: 'VULN' },
  hosts: { path: 'fo/asset/host', root: 'HOST_LIST_OUTPUT', dtd: 'fo/asset/host/host_list_output.dtd',
    list: 'HOST_LIST', item: 'HOST' },
  detections: { path: 'fo/asset/host/vm/detection', root: 'HOST_LIST_VM_DETECTION_OUTPUT',
    dtd: 'fo/asset/host/vm/detection/host_list_vm_detection_output.dtd', list: 'HOST_LIST', item: 'HOST' },
};

// Parameters the simulator gives meaning to, by type.
const B01 = { type: 'bool' };
const DATE = { type: 'date' };
const IDS = { type: 'idlist' };
const INT = { type: 'int' };

const COMMON = { action: { type: 'action' }, echo_request: B01 };

const IMPLEMENTED = {
  kb: {
    ...COMMON,
    details: { type: 'enum', values: ['Basic', 'All', 'None'] },
    ids: IDS, id_min: INT, id_max: INT,
    last_modified_after: DATE, last_modified_before: DATE,
    last_modified_by_service_after: DATE, last_modified_by_service_before: DATE,
    published_after: DATE, published_before: DATE,
    is_patchable: B01,
  },
  hosts: {
    ...COMMON,
    details: { type: 'enum', values: ['Basic', 'Basic/AGs', 'All', 'All/AGs', 'None'] },
    ids: IDS, id_min: INT, id_max: INT,
    truncation_limit: INT,
    vm_scan_since: DATE, vm_processed_after: DATE, vm_processed_before: DATE,
    vm_scan_date_after: DATE, vm_scan_date_before: DATE,
    show_tags: B01, show_asset_id: B01,
  },
  detections: {
    ...COMMON,
    ids: IDS, id_min: INT, id_max: INT,
    truncation_limit: INT,
    status: { type: 'set', values: ['New', 'Active', 'Fixed', 'Re-Opened'] },
    vm_scan_since: DATE, vm_processed_after: DATE, vm_processed_before: DATE,
    vm_scan_date_after: DATE, vm_scan_date_before: DATE,
    detection_updated_since: DATE, detection_updated_before: DATE,
    detection_processed_after: DATE, detection_processed_before: DATE,
    show_results: B01, show_igs: B01, show_tags: B01, show_asset_id: B01, show_qds: B01, show_qds_factors: B01,
    show_reopened_info: B01, include_ignored: B01, include_disabled: B01,
    include_vuln_type: { type: 'set', values: ['confirmed', 'potential'] },
    qids: IDS, severities: IDS, qds_min: INT, qds_max: INT,
    output_format: { type: 'enum', values: ['XML'] },
  },
};

// Real Qualys parameters accepted (so a client using them is not refused) but not simulated.
const ACCEPTED_IGNORED = {
  kb: ['last_modified_by_user_after', 'last_modified_by_user_before', 'discovery_method', 'discovery_auth_types',
    'show_pci_reasons', 'show_supported_modules_info', 'show_disabled_flag', 'show_qid_change_log'],
  hosts: ['os_pattern', 'ips', 'ipv6', 'ag_ids', 'ag_titles', 'network_ids', 'compliance_enabled', 'no_vm_scan_since',
    'no_compliance_scan_since', 'compliance_scan_since', 'vm_auth_scan_date_before', 'vm_auth_scan_date_after',
    'scap_scan_since', 'no_scap_scan_since', 'use_tags', 'tag_set_by', 'tag_include_selector', 'tag_exclude_selector',
    'tag_set_include', 'tag_set_exclude', 'show_ars', 'ars_min', 'ars_max', 'show_ars_factors', 'show_trurisk',
    'trurisk_min', 'trurisk_max', 'show_trurisk_factors', 'host_metadata', 'host_metadata_fields', 'show_cloud_tags',
    'cloud_tag_fields'],
  detections: ['arf_kernel_filter', 'arf_service_filter', 'arf_config_filter', 'active_kernels_only',
    'suppress_duplicated_data_from_csv', 'max_days_since_detection', 'detection_last_tested_since',
    'detection_last_tested_since_days', 'detection_last_tested_before', 'detection_last_tested_before_days',
    'ips', 'ipv6', 'ag_ids', 'ag_titles', 'network_ids', 'no_vm_scan_since', 'max_days_since_last_vm_scan',
    'vm_auth_scan_date_before', 'vm_auth_scan_date_after', 'compliance_enabled', 'os_pattern', 'filter_superseded_qids',
    'use_tags', 'tag_set_by', 'tag_include_selector', 'tag_exclude_selector', 'tag_set_include', 'tag_set_exclude',
    'host_metadata', 'host_metadata_fields', 'show_cloud_tags', 'cloud_tag_fields'],
};

// The simulator's own parameters, accepted on every API: they only appear in next-page URLs the
// simulator itself issued under a fault (page_cycle: sim_cycle=N; empty_pages: sim_empty=K.N).
const SIMULATOR_PARAMS = ['sim_cycle', 'sim_empty'];

class ParamError extends Error {
  constructor(code, text) { super(text); this.code = code; this.httpStatus = 400; }
}

/** Parse "1,3-5,9" into merged sorted [[lo,hi],...]; throws ParamError 1905 like Qualys. */
function parseIdList(name, value) {
  const out = [];
  for (const partRaw of String(value).split(',')) {
    const part = partRaw.trim();
    if (part === '') continue;
    let m;
    if ((m = /^(\d+)$/.exec(part))) { const n = Number(m[1]); out.push([n, n]); continue; }
    if ((m = /^(\d+)\s*-\s*(\d+)$/.exec(part)) && Number(m[1]) <= Number(m[2])) { out.push([Number(m[1]), Number(m[2])]); continue; }
    throw new ParamError(1905, `parameter ${name} has invalid value: ${value} (neither a positive integer nor a range: ${part})`);
  }
  if (out.length === 0) throw new ParamError(1905, `parameter ${name} has invalid value: ${value}`);
  out.sort((a, b) => a[0] - b[0]);
  const merged = [out[0]];
  for (let i = 1; i < out.length; i++) {
    const last = merged[merged.length - 1];
    if (out[i][0] <= last[1] + 1) last[1] = Math.max(last[1], out[i][1]);
    else merged.push(out[i]);
  }
  return merged;
}

/** True when n lies in one of the merged ranges. */
function inRanges(ranges, n) {
  let lo = 0; let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (n < ranges[mid][0]) hi = mid - 1;
    else if (n > ranges[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * Merge query-string and body pairs (body wins on duplicates; first position kept).
 * @param {Array<[string,string]>} queryPairs @param {Array<[string,string]>} bodyPairs
 * @returns {Array<[string,string]>}
 */
function mergePairs(queryPairs, bodyPairs) {
  const order = [];
  const values = new Map();
  for (const [k, v] of [...queryPairs, ...bodyPairs]) {
    if (!values.has(k)) order.push(k);
    values.set(k, v);
  }
  return order.map((k) => [k, values.get(k)]);
}

/**
 * Validate and interpret the parameters of one request.
 * @param {'kb'|'hosts'|'detections'} endpoint
 * @param {Array<[string,string]>} pairs merged parameters in original order
 * @returns {object} interpreted parameters (see README "Parameters")
 * @throws {ParamError}
 */
function interpretParams(endpoint, pairs) {
  const impl = IMPLEMENTED[endpoint];
  const ignored = ACCEPTED_IGNORED[endpoint];
  const unknown = pairs.map((p) => p[0]).filter((k) => !(k in impl) && !ignored.includes(k) && !SIMULATOR_PARAMS.includes(k));
  if (unknown.length) throw new ParamError(1901, `Unrecognized parameter(s): ${unknown.join(', ')}`);
  const raw = Object.fromEntries(pairs);
  if (raw.action === undefined || raw.action === '') throw new ParamError(1903, 'Missing required parameter(s): action');
  const p = { raw };
  for (const [name, value] of pairs) {
    const spec = impl[name];
    if (!spec) continue;
    const v = String(value).trim();
    if (v === '' && spec.type !== 'action') continue; // empty value = not given
    const bad = () => new ParamError(1905, `parameter ${name} has invalid value: ${value}`);
    switch (spec.type) {
      case 'action':
        if (v !== 'list') throw bad();
        p.action = v; break;
      case 'bool':
        if (v !== '0' && v !== '1') throw bad();
        p[name] = v === '1'; break;
      case 'int':
        if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw bad();
        p[name] = Number(v); break;
      case 'date': {
        const ms = parseQualysDate(v);
        if (!Number.isFinite(ms)) throw bad();
        p[name] = ms; break;
      }
      case 'idlist':
        p[name] = parseIdList(name, v); break;
      case 'enum': {
        const hit = spec.values.find((x) => x.toLowerCase() === v.toLowerCase());
        if (!hit) throw bad();
        p[name] = hit; break;
      }
      case 'set': {
        const set = new Set();
        for (const part of v.split(',')) {
          const t = part.trim();
          if (!t) continue;
          const hit = spec.values.find((x) => x.toLowerCase() === t.toLowerCase());
          if (!hit) throw bad();
          set.add(hit);
        }
        p[name] = set; break;
      }
      default: break;
    }
  }
  if (p.id_min !== undefined && p.id_max !== undefined && p.id_min > p.id_max) {
    throw new ParamError(1905, `parameter id_max has invalid value: ${raw.id_max} (must not be lower than id_min)`);
  }
  if (endpoint === 'hosts' || endpoint === 'kb') p.details = p.details || 'Basic';
  if (endpoint === 'hosts' || endpoint === 'detections') {
    p.truncation_limit = p.truncation_limit === undefined ? 1000 : p.truncation_limit;
  }
  if (endpoint === 'detections') {
    if (!p.status) p.status = new Set(['New', 'Active', 'Re-Opened']);
    if (p.show_results === undefined) p.show_results = true;
  }
  return p;
}

module.exports = { ENDPOINTS, IMPLEMENTED, ACCEPTED_IGNORED, SIMULATOR_PARAMS, ParamError, parseIdList, inRanges, mergePairs, interpretParams };
