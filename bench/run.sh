#!/usr/bin/env bash
# make bench: install what the benchmark needs (idempotent), start the production stack on loopback,
# run bench/run.py, and stop everything it started — whatever the outcome.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  echo ">> installing wrk (load generator)" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk >&2 \
    || { $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk >&2; }
fi
python -c "import pyinstrument" 2>/dev/null || python -m uv pip install -q --python "$(command -v python)" pyinstrument==5.1.3 >&2 \
  || python -m pip install -q pyinstrument==5.1.3 >&2
export KAGAMI_PROD_DIR="${KAGAMI_PROD_DIR:-/tmp/kagami-bench}"
# The headline figures are measured as users run PostgreSQL: fsync, synchronous_commit and full_page_writes
# on. bench/run.py switches to test-grade durability (all three off) by a configuration reload for the
# second column only, and back.
export KAGAMI_PROD_DURABLE=1
export DJANGO_SETTINGS_MODULE=bench.settings_bench
scripts/prod.sh stop >/dev/null 2>&1 || true
trap 'scripts/prod.sh stop' EXIT
scripts/prod.sh start
# shellcheck disable=SC1091
source "$KAGAMI_PROD_DIR/env"
python bench/run.py "$@"
