#!/usr/bin/env bash
# Usage: bash bench/gpu-check.sh [--parts a,b] [--allow-cpu] [--rows N]   the check (a lent GPU machine)
#        bash bench/gpu-check.sh --dry-run    the wheels it would carry, their sizes, the total (no GPU)
#        bash bench/gpu-check.sh --fetch      the same, then copied into .whl/ for the run tool's carry
#
# Proves the runners' GPU paths on one lent H100/H200 (no network) in at most 7 minutes, each part a
# real runner started from its own command line on the tiny world: hala doctor's GPU probe, FP8
# compression both ways with the checkpoints compared bit for bit, the FP8 checkpoint generating,
# bf16 SFT preempted by SIGTERM after a checkpoint and resumed, evaluate on the OALL benchmarks, and
# vLLM translation where vllm imports (bench/gpu_check.py lists the parts and their figures).
# The JSON report, $OUT/gpu-check.json ($OUT: the run tool's folder that comes back; else a temp
# folder), is rewritten after every part, so the overall timeout still returns what finished.
#
# The machine's own Python, torch and transformers are used, never carried. What it lacks travels as
# the small wheels of bench/gpu-check-wheels.txt (the one list, with why each is needed), fetched
# here by --fetch into ~/.cache/hala-flow/gpu-check-wheels/<hash of the list> and copied into .whl/
# (ignored by .gitignore). There, .whl/ is checked against the list, installed with pip
# --no-index --no-deps --target $HALA_GPU_CHECK_SITE (/tmp/site) and put first on PYTHONPATH. A
# Python other than 3.12 (the wheels' tag; the runners' venv here) uses its own packages instead.
# README.md ("On a GPU") has the run tool's call.
#
# Environment: PYTHON (default python3), HALA_HUB_MIRROR (default: the tiny world the repository
# ships, fixtures/tiny-world/hub, 9 MB of the working tree that travels anyway),
# HALA_GPU_CHECK_TIMEOUT_S (default 420: the whole check, wheel install included).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"

case "${1:-}" in
  # Downloading needs pip and the network, not the runners' packages: any python3 with pip does.
  --dry-run) exec "${HALA_PIP_PYTHON:-python3}" "$root/bench/gpu_check_wheels.py" dry-run ;;
  --fetch) exec "${HALA_PIP_PYTHON:-python3}" "$root/bench/gpu_check_wheels.py" fetch ;;
esac

budget="${HALA_GPU_CHECK_TIMEOUT_S:-420}"
if [ -z "${HALA_GPU_CHECK_BOUNDED:-}" ]; then
  # Everything below, the wheel install too, runs under one timeout: a wedged part must not eat the
  # machine's lease. The parts must end 15 s before it (a part's group gets 5 s to go, then the
  # report is written); `timeout` sends SIGTERM at the budget (the report is written then), SIGKILL 10 s later.
  export HALA_GPU_CHECK_BOUNDED=1 HALA_GPU_CHECK_DEADLINE=$(( $(date +%s) + budget - 15 ))
  exec timeout --kill-after=10 "$budget" bash "$0" "$@"
fi

export HALA_HUB_MIRROR="${HALA_HUB_MIRROR:-$root/fixtures/tiny-world/hub}"
[ -f "$HALA_HUB_MIRROR/MANIFEST.json" ] || { echo "gpu-check: no tiny world at $HALA_HUB_MIRROR (see this script's header)" >&2; exit 2; }
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
pythonpath="$root/gpu-runners"

if [ -d "$root/.whl" ] && "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then
  "$python" "$root/bench/gpu_check_wheels.py" verify "$root/.whl"
  site="${HALA_GPU_CHECK_SITE:-/tmp/site}"
  t0=$(date +%s)
  PIP_ROOT_USER_ACTION=ignore "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "$root"/.whl/*.whl
  export HALA_GPU_CHECK_WHEELS="$(ls "$root"/.whl/*.whl | wc -l) wheels from .whl/ into $site in $(( $(date +%s) - t0 )) s"
  pythonpath="$site:$pythonpath"
elif [ -d "$root/.whl" ]; then
  export HALA_GPU_CHECK_WHEELS="not installed: $python is not Python 3.12 (the wheels' tag); its own packages are used"
fi
case " $* " in
  # Tiny models on a few cores: OpenMP threads spin against each other (gpu-runners/tests/conftest.py).
  *" --allow-cpu "*) export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" ;;
esac

out="${OUT:-$(mktemp -d -t hala-gpu-check-XXXXXX)}"
# The runners' store and scratch stay out of $OUT (only 8 files come back from it): gpu_check.py keeps
# them in a temp folder of its own and removes it at the end (--work DIR keeps them in DIR instead).
PYTHONPATH="$pythonpath${PYTHONPATH:+:$PYTHONPATH}" exec "$python" "$root/bench/gpu_check.py" \
  --out "$out" --deadline "$HALA_GPU_CHECK_DEADLINE" "$@"
