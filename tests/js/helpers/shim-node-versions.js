'use strict';
// The Node-versions smoke test (run by scripts/node-versions.sh): builds the single file into a
// temp dir, starts the Qualys simulator here (under the project's Node), then runs
// shim-smoke-child.js under each given Node binary: the file in Archer-like vm sandboxes (6.x
// with request; 2025.04 with fetch), as a library and as a CLI, each a full feed against the
// simulator. A Node older than 18 (the package's engines) must refuse each of the three clearly:
// RUNTIME_UNSUPPORTED naming Node 18, never a bare CompileError or a success. Prints one line per
// version and exits non-zero on any failure.
//
// usage: node tests/js/helpers/shim-node-versions.js /path/to/node [/path/to/node ...]

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { sim, paramsFor, buildBundle, bundlePath } = require('./shim-util');

/** The oldest supported Node major (pkg-template/package.json engines). */
const MIN_NODE = Number(/>=\s*(\d+)/.exec(require('../../../pkg-template/package.json').engines.node)[1]);

function runChild(node, args) {
  return new Promise((resolve) => {
    const child = spawn(node, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, out, err }); });
  });
}

async function main() {
  const nodes = process.argv.slice(2);
  if (!nodes.length) {
    console.error('usage: node tests/js/helpers/shim-node-versions.js NODE_BINARY...');
    process.exit(2);
  }
  buildBundle();
  const s = await sim({ rateLimit: 'off', concurrency: 'off', hosts: 25 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-nodes-'));
  const config = {
    httpsParams: paramsFor(s.httpsUrl, 'hosts', { batchSize: '10', caCert: s.caCertPem }),
    httpParams: paramsFor(s.url, 'hosts', { batchSize: '10' }),
  };
  const configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config));
  let failed = 0;
  try {
    for (const node of nodes) {
      const t0 = Date.now();
      const r = await runChild(node, [path.join(__dirname, 'shim-smoke-child.js'), bundlePath(), configFile]);
      let res = null;
      try { res = JSON.parse(r.out.trim().split('\n').pop()); } catch (e) { /* reported below */ }
      const problems = [];
      if (r.status !== 0 || !res) problems.push(`exit ${r.status}: ${r.out.slice(-1500)} ${r.err.slice(-1500)}`);
      else if (res.crash) problems.push(res.crash);
      else if (Number(/^v(\d+)/.exec(res.node)[1]) < MIN_NODE) {
        // Unsupported: every use must say so with RUNTIME_UNSUPPORTED and what to do.
        const refused = /^RUNTIME_UNSUPPORTED: .*Node 18 or later/;
        if (res.sandbox6x.ok || !refused.test(String(res.sandbox6x.err))) problems.push(`6.x sandbox must refuse: ${JSON.stringify(res.sandbox6x)}`);
        if (res.library.ok || res.library.code !== 'RUNTIME_UNSUPPORTED' || !res.library.instance || !/Node 18 or later/.test(res.library.message)) problems.push(`library must refuse: ${JSON.stringify(res.library)}`);
        if (res.cli.status === 0 || !/RUNTIME_UNSUPPORTED: .*Node 18 or later/.test(res.cli.stderr)) problems.push(`CLI must refuse: ${JSON.stringify(res.cli)}`);
        if (!problems.length) {
          console.log(`ok   ${res.node}: unsupported (engines >=${MIN_NODE}), refused clearly with RUNTIME_UNSUPPORTED in the 6.x sandbox, as a library and as the CLI (${Date.now() - t0} ms)`);
          continue;
        }
      } else {
        const sx = res.sandbox6x;
        if (!sx.ok || sx.records !== 25 || sx.creates !== 1 || sx.adapter.trim() !== 'request package') problems.push(`6.x sandbox: ${JSON.stringify(sx)}`);
        const s25 = res.sandbox2025;
        if (s25.skipped || (!s25.ok || s25.records !== 25 || s25.adapter.trim() !== 'global fetch')) problems.push(`2025.04 sandbox: ${JSON.stringify(s25)}`);
        if (res.library.records !== 25) problems.push(`library: ${JSON.stringify(res.library)}`);
        if (res.cli.status !== 0 || res.cli.records !== 25) problems.push(`cli: ${JSON.stringify(res.cli)}`);
      }
      const label = res && res.node ? res.node : node;
      if (problems.length) {
        failed++;
        console.log(`FAIL ${label} (${node}): ${problems.join('; ')}`);
      } else {
        console.log(`ok   ${label}: 6.x sandbox (request) 25 records; 2025.04 sandbox (fetch) 25 records; library 25; CLI 25 (${Date.now() - t0} ms)`);
      }
    }
  } finally {
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${nodes.length - failed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
