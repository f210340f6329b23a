'use strict';
// The connection test outside Archer (the CLI's `check`): the run Archer would make with
// testConnection=True, through the same mirrored context (archer-context.js) and runArcher, once
// per data source whose URL the parameters give. What is requested and what each answer means is
// the core's (src/feed/check.rs); this only picks the data sources, reads the findings back from
// the run's Summary (Summary.check) and turns the outcome into an exit code:
//   0  every check passed (WARN and INFO lines allowed)
//   1  a check failed, or the test could not be made (no usable HTTP client, ...)
//   3  the Custom Parameters are invalid (CONFIG_INVALID): no request was made
// (2, a wrong command line, is the CLI's own.)

const { runArcher } = require('./archer');
const { archerContext } = require('./archer-context');
const { codes } = require('./codes');

/** @typedef {import('../../pkg-template/index').CheckFinding} CheckFinding */

/**
 * The data sources to test: the parameters' dataSource, plus one per other URL parameter given
 * (kbUrl -> kb, hostsUrl -> hosts, detectionUrl -> detections).
 * @param {Record<string, unknown>} params
 * @returns {string[]}
 */
function sourcesToCheck(params) {
  const ds = String(params.dataSource || '');
  const own = /^(hostD|d)etections$/.test(ds) ? 'detectionUrl' : `${ds}Url`;
  const out = [['kbUrl', 'kb'], ['hostsUrl', 'hosts'], ['detectionUrl', 'detections']].filter(([k]) => k !== own && String(params[k] || '').trim()).map(([, v]) => v);
  return params[own] || !out.length ? [ds].concat(out) : out;
}

/**
 * Runs the connection test for each data source whose URL is given.
 * @param {{params: Record<string, unknown>, tokens?: Record<string, any>, http?: string, print?: (line: string) => void}} o
 * @returns {Promise<{exitCode: number, runs: Array<{dataSource: string, exitCode: number, findings: CheckFinding[], code: string, message: string}>}>}
 */
async function runCheck(o) {
  const runs = [];
  const t = o.tokens || {};
  for (const dataSource of sourcesToCheck(o.params)) {
    const mirror = archerContext({ params: Object.assign({}, o.params, { testConnection: 'True' }, dataSource && { dataSource }), tokens: { LastRunTime: t.LastRunTime, PreviousRunContext: t.PreviousRunContext, LastFileProcessed: null } });
    const r = await runArcher({ context: /** @type {any} */ (mirror.context), callback: mirror.callback, print: o.print, run: { http: /** @type {any} */ (o.http) } });
    const err = /** @type {any} */ (r.error) || {};
    const findings = (r.summary || err.summary || {}).check || [];
    const code = String(err.code || '');
    const passed = code === codes.CONNECTION_TEST_PASSED && !findings.some((/** @type {CheckFinding} */ f) => f.outcome === 'FAIL');
    runs.push({ dataSource, exitCode: passed ? 0 : code === codes.CONFIG_INVALID ? 3 : 1, findings, code, message: String(err.message || '') });
  }
  // The worst outcome decides: invalid parameters (3) over a failed check (1) over success (0).
  return { exitCode: Math.max(0, ...runs.map((r) => r.exitCode)), runs };
}

/**
 * The report the CLI prints: per data source, one line per finding, then the verdict.
 * @param {Awaited<ReturnType<typeof runCheck>>} result
 * @param {(text: string) => string} scrub
 * @returns {string}
 */
function checkReport(result, scrub) {
  const lines = [];
  for (const r of result.runs) {
    lines.push(`connection test of dataSource=${r.dataSource}:`);
    for (const f of r.findings) lines.push(`  ${f.outcome}  ${f.check.padEnd(11)}  ${scrub(f.text)}`);
    lines.push(r.exitCode ? `  result: FAILED (${r.code}): ${scrub(r.message)}` : '  result: every check passed');
  }
  return `${lines.join('\n')}\nexit code ${result.exitCode}\n`;
}

module.exports = { runCheck, checkReport, sourcesToCheck };
