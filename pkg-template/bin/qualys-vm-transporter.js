#!/usr/bin/env node
'use strict';
// The npm package's command: qualys-vm-transporter run | transform | simulate (see --help).
const { cli } = require('../qualys-vm-transporter.js');

cli.main(process.argv.slice(2), { baseDir: require('path').join(__dirname, '..') }).then((code) => {
  if (typeof code === 'number') process.exitCode = code;
}, (e) => {
  process.stderr.write(`qualys-vm-transporter: ${e && e.message ? e.message : e}\n`);
  process.exitCode = 1;
});
