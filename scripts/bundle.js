#!/usr/bin/env node
'use strict';
// Builds the deliverables from the wasm-bindgen output (bash scripts/build-wasm.sh) and js-shim/:
//
//   dist/qualys-vm-transporter.js   ONE self-contained file for Archer's JavaScript Transporter:
//       the shim's modules inlined behind a tiny CommonJS wrapper, the wasm-bindgen `nodejs` glue
//       rewritten to take the module from an embedded string (raw DEFLATE + base 91, decoded by
//       js-shim/src/inflate.js: base64 of the raw module alone would pass 400 kB), and
//       js-shim/archer-entry.js started last; the shim's comments and indentation are left out (the sources, with
//       them, are in the repository and the npm package). It needs no require() at all (optional modules are
//       guarded), ends with a newline so a `// SIG // ...` block can be appended, and is also the
//       CLI (node qualys-vm-transporter.js run ...) and the library (require()).
//   dist/qualys-vm-transporter.js.sha256   its sha256 (`sha256sum -c` format), and
//   dist/THIRD-PARTY-NOTICES        the licences of the crates in the embedded wasm, beside it
//   dist/samples/<source>.xml       complete sample output files for Archer's Source Definition
//                                   (and <source>.qualys.xml for outputShape=qualys): the built
//                                   core's output of tests/fixtures/complete/, separate files so the
//                                   single file stays small (the CLI's `sample` command copies them)
//   dist/npm/                       the npm package, assembled from pkg-template/ (npm pack it):
//       the single file and its .sha256, index.mjs (the ES module entry, generated here) with
//       index.d.ts / index.d.mts, web/ (js-shim/web.js over wasm-bindgen's `web` build, typed by
//       pkg-template/web.d.ts), the bin script, archer/package.json, samples/, the simulator, README,
//       LICENSE, notices, CHANGELOG
//
// Deterministic: the same inputs (and the same Node, for zlib) give the same bytes; no dates, no
// absolute paths. Fast: no bundler dependency, well under a second (a few seconds more when the wasm
// changed: zopfli, cached in target/bundle-cache/).
//
// usage: node scripts/bundle.js [--no-npm] [--quiet] [--dist DIR] [--wasm-pkg DIR]
//   --dist DIR      where to write (default dist/); tests build into a temp dir so parallel test
//                   files never race on dist/
//   --wasm-pkg DIR  the wasm-bindgen output to embed (default target/wasm-pkg; DIR/nodejs and
//                   DIR/web)

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const crypto = require('crypto');
// A JavaScript parser, only to find comments exactly (strings, regular expressions and templates
// can hold comment-like text); the bundle drops the shim's comments to stay well under 400 kB.
const acorn = require('acorn');

const ROOT = path.resolve(__dirname, '..');
const SHIM = path.join(ROOT, 'js-shim');
const CRATE_LIB = 'qualys_vm_transporter';
const argv = process.argv.slice(2);
const distAt = argv.indexOf('--dist');
const pkgAt = argv.indexOf('--wasm-pkg');
const WASM_PKG = pkgAt !== -1 && argv[pkgAt + 1] ? path.resolve(argv[pkgAt + 1]) : path.join(ROOT, 'target', 'wasm-pkg');
const DIST = distAt !== -1 && argv[distAt + 1] ? path.resolve(argv[distAt + 1]) : path.join(ROOT, 'dist');
const OUT = path.join(DIST, 'qualys-vm-transporter.js');
const NPM = path.join(DIST, 'npm');
// 400 kB read strictly (decimal: 400,000 bytes), whichever way a reviewer or an upload form counts.
const SIZE_LIMIT = 400 * 1000;
const ENTRY = 'archer-entry.js';
const CORE_ID = 'src/core.js';
const DATA_ID = 'src/core-wasm-data.js';

const args = new Set(argv);
const quiet = args.has('--quiet');
const log = (m) => { if (!quiet) console.log(`[bundle] ${m}`); };
const die = (m) => { console.error(`[bundle] ${m}`); process.exit(1); };

function read(p, what) {
  try {
    return fs.readFileSync(p);
  } catch (e) {
    return die(`cannot read ${what || p} (${e.code}); run: bash scripts/build-wasm.sh`);
  }
}

function crateVersion() {
  const toml = fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8');
  const pkg = /\[package\][^[]*?\nversion\s*=\s*"([^"]+)"/.exec(toml);
  if (!pkg) die('cannot find the package version in Cargo.toml');
  return pkg[1];
}

/** The shim's modules reachable from the entry, as {id: source}; ids are paths under js-shim/. */
function collectModules() {
  const mods = new Map();
  const queue = [ENTRY];
  while (queue.length) {
    const id = queue.shift();
    if (mods.has(id)) continue;
    if (id === CORE_ID) { mods.set(id, null); continue; } // replaced by the embedded glue
    const file = path.join(SHIM, id);
    const src = fs.readFileSync(file, 'utf8');
    mods.set(id, src);
    const re = /\brequire\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;
    let m;
    while ((m = re.exec(src))) {
      const dep = resolveId(id, m[1]);
      if (!dep) die(`${id}: cannot resolve require('${m[1]}') inside js-shim/`);
      queue.push(dep);
    }
  }
  return mods;
}

/**
 * The module's source without its comments (`/*! ... *\/` kept), found by a real parser. A comment
 * that fills whole lines goes with its lines; one inside a line becomes a space. The code itself is
 * untouched (same tokens, same line breaks between them), so the file stays readable.
 */
function stripComments(src, id) {
  const comments = [];
  try {
    acorn.parse(src, {
      ecmaVersion: 'latest',
      sourceType: 'script',
      allowHashBang: true,
      allowReturnOutsideFunction: true,
      onComment: (block, text, start, end) => {
        if (!(block && text.startsWith('!'))) comments.push([start, end]);
      },
    });
  } catch (e) {
    die(`${id}: cannot be parsed to drop its comments (${e.message})`);
  }
  let out = '';
  let at = 0;
  for (const [start, end] of comments) {
    if (start < at) continue;
    const lineStart = src.lastIndexOf('\n', start - 1) + 1;
    let lineEnd = src.indexOf('\n', end);
    if (lineEnd === -1) lineEnd = src.length;
    const wholeLines = lineStart >= at && /^[ \t]*$/.test(src.slice(lineStart, start)) && /^[ \t]*$/.test(src.slice(end, lineEnd));
    if (wholeLines) {
      out += src.slice(at, lineStart);
      at = Math.min(src.length, lineEnd + 1);
    } else {
      out += src.slice(at, start).replace(/[ \t]+$/, '');
      out += src.slice(start, end).includes('\n') ? '\n' : ' ';
      at = end;
    }
  }
  out += src.slice(at);
  return out;
}

/**
 * The module's source without the indentation of its lines (about 13 kB of the single file). Only
 * whitespace between tokens goes, found by a real tokenizer: the text of strings and template
 * literals (help texts, messages) is untouched, and so are the line breaks.
 */
function dedent(src, id) {
  let tokens;
  try {
    tokens = Array.from(acorn.tokenizer(src, { ecmaVersion: 'latest', allowHashBang: true, allowReturnOutsideFunction: true }));
  } catch (e) {
    return die(`${id}: cannot be tokenized to drop its indentation (${e.message})`);
  }
  let out = '';
  let at = 0;
  for (const t of tokens) {
    out += src.slice(at, t.start).replace(/\n[ \t]+/g, '\n') + src.slice(t.start, t.end);
    at = t.end;
  }
  return out + src.slice(at).replace(/\n[ \t]+/g, '\n');
}

/**
 * The module's source with its CommonJS bindings renamed: `module` -> `__module` and `exports` ->
 * `__exports`, found as tokens by a real tokenizer. Node reads the named exports of a CommonJS
 * file it imports from ESM by scanning its text for `module.exports = {...}` and `exports.name =`
 * (cjs-module-lexer); with the inner modules' bindings renamed, only the file's own hint at its
 * end (the library's names) is seen, so no bundle internal leaks into an ESM importer's namespace. Every use of either name as a
 * variable is renamed (the wrapper passes them under the new names); properties (x.module) and
 * keys ({module: ...}) are left alone, and a shorthand `{ module }` stops the build.
 */
function renameCommonJs(src, id) {
  let tokens;
  try {
    tokens = Array.from(acorn.tokenizer(src, { ecmaVersion: 'latest', allowHashBang: true, allowReturnOutsideFunction: true }));
  } catch (e) {
    return die(`${id}: cannot be tokenized to rename module/exports (${e.message})`);
  }
  const edits = [];
  tokens.forEach((t, i) => {
    if (t.type.label !== 'name' || (t.value !== 'module' && t.value !== 'exports')) return;
    const prev = tokens[i - 1];
    const next = tokens[i + 1];
    if (prev && prev.type.label === '.') return; // x.module, x.exports: a property
    if (next && next.type.label === ':' && prev && (prev.type.label === '{' || prev.type.label === ',')) return; // a key
    const shorthand = prev && (prev.type.label === '{' || prev.type.label === ',') && next && (next.type.label === '}' || next.type.label === ',');
    if (shorthand) die(`${id}: uses \`{ ${t.value} }\` (at offset ${t.start}); scripts/bundle.js cannot rename that: write ${t.value}: ${t.value}`);
    edits.push([t.start, t.end, `__${t.value}`]);
  });
  let out = '';
  let at = 0;
  for (const [start, end, text] of edits) {
    out += src.slice(at, start) + text;
    at = end;
  }
  return out + src.slice(at);
}

/** Resolves a relative require from module `from` to a module id (or null). */
function resolveId(from, name) {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), name));
  for (const c of [base, `${base}.js`, `${base}/index.js`]) {
    if (c === CORE_ID) return c;
    const f = path.join(SHIM, c);
    if (!c.startsWith('..') && fs.existsSync(f) && fs.statSync(f).isFile()) return c;
  }
  return null;
}

/**
 * The names of the package namespace (what require() of the single file gives: the library plus
 * `cli`), read from the shim without loading the core. They become the single file's hint for
 * Node's ESM import of it and the ES module entry's named exports (index.mjs).
 */
function libraryNames() {
  const names = Object.keys(require(path.join(SHIM, ENTRY)).library());
  if (names.some((n) => !/^[A-Za-z_$][\w$]*$/.test(n))) die(`a library export is not an identifier: ${names.join(', ')}`);
  return names;
}

/** The wasm-bindgen nodejs glue, rewritten to load the embedded module. */
function coreModule(glue) {
  let src = glue.replace(/^\/\* @ts-self-types=.*\*\/\n/, '');
  const load = /const wasmPath = `\$\{__dirname\}\/[a-z_]+_bg\.wasm`;\nconst wasmBytes = require\('fs'\)\.readFileSync\(wasmPath\);\n/;
  if (!load.test(src)) die('the wasm-bindgen glue no longer loads the module the expected way (wasmPath + readFileSync); update scripts/bundle.js');
  src = src.replace(load, "const wasmBytes = require('./core-wasm-data.js').bytes();\n");
  const compile = 'const wasmModule = new WebAssembly.Module(wasmBytes);';
  if (!src.includes(compile)) die('the wasm-bindgen glue no longer compiles the module with new WebAssembly.Module; update scripts/bundle.js');
  src = src.replace(compile, "const wasmModule = require('./wasm-compat.js').compileModule(wasmBytes);");
  if (/\brequire\((?!'\.\/(core-wasm-data|text-codec|wasm-compat)\.js')/.test(src)) die('the wasm-bindgen glue requires a module the bundle does not provide');
  const prelude = [
    "'use strict';",
    '// The wasm-bindgen `nodejs` glue of the Rust core, with the module read from the embedded data',
    '// below instead of a file, and TextDecoder/TextEncoder that also exist in a bare vm sandbox.',
    "const { TextDecoder, TextEncoder } = require('./text-codec.js');",
  ].join('\n');
  return `${prelude}\n${src}`;
}

/**
 * The 91 characters of the embedded data: printable ASCII without the three a JavaScript string
 * literal would need to escape (`"`, `'`, `\`).
 */
const DIGITS = (() => {
  let d = '';
  for (let c = 0x21; c < 0x7f; c++) if (!'"\'\\'.includes(String.fromCharCode(c))) d += String.fromCharCode(c);
  if (d.length !== 91) die(`the data alphabet has ${d.length} characters, not 91`);
  return d;
})();

/**
 * Base 91 as a bit stream (the basE91 scheme): 13 bits per pair of digits when their value is
 * above 88, else 14 (a pair can name 91 * 91 = 8,281 values, so a 13-bit value that small would
 * be ambiguous: it takes a 14th bit instead), low bits first; a last partial group gives one or
 * two digits. About 1.23 characters per byte (base64: 1.33).
 */
function encode91(bytes) {
  let out = '';
  let bits = 0;
  let n = 0;
  for (const byte of bytes) {
    bits |= byte << n;
    n += 8;
    if (n > 13) {
      let v = bits & 8191;
      if (v > 88) {
        bits >>>= 13;
        n -= 13;
      } else {
        v = bits & 16383;
        bits >>>= 14;
        n -= 14;
      }
      out += DIGITS[v % 91] + DIGITS[Math.floor(v / 91)];
    }
  }
  if (n > 0) {
    out += DIGITS[bits % 91];
    if (n > 7 || bits > 90) out += DIGITS[Math.floor(bits / 91)];
  }
  return out;
}

/**
 * The wasm module as raw DEFLATE, as small as the format allows: Google's zopfli (the npm package
 * @gfx/zopfli, a wasm build of it; a dev dependency, used only here) makes a stream any inflater
 * reads, ours included, about 5% smaller than zlib's level 9 (11 kB of the single file). It takes
 * a few seconds, so its output is kept in target/bundle-cache/ under the module's sha256; the
 * result is deterministic either way. Without the package (setup.sh not run) zlib's level 9 is
 * used, said loudly.
 */
function deflateBest(wasm) {
  const key = crypto.createHash('sha256').update(wasm).digest('hex');
  const cacheDir = path.join(ROOT, 'target', 'bundle-cache');
  const cached = path.join(cacheDir, `${key}.zopfli`);
  if (fs.existsSync(cached)) return fs.readFileSync(cached);
  let zopfli;
  try {
    zopfli = require.resolve('@gfx/zopfli');
  } catch {
    log('NOTE: the npm package @gfx/zopfli is missing (run bash scripts/setup.sh): the wasm is deflated by zlib, about 11 kB larger');
    return zlib.deflateRawSync(wasm, { level: 9, memLevel: 9 });
  }
  const script = `const { deflate } = require(${JSON.stringify(zopfli)});
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c)).on('end', () => {
  deflate(Buffer.concat(chunks), { numiterations: 15 }, (err, out) => {
    if (err) { console.error(String(err)); process.exit(1); }
    process.stdout.write(Buffer.from(out));
  });
});`;
  const out = require('child_process').execFileSync(process.execPath, ['-e', script], { input: wasm, maxBuffer: 64 << 20 });
  if (!zlib.inflateRawSync(out).equals(wasm)) die('zopfli\'s stream does not inflate to the module');
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.writeFileSync(`${cached}.tmp`, out);
  fs.renameSync(`${cached}.tmp`, cached);
  return out;
}

/**
 * The data module: the deflated wasm in base 91 (about 1.23 characters per byte: 25 kB less than
 * base64's 4 per 3), in lines of 1,000 characters, decoded by a dozen lines that need no Buffer or
 * atob. The build decodes it again and compares before it writes anything.
 */
function dataModule(wasm) {
  const deflated = deflateBest(wasm);
  const text = encode91(deflated);
  const lines = [];
  for (let i = 0; i < text.length; i += 1000) lines.push(JSON.stringify(text.slice(i, i + 1000)));
  const src = `'use strict';
// The Rust core's wasm module (${wasm.length} bytes), raw DEFLATE (${deflated.length} bytes), base 91.
const { inflateRaw } = require('./inflate.js');
const SIZE = ${wasm.length};
const DEFLATED = ${deflated.length};
const DIGITS = ${JSON.stringify(DIGITS)};
const DATA = [
${lines.join(',\n')},
].join('');
function decode91(s, n) {
  const value = new Uint8Array(128);
  for (let i = 0; i < DIGITS.length; i++) value[DIGITS.charCodeAt(i)] = i;
  const out = new Uint8Array(n);
  let o = 0;
  let bits = 0;
  let k = 0;
  let v = -1;
  for (let i = 0; i < s.length && o < n; i++) {
    const d = value[s.charCodeAt(i) & 127];
    if (v < 0) {
      v = d;
      continue;
    }
    v += d * 91;
    bits |= v << k;
    k += (v & 8191) > 88 ? 13 : 14;
    while (k > 7 && o < n) {
      out[o++] = bits & 255;
      bits >>>= 8;
      k -= 8;
    }
    v = -1;
  }
  if (v >= 0 && o < n) out[o++] = (bits | (v << k)) & 255;
  return out.subarray(0, o);
}
function bytes() {
  const out = inflateRaw(decode91(DATA, DEFLATED), SIZE);
  if (out.length !== SIZE) throw new Error('the embedded wasm module is damaged (size ' + out.length + ', expected ' + SIZE + ')');
  return out;
}
module.exports = { bytes, SIZE };
`;
  // The round trip, checked here rather than trusted: the same decoder, run on what was written.
  const check = { exports: {} };
  new Function('module', 'require', src)(check, () => ({ inflateRaw: (d) => zlib.inflateRawSync(d) }));
  if (!Buffer.from(check.exports.bytes()).equals(wasm)) die('the embedded wasm data does not decode to the module; scripts/bundle.js encode91 is broken');
  return { src, deflated: deflated.length };
}

const WRAPPER_HEAD = (version) => `/*! qualys-vm-transporter ${version} | MIT License | https://github.com/qualys-vm-transporter/qualys-vm-transporter
 * Single-file build for RSA Archer's JavaScript Transporter: upload this file as the data feed's
 * transporter script. It pulls Qualys VM data (KnowledgeBase, hosts, host detections) into Archer.
 * Also a command line tool (node qualys-vm-transporter.js --help) and a library (require()).
 * Built by scripts/bundle.js from js-shim/ and the Rust core (wasm, embedded below).
 * Third-party licences (the Rust crates in the embedded wasm): THIRD-PARTY-NOTICES, shipped beside
 * this file and in the npm package. Verify a copy: sha256sum -c qualys-vm-transporter.js.sha256 */
(function (__host) {
'use strict';
var __defs = {};
var __cache = {};
function __resolve(from, name) {
  if (name.charAt(0) !== '.') return null;
  var parts = from.split('/');
  parts.pop();
  var segs = name.split('/');
  for (var i = 0; i < segs.length; i++) {
    if (segs[i] === '..') parts.pop();
    else if (segs[i] !== '.' && segs[i] !== '') parts.push(segs[i]);
  }
  var base = parts.join('/');
  var tries = [base, base + '.js', base + '/index.js'];
  for (var j = 0; j < tries.length; j++) if (Object.prototype.hasOwnProperty.call(__defs, tries[j])) return tries[j];
  return null;
}
function __requireFrom(from) {
  return function require(name) {
    var id = __resolve(from, name);
    if (id !== null) return __load(id);
    if (typeof __host.require === 'function') return __host.require(name);
    var e = new Error("Cannot find module '" + name + "'");
    e.code = 'MODULE_NOT_FOUND';
    throw e;
  };
}
function __load(id) {
  var cached = __cache[id];
  if (cached) return cached.exports;
  var m = { id: id, exports: {} };
  __cache[id] = m;
  __defs[id].call(m.exports, m.exports, __requireFrom(id), m, __host.filename, __host.dirname);
  return m.exports;
}
`;

const WRAPPER_TAIL = (names) => `
var __isMain = Boolean(__host.module && __host.require && __host.require.main === __host.module);
var __entry = __load(${JSON.stringify(ENTRY)});
var __mode = __entry.start({
  context: __host.context,
  callback: __host.callback,
  isMain: __isMain || !__host.module,
  argv: __isMain && typeof process !== 'undefined' && process.argv ? process.argv.slice(2) : [],
  baseDir: __host.dirname
});
if (__mode === 'library' && __host.module) __host.module.exports = __entry.library();
})({
  context: typeof context !== 'undefined' ? context : undefined,
  callback: typeof callback !== 'undefined' ? callback : undefined,
  require: typeof require === 'function' ? require : undefined,
  module: typeof module === 'object' && module ? module : undefined,
  filename: typeof __filename === 'string' ? __filename : undefined,
  dirname: typeof __dirname === 'string' ? __dirname : undefined
});
// The library's export names, for Node's import of this CommonJS file (never run):
0 && (module.exports = { ${names.join(', ')} });
`;

function buildSingleFile(version) {
  const wasm = read(path.join(WASM_PKG, 'nodejs', `${CRATE_LIB}_bg.wasm`), 'the wasm module');
  const glue = read(path.join(WASM_PKG, 'nodejs', `${CRATE_LIB}.js`), 'the wasm-bindgen glue').toString('utf8');
  const mods = collectModules();
  mods.set(CORE_ID, coreModule(glue));
  const data = dataModule(wasm);
  mods.set(DATA_ID, data.src);
  for (const dep of ['src/text-codec.js', 'src/inflate.js', 'src/wasm-compat.js', 'src/host.js', 'src/errors.js']) {
    if (!mods.has(dep)) mods.set(dep, fs.readFileSync(path.join(SHIM, dep), 'utf8'));
  }
  // Order: the entry's modules sorted by id, the data module last (it is the bulk of the file).
  const ids = Array.from(mods.keys()).filter((id) => id !== DATA_ID).sort();
  ids.push(DATA_ID);
  let out = WRAPPER_HEAD(version);
  for (const id of ids) {
    let src = mods.get(id).replace(/\r\n/g, '\n');
    if (src.startsWith('#!')) src = src.slice(src.indexOf('\n') + 1);
    if (id !== DATA_ID) src = dedent(stripComments(src, id), id);
    src = renameCommonJs(src, id);
    if (!src.endsWith('\n')) src += '\n';
    out += `\n// ---- ${id} ----\n__defs[${JSON.stringify(id)}] = function (__exports, require, __module, __filename, __dirname) {\n${src}};\n`;
  }
  out += WRAPPER_TAIL(libraryNames());
  if (/[^\x09\x0a\x20-\x7e]/.test(out)) { // eslint-disable-line no-control-regex
    // Signing tools and some upload forms are happiest with plain ASCII.
    out = out.replace(/[^\x09\x0a\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`); // eslint-disable-line no-control-regex
  }
  return { text: out, modules: ids, wasmBytes: wasm.length, deflated: data.deflated };
}

function copyDir(from, to, filter) {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from).sort()) {
    const f = path.join(from, name);
    const t = path.join(to, name);
    if (filter && !filter(f)) continue;
    if (fs.statSync(f).isDirectory()) copyDir(f, t, filter);
    else fs.copyFileSync(f, t);
  }
}

/** The complete Qualys response (tests/fixtures/complete/) each data source's sample comes from. */
const COMPLETE = { kb: 'kb.xml', hosts: 'hosts.xml', hostDetections: 'detections.xml', detections: 'detections.xml' };
const SHAPES = { records: '', qualys: '.qualys' };

/**
 * The sample output files: the just-built single file's core transforms each complete response,
 * in both output shapes, into the document a feed writes (declaration, root node, records).
 */
function buildSamples() {
  const dir = path.join(DIST, 'samples');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const lib = require(OUT);
  for (const [source, rootNode] of Object.entries(lib.DEFAULT_ROOT_NODES)) {
    const input = read(path.join(ROOT, 'tests', 'fixtures', 'complete', COMPLETE[source]), `the complete response of ${source}`);
    for (const [shape, suffix] of Object.entries(SHAPES)) {
      const t = new lib.Transformer(source, null, null, shape);
      let out = `<?xml version="1.0" encoding="UTF-8"?>\n<${rootNode}>`;
      try {
        t.push(input);
        t.finish();
        for (let c = t.takeOutput(); c !== undefined; c = t.takeOutput()) out += c;
      } finally {
        t.free();
      }
      out += `</${rootNode}>\n`;
      fs.writeFileSync(path.join(dir, `${source}${suffix}.xml`), out);
    }
  }
  return dir;
}

/** The ES module entry: the CommonJS library (one instance) as explicit named exports. */
function esmEntry(version, names) {
  return `/*! qualys-vm-transporter ${version} | MIT License */
// The ES module entry (the "import" condition of "."): the library of qualys-vm-transporter.js (the
// same instance require() gives, so no dual-package hazard), as explicit named exports. Importing
// it loads the WebAssembly core at once (require() loads it on first use). Types: index.d.mts.
import lib from './qualys-vm-transporter.js';

${names.map((n) => `export const ${n} = lib.${n};`).join('\n')}
`;
}

function buildNpm(version, single) {
  const tpl = path.join(ROOT, 'pkg-template');
  fs.rmSync(NPM, { recursive: true, force: true });
  fs.mkdirSync(NPM, { recursive: true });
  const pkg = JSON.parse(fs.readFileSync(path.join(tpl, 'package.json'), 'utf8'));
  pkg.version = version;
  // The changelog (written at the repository root) ships when there is one.
  const changelog = path.join(ROOT, 'CHANGELOG.md');
  if (fs.existsSync(changelog)) {
    fs.copyFileSync(changelog, path.join(NPM, 'CHANGELOG.md'));
    pkg.files.push('CHANGELOG.md');
  }
  fs.writeFileSync(path.join(NPM, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  for (const f of ['README.md', 'LICENSE', 'THIRD-PARTY-NOTICES', 'index.d.ts']) fs.copyFileSync(path.join(tpl, f), path.join(NPM, f));
  // The same declarations for the ES module entry (a .d.mts is read as ESM types).
  fs.copyFileSync(path.join(tpl, 'index.d.ts'), path.join(NPM, 'index.d.mts'));
  fs.writeFileSync(path.join(NPM, 'index.mjs'), esmEntry(version, libraryNames()));
  fs.mkdirSync(path.join(NPM, 'bin'));
  fs.copyFileSync(path.join(tpl, 'bin', 'qualys-vm-transporter.js'), path.join(NPM, 'bin', 'qualys-vm-transporter.js'));
  fs.chmodSync(path.join(NPM, 'bin', 'qualys-vm-transporter.js'), 0o755);
  fs.writeFileSync(path.join(NPM, 'qualys-vm-transporter.js'), single);
  copyDir(path.join(DIST, 'samples'), path.join(NPM, 'samples'));
  // "qualys-vm-transporter/archer" for resolvers that ignore "exports" (TypeScript's node10, old
  // bundlers): the directory's package.json points at the single file and its types.
  fs.mkdirSync(path.join(NPM, 'archer'));
  fs.writeFileSync(path.join(NPM, 'archer', 'package.json'), JSON.stringify({ main: '../qualys-vm-transporter.js', types: '../index.d.ts' }, null, 2) + '\n');
  fs.copyFileSync(`${OUT}.sha256`, path.join(NPM, 'qualys-vm-transporter.js.sha256'));
  // The browser API: js-shim/web.js (the init() guard, coded errors) as web/index.js over
  // wasm-bindgen's `web` target (an ES module, as the package.json written beside it says), typed
  // by pkg-template/web.d.ts (wasm-bindgen's own .d.ts, `any` everywhere, is left out).
  const web = path.join(NPM, 'web');
  fs.mkdirSync(web);
  for (const f of [`${CRATE_LIB}.js`, `${CRATE_LIB}_bg.wasm`]) fs.copyFileSync(path.join(WASM_PKG, 'web', f), path.join(web, f));
  fs.copyFileSync(path.join(SHIM, 'web.js'), path.join(web, 'index.js'));
  fs.copyFileSync(path.join(tpl, 'web.d.ts'), path.join(web, 'index.d.ts'));
  fs.writeFileSync(path.join(web, 'package.json'), JSON.stringify({ type: 'module' }, null, 2) + '\n');
  // The simulator, for `qualys-vm-transporter simulate` (test and demo use; no key material: its
  // certificate is made at start).
  const sim = path.join(SHIM, 'simulator');
  if (fs.existsSync(path.join(sim, 'cli.js'))) {
    copyDir(sim, path.join(NPM, 'simulator'), (f) => fs.statSync(f).isDirectory() || /\.(js|md)$/.test(f));
  }
  for (const f of pkg.files || []) {
    if (!fs.existsSync(path.join(NPM, f.replace(/\/\*\*$/, '')))) die(`pkg-template/package.json "files" lists ${f}, which the build did not produce`);
  }
}

function rel(p) {
  const r = path.relative(ROOT, p);
  return r.startsWith('..') ? p : r;
}

function main() {
  const t0 = Date.now();
  const version = crateVersion();
  const built = buildSingleFile(version);
  fs.mkdirSync(DIST, { recursive: true });
  const tmp = `${OUT}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, built.text);
  fs.renameSync(tmp, OUT); // readers never see a half-written file
  const size = Buffer.byteLength(built.text);
  log(`${rel(OUT)}: ${size} bytes (${(size / 1000).toFixed(1)} kB; limit ${SIZE_LIMIT / 1000} kB), ` +
    `${built.modules.length} modules, wasm ${built.wasmBytes} bytes -> ${built.deflated} deflated`);
  if (size >= SIZE_LIMIT) die(`${rel(OUT)} is ${size} bytes, over the ${SIZE_LIMIT}-byte limit`);
  // Beside the single file: its checksum (sha256sum -c format) and the third-party licences.
  const digest = crypto.createHash('sha256').update(built.text).digest('hex');
  fs.writeFileSync(`${OUT}.sha256`, `${digest}  ${path.basename(OUT)}\n`);
  fs.copyFileSync(path.join(ROOT, 'pkg-template', 'THIRD-PARTY-NOTICES'), path.join(DIST, 'THIRD-PARTY-NOTICES'));
  log(`${rel(OUT)}.sha256: ${digest}`);
  log(`${rel(buildSamples())}/: sample output files of every data source, both output shapes`);
  if (!args.has('--no-npm')) {
    buildNpm(version, built.text);
    log(`${rel(NPM)}/: npm package qualys-vm-transporter@${version} (pack it with: cd ${rel(NPM)} && npm pack)`);
  }
  log(`done in ${Date.now() - t0} ms`);
}

main();
