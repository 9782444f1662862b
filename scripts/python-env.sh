#!/usr/bin/env bash
# Usage: scripts/python-env.sh   -> prints the path of a ready Python venv for the runners.
# The venv lives outside the clone, in $HALA_CACHE (default ~/.cache/hala-flow), keyed by the hash
# of gpu-runners/requirements.lock: a rerun reuses it in milliseconds, a changed lock builds a new one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${HALA_CACHE:-$HOME/.cache/hala-flow}"
lock="$root/gpu-runners/requirements.lock"
key="$(sha256sum "$lock" | cut -c1-16)"
venv="$cache/venvs/runners-$key"

if [ -f "$venv/.complete" ]; then echo "$venv"; exit 0; fi

command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv >&2
uv="$(command -v uv || echo "$(python3 -m site --user-base)/bin/uv")"
mkdir -p "$cache/venvs"
rm -rf "$venv.partial"
echo "hala: building Python runner environment $venv (first time only, several minutes)" >&2
"$uv" venv --quiet --relocatable --python 3.11 "$venv.partial" >&2
VIRTUAL_ENV="$venv.partial" "$uv" pip install --quiet -r "$lock" >&2
# The venv is shared by every clone, so the runner package is not installed into it: launchers put
# gpu-runners/ on PYTHONPATH. Built under .partial (relocatable) and renamed: the rename is the
# commit point, so an interrupted build is never mistaken for a finished one.
touch "$venv.partial/.complete"
mv "$venv.partial" "$venv"
echo "$venv"
