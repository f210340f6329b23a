#!/usr/bin/env bash
# The main job (the README's first command): installs what is missing, builds the wasm core and the
# single-file transporter, then runs all four feeds against the built-in Qualys simulator exactly
# as Archer would (see scripts/main-run.js), twice: a first run and an incremental one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-wasm.sh
node scripts/bundle.js
node scripts/main-run.js "$@"
