'use strict';
// Benchmark documents in the real Qualys shapes, from the simulator's own generator
// (js-shim/simulator: createModel + renderList), written with a stream piece by piece: no
// document is ever held in memory. Cached: a document is regenerated only when its parameters
// (kind, target size, seed, generator options) change; the parameters and the expected record
// count are kept next to it in <file>.json.
//
// usage (also used as a module by bench/harness.js):
//   node bench/generate.js <detections|hosts|kb> <size: 10MB|100MB|1GB|bytes> [outDir]

const fs = require('fs');
const path = require('path');
const { createModel } = require('../js-shim/simulator/generate');
const { renderList } = require('../js-shim/simulator/render');
const { interpretParams, ENDPOINTS } = require('../js-shim/simulator/params');

const GENERATOR_VERSION = 1; // bump when the choices below change, to invalidate the cache
const SEED = 20240601;

/**
 * Per document kind: the simulator endpoint, the request parameters (as a real Archer feed would
 * send them: one page with everything, truncation_limit=0), the model option that scales the
 * document, and which mark() counts as one record of the data source the transporter would use.
 */
const KINDS = {
  detections: {
    endpoint: 'detections',
    source: 'detections',
    pairs: [['action', 'list'], ['truncation_limit', '0'], ['show_results', '1']],
    scale: 'hosts',
    base: { detectionsPerHost: 10, kb: 4000 },
    mark: 'detection',
    recordElement: 'DETECTION',
  },
  hosts: {
    endpoint: 'hosts',
    source: 'hosts',
    pairs: [['action', 'list'], ['details', 'All'], ['truncation_limit', '0'], ['show_tags', '1']],
    scale: 'hosts',
    base: { detectionsPerHost: 10, kb: 2000 },
    mark: 'host',
    recordElement: 'HOST',
  },
  kb: {
    endpoint: 'kb',
    source: 'kb',
    pairs: [['action', 'list'], ['details', 'All']],
    scale: 'kb',
    base: { hosts: 10, detectionsPerHost: 1 },
    mark: 'qid',
    recordElement: 'VULN',
  },
};

const API_PATH = { kb: 'fo/knowledge_base/vuln/', hosts: 'fo/asset/host/', detections: 'fo/asset/host/vm/detection/' };

/** "10MB" -> 10e6, "1GB" -> 1e9 (decimal units, like the MB/s figures), or a plain byte count. */
function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(String(s).trim());
  if (!m) throw new Error(`bad size ${s} (use e.g. 10MB, 100MB, 1GB)`);
  const mult = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[(m[2] || 'B').toUpperCase()];
  return Math.round(Number(m[1]) * mult);
}

function sizeLabel(bytes) {
  if (bytes >= 1e9 && bytes % 1e9 === 0) return `${bytes / 1e9}GB`;
  if (bytes >= 1e6 && bytes % 1e6 === 0) return `${bytes / 1e6}MB`;
  return `${bytes}B`;
}

function makeCtx(kind, count, mark) {
  const k = KINDS[kind];
  const model = createModel(Object.assign({ seed: SEED }, k.base, { [k.scale]: count }));
  const p = interpretParams(k.endpoint, k.pairs);
  return {
    model,
    endpoint: k.endpoint,
    version: '2.0',
    p,
    pairs: k.pairs,
    now: model.dataEndMs,
    urlBase: `https://qualysapi.qualys.com/api/2.0/${API_PATH[k.endpoint]}`,
    keepAliveEvery: 250,
    evaluationComments: true,
    mark,
  };
}

/** Bytes per scaling unit (host or QID), measured on a sample of the same model options. */
function bytesPerUnit(kind) {
  const sample = 2000;
  let bytes = 0;
  for (const piece of renderList(makeCtx(kind, sample))) bytes += Buffer.byteLength(piece);
  return bytes / sample;
}

/**
 * Ensures the document exists; returns its meta {kind, source, file, bytes, records, ...}.
 * @param {string} kind detections | hosts | kb
 * @param {number} target bytes wanted (the document ends up within a few per cent of it)
 * @param {string} dir output directory
 * @param {(msg: string) => void} [log]
 */
async function ensureDocument(kind, target, dir, log = () => {}) {
  const k = KINDS[kind];
  if (!k) throw new Error(`unknown document kind ${kind} (use ${Object.keys(KINDS).join(', ')})`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${kind}-${sizeLabel(target)}.xml`);
  const metaFile = `${file}.json`;
  const want = { generatorVersion: GENERATOR_VERSION, kind, target, seed: SEED, base: k.base, pairs: k.pairs };
  try {
    const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
    const st = fs.statSync(file);
    if (JSON.stringify(meta.params) === JSON.stringify(want) && st.size === meta.bytes) {
      return meta;
    }
  } catch (e) { /* not cached yet */ }

  const per = bytesPerUnit(kind);
  const count = Math.max(1, Math.round(target / per));
  log(`generating ${path.basename(file)}: ${count} ${k.scale} (~${per.toFixed(0)} bytes each) ...`);
  const t0 = Date.now();
  let records = 0;
  const ctx = makeCtx(kind, count, (m) => { if (m === k.mark) records++; });
  const tmp = `${file}.${process.pid}.tmp`;
  const out = fs.createWriteStream(tmp, { highWaterMark: 1 << 20 });
  const write = (s) => (out.write(s) ? null : new Promise((r) => out.once('drain', r)));
  let bytes = 0;
  let buf = '';
  for (const piece of renderList(ctx)) {
    buf += piece;
    if (buf.length >= 1 << 20) {
      bytes += Buffer.byteLength(buf);
      const w = write(buf);
      buf = '';
      if (w) await w; // backpressure: never more than ~2 MB in flight
    }
  }
  if (buf) { bytes += Buffer.byteLength(buf); await write(buf); }
  await new Promise((resolve, reject) => { out.once('error', reject); out.end(resolve); });
  fs.renameSync(tmp, file);
  const meta = {
    params: want,
    kind,
    source: k.source,
    recordElement: k.recordElement,
    root: ENDPOINTS[k.endpoint].root,
    file,
    bytes,
    units: count,
    scale: k.scale,
    records,
    generatedMs: Date.now() - t0,
  };
  fs.writeFileSync(metaFile, JSON.stringify(meta, null, 2) + '\n');
  log(`  ${bytes} bytes, ${records} records in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return meta;
}

module.exports = { ensureDocument, parseSize, sizeLabel, KINDS };

if (require.main === module) {
  const [kind, size, dir] = process.argv.slice(2);
  if (!kind || !size) {
    console.error('usage: node bench/generate.js <detections|hosts|kb> <size> [outDir]');
    process.exit(2);
  }
  ensureDocument(kind, parseSize(size), dir || path.join(__dirname, 'data'), (m) => console.log(m))
    .then((meta) => console.log(JSON.stringify(meta)))
    .catch((e) => { console.error(e.stack || e.message); process.exit(1); });
}
