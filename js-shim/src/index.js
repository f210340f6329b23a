'use strict';
// The library API (the npm package's main export):
//   runFeed(options)        one feed run, as Archer would run it (see run-feed.js)
//   runArcher(options)      the same, driven by an Archer-style context and callback
//   transform(source, input, options)  a saved Qualys response -> Archer output, offline
//   Feed, Transformer, version         the core itself (wasm)
//   createHttp, availableHttp          the HTTP adapters (for custom hosts and diagnostics)
//   codes                              every stable error code as a constant (codes.js)
//   QualysTransporterError             the error class; instanceof holds for every coded error
//                                      (the core's, another realm's: errors.js)
// The package's namespace adds `cli` (the command line); archer-entry.js's library() builds it, so
// the library never requires the CLI, which requires the library.

const { runFeed } = require('./run-feed');
const { runArcher } = require('./archer');
const { transform, defaultRootNodes } = require('./transform');
const { createHttp, availableHttp } = require('./http');
const { createLogger, Secrets } = require('./log');
const { loadedCodes } = require('./codes');
const { QualysTransporterError } = require('./errors');

const core = () => require('./core');

module.exports = {
  runFeed,
  runArcher,
  transform,
  createHttp,
  availableHttp,
  createLogger,
  Secrets,
  QualysTransporterError,
  /** Every stable error code as a constant: compare err.code with codes.CONFIG_INVALID, ... */
  get codes() { return loadedCodes(); },
  /** The root node each data source writes by default (the core's), {kb: 'QUALYS_KB_VULNS', ...}. */
  get DEFAULT_ROOT_NODES() { return defaultRootNodes(); },
  get Feed() { return core().Feed; },
  get Transformer() { return core().Transformer; },
  version: () => core().version(),
};
