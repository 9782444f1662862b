#!/usr/bin/env bash
# Usage: bash bench/gpu-check.sh [--rows N] [--allow-cpu]
# Proves the runners' GPU paths on one lent H100/H200 (no network) in at most ~8 minutes and prints
# the figures as JSON (also written to $OUT/gpu-check.json when $OUT is set, else a temp folder):
# FP8 compression on the GPU, vLLM translation rows/s with the BF16 teacher and its FP8 checkpoint,
# SFT killed (-9) after a checkpoint and resumed, SFT with each distributed strategy on every GPU.
#
# The machine needs, beyond its CUDA driver, a Python 3.11 ($PYTHON, default python3) with the
# wheels of the image locks (images/{quantize,infer,train}/requirements.lock): torch (CUDA build),
# transformers, vllm, llmcompressor, trl, accelerate, datasets, pyarrow, safetensors, tokenizers,
# jinja2. A part whose wheels are absent is skipped and named, never downloaded.
# The tiny world comes from $HALA_HUB_MIRROR, else the one the repository ships (fixtures/tiny-world,
# 9.2 MB of the working tree that travels to the machine anyway).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
export HALA_HUB_MIRROR="${HALA_HUB_MIRROR:-$root/fixtures/tiny-world/hub}"
[ -f "$HALA_HUB_MIRROR/MANIFEST.json" ] || { echo "gpu-check: no tiny world at $HALA_HUB_MIRROR (see this script's header)" >&2; exit 2; }
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
out="${OUT:-$(mktemp -d)}/gpu-check"
# The whole check is bounded: a wedged part must not eat the machine's lease.
exec timeout --kill-after=10 "${HALA_GPU_CHECK_TIMEOUT_S:-480}" \
  env PYTHONPATH="$root/gpu-runners" "$python" "$root/bench/gpu_check.py" --out "$out" "$@"
