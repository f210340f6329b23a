'use strict';
// Qualys VM API simulator: public entry points.
const { startSimulator, DEFAULT_OPTIONS } = require('./server');
const { createModel } = require('./generate');
const { main } = require('./cli');
const { parseFaultSpec, FAULT_TYPES } = require('./faults');

module.exports = { startSimulator, createModel, main, parseFaultSpec, FAULT_TYPES, DEFAULT_OPTIONS };
