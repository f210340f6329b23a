#!/usr/bin/env node
'use strict';
// The doc check: every repository path named in the project's documents and module docs exists.
//
// Read: README.md, ARCHITECTURE.md, CONTRIBUTING.md, CHANGELOG.md, docs/*.md, pkg-template/README.md,
// the simulator's README, bench/README.md, and the comments of every source file (Rust `//` and
// `//!`, JavaScript `//`, `/* */` and JSDoc, shell `#`). A "path" is a token that starts with one of
// the repository's top-level directories or files (src/, js-shim/, tests/, ...), or that points
// outside the repository (shared/, ../shared): the project must carry what it relies on.
// Generated or git-ignored places (dist/, target/, out/, node_modules/, bench/data/) are not checked;
// a glob or a <placeholder> is checked up to its last fixed directory.
//
// usage: node tools/check-docs.js   (exit 1 and one line per broken reference when any is found)

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');

/** Files tracked by git (plus untracked, not ignored): what a fresh clone has. */
function repoFiles() {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  return out.split('\n').filter(Boolean).filter((f) => fs.existsSync(path.join(ROOT, f)));
}

const GENERATED = ['dist/', 'target/', 'out/', 'node_modules/', 'bench/data/', 'bench/work/', 'fuzz/corpus/', 'fuzz/artifacts/', 'fuzz/target/', 'bench/native/target/'];
const OUTSIDE = /^(\.\.\/)*shared\//;

/** The documents whose text is read whole. */
function documents(files) {
  return files.filter((f) => /\.md$/.test(f) && !f.startsWith('tests/fixtures/') && !f.startsWith('bench/RESULTS') && f !== 'bench/PROFILE.md');
}

/** Comment text of a source file (line comments and block comments), with line numbers. */
function comments(file, text) {
  const out = [];
  const lines = text.split('\n');
  let inBlock = false;
  lines.forEach((line, i) => {
    const l = line;
    if (i === 0 && l.startsWith('#!')) return;
    if (inBlock) {
      const end = l.indexOf('*/');
      out.push([i + 1, end === -1 ? l : l.slice(0, end)]);
      if (end !== -1) inBlock = false;
      return;
    }
    const sh = /\.(sh|toml)$/.test(file) || file === '.ci/run';
    const m = sh ? /(^|\s)#(.*)$/.exec(l) : /\/\/(.*)$/.exec(l);
    if (m) out.push([i + 1, sh ? m[2] : m[1]]);
    if (!sh) {
      const b = l.indexOf('/*');
      if (b !== -1) {
        const e = l.indexOf('*/', b + 2);
        out.push([i + 1, e === -1 ? l.slice(b + 2) : l.slice(b + 2, e)]);
        if (e === -1) inBlock = true;
      }
    }
  });
  return out;
}

function topLevel(files) {
  const set = new Set();
  for (const f of files) set.add(f.includes('/') ? `${f.slice(0, f.indexOf('/'))}/` : f);
  return Array.from(set);
}

/** The path-like tokens of a text that start with a top-level name (or point outside). */
function pathsIn(text, tops) {
  const found = [];
  const re = /(?:\.\.\/)*[A-Za-z0-9_.@<>*{}-]+(?:\/[A-Za-z0-9_.@<>*{},-]*)+|\b[A-Z][A-Z0-9_-]*\.md\b|\bCargo\.toml\b|\brustfmt\.toml\b/g;
  let m;
  while ((m = re.exec(text))) {
    const p = m[0].replace(/[.,:;)]+$/, '');
    if (/^https?:/.test(text.slice(Math.max(0, m.index - 8), m.index + 1)) || /:\/\/$/.test(text.slice(Math.max(0, m.index - 3), m.index))) continue;
    if (OUTSIDE.test(p)) {
      found.push(p);
      continue;
    }
    if (!tops.some((t) => (t.endsWith('/') ? p.startsWith(t) : p === t))) continue;
    found.push(p);
  }
  return found;
}

/** Whether a referenced path exists (globs and placeholders: up to the last fixed directory). */
function exists(p, fileSet, dirSet) {
  if (OUTSIDE.test(p)) return false;
  if (GENERATED.some((g) => p.startsWith(g))) return true;
  let q = p;
  const wild = q.search(/[<*{]/);
  if (wild !== -1) q = q.slice(0, q.lastIndexOf('/', wild) + 1);
  q = q.replace(/\/+$/, '');
  if (q === '') return true;
  return fileSet.has(q) || dirSet.has(q);
}

function main() {
  const files = repoFiles();
  const fileSet = new Set(files);
  const dirSet = new Set();
  for (const f of files) {
    const parts = f.split('/');
    for (let i = 1; i < parts.length; i++) dirSet.add(parts.slice(0, i).join('/'));
  }
  const tops = topLevel(files);
  // First segments of deeper directories (src/ of js-shim, of bench/native, ...), for relative paths.
  const relativeTops = Array.from(new Set(files.filter((f) => f.split('/').length > 2).map((f) => `${f.split('/')[1]}/`))).filter((t) => !tops.includes(t) && t !== 'real/');
  const problems = [];
  // A path may be relative to the repository root or to any directory above the file naming it
  // (a crate's src/..., a README's own folder).
  const resolves = (file, p) => {
    if (exists(p, fileSet, dirSet)) return true;
    if (OUTSIDE.test(p)) return false;
    const parts = file.split('/');
    for (let i = parts.length - 1; i > 0; i--) {
      if (exists(`${parts.slice(0, i).join('/')}/${p}`, fileSet, dirSet)) return true;
    }
    return false;
  };
  const check = (file, line, text) => {
    for (const p of pathsIn(text, tops.concat(relativeTops))) {
      if (!resolves(file, p)) {
        problems.push(`${file}:${line}: ${OUTSIDE.test(p) ? 'points outside the repository' : 'names a path that does not exist'}: ${p}`);
      }
    }
  };
  for (const doc of documents(files)) {
    fs.readFileSync(path.join(ROOT, doc), 'utf8').split('\n').forEach((l, i) => check(doc, i + 1, l));
  }
  const sources = files.filter((f) => /\.(rs|js|mjs|cjs|ts|sh)$/.test(f) && !f.startsWith('tests/fixtures/') && f !== 'tools/check-docs.js');
  sources.push('.ci/run');
  for (const src of sources) {
    if (!fs.existsSync(path.join(ROOT, src))) continue;
    for (const [line, text] of comments(src, fs.readFileSync(path.join(ROOT, src), 'utf8'))) check(src, line, text);
  }
  if (problems.length) {
    console.error(`${problems.length} broken reference(s) in documents and module docs:`);
    for (const p of problems) console.error(`  ${p}`);
    process.exit(1);
  }
  console.log(`doc check: every repository path named in ${documents(files).length} documents and ${sources.length} source files exists`);
}

if (require.main === module) main();

module.exports = { pathsIn, comments, exists };
