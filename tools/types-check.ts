// The shipped declarations (pkg-template/index.d.ts) against the runtime (js-shim/, typed from
// JSDoc): every declared export exists with a type the runtime's is assignable to, and the
// runtime exports nothing undeclared. Checked by `tsc -p tools/tsconfig.json`; never run.
import type * as declared from '../pkg-template/index';
import { library } from '../js-shim/archer-entry';

const ns = library();

// Each export of the package namespace (what require() of the single file gives), as declared.
export const checks = {
  runFeed: ns.runFeed satisfies typeof declared.runFeed,
  runArcher: ns.runArcher satisfies typeof declared.runArcher,
  transform: ns.transform satisfies typeof declared.transform,
  createHttp: ns.createHttp satisfies typeof declared.createHttp,
  availableHttp: ns.availableHttp satisfies typeof declared.availableHttp,
  createLogger: ns.createLogger satisfies typeof declared.createLogger,
  Secrets: ns.Secrets satisfies typeof declared.Secrets,
  DEFAULT_ROOT_NODES: ns.DEFAULT_ROOT_NODES satisfies typeof declared.DEFAULT_ROOT_NODES,
  codes: ns.codes satisfies typeof declared.codes,
  version: ns.version satisfies typeof declared.version,
  cli: ns.cli satisfies typeof declared.cli,
  QualysTransporterError: ns.QualysTransporterError satisfies typeof declared.QualysTransporterError,
};

// Nothing exported that index.d.ts does not declare, and nothing declared that is not exported
// (Feed and Transformer come from the wasm-bindgen glue, checked against its own .d.ts by the
// consumer test in tests/js/shim-npm.test.js).
type Runtime = keyof typeof ns;
type Declared = Exclude<keyof typeof declared, 'Feed' | 'Transformer'>;
type Undeclared = Exclude<Runtime, keyof typeof declared>;
type Missing = Exclude<Declared, Runtime>;
export const noUndeclared: [Undeclared] extends [never] ? true : Undeclared = true;
export const noMissing: [Missing] extends [never] ? true : Missing = true;
