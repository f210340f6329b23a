'use strict';
// The one JavaScript lint rule set (ESLint 9, flat config): `npx eslint` from the repository root.
// At the root, where ESLint and editors look for it without a flag (like rustfmt.toml for Rust).
//
// Linted: the shipped code (js-shim/), the tools (tools/, scripts/*.js, bench/*.js) and the tests
// (tests/js/). Rules: @eslint/js recommended, plus the few that match the code's existing style
// (strict mode, const, ===, no var, no console in the shipped library). Formatting is not
// enforced: the code has one style already, and a formatter would rewrite every file.

const js = require('@eslint/js');

/** The globals of Node (CommonJS) as the shim and the tools use them. */
const NODE = {
  require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly',
  process: 'readonly', Buffer: 'readonly', console: 'readonly', global: 'readonly', globalThis: 'readonly',
  setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
  setImmediate: 'readonly', clearImmediate: 'readonly', queueMicrotask: 'readonly',
  TextDecoder: 'readonly', TextEncoder: 'readonly', URL: 'readonly', URLSearchParams: 'readonly',
  AbortController: 'readonly', AbortSignal: 'readonly', fetch: 'readonly', Response: 'readonly', Request: 'readonly',
  Headers: 'readonly', WebAssembly: 'readonly', atob: 'readonly', btoa: 'readonly', structuredClone: 'readonly',
  performance: 'readonly',
};

module.exports = [
  {
    ignores: ['dist/**', 'target/**', 'out/**', 'node_modules/**', 'fuzz/**', 'bench/data/**', 'bench/work/**', 'bench/native/**', 'tests/fixtures/**', 'pkg-template/**'],
  },
  {
    files: ['js-shim/**/*.js', 'tools/**/*.js', 'scripts/*.js', 'bench/*.js', 'tests/js/**/*.js', 'eslint.config.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'commonjs',
      globals: NODE,
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      ...js.configs.recommended.rules,
      strict: ['error', 'global'],
      'no-var': 'error',
      'prefer-const': ['error', { destructuring: 'all' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-new': 'error',
      'no-throw-literal': 'error',
      'no-unused-vars': ['error', { args: 'none', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    // The web build's wrapper (js-shim/web.js): an ES module for browsers.
    files: ['js-shim/web.js'],
    languageOptions: { sourceType: 'module', globals: { ...NODE, require: 'off', module: 'off', exports: 'off', __dirname: 'off', __filename: 'off' } },
    rules: { strict: 'off', 'no-console': 'error' },
  },
  {
    // The shipped library and CLI write through their logger or the io they are given.
    files: ['js-shim/src/**/*.js', 'js-shim/cli.js', 'js-shim/archer-entry.js', 'js-shim/simulator/server.js'],
    rules: { 'no-console': 'error' },
  },
];
