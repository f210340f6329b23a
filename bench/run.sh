#!/usr/bin/env bash
# The benchmark, one command (issue 5):
#
#   bash bench/run.sh                 # 10 MB, 100 MB, 1 GB documents + end-to-end run -> bench/RESULTS.md
#   bash bench/run.sh --quick         # 10 MB only + a 100,000-detection end-to-end smoke run
#                                     #   -> bench/data/RESULTS-quick.md (RESULTS.md is left alone)
#   bash bench/run.sh --sizes 10MB,100MB [--kinds detections] [--contenders wasm,native] [--repeat 3]
#                     [--timeout SEC] [--no-e2e] [--e2e-only] [--e2e-hosts N] [--results FILE]
#                     (a partial selection writes bench/data/RESULTS-partial.md unless --results is given)
#
# Steps: build the release wasm (scripts/build-wasm.sh) and the native core (bench/native, release
# + LTO); generate the detection, host-list and KB documents once (cached in bench/data/,
# git-ignored; ~3.3 GB for all sizes); run each contender on each document in its own process with
# a timeout; run the single-file transporter against the simulator (bench/e2e.js); print the
# tables and write the results file. Needs scripts/setup.sh to have run (npm dev packages).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bench] %s\n' "$*" >&2; }

mkdir -p bench/data
# One benchmark at a time: a second run.sh waits here (builds included: they would disturb the
# measurements of the first and replace the binaries under it). The lock is held until the
# harness exits (the descriptor is inherited through exec).
exec 9>bench/data/.run.flock
if ! flock -n 9; then
  log "another bench/run.sh is running; waiting for it (up to 60 min)"
  flock -w 3600 9 || { log "gave up waiting for the other benchmark"; exit 1; }
fi

# The wasm core. If the build fails (e.g. src/ is mid-edit) an existing build is used, loudly.
if ! timeout 1800 bash scripts/build-wasm.sh >bench/data/build-wasm.log 2>&1; then
  if [ -f target/wasm-pkg/nodejs/qualys_vm_transporter_bg.wasm ]; then
    log "WARNING: scripts/build-wasm.sh failed (bench/data/build-wasm.log); benchmarking the existing target/wasm-pkg build"
  else
    log "scripts/build-wasm.sh failed and there is no earlier build: see bench/data/build-wasm.log"
    exit 1
  fi
fi

# The native core: its own workspace (bench/native), started from the main lock file so both
# builds use the same dependency versions.
[ -f bench/native/Cargo.lock ] || cp Cargo.lock bench/native/Cargo.lock
if ! (cd bench/native && timeout 1800 cargo build --release --quiet) >bench/data/build-native.log 2>&1; then
  if [ -x bench/native/target/release/qvt-bench-native ]; then
    log "WARNING: the native build failed (bench/data/build-native.log); benchmarking the existing binary"
  else
    log "the native build failed: see bench/data/build-native.log"
    exit 1
  fi
fi

exec node bench/harness.js "$@"
