'use strict';
// Runs under the Node version being checked (18, 20, 22, 24, and 16 which must be refused;
// started by shim-node-versions.js): the single file with a signature block appended, as Archer
// would run it (a vm sandbox with the 6.x whitelist; with global fetch and no request when this
// Node has fetch), as a library (require + runFeed over the Node adapter) and as a CLI. Prints one
// JSON line of results, failures included (code and message). Plain Node 16 syntax and APIs only.
//
// usage: node shim-smoke-child.js BUNDLE.js CONFIG.json

const fs = require('fs');
const vm = require('vm');
const path = require('path');
const { spawnSync } = require('child_process');

const [bundle, configFile] = process.argv.slice(2);
const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
const ROOT = path.resolve(__dirname, '..', '..', '..');
const code = fs.readFileSync(bundle, 'utf8') + '// SIG // Begin signature block\r\n// SIG // MIIkBwYJKoZIhvcNAQcCoIIj+DCCI/QCAQExDzANBglghkgBZQMEAgEFADB3Bgor\r\n// SIG // End signature block\r\n';

function sandboxRun(mode, params) {
  return new Promise((resolve) => {
    const items = [];
    const logs = [];
    let creates = 0;
    const allowed = mode === '6x' ? ['request', 'xml2js', 'xpath', '@xmldom/xmldom'] : [];
    const sandbox = {
      context: { CustomParameters: params, Tokens: { LastRunTime: '2000-01-01T00:00:00Z', PreviousRunContext: null }, OutputWriter: { create: () => { creates++; return { writeItem: (c) => items.push(c) }; } } },
      callback: (err, result) => {
        const text = items.join('');
        resolve({ ok: err === null, err: err ? err[err.length - 1] : null, result, creates, records: (text.match(/<HOST>/g) || []).length, logs: logs.length, adapter: (logs.find((l) => l.indexOf('HTTP client:') !== -1) || '').replace(/.*HTTP client: ([a-zA-Z ]+).*/, '$1') });
      },
      console: { log: (l) => logs.push(String(l)), error: (l) => logs.push(String(l)), warn: (l) => logs.push(String(l)) },
      Buffer, setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, process, WebAssembly,
      require: (name) => {
        if (allowed.indexOf(name) === -1) throw new Error(`Cannot find module '${name}'`);
        return require(require.resolve(name, { paths: [ROOT] }));
      },
    };
    if (mode === '2025') sandbox.fetch = fetch;
    vm.createContext(sandbox);
    vm.runInContext(code, sandbox, { filename: 'qualys-vm-transporter.js' });
  });
}

async function main() {
  const results = { node: process.version };
  results.sandbox6x = await sandboxRun('6x', config.httpsParams);
  if (typeof fetch === 'function') results.sandbox2025 = await sandboxRun('2025', config.httpParams);
  else results.sandbox2025 = { skipped: 'this Node has no global fetch' };
  // As a library, over Node's https.
  const signed = path.join(path.dirname(configFile), `signed-${process.version}.js`);
  fs.writeFileSync(signed, code);
  const lib = require(signed);
  const items = [];
  try {
    const r = await lib.runFeed({ params: config.httpsParams, tokens: { LastRunTime: '2000-01-01T00:00:00Z' }, writer: { writeItem: (c) => items.push(c) }, log: () => {}, http: 'node' });
    results.library = { ok: true, records: r.summary.records, version: lib.version() };
  } catch (e) {
    results.library = { ok: false, code: e && e.code, message: String(e && e.message), instance: e instanceof lib.QualysTransporterError };
  }
  // As a CLI (no server in this process, so a synchronous child is fine).
  const paramsFile = path.join(path.dirname(configFile), `params-${process.version}.json`);
  fs.writeFileSync(paramsFile, JSON.stringify(config.httpParams));
  const cli = spawnSync(process.execPath, [signed, 'run', '--params', paramsFile, '--last-run-time', '2000-01-01T00:00:00Z'], { encoding: 'utf8' });
  const m = /records=(\d+) /.exec(cli.stdout || '');
  results.cli = { status: cli.status, records: m ? Number(m[1]) : null, stderr: (cli.stderr || '').slice(-2000) };
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ node: process.version, crash: String(e && e.stack ? e.stack : e) }) + '\n');
  process.exitCode = 1;
});
