'use strict';
// The command line: qualys-vm-transporter run | transform | sample | simulate.
//   run        runs a feed exactly as Archer would: same Custom Parameters, same tokens, a mirrored
//              context (OutputWriter writing to --out), the same callback; prints the next tokens
//              and a summary; exit 0 only on success
//   check      the connection test (testConnection=True) for each data source whose URL is given:
//              one light request each, no record written; a PASS/WARN/FAIL line per check; exit 0
//              only when every check passed (src/check.js)
//   transform  turns a saved Qualys response into the Archer output, offline
//   sample     writes a complete sample output file for Archer's Source Definition (the shipped
//              samples/ beside the script: scripts/bundle.js writes them with the core)
//   simulate   starts the Qualys API simulator (js-shim/simulator/cli.js)
// Log lines go to stderr (a live progress line under them on a terminal); the final report goes to
// stdout. Exit codes (EXIT, in the main help): 0 success, 1 the run or transform failed (check: a
// check failed), 2 bad command line or input files, 3 (check) invalid Custom Parameters, 130/143
// `run` stopped by SIGINT/SIGTERM (the request in flight
// ended through the run's AbortSignal, the resume checkpoint printed and saved; a second signal
// exits at once), 141 `run --out -` whose reader closed the pipe (EPIPE). The output file is
// FILE.part until the run succeeds, created by the first record only.
// Secrets: no message echoes the value of an argument the CLI rejects (a mistyped --param
// password:..., a positional, a bad --params file: JSON.parse's own message would quote it), and
// whatever the run prints or saves (--save-tokens) is scrubbed like the log (src/log.js Secrets).

const fs = require('fs');
const path = require('path');

const lib = require('./src/index');
const { errorText, Secrets } = require('./src/log');
const { HTTP_CLIENTS } = require('./src/http');
const { archerContext } = require('./src/archer-context');
const { parseArgs, UsageError } = require('./src/cli-args');

const NAME = 'qualys-vm-transporter';

/** The exit codes (documented in the main help). */
const EXIT = { OK: 0, FAILED: 1, USAGE: 2, SIGINT: 130, EPIPE: 141, SIGTERM: 143 };

// The help texts. `run` and `transform` name what the core knows (data sources, root nodes): they
// are built when shown, so loading the CLI does not instantiate the wasm core.
const HELP = {
  main: `${NAME}: pulls Qualys VM data (KnowledgeBase, hosts, host detections) into RSA Archer.

usage: ${NAME} <command> [options]

commands:
  run         run a data feed as Archer would (against Qualys or any URL)
  check       test the connection, credentials, endpoint and limits (one light request, nothing written)
  transform   turn a saved Qualys response into the Archer output, offline
  sample      write a complete sample output file for the data feed's Source Definition
  simulate    start the Qualys API simulator (tests and demos)

  ${NAME} <command> --help   details of one command
  ${NAME} --version, -v      the version

exit codes:
  0    success
  1    the run (or transform) failed; a resume checkpoint, when the run left one, is printed;
       check: a check failed
  2    bad command line or input files
  3    check: invalid Custom Parameters (no request made)
  130  run stopped by SIGINT (Ctrl-C)
  143  run stopped by SIGTERM
       (either way the request in flight is ended and the resume checkpoint printed, and saved
       with --save-tokens; a second signal exits at once)
  141  run --out -: the reader closed the pipe (EPIPE, e.g. | head); the run was stopped

Inside Archer, upload qualys-vm-transporter.js as the data feed's transporter script. Installed
with npm it is node_modules/qualys-vm-transporter/qualys-vm-transporter.js, beside its checksum
qualys-vm-transporter.js.sha256 (and samples/, the Source Definition's sample files).`,

  get run() { return runHelp(); },
  check: `usage: ${NAME} check --params FILE [options of run]

The connection test (testConnection=True) of each data source whose URL is given.
Exit codes: 0 all passed, 1 a check failed, 2 wrong command line, 3 invalid Custom Parameters.`,
  get transform() { return transformHelp(); },
  get sample() { return sampleHelp(); },

  simulate: `usage: ${NAME} simulate [options]

Starts the Qualys VM API simulator on 127.0.0.1 (test and demo use only); Ctrl-C stops it.
See "${NAME} simulate --help" for its options (it prints the simulator's own help).`,
};

function runHelp() {
  return `usage: ${NAME} run --params params.json [--tokens tokens.json] [--out out.xml] [options]

Runs one data-feed execution exactly as Archer's JavaScript Transporter would: the same Custom
Parameters and tokens, an OutputWriter that writes to --out, the same callback. Prints the tokens
Archer would store for the next run and a summary. Exit code 0 only on success.

options:
  --params FILE         JSON object of Custom Parameters, e.g. {"dataSource": "detections",
                        "detectionUrl": "https://qualysapi.qualys.com/api/5.0/fo/asset/host/vm/detection/?action=list&vm_scan_since=<LastRunTime>",
                        "username": "acme_ab12"}; values are given to the feed as they are
                        (numbers and booleans are read as Archer would hold them, by the core)
  --param KEY=VALUE     one parameter (repeatable); wins over --params and the environment
  --tokens FILE         JSON {"LastRunTime": "...", "PreviousRunContext": "..."} (as Archer passes them)
  --last-run-time T     the LastRunTime token (wins over --tokens)
  --out FILE            the output document: XML declaration, root node, the records ("-" = stdout).
                        Written to FILE.part and renamed to FILE on success
  --save-tokens FILE    write the next run's tokens as JSON (give it to the next run's --tokens); after
                        a failed run that left a resume checkpoint: the old LastRunTime + the checkpoint
  --http CLIENT         force the HTTP client: ${HTTP_CLIENTS.join(', ')} (default: the first that loads)
  --legacy-output       mirror Archer 6.4/6.5: no OutputWriter; the output comes back in the callback
  --progress / --no-progress   force the live progress line on or off (default: on a terminal)
  --quiet               no log lines, only errors and the final report

environment (so secrets stay out of the shell history):
  QVT_PASSWORD          the password parameter
  QVT_USERNAME          the username parameter
  QVT_PROXY             the proxy parameter (http://user:password@host:port)
Precedence: --params < environment < --param.
${tablesHelp()}`;
}

/** The data source names, as the core lists them: kb|hosts|hostDetections|detections. */
function sourceNames() {
  return require('./src/core').dataSources().map((d) => d.name).join('|');
}

/**
 * The Custom Parameters and the data sources, generated from the core's tables (parameters(),
 * dataSources()): what `run --help` lists after the options.
 */
function tablesHelp() {
  const core = require('./src/core');
  const lines = ['', 'Custom Parameters (the keys of --params and --param; the values Archer passes are strings):'];
  for (const p of core.parameters()) lines.push(...helpEntry(p.key, parameterText(p)));
  lines.push('', 'data sources (dataSource: the parameter with its URL; the root node and the record element of its output):');
  for (const d of core.dataSources()) lines.push(...helpEntry(d.name, `${d.urlKey}; root node ${d.defaultRootNode}; records ${d.recordElement}`));
  return lines.join('\n');
}

/**
 * One parameter's help: whether it is required, its range and default, its summary.
 * @param {import('./src/core').ParameterInfo} p
 */
function parameterText(p) {
  const facts = [];
  if (p.required === 'always') facts.push('required');
  else if (p.required === 'forItsDataSource') facts.push('required for its dataSource');
  if (p.kind === 'integer') facts.push(`${p.min} to ${p.max}, default ${p.default}`);
  else if (p.kind === 'boolean') facts.push(`True or False, default ${p.default ? 'True' : 'False'}`);
  else if (p.kind === 'choice' && p.values && p.required === 'no') facts.push(`${p.values.join(', ')}; default ${p.default}`);
  return (facts.length ? `(${facts.join('; ')}) ` : '') + p.summary;
}

/**
 * A help entry: the name in a 24-character column, the text wrapped at 100 columns under it.
 * @param {string} name
 * @param {string} text
 * @returns {string[]}
 */
function helpEntry(name, text) {
  const indent = ' '.repeat(24);
  const lines = [];
  let line = `  ${name}`.padEnd(24);
  if (line.length > 24) { lines.push(line.trimEnd()); line = indent; }
  let empty = true;
  for (const word of text.split(' ')) {
    if (!empty && line.length + 1 + word.length > 100) { lines.push(line); line = indent; empty = true; }
    line += (empty ? '' : ' ') + word;
    empty = false;
  }
  lines.push(line);
  return lines;
}

function transformHelp() {
  return `usage: ${NAME} transform --source ${sourceNames()} RESPONSE.xml [--out out.xml] [--output-shape records|qualys]

Turns one saved Qualys response into the Archer output offline: the XML declaration, the root node
and the records, exactly as a feed run writes them. RESPONSE.xml "-" reads stdin; without --out the
document goes to stdout. A summary goes to stderr.

options:
  --source S            kb, hosts, hostDetections or detections (the dataSource parameter)
  --out FILE            write the document to FILE
  --output-shape SHAPE  records (the default) or qualys (the outputShape parameter)
  --root-node NAME      the root element (default per source: ${Object.entries(lib.DEFAULT_ROOT_NODES).map(([k, v]) => `${k} ${v}`).join(', ')})
  --detection-key K     detections: seed (default), uniqueVulnId or hostQid (the detectionKey parameter);
                        detection keys written twice are counted and the first few named`;
}

function sampleHelp() {
  return `usage: ${NAME} sample --source ${sourceNames()} [--output-shape records|qualys] [--out FILE] [--root-node NAME]
       ${NAME} sample SOURCE ...   (the same)

Writes a complete sample output file: the XML declaration, the root node and records holding every
element the data source's output can hold (each repeating element at least twice), exactly as the
feed writes them. Load it as the sample of the data feed's Source Definition. Without --out the
document goes to stdout. The element reference is docs/OUTPUT.md.

options:
  --source S            kb, hosts, hostDetections or detections (the dataSource parameter)
  --output-shape SHAPE  records (the default) or qualys (the outputShape parameter)
  --out FILE            write the document to FILE
  --root-node NAME      the root element (the rootNode parameter; default per source: ${Object.entries(lib.DEFAULT_ROOT_NODES).map(([k, v]) => `${k} ${v}`).join(', ')})`;
}

/**
 * Where the CLI reads and writes (process's streams by default; tests pass their own); signals:
 * where SIGINT/SIGTERM come from (default process); exit: how a second signal exits at once.
 * @typedef {{stdout: {write(text: string): unknown, isTTY?: boolean, columns?: number},
 *   stderr: {write(text: string): unknown, isTTY?: boolean, columns?: number}, stdin: any,
 *   env: Record<string, string | undefined>, baseDir: string,
 *   signals: {on: Function, removeListener: Function} | null, exit: (code: number) => void}} IO
 */
/**
 * The output document: written to FILE.part, renamed to FILE on success (or to stdout). begin()
 * holds the document's start until the first record is written, so a run that fails before any
 * record (a configuration or credential error) creates no FILE.part; write() may return a Promise
 * (stdout's backpressure: wait for 'drain'); abandon(true) also removes FILE.part.
 * @typedef {{begin(text: string): void, write(text: string): void | Promise<void>, commit(): void,
 *   abandon(remove?: boolean): void, readonly opened: boolean, where: string, part?: string}} OutputFile
 */

/**
 * Where in a text a JSON.parse error points: "line L, column C", or "" (never the text itself).
 * @param {string} text
 * @param {any} e
 */
function jsonErrorPlace(text, e) {
  const m = /position (\d+)/.exec(e && e.message ? e.message : '');
  if (m) {
    const before = text.slice(0, Number(m[1]));
    const line = before.split('\n').length;
    return ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
  }
  return /Unexpected end of JSON input|end of data/i.test(e && e.message ? e.message : '') ? ' (it ends too early)' : '';
}

/**
 * Reads a JSON file. Errors name the option that gave it, never its content (JSON.parse's message
 * quotes the text, which may hold the password).
 * @param {string} file
 * @param {string} what
 * @param {string} option
 * @returns {unknown}
 */
function readJson(file, what, option) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} (${option}): ${/** @type {any} */ (e).code || 'unreadable'}`);
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new UsageError(`${what} (${option}) is not valid JSON${jsonErrorPlace(text, e)}`);
  }
}

/**
 * The Custom Parameters of a --params file, unconverted (the core converts values in one place).
 * @param {any} obj
 * @param {string} what
 * @returns {Record<string, unknown>}
 */
function paramObject(obj, what) {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new UsageError(`${what} must be a JSON object`);
  return Object.assign({}, obj);
}

/**
 * The tokens of a --tokens file, as the strings Archer passes (null/absent: null).
 * @param {any} obj
 * @param {string} what
 * @returns {Record<string, string>}
 */
function stringValues(obj, what) {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new UsageError(`${what} must be a JSON object`);
  const out = /** @type {Record<string, string>} */ ({});
  for (const [k, v] of Object.entries(obj)) {
    if (v === null || v === undefined) out[k] = '';
    else if (typeof v === 'object') throw new UsageError(`${what}: a value must be a string, not ${Array.isArray(v) ? 'an array' : 'an object'}`);
    else out[k] = String(v);
  }
  return out;
}

/**
 * What the progress line shows (cmdRun keeps it up to date from the run's hooks).
 * @typedef {{pages: number, records: number, bytesIn: number, waits: number, waitMs: number,
 *   state: string, waitUntil: number, windows: number, windowsDone: number, windowsSince: number,
 *   startedMs: number}} Progress
 */

/**
 * 75 -> "1m 15s", 3700 -> "1h 2m", 9 -> "9s".
 * @param {number} secs
 */
function fmtDuration(secs) {
  const t = Math.max(0, Math.round(secs));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m ${t % 60}s`;
  return `${Math.floor(t / 3600)}h ${Math.floor((t % 3600) / 60)}m`;
}

/**
 * The progress line: "[state] pages P | records R | N rec/s | in B | waits W (S s) | elapsed",
 * plus "ID ranges D/T, ~ETA left" once the run listed the matching IDs first. A wait counts down in
 * the state. Fitted to `width` columns: the least useful parts are left out first (elapsed, then
 * waits, bytes in, the rate, the page count), and only what still does not fit is cut.
 * @param {Progress} p
 * @param {number} nowMs
 * @param {number} width
 * @returns {string}
 */
function progressLine(p, nowMs, width) {
  const secs = Math.max(0.001, (nowMs - p.startedMs) / 1000);
  const state = p.state === 'waiting' ? `waiting ${fmtDuration(Math.max(0, (p.waitUntil - nowMs) / 1000))}` : p.state;
  /** @type {Array<[string, number]>} [text, priority: the lower, the sooner it is left out] */
  const parts = [
    [`pages ${p.pages}`, 4],
    [`records ${p.records}`, 8],
    [`${Math.round(p.records / secs)} rec/s`, 3],
    [`in ${fmtBytes(p.bytesIn)}`, 2],
    [`waits ${p.waits} (${(p.waitMs / 1000).toFixed(1)} s)`, 1],
  ];
  if (p.windows > 0) {
    const done = Math.min(p.windowsDone, p.windows);
    const spent = (nowMs - (p.windowsSince || p.startedMs)) / 1000;
    const eta = done > 0 && done < p.windows ? `, ~${fmtDuration((spent / done) * (p.windows - done))} left` : '';
    parts.push([`ID ranges ${done}/${p.windows}${eta}`, 7]);
  }
  parts.push([fmtDuration(secs), 0]);
  const max = Math.max(20, width - 1);
  const text = (/** @type {Array<[string, number]>} */ xs) => `[${state}] ${xs.map((x) => x[0]).join(' | ')}`;
  let shown = parts;
  for (let level = 0; level <= 4 && text(shown).length > max; level++) shown = shown.filter((x) => x[1] > level);
  const line = text(shown);
  return line.length > max ? line.slice(0, max).trimEnd() : line;
}

/**
 * A progress line on a terminal, kept below the log lines.
 * @param {{write(text: string): unknown, columns?: number}} stream
 * @param {boolean} enabled
 */
function makeDisplay(stream, enabled) {
  let line = '';
  let last = 0;
  const clear = () => { if (enabled && line) stream.write('\r\x1b[2K'); };
  const draw = () => { if (enabled && line) stream.write(line); };
  return {
    enabled,
    /** The terminal's width (80 when it does not say: a forced --progress into a file or pipe). */
    width: () => (stream.columns && stream.columns > 0 ? stream.columns : 80),
    log(/** @type {string} */ text) {
      clear();
      stream.write(text + '\n');
      draw();
    },
    progress(/** @type {string} */ text, /** @type {boolean} */ force) {
      if (!enabled) return;
      const t = Date.now();
      if (!force && t - last < 100) { line = text; return; }
      last = t;
      clear();
      line = text;
      draw();
    },
    done() {
      clear();
      line = '';
    },
  };
}

/**
 * @param {number} n
 */
function fmtBytes(n) {
  if (n >= 1073741824) return `${(n / 1073741824).toFixed(1)} GB`;
  if (n >= 1048576) return `${(n / 1048576).toFixed(1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${n} B`;
}

/**
 * The output document writer behind the mirrored OutputWriter (or the legacy result.output).
 * @param {string | undefined} out
 * @param {{write(text: string): unknown, once?: Function, removeListener?: Function}} stdout
 * @returns {OutputFile | null}
 */
function makeOutputFile(out, stdout) {
  if (!out) return null;
  let head = '';
  if (out === '-') {
    let started = false;
    /** @param {string} s */
    const put = (s) => {
      const text = started ? s : head + s;
      started = true;
      head = '';
      if (stdout.write(text) !== false || typeof stdout.once !== 'function') return undefined;
      // A pipe that is full: the run waits for 'drain' (or the pipe's end) before the next chunk.
      const o = /** @type {any} */ (stdout);
      return /** @type {Promise<void>} */ (new Promise((resolve) => {
        const done = () => { o.removeListener('drain', done); o.removeListener('error', done); o.removeListener('close', done); resolve(); };
        o.once('drain', done); o.once('error', done); o.once('close', done);
      }));
    };
    return {
      begin(s) { head += s; },
      write: (s) => (s === '' && !started ? undefined : put(s)),
      commit() { if (!started) put(''); },
      abandon() {},
      get opened() { return started; },
      where: 'stdout',
    };
  }
  const part = `${out}.part`;
  // Checked now, so that a place that cannot be written is a command-line error before the run;
  // the file itself is created when the first record arrives.
  try {
    fs.accessSync(path.dirname(path.resolve(out)), fs.constants.W_OK);
    if (fs.existsSync(out) && fs.statSync(out).isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
  } catch (e) {
    throw new UsageError(`cannot write the output file (--out): ${/** @type {any} */ (e).code || 'not writable'}`);
  }
  /** @type {number | null} */
  let fd = null;
  const open = () => {
    const f = fs.openSync(part, 'w');
    fd = f;
    if (head) fs.writeSync(f, head);
    head = '';
    return f;
  };
  return {
    begin(s) { head += s; },
    write: (s) => {
      if (fd === null && s === '') return; // the "" of a run without records opens nothing
      fs.writeSync(fd === null ? open() : fd, s);
    },
    commit() {
      const f = fd === null ? open() : fd;
      fs.closeSync(f);
      fs.renameSync(part, out);
    },
    abandon(remove) {
      if (fd === null) return;
      try { fs.closeSync(fd); } catch (e) { /* closed */ }
      if (remove) try { fs.unlinkSync(part); } catch (e) { /* gone */ }
    },
    get opened() { return fd !== null; },
    where: out,
    part,
  };
}

/**
 * The Custom Parameters and tokens of run and check: --params < environment < --param; --tokens,
 * --last-run-time.
 * @param {Record<string, any>} opts
 * @param {Record<string, string | undefined>} env
 */
function paramsAndTokens(opts, env) {
  const params = opts.params ? paramObject(readJson(opts.params, 'the parameters file', '--params'), 'the parameters file (--params)') : {};
  if (env.QVT_USERNAME) params.username = env.QVT_USERNAME;
  if (env.QVT_PASSWORD) params.password = env.QVT_PASSWORD;
  if (env.QVT_PROXY) params.proxy = env.QVT_PROXY;
  for (const kv of opts.param || []) {
    const i = kv.indexOf('=');
    if (i <= 0) throw new UsageError(`--param wants KEY=VALUE; one --param has ${i === 0 ? 'no KEY before' : 'no'} "=" (its text is not shown: it may hold a secret)`);
    params[kv.slice(0, i)] = kv.slice(i + 1);
  }
  if (!Object.keys(params).length) throw new UsageError('no parameters: give --params FILE and/or --param KEY=VALUE (see --help)');
  const tokens = opts.tokens ? stringValues(readJson(opts.tokens, 'the tokens file', '--tokens'), 'the tokens file (--tokens)') : {};
  if (opts['last-run-time'] !== undefined) tokens.LastRunTime = opts['last-run-time'];
  return { params, tokens };
}

/**
 * Stops a run cleanly on SIGINT/SIGTERM (abort through the run's signal: the core's checkpoint is
 * kept) and on a closed output pipe (EPIPE on stdout); a second signal exits at once. release()
 * removes the handlers when the run is over.
 * @param {IO} io
 * @param {{log(text: string): void}} display
 */
function stopOnSignals(io, display) {
  const ac = new AbortController();
  const state = { signal: ac.signal, reason: /** @type {string | null} */ (null), pipeClosed: false, release: () => {} };
  const proc = io.signals;
  /** @param {NodeJS.Signals} sig */
  const onSignal = (sig) => {
    if (state.reason) {
      io.stderr.write(`${NAME}: ${sig} again: exiting at once\n`);
      io.exit(sig === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM);
      return;
    }
    state.reason = sig;
    display.log(`${NAME}: ${sig} received: stopping the run (no new request; the resume checkpoint follows). Send it again to exit at once.`);
    ac.abort(`${sig} received`);
  };
  /** @param {any} e */
  const onPipeError = (e) => {
    if (state.pipeClosed) return;
    state.pipeClosed = true;
    if (!state.reason) state.reason = 'EPIPE';
    ac.abort(`the output pipe was closed (${e && e.code ? e.code : 'EPIPE'})`);
  };
  if (proc && typeof proc.on === 'function') {
    proc.on('SIGINT', onSignal);
    proc.on('SIGTERM', onSignal);
  }
  const out = /** @type {any} */ (io.stdout);
  if (out && typeof out.on === 'function') out.on('error', onPipeError);
  state.release = () => {
    if (proc && typeof proc.removeListener === 'function') {
      proc.removeListener('SIGINT', onSignal);
      proc.removeListener('SIGTERM', onSignal);
    }
    // The error handler stays: a late EPIPE from a write still queued must not crash the process.
  };
  return state;
}

/**
 * @param {string[]} argv
 * @param {IO} io
 * @returns {Promise<number>}
 */
async function cmdRun(argv, io) {
  const { opts, positional } = parseArgs(argv, {
    help: 'flag', params: 'value', param: 'list', tokens: 'value', 'last-run-time': 'value', out: 'value',
    'save-tokens': 'value', http: 'value', 'legacy-output': 'flag', progress: 'flag', 'no-progress': 'flag', quiet: 'flag',
  });
  if (opts.help) { io.stdout.write(HELP.run + '\n'); return 0; }
  if (positional.length) throw new UsageError('unexpected argument (not shown: it may hold a secret); options start with -- (see run --help)');
  if (opts.http && !HTTP_CLIENTS.includes(opts.http)) throw new UsageError(`--http must be one of ${HTTP_CLIENTS.join(', ')}`);

  const { params, tokens } = paramsAndTokens(opts, io.env);
  // What this command prints or saves is scrubbed like the log: a secret pasted into a token or a
  // parameter is never echoed back.
  const secrets = new Secrets().addFromParams(params);
  const safe = (/** @type {unknown} */ v) => (v === null || v === undefined || secrets.scrub(String(v)) === String(v) ? v : null);

  const report = opts.out === '-' ? io.stderr : io.stdout;
  const isTTY = opts.progress ? true : opts['no-progress'] ? false : Boolean(io.stderr.isTTY);
  const display = makeDisplay(io.stderr, isTTY && !opts.quiet);
  const file = makeOutputFile(opts.out, io.stdout);
  const startedAt = new Date();
  const stop = stopOnSignals(io, display);

  // The mirrored Archer context (src/archer-context.js), writing to the output file.
  const mirror = archerContext({
    params,
    tokens: { LastRunTime: tokens.LastRunTime === undefined ? null : tokens.LastRunTime, PreviousRunContext: tokens.PreviousRunContext === undefined ? null : tokens.PreviousRunContext, LastFileProcessed: null },
    outputWriter: !opts['legacy-output'],
    onCreate: (root) => { if (file) file.begin(`<?xml version="1.0" encoding="UTF-8"?>\n<${root}>`); },
    onItem: (chunk) => (file && !stop.pipeClosed ? file.write(typeof chunk === 'string' ? chunk : String(chunk)) : undefined),
  });

  /** @type {Progress} */
  const stats = { pages: 0, records: 0, bytesIn: 0, waits: 0, waitMs: 0, state: 'starting', waitUntil: 0, windows: 0, windowsDone: 0, windowsSince: 0, startedMs: startedAt.getTime() };
  const drawProgress = (/** @type {boolean} */ force) => {
    display.progress(progressLine(stats, Date.now(), display.width()), force);
  };
  // On a terminal the line also ticks during long waits.
  const ticker = display.enabled ? setInterval(() => drawProgress(true), 1000) : null;
  if (ticker && ticker.unref) ticker.unref();
  const outcome = await lib.runArcher({
    context: /** @type {import('../pkg-template/index').ArcherContext} */ (mirror.context),
    callback: mirror.callback,
    print: (line) => {
      if (opts.quiet && !/ :: ERROR :: /.test(line)) return;
      if (stop.reason === 'EPIPE' && / :: ERROR :: ABORTED: /.test(line)) return; // one line says it
      display.log(line);
    },
    run: {
      http: opts.http,
      signal: stop.signal,
      onProgress: (s) => {
        stats.pages = s.pages; stats.records = s.records; stats.bytesIn = s.bytesIn; stats.waits = s.waits; stats.waitMs = s.waitMs;
        if (s.windows > 0 && !stats.windows) stats.windowsSince = Date.now();
        stats.windows = s.windows || 0; stats.windowsDone = s.windowsDone || 0;
        drawProgress(false);
      },
      onAction: (a) => {
        // What the operator sees: the page being fetched, a wait counting down, done. The core's
        // "pending" (a response is still coming) keeps the page's label.
        if (a.kind === 'send') stats.state = `page ${a.page}${a.attempt ? ` retry ${a.attempt}` : ''}`;
        else if (a.kind === 'wait') { stats.state = 'waiting'; stats.waitUntil = Date.now() + a.ms; }
        else if (a.kind === 'done') stats.state = 'done';
        else if (a.kind === 'fail') stats.state = 'failed';
        else return;
        drawProgress(true);
      },
    },
  });
  if (ticker) clearInterval(ticker);
  stop.release();
  display.done();

  const [err, result] = mirror.state.calls.length ? mirror.state.calls[mirror.state.calls.length - 1] : [['the run ended without calling back'], null];
  if (err) {
    if (file) file.abandon();
    const lines = Array.isArray(err) ? err : [String(err)];
    const checkpoint = safe(result && result.previousRunContext ? result.previousRunContext : '') || '';
    // Archer does not advance LastRunTime after a failure; the checkpoint lets the next run resume.
    // (A LastRunTime that holds a secret was never a date: it is not saved.)
    const saveCheckpoint = () => {
      if (!checkpoint || !opts['save-tokens']) return;
      const nextFail = { LastRunTime: tokens.LastRunTime === undefined ? null : safe(tokens.LastRunTime), PreviousRunContext: checkpoint };
      fs.writeFileSync(opts['save-tokens'], JSON.stringify(nextFail, null, 2) + '\n');
    };
    if (stop.reason === 'EPIPE') {
      // `--out - | head`: the reader has what it wanted. One line, no failure report.
      io.stderr.write(`${NAME}: the output pipe was closed (EPIPE); the run was stopped\n`);
      saveCheckpoint();
      return EXIT.EPIPE;
    }
    if (stop.reason) report.write(`${NAME}: the run was STOPPED by ${stop.reason}${checkpoint ? '' : ' (no checkpoint: the next run starts again from LastRunTime)'}\n`);
    else report.write(`${NAME}: the run FAILED: ${secrets.scrub(lines[lines.length - 1])}\n`);
    if (file && file.part && file.opened) report.write(`partial output left in ${file.part}\n`);
    if (checkpoint) report.write(`resume checkpoint (give it to the next run as PreviousRunContext; LastRunTime stays as it was):\n  PreviousRunContext: ${JSON.stringify(checkpoint)}\n`);
    saveCheckpoint();
    if (checkpoint && opts['save-tokens']) report.write(`saved to ${opts['save-tokens']}\n`);
    return stop.reason === 'SIGINT' ? EXIT.SIGINT : stop.reason === 'SIGTERM' ? EXIT.SIGTERM : EXIT.FAILED;
  }
  if (file) {
    if (opts['legacy-output']) {
      file.write(result && result.output ? String(result.output) + '\n' : '');
    } else {
      file.write(`</${mirror.state.rootNode}>\n`);
    }
    file.commit();
  }
  const s = outcome.summary || /** @type {Partial<import('../pkg-template/index').Summary>} */ ({});
  const next = { LastRunTime: startedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'), PreviousRunContext: result && result.previousRunContext !== undefined ? safe(result.previousRunContext) || '' : '' };
  if (opts['save-tokens']) fs.writeFileSync(opts['save-tokens'], JSON.stringify(next, null, 2) + '\n');
  report.write(
    `${NAME}: the run succeeded\n` +
    `next tokens (what Archer stores after this run):\n` +
    `  LastRunTime: ${next.LastRunTime}\n` +
    `  PreviousRunContext: ${JSON.stringify(next.PreviousRunContext)}\n` +
    `summary: dataSource=${safe(s.dataSource)} records=${s.records} pages=${s.pages} requests=${s.requests} retries=${s.retries} ` +
    `waits=${s.waits} (${((s.waitMs || 0) / 1000).toFixed(1)} s) in=${fmtBytes(s.bytesIn || 0)} out=${fmtBytes(s.bytesOut || 0)} ` +
    `writeItem calls=${mirror.state.writeItems} duplicatesSkipped=${s.duplicatesSkipped} elapsed=${((s.elapsedMs || 0) / 1000).toFixed(1)} s\n` +
    (file ? `output: ${file.where}\n` : 'output: not kept (no --out)\n'),
  );
  return 0;
}

/**
 * The connection test (src/check.js: testConnection=True per data source whose URL is given).
 * @param {string[]} argv
 * @param {IO} io
 * @returns {Promise<number>}
 */
async function cmdCheck(argv, io) {
  const { opts, positional } = parseArgs(argv, { help: 'flag', params: 'value', param: 'list', tokens: 'value', 'last-run-time': 'value', http: 'value', quiet: 'flag' });
  if (opts.help) { io.stdout.write(HELP.check + '\n'); return 0; }
  if (positional.length) throw new UsageError('unexpected argument (not shown: it may hold a secret); options start with -- (see check --help)');
  if (opts.http && !HTTP_CLIENTS.includes(opts.http)) throw new UsageError(`--http must be one of ${HTTP_CLIENTS.join(', ')}`);
  const { params, tokens } = paramsAndTokens(opts, io.env);
  const secrets = new Secrets().addFromParams(params);
  const { runCheck, checkReport } = require('./src/check');
  const result = await runCheck({ params, tokens, http: opts.http, print: (line) => { if (!opts.quiet || / :: ERROR :: /.test(line)) io.stderr.write(line + '\n'); } });
  io.stdout.write(checkReport(result, (t) => secrets.scrub(t)));
  return result.exitCode;
}

/**
 * @param {string[]} argv
 * @param {IO} io
 * @returns {Promise<number>}
 */
async function cmdTransform(argv, io) {
  const { opts, positional } = parseArgs(argv, { help: 'flag', source: 'value', out: 'value', 'root-node': 'value', 'output-shape': 'value', 'detection-key': 'value' });
  if (opts.help) { io.stdout.write(HELP.transform + '\n'); return 0; }
  const outputShape = /** @type {import('../pkg-template/index').OutputShape | undefined} */ (opts['output-shape']);
  if (outputShape !== undefined && outputShape !== 'records' && outputShape !== 'qualys') throw new UsageError('--output-shape must be records or qualys');
  if (!opts.source) throw new UsageError(`transform needs --source ${sourceNames()}`);
  if (!lib.DEFAULT_ROOT_NODES[/** @type {import('../pkg-template/index').DataSource} */ (opts.source)]) throw new UsageError(`--source must be one of ${Object.keys(lib.DEFAULT_ROOT_NODES).join(', ')}`);
  if (positional.length !== 1) throw new UsageError(positional.length ? `transform takes one response file, got ${positional.length}` : 'transform needs the response file (or - for stdin)');
  const rootNode = opts['root-node'] || lib.DEFAULT_ROOT_NODES[/** @type {import('../pkg-template/index').DataSource} */ (opts.source)];
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(rootNode)) throw new UsageError('--root-node is not an XML element name (letters, digits, _ . -; not starting with a digit)');
  const inputPath = positional[0];
  let input;
  if (inputPath === '-') input = io.stdin;
  else {
    try {
      if (!fs.statSync(inputPath).isFile()) throw new UsageError(`${inputPath} is not a file`);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`cannot read ${inputPath}: ${/** @type {any} */ (e).code || /** @type {any} */ (e).message}`);
    }
    input = fs.createReadStream(inputPath, { highWaterMark: 65536 });
  }
  const file = /** @type {OutputFile} */ (opts.out ? makeOutputFile(opts.out, io.stdout) : makeOutputFile('-', io.stdout));
  file.begin(`<?xml version="1.0" encoding="UTF-8"?>\n<${rootNode}>`);
  let summary;
  try {
    summary = await lib.transform(opts.source, input, { write: (c) => { file.write(c); }, outputShape, detectionKey: opts['detection-key'] });
  } catch (e) {
    file.abandon(true); // a failed transform leaves no FILE.part
    io.stderr.write(`${NAME} transform: ${errorText(e)}\n`);
    return 1;
  }
  file.write(`</${rootNode}>\n`);
  file.commit();
  io.stderr.write(`${NAME} transform: ${summary.records} records, ${fmtBytes(summary.bytesIn)} in, ${fmtBytes(summary.bytesOut)} out` +
    (summary.nextPage ? `; the response names a next page: ${summary.nextPage}` : '') +
    (summary.keyCollisions ? `; ${summary.keyCollisions} detection key collision(s): choose another --detection-key` : '') +
    (summary.deviceLinkCollisions ? `; ${summary.deviceLinkCollisions} device link collision(s)` : '') +
    (summary.notices && summary.notices.length ? `; ${summary.notices.length} notice(s): ${summary.notices.slice(0, 3).join(' | ')}` : '') +
    (opts.out ? `; written to ${opts.out}` : '') + '\n');
  return 0;
}

/**
 * The shipped sample files: samples/ beside the single file (dist/, the npm package), or the
 * checkout's dist/samples/ when run from js-shim/.
 * @param {string | undefined} baseDir
 */
function findSamples(baseDir) {
  if (!baseDir) return null;
  for (const c of [path.join(baseDir, 'samples'), path.join(baseDir, '..', 'dist', 'samples')]) {
    if (fs.existsSync(path.join(c, 'kb.xml'))) return c;
  }
  return null;
}

/**
 * @param {string[]} argv
 * @param {IO} io
 * @returns {Promise<number>}
 */
async function cmdSample(argv, io) {
  const { opts, positional } = parseArgs(argv, { help: 'flag', source: 'value', 'output-shape': 'value', out: 'value', 'root-node': 'value' });
  if (opts.help) { io.stdout.write(HELP.sample + '\n'); return 0; }
  // The source may also come as the one positional argument (sample detections).
  if (positional.length > (opts.source ? 0 : 1)) throw new UsageError('sample takes one data source and no file argument (write to a file with --out)');
  const roots = lib.DEFAULT_ROOT_NODES;
  const source = /** @type {import('../pkg-template/index').DataSource} */ (opts.source || positional[0]);
  if (!source || !roots[source]) throw new UsageError(`sample needs --source ${sourceNames()}`);
  const shape = opts['output-shape'] || 'records';
  if (shape !== 'records' && shape !== 'qualys') throw new UsageError('--output-shape must be records or qualys');
  const rootNode = opts['root-node'] || roots[source];
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(rootNode)) throw new UsageError('--root-node is not an XML element name (letters, digits, _ . -; not starting with a digit)');
  const dir = findSamples(io.baseDir);
  if (!dir) throw new UsageError('the sample files are not installed next to this script (samples/ ships beside dist/qualys-vm-transporter.js and in the npm package)');
  const file = path.join(dir, `${source}${shape === 'qualys' ? '.qualys' : ''}.xml`);
  let doc = fs.readFileSync(file, 'utf8');
  const head = `<?xml version="1.0" encoding="UTF-8"?>\n<${roots[source]}>`;
  const tail = `</${roots[source]}>\n`;
  if (!doc.startsWith(head) || !doc.endsWith(tail)) throw new UsageError(`${file} is not a sample this version wrote; reinstall the package`);
  doc = `<?xml version="1.0" encoding="UTF-8"?>\n<${rootNode}>${doc.slice(head.length, doc.length - tail.length)}</${rootNode}>\n`;
  const out = makeOutputFile(opts.out || '-', io.stdout);
  if (!out) return 1;
  out.write(doc);
  out.commit();
  io.stderr.write(`${NAME} sample: ${source}, ${shape} shape, root node ${rootNode}${opts.out ? `; written to ${opts.out}` : ''}\n`);
  return 0;
}

/**
 * The simulator's CLI: next to this file (source checkout, npm package) or in the checkout's js-shim/.
 * @param {string | undefined} baseDir
 */
function findSimulator(baseDir) {
  const candidates = [];
  if (baseDir) {
    candidates.push(path.join(baseDir, 'simulator', 'cli.js'));
    candidates.push(path.join(baseDir, '..', 'js-shim', 'simulator', 'cli.js'));
  }
  for (const c of candidates) if (fs.existsSync(c)) return c;
  return null;
}

/**
 * @param {string[]} argv
 * @param {IO} io
 * @returns {Promise<number | null>}
 */
async function cmdSimulate(argv, io) {
  const where = findSimulator(io.baseDir);
  if (!where) throw new UsageError('the simulator is not installed next to this script (it ships in the npm package and the source checkout)');
  const sim = require(where);
  try {
    const r = await sim.main(argv, { stdout: io.stdout, stderr: io.stderr });
    return r ? null : 0; // null: the simulator keeps running until a signal
  } catch (e) {
    throw new UsageError(`simulate: ${/** @type {any} */ (e).message}`);
  }
}

/**
 * The uploadable file of this installation, when it is beside the command (the npm package, the
 * release directory): a line for the main help.
 * @param {string} baseDir
 */
function uploadableHere(baseDir) {
  const file = path.resolve(baseDir, 'qualys-vm-transporter.js');
  return fs.existsSync(file) && fs.existsSync(`${file}.sha256`) ? `\nThis installation's file: ${file}` : '';
}

/**
 * Runs the CLI.
 * @param {string[]} argv arguments after the program name
 * @param {Partial<IO>} [ioIn]
 * @returns {Promise<number|null>} the exit code (null: a server keeps running)
 */
async function main(argv, ioIn = {}) {
  const io = {
    stdout: ioIn.stdout || process.stdout,
    stderr: ioIn.stderr || process.stderr,
    stdin: ioIn.stdin || process.stdin,
    env: ioIn.env || process.env,
    baseDir: ioIn.baseDir || __dirname,
    signals: ioIn.signals === undefined ? process : ioIn.signals,
    exit: ioIn.exit || ((/** @type {number} */ code) => process.exit(code)),
  };
  const args = Array.isArray(argv) ? argv.slice() : [];
  const cmd = args.shift();
  try {
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      if (cmd === 'help' && args[0] && /** @type {Record<string, string>} */ (HELP)[args[0]]) io.stdout.write(/** @type {Record<string, string>} */ (HELP)[args[0]] + '\n');
      else io.stdout.write(HELP.main + uploadableHere(io.baseDir) + '\n');
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === '--version' || cmd === '-v' || cmd === '-V' || cmd === 'version') {
      io.stdout.write(`${NAME} ${lib.version()}\n`);
      return 0;
    }
    if (cmd === 'run') return await cmdRun(args, io);
    if (cmd === 'check') return await cmdCheck(args, io);
    if (cmd === 'transform') return await cmdTransform(args, io);
    if (cmd === 'sample') return await cmdSample(args, io);
    if (cmd === 'simulate') return await cmdSimulate(args, io);
    throw new UsageError(`unknown command${/^[a-z][a-z0-9-]{0,19}$/.test(String(cmd)) ? ` "${cmd}"` : ''} (commands: run, check, transform, sample, simulate; see --help)`);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`${NAME}: ${e.message}\n`);
      return 2;
    }
    io.stderr.write(`${NAME}: ${errorText(e)}\n`);
    return 1;
  }
}

module.exports = { main, HELP, parseArgs, progressLine };

if (typeof require !== 'undefined' && typeof module !== 'undefined' && require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    if (typeof code === 'number') process.exitCode = code;
  });
}
