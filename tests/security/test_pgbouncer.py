"""Kagami through a real PgBouncer in transaction mode (README → Past one machine → PgBouncer).

Runs only where scripts/with_postgres.sh put PgBouncer in front of the cluster (KAGAMI_TEST_PGBOUNCER=1,
with 8 server connections), in the short extra step of scripts/run_tests.sh that also runs the concurrency
tests through it (tests/security/test_concurrency.py and the other races: the list is in run_tests.sh).
These tests show that the pooler really is in the path, sharing few server connections between many
clients transaction by transaction, and that what would break under it is switched off.
"""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection, transaction

from surveys import models as m
from surveys import services
from tests.surveys.test_public_support import CUSTOMER_ANSWERS, as_json, open_wave

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(os.environ.get("KAGAMI_PGBOUNCER") != "1", reason="no PgBouncer (KAGAMI_TEST_PGBOUNCER=1)"),
    pytest.mark.django_db(transaction=True),
]
CLIENTS = 16
SERVER_POOL = 8  # default_pool_size in scripts/with_postgres.sh


def _in_threads(work, n: int = CLIENTS) -> list:
    results: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            value = work(i)
            with lock:
                results.append(value)
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            with lock:
                errors.append(exc)
        finally:
            connection.close()  # each thread had its own client connection to PgBouncer

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_sixteen_clients_share_at_most_eight_server_connections_transaction_by_transaction(org):
    assert connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert connection.settings_dict["OPTIONS"]["prepare_threshold"] is None

    def work(_: int) -> set[int]:
        seen = set()
        for _ in range(3):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), pg_sleep(0.05)")
                seen.add(cursor.fetchone()[0])
        assert connection.connection.prepare_threshold is None  # psycopg prepares nothing server-side
        return seen

    per_client = _in_threads(work)
    servers = set().union(*per_client)
    # Sixteen clients at once, yet no more server backends than the pool: transactions were multiplexed.
    assert len(per_client) == CLIENTS and len(servers) <= SERVER_POOL, servers


def test_iterating_an_export_size_query_outside_a_transaction_works_while_others_use_the_pool(org):
    """``.iterator()`` (the exports, surveys/exports.py) fetches in chunks; a server-side cursor would outlive
    the transaction and be looked for on another server connection. With them disabled it reads everything."""
    wave = open_wave(org, slug="pooled-iterator")
    for _ in range(30):
        services.response_submit(wave=wave, side="customer", answers=as_json(CUSTOMER_ANSWERS), language="en")

    def work(i: int) -> int:
        if i == 0:
            return sum(1 for _ in m.SurveyResponse.objects.filter(wave=wave).iterator(chunk_size=2))
        for _ in range(20):  # the others keep taking and giving back the server connections meanwhile
            with transaction.atomic():
                m.SurveyResponse.objects.filter(wave=wave).count()
        return -1

    assert 30 in _in_threads(work)
