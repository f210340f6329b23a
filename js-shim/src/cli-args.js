'use strict';
// The command line's arguments: one parser for the CLI (js-shim/cli.js) and the development tools
// (tools/archer-host.js, scripts/main-run.js, bench/), over Node's own util.parseArgs (Node 18.7+;
// its `tokens` are what lets the messages below name the option and never its value). `--name
// value`, `--name=value`, flags, repeatable options, `--` ends the options; `-h` is `--help`.
// Errors are UsageErrors whose message never shows a value (a password pasted in place of an
// option name stays unprinted): util.parseArgs's own messages quote what was typed, so it runs
// non-strict and this module checks each option itself.

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
 * Node's util.parseArgs, with tokens (Node 18.7 and later; the package needs 18 or later).
 * @returns {typeof import('util').parseArgs}
 */
function nodeParseArgs() {
  const u = require('util');
  if (typeof u.parseArgs !== 'function') throw new UsageError('this Node.js cannot read a command line (no util.parseArgs): qualys-vm-transporter needs Node.js 18.7 or later');
  return u.parseArgs;
}

/**
 * Splits argv into options (with values) and positionals. `spec` maps option -> 'value'|'flag'|'list'.
 * @param {string[]} argv
 * @param {Record<string, 'value' | 'flag' | 'list'>} spec
 * @returns {{opts: Record<string, any>, positional: string[]}}
 */
function parseArgs(argv, spec) {
  /** @type {Record<string, {type: 'string' | 'boolean', multiple?: boolean, short?: string}>} */
  const options = {};
  for (const [name, kind] of Object.entries(spec)) {
    options[name] = kind === 'flag' ? { type: 'boolean' } : { type: 'string', multiple: kind === 'list' };
    if (name === 'help') options[name].short = 'h';
  }
  let tokens;
  try {
    tokens = nodeParseArgs()({ args: argv, options, strict: false, allowPositionals: true, tokens: true }).tokens;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError('the command line could not be read (see --help)');
  }
  if (!Array.isArray(tokens)) throw new UsageError('this Node.js cannot read a command line (util.parseArgs has no tokens): qualys-vm-transporter needs Node.js 18.7 or later');
  /** @type {Record<string, any>} */
  const opts = {};
  /** @type {string[]} */
  const positional = [];
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positional.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue; // the "--" that ends the options
    const kind = Object.prototype.hasOwnProperty.call(spec, t.name) ? spec[t.name] : undefined;
    if (!kind) throw new UsageError(`unknown option ${shownOption(t.rawName)} (see --help)`);
    const shown = t.rawName === '-h' ? '-h' : shownOption(t.rawName);
    if (kind === 'flag') {
      if (t.value !== undefined) throw new UsageError(`${shown} takes no value`);
      opts[t.name] = true;
      continue;
    }
    if (t.value === undefined) throw new UsageError(`${shown} needs a value`);
    if (kind === 'list') (opts[t.name] = opts[t.name] || []).push(t.value);
    else opts[t.name] = t.value;
  }
  return { opts, positional };
}

module.exports = { parseArgs, UsageError, shownOption };
