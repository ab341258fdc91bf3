#!/usr/bin/env bash
# Makes a pinned Gitea server available to the test suite and prints its path: a real forge in the
# tests, besides the GitHub sandbox. Gitea builds from its official Go module: the module's source is copied out
# of the module cache, its embedded assets generated, and one static binary built into
# ~/.cache/relyloop-pr/gitea/<version>/ (minutes, once; CI and later sessions reuse it). The
# service itself never needs it. GITEA_BIN points at another build of the same version.
set -euo pipefail

GITEA_VERSION=v1.27.3   # needs Go >= 1.26.4
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/relyloop-pr"
dir="$cache_root/gitea/$GITEA_VERSION"
target="$dir/gitea"

works() { [ -x "$1" ] && "$1" --version 2>/dev/null | grep -q "${GITEA_VERSION#v}"; }

if [ -n "${GITEA_BIN:-}" ]; then
  works "$GITEA_BIN" || { echo "GITEA_BIN=$GITEA_BIN is not Gitea $GITEA_VERSION" >&2; exit 1; }
  echo "$GITEA_BIN"; exit 0
fi
if works "$target"; then echo "$target"; exit 0; fi
command -v go >/dev/null 2>&1 || { echo "building Gitea needs Go >= 1.26.4 (none found)" >&2; exit 1; }

echo "building Gitea $GITEA_VERSION from its Go module (first time only, a few minutes)..." >&2
started=$SECONDS
src_dir=$(go mod download -json "code.gitea.io/gitea@$GITEA_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$src_dir" ] || { echo "go mod download code.gitea.io/gitea@$GITEA_VERSION gave no source directory" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/gitea-build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -R "$src_dir/." "$work/src"
chmod -R u+w "$work/src"
(
  cd "$work/src"
  # The assets (templates, locales, migrations' data, the UI's public files) are compiled in.
  go generate -tags bindata ./modules/options ./modules/templates ./modules/migration ./modules/public >&2
  mkdir -p "$dir"
  CGO_ENABLED=0 go build -tags bindata -trimpath -ldflags "-s -w -X main.Version=${GITEA_VERSION#v} -X main.Tags=bindata" -o "$target.partial" . >&2
)
mv "$target.partial" "$target"
works "$target" || { echo "the Gitea build at $target does not run" >&2; exit 1; }
echo "built Gitea $GITEA_VERSION in $((SECONDS - started)) s: $target" >&2
echo "$target"
