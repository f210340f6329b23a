'use strict';
// One contender on one document, in its own process (so the peak RSS, VmHWM, is this contender's
// alone). Prints exactly one JSON line on stdout:
//   {"ok":true,"records","bytesIn","bytesOut","chunks","ms","hwmKiB"}   or   {"ok":false,"error"}
//
// usage: node bench/contender.js <wasm|xml2js|fxp|saxes> <source> <recordElement> <file> [chunkBytes]
//   source: the transporter's dataSource (kb | hosts | detections | hostDetections)
//   recordElement: VULN | HOST | DETECTION (what one record is, for the JS parsers)
//
// The timed span is everything after the modules are loaded: reading the file, parsing,
// producing the records, and (for the wasm core) draining the output chunks.

const fs = require('fs');
const path = require('path');
const { StringDecoder } = require('string_decoder');

const [name, source, recordElement, file, chunkArg] = process.argv.slice(2);
const CHUNK = Number(chunkArg) || 65536;

function hwmKiB() {
  const m = /VmHWM:\s+(\d+)\s+kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Streams the file in CHUNK-byte pieces (one reused buffer, like a socket's reads). */
function eachChunk(fn) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(CHUNK);
  let total = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      total += n;
      fn(n === CHUNK ? buf : buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return total;
}

const asArray = (x) => (x === undefined || x === null ? [] : Array.isArray(x) ? x : [x]);

/** Counts records in a parsed tree (xml2js / fast-xml-parser shapes); root -> RESPONSE -> list. */
function countInTree(doc) {
  const rootName = Object.keys(doc).find((k) => !k.startsWith('?') && !k.startsWith('#') && k !== '!doctype');
  const root = asArray(doc[rootName])[0] || {};
  const response = asArray(root.RESPONSE)[0] || {};
  if (recordElement === 'VULN') {
    let n = 0;
    for (const list of asArray(response.VULN_LIST)) n += asArray(list.VULN).length;
    return n;
  }
  let n = 0;
  for (const list of asArray(response.HOST_LIST)) {
    for (const host of asArray(list.HOST)) {
      if (recordElement === 'HOST') { n++; continue; }
      for (const dl of asArray(host.DETECTION_LIST)) n += asArray(dl.DETECTION).length;
    }
  }
  return n;
}

const contenders = {
  /** The transporter's path: Transformer.push(64 KiB bytes) -> output chunks as the Archer entry
   *  hands them to OutputWriter.writeItem (Buffers of UTF-8 bytes: takeOutputChunk copied by
   *  js-shim/src/output-text.js), counted. */
  wasm() {
    // QVT_WASM_PKG: another wasm-bindgen nodejs build (e.g. one with function names, for profiling).
    const pkg = process.env.QVT_WASM_PKG || path.join(__dirname, '..', 'target', 'wasm-pkg', 'nodejs');
    const core = require(path.resolve(pkg, 'qualys_vm_transporter.js'));
    const { takeOutputBytes } = require('../js-shim/src/output-text');
    const t0 = process.hrtime.bigint();
    const t = new core.Transformer(source);
    let outChars = 0;
    let chunks = 0;
    const drain = () => {
      let c;
      while ((c = takeOutputBytes(t)) !== undefined) { outChars += c.length; chunks++; }
    };
    const bytesIn = eachChunk((chunk) => { t.push(chunk); drain(); });
    const summary = t.finish();
    drain();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    t.free();
    return { records: summary.records, bytesIn, bytesOut: summary.bytesOut, outChars, chunks, ms };
  },

  /** xml2js.parseString on the whole document (read as one string), then count the records. */
  xml2js() {
    const xml2js = require('xml2js');
    const t0 = process.hrtime.bigint();
    const xml = fs.readFileSync(file, 'utf8');
    const bytesIn = fs.statSync(file).size;
    let result;
    let error;
    xml2js.parseString(xml, (err, res) => { error = err; result = res; });
    if (error) throw error;
    if (!result) throw new Error('xml2js did not call back synchronously');
    const records = countInTree(result);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { records, bytesIn, ms };
  },

  /** fast-xml-parser XMLParser.parse on the whole document (read as one string), then count. */
  fxp() {
    const { XMLParser } = require('fast-xml-parser');
    const t0 = process.hrtime.bigint();
    const xml = fs.readFileSync(file, 'utf8');
    const bytesIn = fs.statSync(file).size;
    const parser = new XMLParser({ ignoreAttributes: false });
    const result = parser.parse(xml);
    const records = countInTree(result);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { records, bytesIn, ms };
  },

  /**
   * saxes, streaming: 64 KiB chunks decoded to strings and written to the parser; a minimal record
   * extractor builds one small object per record (its leaf fields; for a detection also the host
   * ID) and discards it.
   */
  saxes() {
    const { SaxesParser } = require('saxes');
    const t0 = process.hrtime.bigint();
    const parser = new SaxesParser();
    const decoder = new StringDecoder('utf8');
    let depth = 0;
    let recordDepth = -1;
    let record = null;
    let text = '';
    let hostId = '';
    let inHost = false;
    let records = 0;
    let sink = 0;
    parser.on('opentag', (tag) => {
      depth++;
      text = '';
      if (tag.name === recordElement && record === null) {
        record = recordElement === 'DETECTION' ? { HOST_ID: hostId } : {};
        recordDepth = depth;
      } else if (tag.name === 'HOST' && recordElement === 'DETECTION') {
        inHost = true;
        hostId = '';
      }
    });
    parser.on('text', (t) => { text += t; });
    parser.on('cdata', (t) => { text += t; });
    parser.on('closetag', (tag) => {
      if (record !== null) {
        if (depth === recordDepth) {
          records++;
          sink += Object.keys(record).length; // use it, then drop it
          record = null;
          recordDepth = -1;
        } else if (depth === recordDepth + 1) {
          record[tag.name] = text.trim();
        }
      } else if (inHost && tag.name === 'ID' && depth === 5) {
        // HOST_LIST_VM_DETECTION_OUTPUT/RESPONSE/HOST_LIST/HOST/ID
        hostId = text.trim();
      } else if (inHost && tag.name === 'HOST') {
        inHost = false;
      }
      text = '';
      depth--;
    });
    let error = null;
    parser.on('error', (e) => { if (!error) error = e; });
    const bytesIn = eachChunk((chunk) => {
      parser.write(decoder.write(chunk));
      if (error) throw error;
    });
    parser.write(decoder.end());
    parser.close();
    if (error) throw error;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { records, bytesIn, ms, sink };
  },
};

function main() {
  const run = contenders[name];
  if (!run || !source || !recordElement || !file) {
    process.stderr.write('usage: node bench/contender.js <wasm|xml2js|fxp|saxes> <source> <recordElement> <file> [chunkBytes]\n');
    process.exit(2);
  }
  let out;
  try {
    out = Object.assign({ ok: true }, run());
  } catch (e) {
    const msg = e && e.message ? e.message : String(e);
    out = { ok: false, error: (e && e.code ? `${e.code}: ` : '') + msg.split('\n')[0].slice(0, 300) };
  }
  out.hwmKiB = hwmKiB();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main();
