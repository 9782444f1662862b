#!/usr/bin/env bash
# Usage: scripts/python-env.sh   -> prints the path of a ready Python venv for the runners.
# The venv lives outside the clone, in $HALA_CACHE (default ~/.cache/hala-flow), keyed by the hash
# of gpu-runners/requirements.lock: a rerun reuses it in milliseconds, a changed lock builds a new one
# (several minutes). The venv is shared by every clone, so the runner package is not installed into
# it: launchers put gpu-runners/ on PYTHONPATH.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec bash "$root/scripts/lock-venv.sh" runners "$root/gpu-runners/requirements.lock"
