'use strict';
// The npm package as a user gets it: scripts/bundle.js assembles dist/npm/ (into a temp dir, see
// shim-util.js buildBundle), `npm pack` packs it, and the tarball is installed OFFLINE (no
// registry: the package has no runtime dependencies) into a fresh temp project. Once per test
// process; removed at exit. Everything a test then runs (node, tsc, attw, esbuild, a browser)
// works from that project, never from the repository's sources.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const { buildBundle, ROOT } = require('./shim-util');

/**
 * Runs a command; resolves {status, stdout, stderr} (never rejects on a non-zero exit). Bounded by
 * timeoutMs (default 120 s): the child is killed and the promise rejects.
 */
function exec(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const env = Object.assign({}, process.env, { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' }, options.env || {});
    const child = spawn(cmd, args, { cwd: options.cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out after ${options.timeoutMs || 120000} ms: ${cmd} ${args.join(' ')}\n${stdout}\n${stderr}`)); }, options.timeoutMs || 120000);
    child.on('close', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

let packed = null;

/**
 * The packed and installed package: {work, tgz, files (the tarball's paths, from npm pack
 * --json), project (the consumer's directory), pkgDir (node_modules/qualys-vm-transporter), dist}.
 * @returns {Promise<{work: string, tgz: string, files: string[], project: string, pkgDir: string, dist: string}>}
 */
function packedPackage() {
  if (!packed) packed = pack();
  return packed;
}

async function pack() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qvt-pkg-'));
  process.on('exit', () => { try { fs.rmSync(work, { recursive: true, force: true }); } catch (e) { /* gone */ } });
  const dist = buildBundle();
  const p = await exec('npm', ['pack', '--pack-destination', work, '--json'], { cwd: path.join(dist, 'npm') });
  if (p.status !== 0) throw new Error(`npm pack failed: ${p.stderr}`);
  const info = JSON.parse(p.stdout)[0];
  const tgz = path.join(work, info.filename);
  const project = path.join(work, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2));
  // --offline: from the tarball alone; a dependency would have to come from a registry and fail.
  const installed = await exec('npm', ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tgz], { cwd: project });
  if (installed.status !== 0) throw new Error(`npm install --offline failed: ${installed.stderr}${installed.stdout}`);
  return { work, tgz, files: info.files.map((f) => f.path), project, pkgDir: path.join(project, 'node_modules', 'qualys-vm-transporter'), dist };
}

/** The repository's node_modules tool (tsc, attw, esbuild): its JS entry, run with this Node. */
function devTool(pkg, bin) {
  const manifest = require(path.join(ROOT, 'node_modules', pkg, 'package.json'));
  const rel = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[bin];
  return path.join(ROOT, 'node_modules', pkg, rel);
}

/**
 * The value exports declared by a .d.ts text: `export function|class|const NAME` (declare or not),
 * and `export { A, B } from` re-exports of values (not `export type {...}`).
 */
function declaredValues(dts) {
  const names = new Set(Array.from(dts.matchAll(/^export (?:declare )?(?:default )?(?:async )?(?:function|class|const) (\w+)/gm), (m) => m[1]));
  for (const m of dts.matchAll(/^export \{([^}]*)\} from/gm)) {
    for (const n of m[1].split(',')) if (n.trim()) names.add(n.trim().split(/\s+as\s+/).pop());
  }
  return names;
}

module.exports = { exec, packedPackage, devTool, declaredValues };
