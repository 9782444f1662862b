#!/usr/bin/env bash
# Usage: scripts/fixtures.sh   -> prints the path of the tiny-world hub mirror (HALA_HUB_MIRROR).
# The mirror lives outside the clone, in $HALA_CACHE (default ~/.cache/hala-flow), keyed by the hash
# of gpu-runners/requirements.lock and every file of gpu-runners/tiny_world/: a rerun
# reuses it in milliseconds; a changed generator or lock builds a new one (a few minutes, 2 CPUs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${HALA_CACHE:-$HOME/.cache/hala-flow}"
src="$root/gpu-runners/tiny_world"
# Content hash of the lock and of each generator file in path order (bytecode caches excluded:
# importing the package must not change the key).
key="$( { cat "$root/gpu-runners/requirements.lock"
          find "$src" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | LC_ALL=C sort -z \
            | xargs -0 cat; } | sha256sum | cut -c1-16)"
dir="$cache/fixtures/$key"
hub="$dir/hub"

if [ -f "$hub/MANIFEST.json" ]; then echo "$hub"; exit 0; fi

mkdir -p "$dir"
# Several test sessions may ask at once: one builds, the others wait for it and reuse its result.
exec 9>"$dir/.lock"
flock 9
if [ -f "$hub/MANIFEST.json" ]; then echo "$hub"; exit 0; fi

venv="$(bash "$root/scripts/python-env.sh")"
echo "hala: building the tiny world $hub (first time only, a few minutes)" >&2
# The build writes hub.partial and renames it to hub as its last step: the rename is the commit point.
PYTHONPATH="$root/gpu-runners" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
  "$venv/bin/python" -m tiny_world.build --out "$hub" --force >&2
echo "$hub"
