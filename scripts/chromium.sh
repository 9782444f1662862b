#!/usr/bin/env bash
# Usage: bash scripts/chromium.sh   (prints the path of a Chromium for the browser tests)
# The tests drive Debian's chromium through playwright-core, which never downloads a browser.
# HALA_CHROMIUM names another binary; otherwise /usr/bin/chromium, installed with apt when missing
# (CI's machines start without it, and a session's installs do not carry over).
set -euo pipefail
if [ -n "${HALA_CHROMIUM:-}" ]; then echo "$HALA_CHROMIUM"; exit 0; fi
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "hala: the browser tests need Chromium: apt-get install chromium as root, or set HALA_CHROMIUM to a Chromium binary" >&2
    exit 1
  fi
  echo "hala: installing Debian's chromium for the browser tests" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >&2
fi
echo /usr/bin/chromium
