#!/usr/bin/env bash
# Usage: bash scripts/test-all.sh   (npm test runs it after scripts/bootstrap.sh)
# Runs every suite — static checks, vitest (unit, workflow, end-to-end), pytest (runners) — and
# ends with one line "N passed, N failed" summing them all. Exit status non-zero if any failed.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
V="$(bash scripts/python-env.sh)"
export HALA_PYTHON="$V/bin/python"
export HALA_HUB_MIRROR="$(bash scripts/fixtures.sh)"
# The offline validators of images/ and deploy/ (test/unit/images.test.ts and test/unit/deploy.test.ts).
export HALA_TOOLS_PYTHON="$(bash scripts/tools-env.sh)/bin/python"
# The evaluate stage's lighteval harness, in its own venv (gpu-runners/lighteval.in says why).
export HALA_LIGHTEVAL_PYTHON="$(bash scripts/lighteval-env.sh)/bin/python"
# No test may reach the Hugging Face hub: both the Python side and openStage's source digests honour this.
export HF_HUB_OFFLINE=1
# The browser the UI, report and screenshot tests drive (playwright-core; never downloaded).
export HALA_CHROMIUM="$(bash scripts/chromium.sh)"
out="$(mktemp -d)"
passed=0
failed=0

check() { # name, command...: a static check counts as one test
  local name="$1"; shift
  if "$@" > "$out/$name.log" 2>&1; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name"; cat "$out/$name.log"; fi
}
check contracts-drift npx tsx contracts/export-json-schema.ts --check
check typecheck npx tsc --noEmit -p .
check lint npx eslint .

npx vitest run --reporter=default --reporter=json --outputFile="$out/vitest.json"
if [ -f "$out/vitest.json" ]; then
  # Failed: every collected test that did not pass and was not skipped (a file that crashed after
  # collection leaves its tests neither passed nor failed), plus files that failed before collecting
  # any, plus 1 for a run vitest itself calls unsuccessful (unhandled errors) if nothing else counted it.
  read -r vp vf < <(node -e 'const r=require(process.argv[1]);
const notRun=r.numTotalTests-r.numPassedTests-r.numPendingTests-r.numTodoTests;
const empty=(r.numRuntimeErrorTestSuites||0)+r.testResults.filter(t=>t.status==="failed"&&t.assertionResults.length===0).length;
const f=notRun+empty;console.log(r.numPassedTests, f>0||r.success!==false?f:1)' "$out/vitest.json")
  passed=$((passed + vp)); failed=$((failed + vf))
else
  echo "vitest produced no report"; failed=$((failed + 1))
fi

PYTHONPATH="$root/gpu-runners" "$V/bin/python" -m pytest gpu-runners/tests -q -p no:cacheprovider --junitxml="$out/pytest.xml"
if [ -f "$out/pytest.xml" ]; then
  read -r pt pf pe ps < <("$V/bin/python" -c 'import sys,xml.etree.ElementTree as E
r=E.parse(sys.argv[1]).getroot(); s=r if r.tag=="testsuite" else r[0]
print(s.get("tests"), s.get("failures"), s.get("errors"), s.get("skipped"))' "$out/pytest.xml")
  passed=$((passed + pt - pf - pe - ps)); failed=$((failed + pf + pe))
else
  echo "pytest produced no report"; failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
