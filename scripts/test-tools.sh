#!/usr/bin/env bash
# Makes sure the tools the test suite runs beside the service are here: promtool (Debian's
# prometheus package; it checks the metrics and the alert rules) and a Gitea server built from its
# Go module (a real forge; scripts/install-gitea.sh, minutes the first time, then cached).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "[test] installing promtool (Debian package prometheus)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "The tests need promtool (Prometheus's tool; Debian: apt-get install prometheus)." >&2
    exit 1
  fi
fi
bash scripts/install-gitea.sh >/dev/null
