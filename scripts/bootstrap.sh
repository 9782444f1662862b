#!/usr/bin/env bash
# Usage: bash scripts/bootstrap.sh [--campaign]   (npm test calls it bare, npm start with --campaign)
# Idempotent set-up of everything a fresh clone needs; a second run takes about a second.
# --campaign: only steps 1-3, what a campaign runs on. The validators and Chromium serve the tests
# alone, and building them made a newcomer's first `npm start` wait for what it never uses.
#   1. npm dependencies        (skipped while package-lock.json is unchanged)
#   2. the Python runner venv  (scripts/python-env.sh, cached outside the clone by lock hash)
#   3. the tiny world          (scripts/fixtures.sh: the shipped fixtures/tiny-world checked against its digest)
#   4. the validator venv      (scripts/tools-env.sh: checkov, hadolint, kubernetes-validate)
#   5. Chromium                (scripts/chromium.sh: Debian's, for the browser tests)
set -euo pipefail
campaign_only=0
case "${1:-}" in
  --campaign) campaign_only=1 ;;
  "") ;;
  *) echo "usage: bash scripts/bootstrap.sh [--campaign]" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

lock_hash="$(sha256sum package-lock.json | cut -c1-16)"
if [ "$(cat node_modules/.hala-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  echo "hala: installing npm dependencies" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > node_modules/.hala-lock-hash
fi

bash scripts/python-env.sh >/dev/null
if [ -f scripts/fixtures.sh ]; then bash scripts/fixtures.sh >/dev/null; fi
if [ "$campaign_only" = 1 ]; then exit 0; fi
bash scripts/tools-env.sh >/dev/null
bash scripts/chromium.sh >/dev/null
