#!/usr/bin/env bash
# `npm run build`: the production runtime in dist/ — the sources compiled to JavaScript (tsc), the
# migrations next to them, and the workflow code bundled once. `npm start`, `npm run worker` and
# `npm run api` run dist/; `npm run setup` and `npm test` build it. Incremental: a second build
# without changes takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

npx --no-install tsc -p tsconfig.build.json
rm -rf dist/prisma
mkdir -p dist/prisma
cp -r prisma/migrations dist/prisma/
node dist/scripts/bundle-workflows.js
