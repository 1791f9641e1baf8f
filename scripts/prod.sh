#!/usr/bin/env bash
# Kagami in production shape on loopback: PostgreSQL 15, Redis, gunicorn and a Celery worker.
#   scripts/prod.sh start    start everything (state in $KAGAMI_PROD_DIR, default /tmp/kagami-prod)
#   scripts/prod.sh stop     stop everything this script started (by PID) and remove the state
#   scripts/prod.sh status   show what runs and where
#   scripts/prod.sh env      print the environment (source it to run manage.py against this stack)
# Knobs: WEB_CONCURRENCY (gunicorn workers, default 2 × cores + 1), KAGAMI_WEB_PORT (default: a free port),
# DJANGO_SETTINGS_MODULE (default backend.settings), PYTHON (default python on PATH).
# Test-grade durability (fsync off) unless KAGAMI_PROD_DURABLE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${KAGAMI_PROD_DIR:-/tmp/kagami-prod}"
pgbin=/usr/lib/postgresql/15/bin
py="${PYTHON:-python}"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  if [ -f "$dir/env" ]; then echo "already running (state in $dir); scripts/prod.sh stop first" >&2; exit 1; fi
  mkdir -p "$dir"; chown postgres:postgres "$dir" 2>/dev/null || true
  local pg_port redis_port web_port workers durable=""
  pg_port=$(free_port); redis_port=$(free_port); web_port="${KAGAMI_WEB_PORT:-$(free_port)}"
  workers="${WEB_CONCURRENCY:-$(( 2 * $(nproc) + 1 ))}"
  [ "${KAGAMI_PROD_DURABLE:-0}" = "1" ] || durable="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"

  as_pg "$pgbin/initdb" -D "$dir/pg" -U postgres -A trust --no-sync >/dev/null
  as_pg "$pgbin/pg_ctl" -D "$dir/pg" -w -l "$dir/pg.log" -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir \
    -c max_connections=200 -c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=512MB \
    -c max_wal_size=4GB -c checkpoint_timeout=30min $durable" start >/dev/null
  as_pg "$pgbin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres kagami
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"

  cat > "$dir/env" <<ENV
export DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/kagami
export REDIS_URL=redis://127.0.0.1:$redis_port/0
export CELERY_BROKER_URL=redis://127.0.0.1:$redis_port/1
export CELERY_RESULT_BACKEND=redis://127.0.0.1:$redis_port/2
export SECRET_KEY=\${SECRET_KEY:-prod-shape-on-loopback-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')}
export ALLOWED_HOSTS=127.0.0.1,localhost STATIC_ROOT=$dir/static
export SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false SECURE_HSTS_SECONDS=0
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-backend.settings}
export KAGAMI_WEB_URL=http://127.0.0.1:$web_port
export KAGAMI_PG_PORT=$pg_port KAGAMI_PG_DIR=$dir
ENV
  # shellcheck disable=SC1091
  source "$dir/env"
  "$py" manage.py migrate --noinput -v 0
  "$py" manage.py collectstatic --noinput -v 0
  "$py" -m gunicorn backend.wsgi --config scripts/gunicorn_conf.py --bind "127.0.0.1:$web_port" --workers "$workers" \
    --pid "$dir/gunicorn.pid" --access-logfile - --error-logfile "$dir/gunicorn.log" --daemon \
    --access-logformat '%(s)s' >/dev/null
  "$py" -m celery -A backend worker --pool=solo --loglevel=WARNING --logfile "$dir/celery.log" \
    --pidfile "$dir/celery.pid" --detach
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$web_port/api/schema/" 2>/dev/null && break; sleep 0.2
  done
  echo ">> Kagami on http://127.0.0.1:$web_port/ ($workers gunicorn workers), PostgreSQL :$pg_port," \
       "Redis :$redis_port, Celery worker; state in $dir" >&2
}

stop() {
  [ -d "$dir" ] || { echo "nothing to stop ($dir missing)" >&2; return 0; }
  for name in celery gunicorn redis; do
    if alive "$dir/$name.pid"; then
      local pid; pid=$(cat "$dir/$name.pid"); kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  [ -d "$dir/pg" ] && as_pg "$pgbin/pg_ctl" -D "$dir/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  echo ">> stopped; $dir removed" >&2
}

status() {
  [ -f "$dir/env" ] || { echo "not running"; return 0; }
  cat "$dir/env"
  for name in gunicorn celery redis; do
    if alive "$dir/$name.pid"; then echo "$name: running (pid $(cat "$dir/$name.pid"))"; else echo "$name: down"; fi
  done
  as_pg "$pgbin/pg_ctl" -D "$dir/pg" status >/dev/null 2>&1 && echo "postgresql: running" || echo "postgresql: down"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) cat "$dir/env" ;;
  *) echo "usage: scripts/prod.sh start|stop|status|env" >&2; exit 2 ;;
esac
