#!/usr/bin/env bash
# The production install, as the Dockerfile makes it, from the committed files only: npm ci,
# build, prune the devDependencies, then start dist/server.js against a real PostgreSQL, wait
# for /readyz and stop it with SIGTERM. The server runs from a directory holding only what the
# image copies (node_modules, dist, package.json, prisma, views, public): it fails if anything the
# server needs lives in devDependencies (tsx, jest...) or outside those (src, the sandbox), or if
# it does not stop cleanly.
# Usage: scripts/check-production-install.sh   (from anywhere in the repository)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
# Run as root, PostgreSQL's initdb works as the `postgres` user: it must be able to enter this.
chmod 755 "$WORK"
APP="$WORK/app"
PG_PID=""
SERVER_PID=""

cleanup() {
  [ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null || true
  if [ -n "$PG_PID" ]; then
    kill -TERM "$PG_PID" 2>/dev/null || true
    wait "$PG_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

step "copy the committed files to $APP"
mkdir -p "$APP"
(cd "$ROOT" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$APP"

# PostgreSQL starts from this checkout while the copy installs: it is no part of what is checked.
step "start PostgreSQL"
node "$ROOT/scripts/start-postgres.cjs" "$WORK/pg" >"$WORK/pg.url" 2>"$WORK/pg.log" &
PG_PID=$!

cd "$APP"
step "npm ci"
# --prefer-offline: the packages come from npm's cache when it has them (the lock pins them all).
npm ci --prefer-offline --no-audit --no-fund --loglevel=error
step "npm run build"
npm run build --silent
step "npm prune --omit=dev"
npm prune --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error
# (typescript and ajv stay: Prisma depends on them at run time.)
for dev in tsx jest ts-jest supertest eslint; do
  if [ -e "node_modules/$dev" ]; then
    echo "node_modules/$dev is still installed after the prune: the check would prove nothing" >&2
    exit 1
  fi
done

for _ in $(seq 1 120); do
  [ -s "$WORK/pg.url" ] && break
  kill -0 "$PG_PID" 2>/dev/null || { cat "$WORK/pg.log" >&2; exit 1; }
  sleep 0.5
done
DATABASE_URL="$(head -n1 "$WORK/pg.url")"
[ -n "$DATABASE_URL" ] || { echo "PostgreSQL did not start" >&2; cat "$WORK/pg.log" >&2; exit 1; }

step "assemble what the image holds"
IMAGE="$WORK/image"
mkdir -p "$IMAGE"
for part in node_modules dist package.json prisma.config.ts prisma views public; do
  mv "$APP/$part" "$IMAGE/"
done
cd "$IMAGE"

PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
# `npm start`'s own command (the image's CMD is the same words), run without npm as the image does.
START="$(node -p 'require("./package.json").scripts.start')"
TOKEN_KEY="$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))')"
step "$START on port $PORT"
env -i PATH="$PATH" HOME="$HOME" NODE_ENV=production \
  DATABASE_URL="$DATABASE_URL" \
  HIGHLEVEL_CLIENT_ID=ci-client-id HIGHLEVEL_CLIENT_SECRET=ci-client-secret \
  TOKEN_ENCRYPTION_KEY="$TOKEN_KEY" \
  API_KEYS="$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64url"))')" \
  APP_BASE_URL="http://127.0.0.1:$PORT" HOST=127.0.0.1 PORT="$PORT" LOG_LEVEL=warn \
  $START >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

ready=""
for _ in $(seq 1 120); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "the server exited before it was ready:" >&2
    cat "$WORK/server.log" >&2
    exit 1
  fi
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then
    ready=yes
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "/readyz did not answer 200 within 60 s:" >&2
  cat "$WORK/server.log" >&2
  exit 1
fi
echo "/readyz answered 200"

# The operator commands ship in the image too (dist/cli): they must run from its files alone.
step "operator commands: api-key list, tokens keys"
for command in "api-key.js list" "tokens.js keys"; do
  # shellcheck disable=SC2086 # the command and its argument are two words on purpose
  env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$DATABASE_URL" TOKEN_ENCRYPTION_KEY="$TOKEN_KEY" \
    node dist/cli/$command || { echo "node dist/cli/$command failed" >&2; exit 1; }
done

step "SIGTERM"
kill -TERM "$SERVER_PID"
status=0
wait "$SERVER_PID" || status=$?
SERVER_PID=""
if [ "$status" -ne 0 ]; then
  echo "the server exited with $status after SIGTERM:" >&2
  cat "$WORK/server.log" >&2
  exit 1
fi
echo "stopped with exit 0: the production install works"
