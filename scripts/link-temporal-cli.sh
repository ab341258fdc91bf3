#!/usr/bin/env bash
# Makes `temporal` callable by name, as README.md and docs/operations.md print it. Given the CLI's
# path (install-temporal-cli.sh), it does nothing when a `temporal` is already on PATH; otherwise
# it links the CLI into the first of /usr/local/bin and ~/.local/bin that is on PATH and writable.
# Prints where `temporal` now resolves, or, when no such directory exists, the path to use.
set -euo pipefail
cli="$1"

if on_path=$(command -v temporal 2>/dev/null); then echo "$on_path"; exit 0; fi
on_path_dir() { case ":$PATH:" in *":$1:"*) return 0 ;; *) return 1 ;; esac; }
for dir in /usr/local/bin "$HOME/.local/bin"; do
  if on_path_dir "$dir" && [ -d "$dir" ] && [ -w "$dir" ]; then
    ln -sf "$cli" "$dir/temporal"
    echo "$dir/temporal"
    exit 0
  fi
done
echo "[setup] no writable directory on PATH for a 'temporal' link: run the CLI as $cli (or add $(dirname "$cli") to PATH)" >&2
echo "$cli"
