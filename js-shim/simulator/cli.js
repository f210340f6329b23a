#!/usr/bin/env node
'use strict';
// Command line front end of the Qualys simulator (its options read by node:util parseArgs).
//   node js-shim/simulator/cli.js [--port N] [--https-port N] [--hosts N] [--detections-per-host N] [--kb N]
//        [--seed S] [--rate-limit N/secs|off] [--concurrency N|off] [--fault spec]... (see --help)
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startSimulator } = require('./server');
const { parseFaultSpec, normaliseFault } = require('./faults');

const HELP = `Qualys VM API simulator (test/benchmark use only)

usage: qualys-vm-transporter simulate [options]

  --port N                 HTTP port on 127.0.0.1 (default 0 = random)
  --https-port N           HTTPS port on 127.0.0.1 (default 0 = random)
  --no-https               do not start the HTTPS listener
  --hosts N                number of hosts (default 1000)
  --detections-per-host N  mean detections per host (default 10)
  --detections-spread F    per-host count varies by +-F of the mean (default 0.5; 0 = exact)
  --kb N                   number of KnowledgeBase QIDs (default 2000)
  --seed S                 data seed, number or string (default 1)
  --data-end ISO           latest generated scan/modification time (default 2024-06-01T00:00:00Z)
  --now ISO|real           simulated "now" (DATETIME; default = data end)
  --rate-limit N/secs|off  calls per rate-limit window per API (default 300/3600)
  --concurrency N|off      concurrent calls per API (default 2)
  --user NAME              Basic auth user (default simuser)
  --password PW            Basic auth password (default simpass)
  --fault SPEC             inject a fault; repeatable. SPEC = type[:key=value,...], e.g.
                             reset:endpoint=detections,page=2,afterBytes=10000,times=1
                             http5xx:status=503,probability=0.1,seed=7
                             delay:ms=100-500
                           types: reset truncate http5xx generic_return expired slow bad_utf8 huge_record delay
                             drip status hang page_cycle overlap ignore_window empty_pages id_range
                             wait_header forged_text warnings_flood big_text slow_page stall_host gzip_bomb
                             gzip_corrupt
  --retire-version V       answer --retire-status on /api/V/ of every API (a retired version,
                           e.g. 2.0); repeatable
  --retire-status N        404 (default) or 410
  --keep-alive-every N     keep-alive comment every N records (default 250, 0 = never)
  --max-url-bytes N        answer 414 to a request target longer than N bytes (default 8190, 0 = never)
  --gzip                   answer gzip (Content-Encoding: gzip, streamed) when the request asks for
                           it (Accept-Encoding: gzip); off by default
  --no-record-served       do not keep served record IDs in the log (long benchmarks)
  --quiet                  print only the URLs line
  -h, --help               this help

Control endpoints (no auth): GET /__control, GET /__control/log, POST /__control/faults,
POST /__control/touch, POST /__control/now, POST /__control/limits, POST /__control/reset.`;

/** The options, for util.parseArgs: name -> [type, where it goes in the startSimulator options]. */
const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  port: { type: 'string' },
  'https-port': { type: 'string' },
  'no-https': { type: 'boolean' },
  hosts: { type: 'string' },
  'detections-per-host': { type: 'string' },
  'detections-spread': { type: 'string' },
  kb: { type: 'string' },
  seed: { type: 'string' },
  'data-end': { type: 'string' },
  now: { type: 'string' },
  'rate-limit': { type: 'string' },
  concurrency: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  fault: { type: 'string', multiple: true },
  'keep-alive-every': { type: 'string' },
  'max-url-bytes': { type: 'string' },
  'retire-version': { type: 'string', multiple: true },
  'retire-status': { type: 'string' },
  gzip: { type: 'boolean' },
  'no-record-served': { type: 'boolean' },
  quiet: { type: 'boolean' },
};

/** Parse argv (without node and script) into startSimulator options (node:util parseArgs). */
function parseArgs(argv) {
  let values;
  try {
    ({ values } = require('util').parseArgs({ args: argv, options: /** @type {any} */ (OPTIONS), strict: true, allowPositionals: false }));
  } catch (e) {
    const err = /** @type {any} */ (e);
    const m = /'([^']*)'/.exec(String(err && err.message));
    const name = m ? m[1].split(' ')[0] : 'an argument';
    if (err && err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new Error(`unknown option ${name} (see --help)`);
    if (err && err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') throw new Error(`unexpected argument ${name} (see --help)`);
    if (err && err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new Error(`${name} ${/does not take/.test(err.message) ? 'takes no value' : 'needs a value'} (see --help)`);
    throw new Error(`${err && err.message ? err.message : String(e)} (see --help)`);
  }
  const v = /** @type {Record<string, any>} */ (values);
  const num = (/** @type {string} */ name) => {
    const n = Number(v[name]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number: ${v[name]}`);
    return n;
  };
  /** @type {Record<string, any>} */
  const o = { faults: [] };
  if (v.help) o.help = true;
  for (const [name, key] of [['port', 'port'], ['https-port', 'httpsPort'], ['hosts', 'hosts'], ['detections-per-host', 'detectionsPerHost'],
    ['detections-spread', 'detectionsSpread'], ['kb', 'kb'], ['keep-alive-every', 'keepAliveEvery'], ['max-url-bytes', 'maxUrlBytes'],
    ['retire-status', 'retireStatus']]) {
    if (v[name] !== undefined) o[key] = num(name);
  }
  for (const [name, key] of [['seed', 'seed'], ['data-end', 'dataEnd'], ['now', 'now'], ['rate-limit', 'rateLimit'], ['concurrency', 'concurrency'],
    ['user', 'username'], ['password', 'password']]) {
    if (v[name] !== undefined) o[key] = v[name];
  }
  if (v['retire-version']) o.retireVersions = v['retire-version'];
  if (v.gzip) o.gzip = true;
  if (v['no-https']) o.https = false;
  if (v['no-record-served']) o.recordServed = false;
  if (v.quiet) o.quietBanner = true;
  for (const text of v.fault || []) {
    const spec = parseFaultSpec(text);
    normaliseFault(spec); // validate now, fail early
    o.faults.push(spec);
  }
  if (o.rateLimit !== undefined && o.rateLimit !== 'off' && !/^\d+\s*\/\s*\d+(\.\d+)?$/.test(o.rateLimit)) {
    throw new Error(`--rate-limit wants N/secs or off, got ${o.rateLimit}`);
  }
  if (o.concurrency !== undefined && o.concurrency !== 'off') {
    if (!/^\d+$/.test(o.concurrency)) throw new Error(`--concurrency wants N or off, got ${o.concurrency}`);
    o.concurrency = Number(o.concurrency);
  }
  return o;
}

/**
 * Run the simulator until SIGINT/SIGTERM.
 * @param {string[]} argv arguments after the command (e.g. process.argv.slice(2))
 * @param {{stdout?: NodeJS.WritableStream, stderr?: NodeJS.WritableStream, signals?: boolean}} [io]
 * @returns {Promise<{sim: object, stop: () => Promise<void>} | null>} null when only help was printed
 */
async function main(argv = process.argv.slice(2), io = {}) {
  const out = io.stdout || process.stdout;
  const o = parseArgs(argv);
  if (o.help) { out.write(HELP + '\n'); return null; }
  const { quietBanner, help, ...simOptions } = o;
  // The HTTPS certificate is made fresh at each start; its CA goes to a private temp file that a
  // client can trust (caCert), removed when the simulator stops.
  const caDir = simOptions.https === false ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-simulator-'));
  const removeCa = () => { if (caDir) fs.rmSync(caDir, { recursive: true, force: true }); };
  let sim;
  try {
    sim = await startSimulator(Object.assign(simOptions, caDir ? { caFile: path.join(caDir, 'ca-cert.pem') } : {}));
  } catch (e) {
    removeCa();
    throw e;
  }
  const info = sim.control.info();
  if (quietBanner) out.write(`${sim.url} ${sim.httpsUrl || ''}\n`);
  else {
    out.write(`Qualys simulator listening (test/benchmark use only)\n` +
      `  http:   ${sim.url}\n` +
      (sim.httpsUrl ? `  https:  ${sim.httpsUrl}\n  CA:     ${sim.caPath || '(custom)'} (TEST-ONLY, made for this run; trust it as caCert)\n` : '') +
      `  user:   ${sim.options.username} / ${sim.options.password}\n` +
      `  data:   ${info.model.hosts} hosts (IDs ${info.model.firstHostId}..${info.model.lastHostId}), ` +
      `~${info.model.detectionsPerHost} detections/host, ${info.model.kb} QIDs (${info.model.firstQid}..${info.model.lastQid}), seed ${info.model.seed}\n` +
      `  limits: ${JSON.stringify(info.limits)}\n` +
      (info.faults.length ? `  faults: ${info.faults.map((f) => f.type).join(', ')}\n` : '') +
      `  try:    curl -s -u ${sim.options.username}:${sim.options.password} -H 'X-Requested-With: curl' ` +
      `'${sim.url}/api/5.0/fo/asset/host/vm/detection/?action=list&truncation_limit=10'\n` +
      `  control: ${sim.url}/__control\n`);
  }
  let stopping = null;
  const stop = () => {
    if (!stopping) stopping = sim.close().finally(removeCa);
    return stopping;
  };
  if (io.signals !== false) {
    const onSignal = () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      stop().then(() => process.exit(0));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  return { sim, stop };
}

module.exports = { main, parseArgs, HELP };

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`qualys simulator: ${err.message}\n`);
    process.exit(2);
  });
}
