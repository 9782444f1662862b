#!/usr/bin/env bash
# Usage: scripts/lock-venv.sh NAME LOCK   -> prints the path of a ready venv holding exactly LOCK.
# The venv lives outside the clone, in $HALA_CACHE (default ~/.cache/hala-flow), as
# venvs/NAME-<hash of LOCK>: a rerun reuses it in milliseconds, a changed lock builds a new one.
# scripts/python-env.sh (the runners) and scripts/tools-env.sh (the validators) are its callers.
set -euo pipefail
name="$1"
lock="$2"
cache="${HALA_CACHE:-$HOME/.cache/hala-flow}"
key="$(sha256sum "$lock" | cut -c1-16)"
venv="$cache/venvs/$name-$key"

if [ -f "$venv/.complete" ]; then echo "$venv"; exit 0; fi

command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv >&2
uv="$(command -v uv || echo "$(python3 -m site --user-base)/bin/uv")"
mkdir -p "$cache/venvs"
rm -rf "$venv.partial"
echo "hala: building Python environment $venv (first time only)" >&2
"$uv" venv --quiet --relocatable --python 3.11 "$venv.partial" >&2
VIRTUAL_ENV="$venv.partial" "$uv" pip install --quiet -r "$lock" >&2
# Built under .partial (relocatable) and renamed: the rename is the commit point, so an interrupted
# build is never mistaken for a finished one.
touch "$venv.partial/.complete"
mv "$venv.partial" "$venv"
echo "$venv"
