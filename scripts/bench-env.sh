#!/usr/bin/env bash
# Usage: scripts/bench-env.sh   -> prints the path of a ready venv with the benchmark peers'
# packages (duckdb, pandas, pyarrow, regex: scripts/bench.in) that bench/corpus.ts runs its peers in.
# Cached like the runner venv, as $HALA_CACHE/venvs/bench-<hash of scripts/bench.lock>;
# bash scripts/compile-locks.sh regenerates the lock.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec bash "$root/scripts/lock-venv.sh" bench "$root/scripts/bench.lock"
