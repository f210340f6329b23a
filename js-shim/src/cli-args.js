'use strict';
// The command line's arguments: one parser for the CLI (js-shim/cli.js) and the development tools
// (tools/archer-host.js, scripts/main-run.js, bench/). `--name value`, `--name=value`, flags,
// repeatable options, `--` ends the options; `-h` is `--help`. Errors are UsageErrors whose
// message never shows a value (a password pasted in place of an option name stays unprinted).

/** A wrong command line (exit code 2), as opposed to a failed run. */
class UsageError extends Error {}

/**
 * An option name as typed, when it looks like one (never a value pasted in its place).
 * @param {string} a
 */
function shownOption(a) {
  return /^--[a-z][a-z0-9-]{0,30}$/.test(a) ? a : 'an option';
}

/**
 * Splits argv into options (with values) and positionals. `spec` maps option -> 'value'|'flag'|'list'.
 * @param {string[]} argv
 * @param {Record<string, 'value' | 'flag' | 'list'>} spec
 * @returns {{opts: Record<string, any>, positional: string[]}}
 */
function parseArgs(argv, spec) {
  /** @type {Record<string, any>} */
  const opts = {};
  /** @type {string[]} */
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (a === '--') { positional.push(...argv.slice(i + 1)); break; }
    if (a === '-h') a = '--help';
    if (!a.startsWith('--') || a === '-') { positional.push(a); continue; }
    let inline;
    const eq = a.indexOf('=');
    if (eq !== -1) { inline = a.slice(eq + 1); a = a.slice(0, eq); }
    const key = a.slice(2);
    const kind = spec[key];
    if (!kind) throw new UsageError(`unknown option ${shownOption(a)} (see --help)`);
    if (kind === 'flag') {
      if (inline !== undefined) throw new UsageError(`${shownOption(a)} takes no value`);
      opts[key] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${shownOption(a)} needs a value`);
      value = argv[++i];
    }
    if (kind === 'list') (opts[key] = opts[key] || []).push(value);
    else opts[key] = value;
  }
  return { opts, positional };
}

module.exports = { parseArgs, UsageError, shownOption };
