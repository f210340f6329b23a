#!/usr/bin/env bash
# Builds the release wasm and its JavaScript bindings:
#   target/wasm-pkg/nodejs/  (wasm-bindgen --target nodejs: CommonJS, loads the .wasm synchronously)
#   target/wasm-pkg/web/     (wasm-bindgen --target web: ES module, async init)
# each .wasm optimized with wasm-opt -O3 (for speed: +2-3% over -Oz for ~1 kB, bench/PROFILE.md) from the npm package `binaryen` (never Debian's binaryen 108:
# it exits 0 but emits modules that fail to load). Idempotent: when the compiled .wasm and the tools
# are unchanged, the bindgen/wasm-opt stage is skipped and only cargo's no-op check runs.
# Needs scripts/setup.sh to have run (wasm32 target, wasm-bindgen CLI, node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[build-wasm] %s\n' "$*"; }

# The boundary crate (wasm/) builds qualys_vm_transporter_wasm.wasm; its bindings keep the names
# the bundle and the npm package have always had (wasm-bindgen --out-name).
crate_lib=qualys_vm_transporter
target=wasm32-unknown-unknown
raw="target/$target/release/qualys_vm_transporter_wasm.wasm"
pkg=target/wasm-pkg
wasm_opt=node_modules/.bin/wasm-opt

# The boundary crate is a cdylib only, so the release profile's lto = true applies as written.
# rustc's default wasm32 features, reference types (externref) included: every supported Node (18+,
# see README "In Archer") and browser has them, and the wasm tests run the same module.
log "cargo build -p qualys-vm-transporter-wasm --release --target $target"
cargo build -p qualys-vm-transporter-wasm --lib --release --target "$target"
[ -f "$raw" ] || { echo "[build-wasm] expected $raw after the build" >&2; exit 1; }

command -v wasm-bindgen >/dev/null || { echo "[build-wasm] wasm-bindgen CLI missing: run bash scripts/setup.sh" >&2; exit 1; }
wbg_version=$(wasm-bindgen --version)
if [ -x "$wasm_opt" ]; then
  opt_version=$("$wasm_opt" --version)
else
  opt_version="none"
fi

# Everything the outputs depend on: the raw module, both tool versions and this script.
key=$( { sha256sum "$raw" scripts/build-wasm.sh | cut -d' ' -f1; echo "$wbg_version"; echo "$opt_version"; } | sha256sum | cut -d' ' -f1)
stamp="$pkg/.build-stamp"
outputs=("$pkg/nodejs/${crate_lib}_bg.wasm" "$pkg/nodejs/$crate_lib.js" "$pkg/web/${crate_lib}_bg.wasm" "$pkg/web/$crate_lib.js")
up_to_date=1
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$key" ] || up_to_date=0
for f in "${outputs[@]}"; do [ -f "$f" ] || up_to_date=0; done

if [ "$up_to_date" = 1 ]; then
  log "bindings and optimized modules are up to date (same .wasm, $wbg_version, wasm-opt: $opt_version)"
else
  rm -f "$stamp"
  # wasm-bindgen warns that the `target_features` section is missing (the release profile has
  # strip = true). Harmless here: wasm-bindgen 0.2.130 then infers reference types from the runtime's
  # externref intrinsics (cli-support lib.rs), and wasm-opt below gets the feature list explicitly.
  for t in nodejs web; do
    log "wasm-bindgen --target $t --out-dir $pkg/$t"
    rm -rf "${pkg:?}/$t"
    wasm-bindgen --target "$t" --out-dir "$pkg/$t" --out-name "$crate_lib" "$raw"
  done
  if [ "$opt_version" = none ]; then
    log "SKIPPING wasm-opt: $wasm_opt is missing (run bash scripts/setup.sh to install the npm package binaryen); modules are unoptimized"
  else
    # Tell wasm-opt which wasm features the module may use: the ones rustc enables for the target
    # (rustc 1.95: bulk-memory, multivalue, mutable-globals, nontrapping-fptoint, reference-types,
    # sign-ext). The module carries no target_features section (the release profile strips it), and
    # binaryen's defaults lack bulk-memory, so without this, code using memory.copy/fill would fail
    # validation in wasm-opt.
    opt_features=()
    for feat in $(rustc --print cfg --target "$target" | sed -n 's/^target_feature="\(.*\)"$/\1/p'); do
      case "$feat" in
        nontrapping-fptoint) opt_features+=(--enable-nontrapping-float-to-int) ;;
        simd128) opt_features+=(--enable-simd) ;;
        atomics) opt_features+=(--enable-threads) ;;
        bulk-memory|multivalue|mutable-globals|reference-types|sign-ext|tail-call|exception-handling|extended-const|multimemory|relaxed-simd)
          opt_features+=("--enable-$feat") ;;
        *) log "note: no wasm-opt flag known for rustc target feature '$feat'" ;;
      esac
    done
    declare -A optimized=() # sha256 of a module before wasm-opt -> its optimized file
    for t in nodejs web; do
      f="$pkg/$t/${crate_lib}_bg.wasm"
      sum=$(sha256sum "$f" | cut -d' ' -f1)
      if [ -n "${optimized[$sum]:-}" ]; then
        # wasm-bindgen usually emits the same module for both targets: optimize it only once.
        log "wasm-opt: $f is identical to ${optimized[$sum]} before optimization: reusing that result"
        cp "${optimized[$sum]}" "$f"
        continue
      fi
      log "wasm-opt -O3 ${opt_features[*]} $f ($opt_version)"
      before=$(stat -c %s "$f")
      "$wasm_opt" -O3 "${opt_features[@]}" -o "$f.opt" "$f"
      mv "$f.opt" "$f"
      optimized[$sum]=$f
      log "wasm-opt: $before -> $(stat -c %s "$f") bytes"
    done
  fi
  # Smoke check: both optimized builds must load in Node and answer version(). (This is the check
  # that catches a wasm-opt that exits 0 but breaks the module.)
  node -e '
    const m = require(process.argv[1]);
    const v = m.version();
    if (typeof v !== "string" || v.length === 0) { console.error("version() returned", v); process.exit(1); }
    console.log("[build-wasm] nodejs build loads in Node; version() = " + v);
  ' "$PWD/$pkg/nodejs/$crate_lib.js"
  # --no-warnings: the web build is an ES module in a directory without "type": "module".
  node --no-warnings --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { pathToFileURL } from "node:url";
    const [js, wasmFile] = process.argv.slice(1);
    const m = await import(pathToFileURL(js).href);
    await m.default({ module_or_path: readFileSync(wasmFile) });
    const v = m.version();
    if (typeof v !== "string" || v.length === 0) { console.error("version() returned", v); process.exit(1); }
    console.log("[build-wasm] web build initializes in Node; version() = " + v);
  ' "$PWD/$pkg/web/$crate_lib.js" "$PWD/$pkg/web/${crate_lib}_bg.wasm"
  echo "$key" > "$stamp"
fi

size() { stat -c %s "$1"; }
printf '[build-wasm] sizes (bytes):\n'
printf '  %-52s %9s\n' "$raw (before wasm-bindgen)" "$(size "$raw")"
for f in "${outputs[@]}"; do printf '  %-52s %9s\n' "$f" "$(size "$f")"; done
