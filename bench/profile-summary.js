'use strict';
// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, top N, and the share of
// JavaScript, wasm, GC and idle. usage: node bench/profile-summary.js FILE.cpuprofile [N]
const fs = require('fs');
const [file, nArg] = process.argv.slice(2);
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  dt.set(id, (dt.get(id) || 0) + (prof.timeDeltas[i] || 0));
}
const self = new Map();
let total = 0;
for (const [id, us] of dt) {
  const n = byId.get(id);
  const cf = n.callFrame;
  const url = cf.url ? cf.url.replace(/^.*\//, '') : '';
  const key = `${cf.functionName || '(anonymous)'} ${url}${cf.lineNumber >= 0 && url ? ':' + (cf.lineNumber + 1) : ''}`.trim();
  self.set(key, (self.get(key) || 0) + us);
  total += us;
}
const rows = [...self].sort((a, b) => b[1] - a[1]);
const cat = { wasm: 0, gc: 0, idle: 0, program: 0, js: 0 };
for (const [k, us] of rows) {
  if (/wasm-function|\.wasm|^\$/.test(k) || /wasm:\/\//.test(k)) cat.wasm += us;
  else if (/^\(garbage collector\)/.test(k)) cat.gc += us;
  else if (/^\(idle\)/.test(k)) cat.idle += us;
  else if (/^\(program\)/.test(k)) cat.program += us;
  else cat.js += us;
}
const pct = (us) => `${((100 * us) / total).toFixed(1)}%`;
console.log(`total ${(total / 1000).toFixed(0)} ms: wasm ${pct(cat.wasm)}, JS ${pct(cat.js)}, GC ${pct(cat.gc)}, program ${pct(cat.program)}, idle ${pct(cat.idle)}`);
for (const [k, us] of rows.slice(0, Number(nArg) || 25)) console.log(`${pct(us).padStart(6)}  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
