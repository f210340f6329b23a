#!/usr/bin/env bash
# Installs what a fresh machine lacks, idempotently: the wasm32 target, the wasm-bindgen CLI pinned to
# the crate version in Cargo.lock, npm dev packages, and Chromium + chromedriver for browser tests.
# Every step is skipped when its result is already there, so running it twice costs seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must equal the wasm-bindgen crate version exactly ("schema versions must exactly match").
[ -f Cargo.lock ] || cargo generate-lockfile
wbg_version=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock)
if [ -z "$wbg_version" ]; then echo "[setup] cannot read the wasm-bindgen version from Cargo.lock" >&2; exit 1; fi
# The same crate installs wasm-bindgen-test-runner (the cargo runner for the wasm tests): check both.
if ! wasm-bindgen --version 2>/dev/null | grep -q " $wbg_version\$" \
   || ! wasm-bindgen-test-runner --version 2>/dev/null | grep -q " $wbg_version\$" ; then
  log "installing wasm-bindgen-cli $wbg_version (about 2.5 minutes on 2 cores)"
  # --locked fails here (its lockfile wants a crate version the registry lacks): left out on purpose.
  # --force: reinstall even if cargo thinks this version is installed (e.g. one binary missing).
  cargo install --force wasm-bindgen-cli --version "$wbg_version"
fi

if [ ! -d node_modules ] || [ package.json -nt node_modules/.setup-stamp ] || [ package-lock.json -nt node_modules/.setup-stamp ]; then
  log "installing npm dev packages"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
  touch node_modules/.setup-stamp
fi

if [ "${SKIP_BROWSER:-0}" != 1 ] && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
  log "installing chromium and chromium-driver (headless browser tests)"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
fi
log "ready"
