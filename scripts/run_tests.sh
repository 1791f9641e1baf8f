#!/usr/bin/env bash
# The whole suite, twice: on SQLite, then on a throwaway PostgreSQL 15 cluster.
# pytest's exit code 5 ("no tests ran") is a failure here, never a pass.
set -uo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE=backend.settings_test
unset DATABASE_URL

run() {
  local label="$1"; shift
  echo "=== $label ==="
  local began=$(date +%s)
  "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then echo "!!! $label: pytest collected no tests" >&2; return 1; fi
  if [ $rc -ne 0 ]; then echo "!!! $label: failed (exit $rc)" >&2; return $rc; fi
  echo "=== $label passed in $(( $(date +%s) - began )) s ==="
}

# Two workers (the machines have two cores); tests of one module stay together so module-scoped
# data (the demo, the gap wave) is built once. Modules go out in collection order, where
# tests/conftest.py (RUN_FIRST) puts the slowest first. KAGAMI_TEST_WORKERS=0 runs in one process.
workers="${KAGAMI_TEST_WORKERS:-2}"
parallel=()
[ "$workers" != "0" ] && parallel=(-n "$workers" --dist loadscope --no-loadscope-reorder)

start=$(date +%s)
# Dependency audit first (README → Security and reliability): fails on a known vulnerability in a pinned
# version; says loudly which packages the vulnerability service could not answer for.
# Only for the whole suite: a run of chosen test files skips it.
if [ $# -eq 0 ]; then run "pip-audit" python scripts/audit_deps.py || exit 1; fi
export DATABASE_URL="sqlite:///$(mktemp -d)/kagami-test.sqlite3"
run "SQLite" python -m pytest -q -p no:cacheprovider "${parallel[@]}" "$@" || exit 1
unset DATABASE_URL
# Tests that touch no database (tests/conftest.py → NO_DATABASE: pure statistics, PDF rendering) and those
# whose subject is what a page or PDF shows (RENDERING: Chromium, the PDF-vs-API checks) ran above; on
# PostgreSQL they would prove nothing new, so this pass deselects them.
KAGAMI_SKIP_NO_DATABASE_TESTS=1 \
  run "PostgreSQL 15" scripts/with_postgres.sh python -m pytest -q -p no:cacheprovider "${parallel[@]}" "$@" || exit 1
# Past one machine (README): the same cluster with a streaming replica and PgBouncer in transaction mode in
# front of it: the replica tests, a report rendered by a Celery worker on another "host" (its own MEDIA_ROOT),
# and the concurrency tests that matter, all through the pooler (50 s in a fresh-clone run on 2 cores, about three minutes on a loaded machine).
# --reuse-db: the test database is not dropped at the end (PgBouncer holds server connections to it; the
# cluster is thrown away anyway). Only for the whole suite, like the audit.
if [ $# -eq 0 ]; then
  KAGAMI_TEST_REPLICA=1 KAGAMI_TEST_PGBOUNCER=1 \
    run "PostgreSQL 15: streaming replica and PgBouncer" scripts/with_postgres.sh \
    python -m pytest -q -p no:cacheprovider --reuse-db \
    tests/reports/test_replica.py tests/reports/test_remote_worker.py tests/security/test_pgbouncer.py \
    tests/security/test_concurrency.py \
    tests/surveys/test_public_api.py::test_concurrent_submissions_of_one_token_store_exactly_one_response \
    tests/surveys/test_public_api.py::test_concurrent_html_submissions_of_one_token_show_already_answered_to_all_but_one \
    tests/security/test_disclosure_releases.py::test_publishing_while_posts_arrive_neither_deadlocks_nor_loses_a_response \
    tests/security/test_membership_invitations.py::test_many_people_accepting_one_invitation_at_once_make_exactly_one_member \
    || exit 1
fi
echo "=== all suites passed in $(( $(date +%s) - start )) s ==="
