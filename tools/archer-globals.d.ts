// The globals Archer's JavaScript Transporter gives a data-feed script (docs/ARCHER-HOST.md);
// js-shim/archer-entry.js reads them when present. For the type check (tools/tsconfig.json) only.
declare var context: import('../pkg-template/index').ArcherContext | undefined;
declare var callback: import('../pkg-template/index').ArcherCallback | undefined;
