#!/usr/bin/env bash
# Profiles the core on the 100 MB documents (bench/run.sh must have generated them), so that
# bench/PROFILE.md can be re-measured after a core change ("before and after"):
#
#   bash bench/profile.sh [detections|hosts|kb ...]     (default: all three)
#
# Writes bench/work/profile/:
#   native-<kind>.txt   perf (cpu-clock sampling, DWARF call graphs) of the native core
#                       (bench/native, profile "profiling" = release + line tables): self and
#                       inclusive time per function
#   wasm-<kind>.txt     node --cpu-prof of the wasm contender with a wasm build that keeps function
#                       names (same code and wasm-opt -O3, names kept with -g), self time per function
#   split-<kind>.txt    read / push / takeOutput split of the shipped wasm build (bench/split.js)
#   floor-<kind>.txt    floors: UTF-8 validation, quick-xml's event reader, the core's tokenizer, tree-free tokenize+escape,
#                       natively and in wasm, and the cost of decoding output to JS strings
# perf needs `perf` (apt-get install linux-perf); without hardware counters it samples cpu-clock.
set -euo pipefail
cd "$(dirname "$0")/.."
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(detections hosts kb)
out=bench/work/profile
mkdir -p "$out"
log() { printf '[profile] %s\n' "$*" >&2; }

log "native core with symbols (bench/native, --profile profiling) and the floor wasm"
[ -f bench/native/Cargo.lock ] || cp Cargo.lock bench/native/Cargo.lock
(cd bench/native && cargo build --quiet --profile profiling && cargo build --quiet --release \
  && cargo rustc --quiet --lib --crate-type cdylib --release --target wasm32-unknown-unknown)

log "wasm core with function names (bench/work/target-wasm-names)"
raw=bench/work/target-wasm-names/wasm32-unknown-unknown/release/qualys_vm_transporter_wasm.wasm
CARGO_TARGET_DIR=$PWD/bench/work/target-wasm-names cargo build --quiet -p qualys-vm-transporter-wasm --lib --release \
  --target wasm32-unknown-unknown --config 'profile.release.strip=false'
names=bench/work/wasm-names
rm -rf "$names" bench/work/wasm-names-raw
mkdir -p bench/work/wasm-names-raw
features=()
for feat in $(rustc --print cfg --target wasm32-unknown-unknown | sed -n 's/^target_feature="\(.*\)"$/\1/p'); do
  case "$feat" in
    nontrapping-fptoint) features+=(--enable-nontrapping-float-to-int) ;;
    bulk-memory|multivalue|mutable-globals|reference-types|sign-ext) features+=("--enable-$feat") ;;
  esac
done
# Drop the target_features section (the release build has none: strip = true) so wasm-bindgen
# treats this module exactly like the shipped one; -g keeps the function names.
node_modules/.bin/wasm-opt --strip-target-features -O0 -g "${features[@]}" -o bench/work/wasm-names-raw/qualys_vm_transporter.wasm "$raw"
wasm-bindgen --target nodejs --out-dir "$names" bench/work/wasm-names-raw/qualys_vm_transporter.wasm
node_modules/.bin/wasm-opt -O3 -g "${features[@]}" -o "$names/x.wasm" "$names/qualys_vm_transporter_bg.wasm"
mv "$names/x.wasm" "$names/qualys_vm_transporter_bg.wasm"

have_perf=0
if command -v perf >/dev/null && perf stat -e cpu-clock true >/dev/null 2>&1; then have_perf=1; else log "perf unusable: native profiles skipped"; fi

for kind in "${kinds[@]}"; do
  case "$kind" in detections) rec=DETECTION ;; hosts) rec=HOST ;; kb) rec=VULN ;; *) log "unknown kind $kind"; exit 2 ;; esac
  doc=bench/data/$kind-100MB.xml
  [ -f "$doc" ] || { log "$doc missing: run bash bench/run.sh --sizes 100MB first"; exit 1; }
  log "$kind: native perf"
  if [ "$have_perf" = 1 ]; then
    data=bench/work/profile/perf-$kind.data
    timeout 600 perf record -q -e cpu-clock -F 2000 --call-graph dwarf,16384 -o "$data" \
      bench/native/target/profiling/qvt-bench-native "$kind" "$doc" >/dev/null 2>&1
    {
      echo "# perf, native core, $doc: self time (top 30)"
      perf report -i "$data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep '%' | head -30 | cut -c1-140 || true
      echo
      echo "# inclusive time of the core's own functions"
      perf report -i "$data" --children --sort symbol --stdio -g none 2>/dev/null | grep '%' \
        | grep -E 'qualys_vm_transporter|quick_xml|malloc|free|from_utf8|memmove|memcpy' | head -40 | cut -c1-140 || true
    } > "$out/native-$kind.txt"
  fi
  log "$kind: wasm --cpu-prof (named build)"
  QVT_WASM_PKG=$names node --cpu-prof --cpu-prof-dir=bench/work/profile --cpu-prof-name="wasm-$kind.cpuprofile" \
    bench/contender.js wasm "$kind" "$rec" "$doc" >/dev/null
  node bench/profile-summary.js "bench/work/profile/wasm-$kind.cpuprofile" 40 > "$out/wasm-$kind.txt"
  log "$kind: split and floors"
  { for i in 1 2 3; do node bench/split.js "$kind" "$doc"; done; } > "$out/split-$kind.txt"
  {
    echo "native: $(bench/native/target/release/qvt-bench-native --floor "$doc")"
    echo "wasm:   $(node bench/floor.js "$doc")"
  } > "$out/floor-$kind.txt"
done
log "done: $out/"
for f in "$out"/split-*.txt "$out"/floor-*.txt; do echo "== $f"; cat "$f"; done
