'use strict';
// Modules and types of the packed package (issue #14, point 2), installed offline into a fresh
// project (helpers/packed.js): CommonJS require and ESM import of every documented name (exactly
// those: no bundle internal in the namespace), one library instance for both, `./archer` and
// `./web`; tsc --noEmit --strict over consumers that use every public type, under NodeNext (ESM
// and CommonJS) and under Bundler resolution with lib ES2022 alone (no DOM, no @types/node); and
// @arethetypeswrong/cli on the tarball.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { exec, packedPackage, devTool, declaredValues } = require('./helpers/packed');
const { lib } = require('./helpers/shim-util');

let pkg;
test.before(async () => { pkg = await packedPackage(); });

/** Runs a script file (written into the consumer project) with this Node; returns its JSON line. */
async function run(name, text) {
  const file = path.join(pkg.project, name);
  fs.writeFileSync(file, text);
  const r = await exec(process.execPath, [file], { cwd: pkg.project });
  assert.equal(r.status, 0, `${name}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const dts = () => fs.readFileSync(path.join(pkg.pkgDir, 'index.d.ts'), 'utf8');
const webDts = () => fs.readFileSync(path.join(pkg.pkgDir, 'web', 'index.d.ts'), 'utf8');

test('CommonJS: require() gives exactly the declared names; ./archer is the same file', async () => {
  const out = await run('cjs.cjs', `
    const q = require('qualys-vm-transporter');
    const a = require('qualys-vm-transporter/archer');
    const keys = Object.keys(q).sort();
    console.log(JSON.stringify({ keys, same: a === q, path: require.resolve('qualys-vm-transporter/archer'),
      types: Object.fromEntries(keys.map((k) => [k, typeof q[k]])), version: q.version(), code: q.codes.CONFIG_INVALID }));
  `);
  assert.deepEqual(out.keys, [...declaredValues(dts())].sort());
  assert.equal(out.same, true);
  assert.equal(out.path, path.join(pkg.pkgDir, 'qualys-vm-transporter.js'), './archer resolves to the uploadable single file');
  for (const fn of ['runFeed', 'runArcher', 'transform', 'createHttp', 'availableHttp', 'createLogger', 'Secrets', 'QualysTransporterError', 'Feed', 'Transformer', 'version']) assert.equal(out.types[fn], 'function', fn);
  for (const obj of ['codes', 'DEFAULT_ROOT_NODES', 'cli']) assert.equal(out.types[obj], 'object', obj);
  assert.equal(out.version, lib.version());
  assert.equal(out.code, 'CONFIG_INVALID');
});

test('ESM: import gives exactly the declared names (no internals, no default), the same instances as require()', async () => {
  const out = await run('esm.mjs', `
    import * as ns from 'qualys-vm-transporter';
    import { cli, runFeed, Feed, codes, QualysTransporterError } from 'qualys-vm-transporter';
    import * as archer from 'qualys-vm-transporter/archer';
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    const cjs = require('qualys-vm-transporter');
    const keys = Object.keys(ns).sort();
    const same = keys.filter((k) => ns[k] !== cjs[k]);
    const code = await cli.main(['--version'], { stdout: { write: () => {} }, stderr: { write: () => {} } });
    const archerKeys = Object.keys(archer).filter((k) => k !== 'default' && k !== 'module.exports').sort();
    console.log(JSON.stringify({ keys, notSame: same, code, named: [typeof runFeed, typeof Feed, codes.NETWORK, typeof QualysTransporterError],
      archerKeys, archerDefault: archer.default === cjs, url: import.meta.resolve ? import.meta.resolve('qualys-vm-transporter') : null }));
  `);
  const declared = [...declaredValues(dts())].sort();
  assert.deepEqual(out.keys, declared, 'the ES module namespace is the documented API, nothing else');
  assert.deepEqual(out.notSame, [], 'one library instance for import and require');
  assert.equal(out.code, 0, "import { cli } works: cli.main(['--version']) exits 0");
  assert.deepEqual(out.named, ['function', 'function', 'NETWORK', 'function']);
  assert.deepEqual(out.archerKeys, declared, "import of ./archer (the CommonJS single file) sees only the library's names");
  assert.equal(out.archerDefault, true);
  if (out.url) assert.match(out.url, /qualys-vm-transporter\/index\.mjs$/, 'the "import" condition resolves to the ES module entry');
});

test('./web: ESM with exactly its declared names', async () => {
  const out = await run('web.mjs', `
    import * as web from 'qualys-vm-transporter/web';
    console.log(JSON.stringify({ keys: Object.keys(web).sort(), init: typeof web.default }));
  `);
  const declared = [...declaredValues(webDts())].filter((k) => k !== 'init').sort();
  assert.deepEqual(out.keys.filter((k) => k !== 'default'), declared);
  assert.equal(out.init, 'function');
});

// ---- types ----

/** Every exported name of a .d.ts (types and values). */
function exportedNames(text) {
  const names = new Set(Array.from(text.matchAll(/^export (?:declare )?(?:type|interface|class|function|const) (\w+)/gm), (m) => m[1]));
  for (const m of text.matchAll(/^export (?:type )?\{([^}]*)\} from/gm)) {
    for (const n of m[1].split(',')) if (n.trim()) names.add(n.trim());
  }
  return [...names].sort();
}

/** A consumer of the Node API using every public type and value. */
function nodeConsumer(typeNames) {
  return `
import { runFeed, runArcher, transform, Feed, Transformer, version, DEFAULT_ROOT_NODES, cli, createLogger, createHttp, availableHttp,
  Secrets, codes, QualysTransporterError } from 'qualys-vm-transporter';
import type { ${typeNames.join(', ')} } from 'qualys-vm-transporter';
import * as archer from 'qualys-vm-transporter/archer';

// Every public type, named.
export type AllPublicTypes = [${typeNames.join(', ')}, Feed, Transformer, Secrets, QualysTransporterError];

export async function main(): Promise<void> {
  const params: CustomParameters = { dataSource: 'kb', kbUrl: 'https://q.example/api/4.0/fo/knowledge_base/vuln/?action=list', username: 'u', password: 'p', batchSize: 500, verifyCerts: true };
  const value: ParamValue = new Date();
  const tokens: Tokens = { LastRunTime: new Date(0), PreviousRunContext: null };
  const writer: OutputItemWriter = { writeItem: (c: string | Uint8Array) => c.length };
  const http: HttpClientName = 'node';
  const sink: ResponseSink = { head: () => {}, body: () => true, end: () => {}, error: () => {} };
  const adapter: HttpAdapter = { name: 'mine', send: async (req: SendAction, s: ResponseSink) => { s.head(200, [['a', 'b']]); s.end(); void req; } };
  const options: RunFeedOptions = { params, tokens, writer, http: () => adapter, log: (level: LogLevel, text: string) => { void level; void text; },
    onAction: (a) => { if (a.kind === 'wait') { const w: WaitAction = a; void w; } }, onProgress: (s: Summary) => void s };
  try {
    const r: RunFeedResult = await runFeed(options);
    const s: Summary = r.summary;
    const ds: DataSource = s.dataSource;
    void ds;
  } catch (e) {
    if (e instanceof QualysTransporterError) {
      const te: TransporterError = e;
      const b: Blame = e.blame;
      const c: string = e.code;
      const retry: boolean = e.retryable;
      void [te, b, c, retry];
    }
  }
  const mine = new QualysTransporterError('x', { code: codes.SHIM_ERROR, blame: 'caller', retryable: false });
  const known: ErrorCode = codes.CONFIG_INVALID;
  const ctx: ArcherContext = { CustomParameters: params, Tokens: tokens, OutputWriter: { create: () => writer } };
  const cb: ArcherCallback = (err, result) => { void err; void result; };
  const outcome = await runArcher({ context: ctx, callback: cb });
  const t: TransformSummary = await transform('detections', new Uint8Array(0), { write: (c: string) => void c });
  const f = new Feed(params, tokens, Date.now());
  const settings: TransportSettings = f.transport();
  const a: Action = f.poll(Date.now());
  if (a.kind === 'send') { const h: Array<[string, string]> = a.headers; void h; }
  if (a.kind === 'pending') { const p: PendingAction = a; void p; }
  if (a.kind === 'done') { const d: DoneAction = a; void d; }
  if (a.kind === 'fail') { const fa: FailAction = a; const fe: TransporterError = fa.error; void fe; }
  const chunk: OutputChunk | undefined = f.takeOutputChunk();
  f.free();
  const tr = new Transformer('hosts', 100);
  tr.push(new Uint8Array(0));
  tr.free();
  const root: string = DEFAULT_ROOT_NODES.hostDetections;
  const exit: number | null = await cli.main(['--version']);
  const v: string = version();
  const logger: Logger = createLogger({ secrets: new Secrets().add('p') });
  logger.info('x');
  const h: HttpAdapter = createHttp(settings, { prefer: http });
  const av: HttpClientName[] = availableHttp();
  const same: typeof runFeed = archer.runFeed;
  void [value, sink, mine, known, outcome.ok, t.records, chunk, root, exit, v, h, av, same];
}
`;
}

/** A consumer of the web API with the Node API's types (for ESM / Bundler). */
function webConsumer(typeNames) {
  return `
import init, { initSync, Feed, Transformer, version, codes, QualysTransporterError, dataSources, defaultRootNode, parameters, errorCodes, errorCodeInfo } from 'qualys-vm-transporter/web';
import type { ${typeNames.join(', ')} } from 'qualys-vm-transporter/web';
import type { Action as NodeAction, Summary as NodeSummary, DataSource as NodeDataSource } from 'qualys-vm-transporter';

export type AllWebTypes = [${typeNames.join(', ')}];

export async function web(wasmUrl: string, bytes: Uint8Array): Promise<void> {
  const input: InitInput = wasmUrl;
  await init({ module_or_path: input });
  await init();
  initSync({ module: bytes });
  const f = new Feed({ dataSource: 'kb' }, {}, 0);
  const a: Action = f.poll(0);
  const same: NodeAction = a;          // the very same Action type as the Node API's
  const back: Action = same;
  if (a.kind === 'done') { const s: Summary = a.summary; const n: NodeSummary = s; const d: NodeDataSource = n.dataSource; const d2: DataSource = d; void d2; }
  f.free();
  const t = new Transformer('kb');
  const fin = t.finish();
  const recs: number = fin.records;
  t.free();
  const v: string = version();
  const c: 'NOT_INITIALIZED' = codes.NOT_INITIALIZED;
  const infos: DataSourceInfo[] = dataSources();
  const key: 'kbUrl' | 'hostsUrl' | 'detectionUrl' = infos[0].urlKey;
  const params: ParameterInfo[] = parameters();
  const root: string | undefined = defaultRootNode('kb');
  const all: 'BAD_TIME' = errorCodes().BAD_TIME;
  const blame: Blame = errorCodeInfo().NETWORK.blame;
  try { f.poll(0); } catch (e) { if (e instanceof QualysTransporterError) { const code: string = e.code; const te: TransporterError = e; void [code, te]; } }
  void [back, recs, v, c, key, params, root, all, blame];
}
`;
}

/** Writes a tsconfig + files into a fresh directory of the consumer project and runs tsc there. */
async function tsc(name, compilerOptions, files) {
  const dir = path.join(pkg.project, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: Object.assign({ noEmit: true, strict: true, skipLibCheck: false, target: 'es2022', lib: ['es2022'], types: [] }, compilerOptions),
    files: Object.keys(files),
  }, null, 2));
  return exec(process.execPath, [devTool('typescript', 'tsc'), '-p', path.join(dir, 'tsconfig.json')], { cwd: dir });
}

const nodeTypes = () => exportedNames(dts()).filter((n) => !declaredValues(dts()).has(n));
const webTypes = () => exportedNames(webDts()).filter((n) => !declaredValues(webDts()).has(n));

test('tsc --strict, NodeNext: an ES module and a CommonJS consumer using every public type', { timeout: 180000 }, async () => {
  const types = nodeTypes();
  assert.ok(types.length >= 27, `every public type: ${types.join(', ')}`);
  const r = await tsc('ts-nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }, {
    'node-api.mts': nodeConsumer(types),
    'web-api.mts': webConsumer(webTypes()),
    'cjs.cts': nodeConsumer(types) + "\nexport async function lazyWeb(): Promise<string> { const w = await import('qualys-vm-transporter/web'); await w.default(); return w.version(); }\n",
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('tsc --strict, Bundler resolution, lib ES2022 alone (no DOM, no @types/node), no custom conditions', { timeout: 180000 }, async () => {
  const r = await tsc('ts-bundler', { module: 'esnext', moduleResolution: 'bundler' }, {
    'node-api.ts': nodeConsumer(nodeTypes()),
    'web-api.ts': webConsumer(webTypes()),
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('tsc rejects misuse: the declarations are real types, not any (Node and web)', { timeout: 180000 }, async () => {
  const r = await tsc('ts-negative', { module: 'esnext', moduleResolution: 'bundler' }, {
    'bad.ts': `
      import { version, Feed } from 'qualys-vm-transporter';
      import { version as webVersion, Feed as WebFeed, codes } from 'qualys-vm-transporter/web';
      export const a: number = version();
      export const b: number = webVersion();
      export const c: string = new WebFeed({}, {}, 0).poll(0).kind === 'sleep' ? 'x' : 'y';
      export const d: number = new Feed({}, {}, 0).summary().dataSource;
      export const e: string = codes.NOT_A_CODE;
    `,
  });
  assert.notEqual(r.status, 0);
  for (const line of [4, 5, 6, 7, 8]) assert.match(r.stdout, new RegExp(`bad\\.ts\\(${line},`), `line ${line} is an error:\n${r.stdout}`);
});

test('@arethetypeswrong/cli on the tarball: no problems in any resolution mode', { timeout: 180000 }, async () => {
  // Two deliberate choices, not problems: ./web is an ES module (the browser build; require() of it
  // is Node's ERR_REQUIRE_ESM, README says import it), and the .wasm subpath is an asset for
  // bundlers, not a module with types.
  const r = await exec(process.execPath, [devTool('@arethetypeswrong/cli', 'attw'), pkg.tgz, '--format', 'json', '--no-color',
    '--ignore-rules', 'cjs-resolves-to-esm', '--exclude-entrypoints', './web/qualys_vm_transporter_bg.wasm'], { cwd: pkg.work });
  let report;
  try { report = JSON.parse(r.stdout); } catch (e) { assert.fail(`attw did not print JSON: ${r.stdout}${r.stderr}`); }
  const problems = report.analysis && report.analysis.problems ? report.analysis.problems : report.problems;
  // The JSON lists every finding, ignored rules included: the only one allowed is ./web being ESM
  // for require() (node16-cjs); anything else, on any entrypoint, fails.
  const unexpected = problems.filter((p) => !(p.kind === 'CJSResolvesToESM' && p.entrypoint === './web' && p.resolutionKind === 'node16-cjs'));
  assert.deepEqual(unexpected, [], JSON.stringify(problems, null, 2));
  assert.equal(r.status, 0, r.stdout.slice(0, 2000) + r.stderr);
  const entrypoints = Object.keys(report.analysis.entrypoints).sort();
  assert.deepEqual(entrypoints, ['.', './archer', './package.json', './web']);
  // Every entrypoint resolves to types and JavaScript in every mode.
  for (const [entry, info] of Object.entries(report.analysis.entrypoints)) {
    for (const [mode, res] of Object.entries(info.resolutions)) {
      if (entry === './package.json') continue;
      assert.ok(res.resolution && res.resolution.fileName && /\.d\.(m|c)?ts$/.test(res.resolution.fileName), `${entry} ${mode}: types resolve (${JSON.stringify(res.resolution)})`);
    }
  }
});
