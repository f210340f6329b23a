#!/usr/bin/env bash
# Proof for behaviour-preserving changes: sha256 of the output of the 100 MB benchmark documents
# (detections, hosts, kb; transformed by the CLI's `transform`) and of the main job's outputs
# (both runs, all four feeds). Run it before and after a refactor and compare the two listings.
#   bash tools/output-digests.sh [--no-main] [--size 100MB]   (builds first; ~2 min)
set -euo pipefail
cd "$(dirname "$0")/.."
size=100MB main=1
while [ $# -gt 0 ]; do
  case $1 in
    --no-main) main=0 ;;
    --size) size=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
bash scripts/build-wasm.sh >/dev/null
node scripts/bundle.js >/dev/null
work=target/output-digests
mkdir -p "$work"
for kind in detections hosts kb; do
  node bench/generate.js "$kind" "$size" >/dev/null
  doc=bench/data/$kind-$size.xml
  [ -f "$doc" ] || doc=$(ls bench/data/"$kind"-"$size"*.xml | head -1)
  node dist/qualys-vm-transporter.js transform --source "$kind" "$doc" --out "$work/$kind-$size.xml" 2>/dev/null
  printf '%s  transform %s %s\n' "$(sha256sum < "$work/$kind-$size.xml" | cut -d' ' -f1)" "$kind" "$size"
done
if [ "$main" = 1 ]; then
  node scripts/main-run.js >/dev/null
  for f in out/run1/*.xml out/run2/*.xml; do
    printf '%s  main %s\n' "$(sha256sum < "$f" | cut -d' ' -f1)" "$f"
  done
fi
