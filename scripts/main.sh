#!/usr/bin/env bash
# The main job (the README's first command): installs what is missing, builds the wasm core, and
# transforms the bundled real Qualys responses (tests/fixtures/real/) into Archer output files
# under out/, printing record counts per data source. (The simulator-driven run of all four feeds
# through the single-file transporter replaces this once the shim lands.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build-wasm.sh
node scripts/transform-fixtures.js
