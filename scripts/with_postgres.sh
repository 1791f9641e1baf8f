#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL 15 cluster on loopback:
#   scripts/with_postgres.sh COMMAND...
# The cluster lives in a temporary directory and is removed afterwards, whatever
# the command's outcome. DATABASE_URL points at it while COMMAND runs.
set -euo pipefail
pgbin=/usr/lib/postgresql/15/bin
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL 15 is not installed ($pgbin/initdb missing)" >&2; exit 1; }

dir=$(mktemp -d /tmp/kagami-pg.XXXXXX)
chown postgres:postgres "$dir" 2>/dev/null || true
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
cleanup() {
  as_pg "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

as_pg "$pgbin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
as_pg "$pgbin/pg_ctl" -D "$dir/data" -w -l "$dir/log" \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres kagami
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/kagami"
export KAGAMI_PG_DIR="$dir" KAGAMI_PG_PORT="$port"
echo ">> PostgreSQL 15 on 127.0.0.1:$port" >&2
"$@"
