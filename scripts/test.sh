#!/usr/bin/env bash
# `npm test`: lint, typecheck, then every jest suite (unit, integration on PGlite, PostgreSQL, git
# over HTTP, a Temporal dev server and a Gitea server). Starts the PostgreSQL it needs and makes
# sure of promtool and Gitea (scripts/test-tools.sh); run `npm run setup` first.
# Extra arguments go to jest (e.g. `npm test -- test/unit`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-postgres.sh
bash scripts/test-tools.sh
echo "[test] lint";      npx --no-install eslint .
echo "[test] format";    npx --no-install prettier --check . --log-level warn  # fix with npm run format
echo "[test] typecheck"; npx --no-install tsc --noEmit
# The launcher suite runs `npm start` as shipped: the compiled dist/ with its prebuilt workflow bundle.
echo "[test] build";     bash scripts/build.sh
echo "[test] jest"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
status=0
NODE_OPTIONS=--experimental-vm-modules npx --no-install jest --json --outputFile="$results" "$@" || status=$?
# One summary line in the form CI reads: `jest: N passed, N failed`.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' "$results" || status=1
exit $status
