#!/usr/bin/env bash
# Usage: scripts/lighteval-env.sh   -> prints the path of a ready venv with lighteval
# (gpu-runners/lighteval.in), the evaluate stage's second harness; point HALA_LIGHTEVAL_PYTHON at
# its bin/python. Cached like the runner venv, as $HALA_CACHE/venvs/lighteval-<hash of the lock>;
# bash scripts/compile-locks.sh regenerates the lock.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec bash "$root/scripts/lock-venv.sh" lighteval "$root/gpu-runners/lighteval.lock"
