'use strict';
// The top-level script body Archer runs: with the globals `context` and `callback` it runs the
// feed (src/archer.js) and calls back exactly once. Without `context`:
//   - run as a program with arguments (node qualys-vm-transporter.js run --params p.json): the CLI
//   - run as a program without arguments: says that context is missing, prints the usage, exit 2
//   - loaded with require() by another module: nothing runs; the bundle exports the library
// In the single-file build (scripts/bundle.js) this module comes last and the bundle calls
// start() with what the host provided; in a source checkout `node js-shim/archer-entry.js` works too.

/* global context, callback */

const USAGE = `qualys-vm-transporter: this is an RSA Archer data-feed transporter script.
There is no Archer "context" here, so there is nothing to run.

In Archer: upload this file as the data feed's JavaScript transporter script and set its Custom
Parameters (dataSource, the URL for it, username, password, ...).

To run a feed outside Archer, use this same file as a command line tool:
  node qualys-vm-transporter.js run --params params.json [--tokens tokens.json] [--out out.xml]
  node qualys-vm-transporter.js transform --source detections response.xml --out out.xml
  node qualys-vm-transporter.js --help`;

/**
 * @param {{context?: import('../pkg-template/index').ArcherContext, callback?: (err: any, result?: any) => void, isMain: boolean, argv?: string[],
 *          print?: (line: string) => void, printError?: (text: string) => void,
 *          setExitCode?: (code: number) => void, baseDir?: string}} host
 * @returns {'archer'|'cli'|'usage'|'library'} what was started
 */
function start(host) {
  const printError = host.printError || ((t) => console.error(t)); // eslint-disable-line no-console
  const setExitCode = host.setExitCode || ((code) => { if (typeof process !== 'undefined') process.exitCode = code; });
  if (host.context !== undefined && host.context !== null) {
    const { runArcher } = require('./src/archer');
    const cb = typeof host.callback === 'function' ? host.callback : (/** @type {any} */ err) => {
      printError('qualys-vm-transporter: no callback was provided by the host; outcome: ' + (err ? 'FAILED' : 'success'));
      if (err) setExitCode(1);
    };
    runArcher({ context: host.context, callback: cb, print: host.print });
    return 'archer';
  }
  if (!host.isMain) return 'library';
  const argv = host.argv || [];
  if (argv.length) {
    const cli = require('./cli');
    cli.main(argv, { baseDir: host.baseDir }).then((code) => {
      if (typeof code === 'number') setExitCode(code);
    }, (e) => {
      printError(`qualys-vm-transporter: ${e && e.message ? e.message : e}`);
      setExitCode(1);
    });
    return 'cli';
  }
  printError(USAGE);
  setExitCode(2);
  return 'usage';
}

/**
 * The package's namespace, what require() of the single file gives: the library (src/index.js,
 * its lazy getters kept, so the wasm core is instantiated only when used) plus `cli`, the command
 * line (cli.main(argv) -> Promise<exit code>), loaded when first used.
 * @returns {typeof import('./src/index') & {cli: typeof import('./cli')}}
 */
function library() {
  const lib = require('./src/index');
  const ns = Object.defineProperties({}, Object.getOwnPropertyDescriptors(lib));
  Object.defineProperty(ns, 'cli', { enumerable: true, configurable: true, get: () => require('./cli') });
  return /** @type {typeof import('./src/index') & {cli: typeof import('./cli')}} */ (ns);
}

module.exports = { start, library, USAGE };

// Run directly from a source checkout (node js-shim/archer-entry.js [args]).
if (typeof require === 'function' && typeof module === 'object' && require.main === module) {
  start({
    context: typeof context !== 'undefined' ? context : undefined,
    callback: typeof callback !== 'undefined' ? callback : undefined,
    isMain: true,
    argv: process.argv.slice(2),
    baseDir: __dirname,
  });
}
