'use strict';
// The transporter process of the end-to-end benchmark: runs the single file the way Archer's
// JavaScript Transporter does, in a fresh vm context holding only `context` (CustomParameters,
// Tokens, OutputWriter), `callback`, console, Buffer, timers, process, WebAssembly and a require
// restricted to the host's whitelist. The OutputWriter streams every writeItem to a file
// (synchronous writes, nothing kept). After the callback it prints one JSON line on stdout and exits.
//
// usage: node bench/e2e-archer.js <bundle.js> <params.json> <out.xml> [6x|node|2025] [log file]

const fs = require('fs');
const vm = require('vm');

const [bundle, paramsFile, outFile, mode = '6x', logFile] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const sinceStart = () => Number(process.hrtime.bigint() - t0) / 1e6;

// What `require` resolves in the sandbox: Archer 6.x whitelists request/xml2js/xpath/xmldom; a
// host that allows Node's built-ins lets the shim use http/https; Archer 2025.04+ offers fetch.
const ALLOWED = {
  '6x': ['request', 'xml2js', 'xpath', '@xmldom/xmldom', 'xmldom'],
  node: ['http', 'https', 'tls', 'url', 'zlib', 'request', 'xml2js'],
  2025: [],
};
if (!ALLOWED[mode]) {
  process.stderr.write(`unknown mode ${mode} (6x, node, 2025)\n`);
  process.exit(2);
}

function hwmKiB() {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

const logFd = logFile ? fs.openSync(logFile, 'w') : null;
const logLine = (...a) => { if (logFd !== null) fs.writeSync(logFd, a.join(' ') + '\n'); };
const consoleShim = { log: logLine, info: logLine, warn: logLine, error: logLine, debug: logLine };

const outFd = fs.openSync(outFile, 'w');
let writeItems = 0;
let writeNs = 0n; // time spent in the mirror's writeItem (encoding + writing the file): Archer's cost, not the transporter's
let outputBytes = 0;
let creates = 0;
let rootNode = null;
const context = {
  CustomParameters: JSON.parse(fs.readFileSync(paramsFile, 'utf8')),
  Tokens: { LastRunTime: null, PreviousRunContext: null, LastFileProcessed: null },
  OutputWriter: {
    create(type, opts) {
      creates++;
      rootNode = opts && opts.RootNode;
      return {
        writeItem(s) {
          writeItems++;
          const w0 = process.hrtime.bigint();
          // Archer appends the items to its output file; a string write, nothing kept here.
          outputBytes += fs.writeSync(outFd, s);
          writeNs += process.hrtime.bigint() - w0;
        },
      };
    },
  },
};

const sandboxRequire = (name) => {
  if (!ALLOWED[mode].includes(name)) {
    const e = new Error(`Cannot find module '${name}' (not allowed in this sandbox)`);
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  }
  return require(name);
};

let called = 0;
const sandbox = {
  context,
  callback: (err, result) => {
    called++;
    if (called > 1) return;
    const wallMs = sinceStart();
    fs.closeSync(outFd);
    const res = {
      ok: !err,
      error: err ? (Array.isArray(err) ? err[err.length - 1] : String(err && err.message ? err.message : err)) : null,
      callbackMs: wallMs,
      writeItems,
      writeItemMs: Number(writeNs) / 1e6,
      outputBytes,
      creates,
      rootNode,
      previousRunContext: result && result.previousRunContext,
      hwmKiB: hwmKiB(),
    };
    process.stdout.write(JSON.stringify(res) + '\n');
    if (logFd !== null) fs.closeSync(logFd);
    // Let a (wrong) second callback show up for a moment, then leave.
    setTimeout(() => process.exit(err ? 1 : 0), 50).unref();
  },
  console: consoleShim,
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
if (mode === '2025') {
  sandbox.fetch = fetch;
  sandbox.AbortController = AbortController;
}
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(bundle, 'utf8'), sandbox, { filename: 'qualys-vm-transporter.js' });
