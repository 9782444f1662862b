#!/usr/bin/env bash
# Usage: bash scripts/compile-locks.sh [--upgrade | --upgrade-package NAME ...]
# Regenerates every image lock and the validator tools' lock (needs PyPI; nothing at test time does):
#   images/<role>/requirements.lock  for linux x86_64, Python 3.11, the CUDA wheels PyPI serves
#   scripts/tools.lock               checkov, hadolint, kubernetes-validate (scripts/tools-env.sh)
#   scripts/bench.lock               the benchmark peers: duckdb, pandas, regex (scripts/bench-env.sh)
#   gpu-runners/lighteval.lock       the lighteval harness of the evaluate stage (scripts/lighteval-env.sh)
# An existing lock is uv's preference, so a rerun changes nothing until an input changes; extra
# arguments (--upgrade, --upgrade-package vllm) go to every `uv pip compile`.
# quantize, train and eval take gpu-runners/requirements.lock as constraints: their images run the
# versions `npm test` runs. That lock (the local and test environment) is resolved by the command in
# its own header and is not touched here; recompile these after it changes. infer is resolved alone
# so that vLLM picks its torch, and its lock records (and this script checks) the torch pin of the
# vllm wheel's own metadata.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv >&2
uv="$(command -v uv || echo "$(python3 -m site --user-base)/bin/uv")"
target=(--python-platform x86_64-manylinux_2_28 --python-version 3.11)

compile() { # in-file out-file [uv args...]
  local in="$1" out="$2"; shift 2
  "$uv" pip compile --quiet --custom-compile-command "bash scripts/compile-locks.sh" "$@" "$in" -o "$out"
  echo "compiled $out" >&2
}

for role in quantize train eval; do
  compile "images/$role/requirements.in" "images/$role/requirements.lock" "${target[@]}" \
    -c gpu-runners/requirements.lock "$@"
done
compile images/infer/requirements.in images/infer/requirements.lock "${target[@]}" "$@"
compile scripts/tools.in scripts/tools.lock --python-version 3.11 "$@"
compile scripts/bench.in scripts/bench.lock --python-version 3.11 "$@"
# lighteval conflicts with requirements.lock (gpu-runners/lighteval.in says how), so only the model
# stack is pinned to it: the lighteval venv runs the torch and transformers the own harness runs.
core="$(mktemp)"
grep -E '^(torch|transformers|accelerate|datasets|huggingface-hub|tokenizers|safetensors|numpy|pyarrow)==' \
  gpu-runners/requirements.lock >"$core"
compile gpu-runners/lighteval.in gpu-runners/lighteval.lock "${target[@]}" -c "$core" "$@"
# uv names the constraints file in its `via` notes: name where the pins come from, not a temporary path.
sed -i "s|-c $core|-c gpu-runners/requirements.lock (model stack)|" gpu-runners/lighteval.lock
rm -f "$core"

# vllm==X pins torch exactly; read that pin from the wheel's metadata (pip fetches only the metadata
# file) and record it under the lock's header, where the test suite checks it offline.
lock=images/infer/requirements.lock
vllm="$(sed -n 's/^vllm==//p' "$lock")"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
report="$scratch/report.json"
python3 -m pip install --quiet --disable-pip-version-check --dry-run --no-deps --ignore-installed \
  --only-binary=:all: --platform manylinux_2_28_x86_64 --python-version 3.11 --target "$scratch/target" \
  --report "$report" "vllm==$vllm"
python3 - "$report" "$lock" <<'EOF'
import json, re, sys
report, lock = sys.argv[1], sys.argv[2]
meta = json.load(open(report))["install"][0]["metadata"]
pins = [r for r in meta["requires_dist"] if re.match(r"torch\s*[=<>!~]", r) and ";" not in r]
if len(pins) != 1 or not pins[0].replace(" ", "").startswith("torch=="):
    sys.exit(f"vllm {meta['version']}: expected one exact torch pin in its metadata, got {pins}")
want = pins[0].replace(" ", "")[len("torch=="):]
lines = [l for l in open(lock).read().splitlines() if not l.startswith("# vllm==")]
got = next(l[len("torch=="):] for l in lines if l.startswith("torch=="))
if got != want:
    sys.exit(f"{lock}: torch=={got}, but vllm=={meta['version']} requires torch=={want}")
note = f"# vllm=={meta['version']} requires torch=={want} (its wheel's metadata; checked by scripts/compile-locks.sh)"
lines.insert(2, note)  # below uv's two header lines
open(lock, "w").write("\n".join(lines) + "\n")
print(f"{lock}: {note[2:]}", file=sys.stderr)
EOF
