#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL 15 cluster on loopback:
#   scripts/with_postgres.sh COMMAND...
# The cluster lives in a temporary directory and is removed afterwards, whatever
# the command's outcome. DATABASE_URL points at it while COMMAND runs.
# Opt-in extras (README → Past one machine), off by default so the usual pass stays cheap:
#   KAGAMI_TEST_REPLICA=1    a streaming standby of the cluster (pg_basebackup -R) on a second port;
#                            KAGAMI_REPLICA_DATABASE_URL points at it, KAGAMI_PG_REPLICA_PORT is its port.
#   KAGAMI_TEST_PGBOUNCER=1  PgBouncer in transaction mode in front of the cluster; DATABASE_URL goes
#                            through it (KAGAMI_PGBOUNCER=1), KAGAMI_PG_PORT stays the direct port.
#   KAGAMI_TEST_DURABLE=1    production durability (fsync, synchronous_commit, full_page_writes on) and
#                            scripts/prod.sh's memory settings, for benchmarks (bench/bulk_load.py).
set -euo pipefail
pgbin=/usr/lib/postgresql/15/bin
[ -x "$pgbin/initdb" ] || { echo "PostgreSQL 15 is not installed ($pgbin/initdb missing)" >&2; exit 1; }

dir=$(mktemp -d /tmp/kagami-pg.XXXXXX)
chown postgres:postgres "$dir" 2>/dev/null || true
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
cleanup() {
  if [ -f "$dir/pgbouncer.pid" ]; then kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; fi
  as_pg "$pgbin/pg_ctl" -D "$dir/replica" -m immediate stop >/dev/null 2>&1 || true
  as_pg "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
port=$(free_port)

# autovacuum off: an ANALYZE that happened to run between two tests recorded the answer table as empty, and the
# next test's rows (uncommitted, so invisible to it) were then planned as one row: nested loops over every answer,
# one GROUP BY query taking minutes (CI, 2026-12-07). Never-analysed tables are estimated from their actual size.
settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if [ "${KAGAMI_TEST_DURABLE:-0}" = "1" ]; then
  settings="-c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=512MB -c max_wal_size=4GB -c checkpoint_timeout=30min"
fi
as_pg "$pgbin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >/dev/null
as_pg "$pgbin/pg_ctl" -D "$dir/data" -w -l "$dir/log" \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $settings -c max_connections=200 -c autovacuum=off" \
  start >/dev/null
as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$port" -U postgres kagami
export DATABASE_URL="postgres://postgres@127.0.0.1:$port/kagami"
export KAGAMI_PG_DIR="$dir" KAGAMI_PG_PORT="$port"
echo ">> PostgreSQL 15 on 127.0.0.1:$port" >&2

if [ "${KAGAMI_TEST_REPLICA:-0}" = "1" ]; then
  # initdb's pg_hba.conf already trusts replication connections from loopback; wal_level is "replica".
  rport=$(free_port)
  as_pg "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$port" -U postgres -D "$dir/replica" -R -X stream -c fast
  as_pg "$pgbin/pg_ctl" -D "$dir/replica" -w -l "$dir/replica.log" \
    -o "-c listen_addresses=127.0.0.1 -p $rport -k $dir -c hot_standby=on -c hot_standby_feedback=on -c max_connections=200" \
    start >/dev/null
  export KAGAMI_REPLICA_DATABASE_URL="postgres://postgres@127.0.0.1:$rport/kagami" KAGAMI_PG_REPLICA_PORT="$rport"
  echo ">> streaming replica on 127.0.0.1:$rport" >&2
fi

if [ "${KAGAMI_TEST_PGBOUNCER:-0}" = "1" ]; then
  command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed (scripts/bootstrap.sh test)" >&2; exit 1; }
  bport=$(free_port)
  echo '"postgres" ""' > "$dir/userlist.txt"
  # Fewer server connections than the tests' clients (gunicorn's 16 threads and the test process), so the
  # concurrency tests really share server connections between transactions.
  cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = 8
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  chown postgres:postgres "$dir/pgbouncer.ini" "$dir/userlist.txt" 2>/dev/null || true
  as_pg pgbouncer -d "$dir/pgbouncer.ini"
  for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $bport), 0.2)" 2>/dev/null && break; sleep 0.1; done
  export DATABASE_URL="postgres://postgres@127.0.0.1:$bport/kagami" KAGAMI_PGBOUNCER=1 KAGAMI_PGBOUNCER_PORT="$bport"
  echo ">> PgBouncer (transaction mode, 8 server connections) on 127.0.0.1:$bport" >&2
fi
"$@"
