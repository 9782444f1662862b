#!/usr/bin/env bash
# Usage: bash scripts/build-images.sh [PREFIX] [TAG]   e.g. registry.example.com/hala 0.3.0
# Builds the five images from the repository root: the GPU base first (the role images start FROM
# it by its local name), then quantize, infer, train, eval and the CPU worker, tagged
# PREFIX/gpu-<role>:TAG and PREFIX/cpu:TAG (default hala/...:<CODE_VERSION>), each with HALA_BUILD_ID
# <CODE_VERSION>+<commit>: the Worker Deployment version its workers join. Needs a Docker engine;
# npm test only validates the Dockerfiles (checkov, hadolint). With a buildx builder that cannot see
# local images, push the base and add --build-context hala/gpu-base:<tag>=docker-image://<pushed base>.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
prefix="${1:-hala}"
version="$(sed -n "s/^export const CODE_VERSION = '\(.*\)';/\1/p" contracts/version.ts)"
tag="${2:-$version}"
# Every image of one build joins one Worker Deployment version: the code version and the commit.
build_id="$version+$(git rev-parse --short=12 HEAD)"
base="$(sed -n 's/^FROM \(hala\/gpu-base:.*\)$/\1/p' images/infer/Dockerfile)"

docker build -f images/gpu-base/Dockerfile -t "$base" .
for role in quantize infer train eval; do
  docker build -f "images/$role/Dockerfile" --build-arg "HALA_BUILD_ID=$build_id" -t "$prefix/gpu-$role:$tag" .
done
docker build -f images/cpu/Dockerfile --build-arg "HALA_BUILD_ID=$build_id" -t "$prefix/cpu:$tag" .
