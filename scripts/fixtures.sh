#!/usr/bin/env bash
# Usage: bash scripts/fixtures.sh            -> checks the shipped tiny world; prints its hub mirror's path
#                                               (HALA_HUB_MIRROR) on stdout and its digest on stderr
#        bash scripts/fixtures.sh --rebuild [ar|fr]  -> regenerates the worlds (both when none is named)
#                                               from gpu-runners/tiny_world (~3-4 min each, 2 CPUs) and
#                                               records the new digest: commit fixtures/tiny-world
# The hub mirror holds two worlds, one per language profile (gpu-runners/tiny_world/profiles): the
# first under the hala-tiny org (MANIFEST.json) and the French one under hala-tiny-fr
# (MANIFEST.fr.json), so every hf:// id of either recipe resolves into the same mirror.
# The tiny world is trained on CPU, and CPU kernels round differently from one processor to the
# next, so a world built by each machine was a different world on each (issue 21). The repository
# ships one build instead: fixtures/tiny-world/hub. Its digest is the sha256 of its listing
# (`sha256sum` of every file, in name order), kept as fixtures/tiny-world/SHA256SUMS; the digest
# itself is committed in fixtures/tiny-world/DIGEST. Set-up recomputes both and refuses a mirror that
# differs, naming the two digests and the files that changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
world="$root/fixtures/tiny-world"
hub="$world/hub"

listing() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
digest_of() { sha256sum | cut -c1-64; }

if [ "${1:-}" = "--rebuild" ]; then
  venv="$(bash "$root/scripts/python-env.sh")"
  before="$(cat "$world/DIGEST" 2>/dev/null || echo none)"
  for lang in ${2:-ar fr}; do
    build="$world/.build-$lang"
    TINY_WORLD_LANG="$lang" PYTHONPATH="$root/gpu-runners" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false \
      OMP_NUM_THREADS=1 "$venv/bin/python" -m tiny_world.build --out "$build" --force >&2
    # The world's own top-level paths (its org, its datasets/<org>, its manifest) replace the hub's;
    # the other world's stay as they are.
    (cd "$build" && { find . -mindepth 1 -maxdepth 1 ! -name datasets; find ./datasets -mindepth 1 -maxdepth 1; }) |
      while read -r rel; do
        rm -rf "${hub:?}/$rel"
        mkdir -p "$(dirname "$hub/$rel")"
        mv "$build/$rel" "$hub/$rel"
      done
    rm -rf "$build"
  done
  listing "$hub" > "$world/SHA256SUMS"
  digest_of < "$world/SHA256SUMS" > "$world/DIGEST"
  echo "hala: tiny world rebuilt, sha256 $(cat "$world/DIGEST") (was $before): commit fixtures/tiny-world" >&2
  echo "$hub"
  exit 0
fi

if [ ! -f "$hub/MANIFEST.json" ] || [ ! -f "$world/DIGEST" ]; then
  echo "hala: the tiny world is missing from $world (it ships with the repository):" \
       "restore it with 'git checkout -- fixtures/tiny-world'" >&2
  exit 1
fi
committed="$(cat "$world/DIGEST")"
found="$(listing "$hub" | digest_of)"
if [ "$found" != "$committed" ]; then
  {
    echo "hala: refusing the tiny world at $hub: its digest is sha256 $found, the repository commits sha256 $committed (fixtures/tiny-world/DIGEST)."
    echo "hala: files that differ from fixtures/tiny-world/SHA256SUMS:"
    { diff <(listing "$hub") "$world/SHA256SUMS" || true; } | sed -n 's/^[<>] [0-9a-f]*  \.\//  /p' | sort -u
    echo "hala: restore it with 'git checkout -- fixtures/tiny-world', or after changing gpu-runners/tiny_world" \
         "rebuild it with 'bash scripts/fixtures.sh --rebuild' and commit fixtures/tiny-world."
  } >&2
  exit 1
fi
echo "hala: tiny world sha256 $found (equals fixtures/tiny-world/DIGEST)" >&2
echo "$hub"
