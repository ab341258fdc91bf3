#!/usr/bin/env bash
# `npm run setup`: prepares a machine to run relyloop-pr. Installs only what is missing, so a
# second run takes seconds. On Debian as root it installs system packages itself; elsewhere it
# prints exactly what to install.
#   --with-postgres   also install what the test suite needs: a PostgreSQL server, promtool
#                     (Debian's prometheus package) to check the metrics and alert rules, and a
#                     Gitea server built from its Go module (scripts/install-gitea.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

with_postgres=0
for arg in "$@"; do
  case "$arg" in
    --with-postgres) with_postgres=1 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

t0=$SECONDS
phase_start=$SECONDS
phase() { printf '[setup] %-28s %3ss\n' "$1" "$((SECONDS - phase_start))"; phase_start=$SECONDS; }

# --- system packages ---------------------------------------------------------------------------
# git: the tests' git server and CLI checks; the rest builds node-canvas (chart PNGs) from source.
packages=(git ca-certificates python3 build-essential pkg-config libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev)
[ "$with_postgres" = 1 ] && packages+=(postgresql prometheus)

if [ -f /etc/debian_version ] && command -v dpkg-query >/dev/null; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "Missing Debian packages: ${missing[*]}" >&2
      echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
    echo "[setup] installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "Not a Debian system: install these yourself, then run this again with SKIP_SYSTEM_PACKAGES=1:" >&2
  echo "  - git, a C/C++ toolchain, pkg-config, Python 3" >&2
  echo "  - cairo, pango, libjpeg, giflib and librsvg development headers (for node-canvas)" >&2
  echo "  - Node.js >= 20.3 with npm; Go >= 1.23 or Python 3 (to install the Temporal CLI)" >&2
  [ "$with_postgres" = 1 ] && echo "  - a PostgreSQL server and promtool (for the tests)" >&2
  [ "${SKIP_SYSTEM_PACKAGES:-0}" = 1 ] || exit 1
fi
phase "system packages"

# --- Node.js -----------------------------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "Node.js >= 20.3 is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# --- Temporal CLI ------------------------------------------------------------------------------
temporal_cli=$(bash scripts/install-temporal-cli.sh)
# The docs call it `temporal`: make that name work (a link on PATH where one can be made).
temporal_cmd=$(bash scripts/link-temporal-cli.sh "$temporal_cli")
phase "temporal CLI"

# --- Gitea (tests only) ------------------------------------------------------------------------
# A real forge for the test suite, built once into the cache (minutes the first time).
if [ "$with_postgres" = 1 ]; then
  bash scripts/install-gitea.sh >/dev/null
  phase "gitea (tests)"
fi

# --- npm dependencies --------------------------------------------------------------------------
# Skipped when package-lock.json and the Node version are unchanged since the last install.
stamp="node_modules/.relyloop-install-stamp"
want="$(sha256sum package-lock.json | cut -d' ' -f1) node-$(node --version)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # node-canvas compiles against the local Node headers instead of downloading them.
  if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
# npm ci runs it (postinstall); again here for a node_modules installed before a patch was added.
node scripts/patch-dependencies.mjs
phase "npm ci"

# --- Prisma client -----------------------------------------------------------------------------
gen_stamp="generated/.schema-stamp"
gen_want="$(cat prisma/schema.prisma package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -f "$gen_stamp" ] || [ "$(cat "$gen_stamp")" != "$gen_want" ]; then
  bash scripts/prisma-generate.sh >/dev/null
  echo "$gen_want" > "$gen_stamp"
fi
phase "prisma generate"

# --- the production runtime (dist/) ------------------------------------------------------------
# Rebuilt only when an input changed: the compiled folders, the migrations, the TypeScript
# settings, the lock file and the Prisma client (a checked-out tree that was built is not rebuilt).
build_stamp="dist/.build-stamp"
build_want="$(find adapters api activities db domain runtime service workflows worker scripts/bundle-workflows.ts generated prisma/migrations \
  -type f \( -name '*.ts' -o -name '*.js' -o -name '*.sql' -o -name '*.json' -o -name '*.sh' \) -print0 2>/dev/null | sort -z | xargs -0 sha256sum \
  | cat - tsconfig.json tsconfig.build.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -f "$build_stamp" ] || [ "$(cat "$build_stamp")" != "$build_want" ] || [ ! -f dist/workflow-bundle.js ]; then
  bash scripts/build.sh >/dev/null
  echo "$build_want" > "$build_stamp"
fi
phase "build (dist/)"

# --- embedded database template ----------------------------------------------------------------
# PGlite's initdb (≈ 3 s) once per install: a new data dir starts from a copy (db/database.ts).
node --input-type=module -e "await (await import('./dist/db/database.js')).ensurePgliteTemplate()"
phase "PGlite template"

# --- API token ---------------------------------------------------------------------------------
secrets_dir="${RELYLOOP_SECRETS_DIR:-./secrets}"
token_file="${RELYLOOP_API_TOKEN_FILE:-$secrets_dir/api_token}"
if [ ! -s "$token_file" ]; then
  mkdir -p "$(dirname "$token_file")"
  chmod 700 "$(dirname "$token_file")"
  (umask 077; node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))' > "$token_file")
  echo "[setup] created an API token in $token_file"
fi

echo "[setup] done in $((SECONDS - t0))s — temporal CLI: $temporal_cli (as \`temporal\`: $temporal_cmd)"
echo "[setup] start the service with: npm start"
