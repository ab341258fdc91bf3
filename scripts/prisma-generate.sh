#!/usr/bin/env bash
# Generates the Prisma client into generated/prisma. Prisma 7's CLI wants a schema-engine binary
# even for `generate`, and downloads it when missing — which fails offline. Generation itself
# does not run the engine, so any existing file satisfies the check.
set -euo pipefail
cd "$(dirname "$0")/.."
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$(type -P true)}"
export PRISMA_HIDE_UPDATE_MESSAGE=1
exec npx --no-install prisma generate
