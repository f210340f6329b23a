'use strict';
// A stand-in for Archer's JavaScript Transporter: runs a single-file data-feed script (such as
// dist/qualys-vm-transporter.js) the way the host does, so the main job, the end-to-end tests and
// the benchmarks exercise exactly the path Archer takes.
//
// In scope: a fresh vm context holding only `context` (CustomParameters, Tokens, OutputWriter),
// `callback`, console, Buffer, timers, process, WebAssembly and a `require` restricted to a host's
// whitelist; an OutputWriter that streams every writeItem to a file (or keeps the items); exactly
// what the script called back with. Out of scope: Archer's import of the XML (the .dfx5 mapping).
//
// Library: runArcherScript(options) -> Promise<result> (see below).
// Command line (one feed per process, so peak memory is the transporter's own):
//   node tools/archer-host.js --script FILE --params params.json [--tokens tokens.json]
//        [--out out.xml] [--mode 6x|node|2025] [--log run.log] [--timeout-sec N]
// prints one JSON line: {ok, error, previousRunContext, writeItems, outputBytes, writeItemMs, rootNode,
// creates, callbacks, summary, wallMs, peakRssKiB}; exit code 0 only when the script succeeded.

const fs = require('fs');
const vm = require('vm');
const { execFile } = require('child_process');
const { parseArgs } = require('../js-shim/src/cli-args');
const { archerContext } = require('../js-shim/src/archer-context');
const { summaryFromLines } = require('../js-shim/src/log');

// What `require` resolves inside the sandbox for each kind of host.
const HOST_MODULES = {
  // Archer 6.x: only the approved libraries.
  '6x': ['request', 'xml2js', 'xpath', '@xmldom/xmldom', 'xmldom'],
  // A host that also allows Node's built-ins (the shim then uses http/https directly).
  node: ['http', 'https', 'tls', 'net', 'url', 'zlib', 'request', 'xml2js', 'xpath', '@xmldom/xmldom'],
  // Archer 2025.04+: global fetch, no request.
  2025: ['xml2js', 'xpath', '@xmldom/xmldom'],
};

/** Peak resident memory of this process in KiB (Linux), or null. */
function peakRssKiB() {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch (_) {
    return null;
  }
}

/** The core's Summary of a successful run, from the shim's summary line (js-shim/src/log.js), or null. */
const summaryFromLogs = summaryFromLines;

/**
 * Runs a data-feed script as Archer does.
 * @param {object} o
 * @param {string} [o.script] path of the script, or
 * @param {string} [o.code] its text
 * @param {Record<string,string>} o.params CustomParameters (strings, as Archer passes them)
 * @param {object} [o.tokens] {LastRunTime, PreviousRunContext, LastFileProcessed}
 * @param {'6x'|'node'|'2025'} [o.mode='6x']
 * @param {string[]} [o.withoutModules] modules this host refuses on top of its mode's list (e.g.
 *        ['zlib']: a node host whose sandbox does not let scripts load zlib)
 * @param {string} [o.out] file the OutputWriter streams items to; without it items are kept
 * @param {boolean} [o.outputWriter=true] false: a 6.4/6.5 host without OutputWriter
 * @param {(line: string) => void} [o.onLog] every console line, as it is written
 * @param {number} [o.timeoutMs=600000]
 * @returns {Promise<{ok, err, result, calls, creates, rootNode, items, writeItems, bufferItems, outputBytes, logs, requires, summary, wallMs}>}
 */
function runArcherScript(o) {
  const code = o.code !== undefined ? o.code : fs.readFileSync(o.script, 'utf8');
  const mode = o.mode || '6x';
  if (!HOST_MODULES[mode]) throw new Error(`unknown host mode ${mode} (6x, node, 2025)`);
  const started = Date.now();
  const logs = [];
  const requires = [];
  const items = [];
  let bufferItems = 0; // writeItem calls given a Buffer (items keeps every item as text)
  let outputBytes = 0;
  let writeItemNs = 0n; // time spent inside writeItem: the host's cost, for benchmarks
  const outFd = o.out ? fs.openSync(o.out, 'w') : null;
  const line = (...a) => {
    const text = a.join(' ');
    logs.push(text);
    if (o.onLog) o.onLog(text);
  };
  const sandboxRequire = (name) => {
    requires.push(name);
    if (!HOST_MODULES[mode].includes(name) || (o.withoutModules || []).includes(name)) {
      const e = new Error(`Cannot find module '${name}' (not allowed by this host)`);
      e.code = 'MODULE_NOT_FOUND';
      throw e;
    }
    return require(name);
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (fn) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outFd !== null) fs.closeSync(outFd);
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new Error('the script did not call back in time'))), o.timeoutMs || 600000);
    const mirror = archerContext({
      params: o.params,
      tokens: o.tokens || { LastRunTime: null, PreviousRunContext: null, LastFileProcessed: null },
      outputWriter: o.outputWriter,
      onItem: (s) => {
        const t0 = process.hrtime.bigint();
        if (Buffer.isBuffer(s)) bufferItems++;
        if (outFd !== null) outputBytes += fs.writeSync(outFd, Buffer.isBuffer(s) ? s : String(s));
        else {
          const text = Buffer.isBuffer(s) ? s.toString('utf8') : String(s);
          items.push(text);
          outputBytes += Buffer.byteLength(text);
        }
        writeItemNs += process.hrtime.bigint() - t0;
      },
      onCallback: (err, result) => {
        // Let a (wrong) second callback show up before reporting.
        setTimeout(() => finish(() => resolve({
          ok: calls.length === 1 && (err === null || err === undefined),
          err,
          result,
          calls,
          creates,
          rootNode: creates[0] && creates[0].opts ? creates[0].opts.RootNode : null,
          items,
          writeItems: mirror.state.writeItems,
          bufferItems,
          outputBytes,
          writeItemMs: Number(writeItemNs) / 1e6,
          logs,
          requires,
          summary: summaryFromLogs(logs),
          wallMs: Date.now() - started,
        })), 50);
      },
    });
    const { calls, creates } = mirror.state;
    const sandbox = {
      context: mirror.context,
      callback: mirror.callback,
      console: { log: line, info: line, warn: line, error: line, debug: line },
      Buffer,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      setImmediate,
      clearImmediate,
      process,
      WebAssembly,
      require: sandboxRequire,
    };
    if (mode === '2025' && typeof fetch === 'function') {
      sandbox.fetch = fetch;
      sandbox.AbortController = AbortController;
    }
    vm.createContext(sandbox);
    try {
      vm.runInContext(code, sandbox, { filename: 'data-feed.js' });
    } catch (e) {
      finish(() => reject(e));
    }
  });
}

/**
 * Runs the library's runArcher in this process (no vm, no single file) with a mirrored context
 * (js-shim/src/archer-context.js): the Archer path of the tests that drive the library directly.
 * @param {{runArcher: Function}} lib the library (js-shim/src/index.js or the single file)
 * @param {object} o
 * @param {object} o.params CustomParameters
 * @param {object} [o.tokens={}] Tokens, as given
 * @param {boolean} [o.outputWriter=true] false: a 6.4/6.5 host without OutputWriter
 * @param {object} [o.run] runFeed options for runArcher (http, now, sleep, ...)
 * @param {(line: string) => void} [o.print] where log lines go (default: kept in `printed`)
 * @returns {Promise<{out: any, calls: Array<[any, any]>, items: any[], creates: any[], printed: string[]}>}
 *          out: what runArcher resolved to; items: every writeItem argument as given; creates: the
 *          options of every OutputWriter.create call
 */
async function runArcherInProcess(lib, o) {
  const items = [];
  const printed = [];
  const mirror = archerContext({ params: o.params, tokens: o.tokens || {}, outputWriter: o.outputWriter, onItem: (c) => items.push(c) });
  const out = await lib.runArcher({ context: mirror.context, callback: mirror.callback, print: o.print || ((l) => printed.push(l)), run: o.run });
  return { out, calls: mirror.state.calls, items, creates: mirror.state.creates.map((c) => c.opts), printed };
}

/**
 * Runs a data-feed script through this host in a process of its own (so its peak memory is the
 * transporter's own): node tools/archer-host.js --script FILE --params FILE [...]. Never rejects:
 * resolves to {report, err, stderr, ms}, report being the host's JSON line (null when it printed
 * none: a crash or a timeout, see err and stderr).
 * @param {{script: string, paramsFile: string, tokensFile?: string, out?: string, mode?: string,
 *          log?: string, timeoutSec?: number, execTimeoutMs?: number}} o
 */
function runInChild(o) {
  const args = [__filename, '--script', o.script, '--params', o.paramsFile];
  if (o.tokensFile) args.push('--tokens', o.tokensFile);
  if (o.out) args.push('--out', o.out);
  if (o.mode) args.push('--mode', o.mode);
  if (o.log) args.push('--log', o.log);
  if (o.timeoutSec) args.push('--timeout-sec', String(o.timeoutSec));
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 20, timeout: o.execTimeoutMs || 0 }, (err, stdout, stderr) => {
      let report = null;
      try {
        report = JSON.parse(String(stdout).trim().split('\n').pop());
      } catch (_) {
        report = null;
      }
      resolve({ report, err, stderr: String(stderr), ms: Date.now() - t0 });
    });
  });
}

async function main(argv) {
  const { opts: a, positional } = parseArgs(argv, { script: 'value', params: 'value', tokens: 'value', out: 'value', mode: 'value', log: 'value', 'timeout-sec': 'value' });
  if (positional.length || !a.script || !a.params) throw new Error('usage: archer-host.js --script FILE --params params.json [--tokens tokens.json] [--out out.xml] [--mode 6x|node|2025] [--log run.log] [--timeout-sec N]');
  const logFd = a.log ? fs.openSync(a.log, 'w') : null;
  const r = await runArcherScript({
    script: a.script,
    params: JSON.parse(fs.readFileSync(a.params, 'utf8')),
    tokens: a.tokens ? JSON.parse(fs.readFileSync(a.tokens, 'utf8')) : undefined,
    mode: a.mode,
    out: a.out,
    timeoutMs: a['timeout-sec'] ? Number(a['timeout-sec']) * 1000 : undefined,
    onLog: logFd !== null ? (t) => fs.writeSync(logFd, t + '\n') : undefined,
  });
  if (logFd !== null) fs.closeSync(logFd);
  const err = r.err;
  const report = {
    ok: r.ok,
    error: err ? (Array.isArray(err) ? String(err[err.length - 1]) : String(err && err.message ? err.message : err)) : null,
    previousRunContext: r.result ? r.result.previousRunContext || '' : r.calls[0] && r.calls[0][1] ? r.calls[0][1].previousRunContext || '' : '',
    writeItems: r.writeItems,
    bufferItems: r.bufferItems,
    outputBytes: r.outputBytes,
    writeItemMs: r.writeItemMs,
    rootNode: r.rootNode,
    creates: r.creates.length,
    callbacks: r.calls.length,
    summary: r.summary,
    wallMs: r.wallMs,
    peakRssKiB: peakRssKiB(),
  };
  process.stdout.write(JSON.stringify(report) + '\n');
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    process.stderr.write(`archer-host: ${e && e.message ? e.message : e}\n`);
    process.exit(2);
  });
}

module.exports = { runArcherScript, runArcherInProcess, runInChild, summaryFromLogs, HOST_MODULES, main };
