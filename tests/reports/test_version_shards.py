"""The sharded data version: concurrent posts to one wave do not wait for each other, and every commit counts.

With one counter row per wave a second post waited on the first's row lock until that one committed —
with synchronous commits, until its WAL reached the disk — so posts to a wave committed one fsync at a
time. Two real connections here: the first keeps its transaction open while the second posts.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from reports.counts.version import data_version
from surveys import services
from tests.gap.conftest import build_instrument

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _post(wave) -> None:
    services.response_submit(wave=wave, side="customer", answers={"c1": 3}, language="en", required=False)


def test_a_post_does_not_wait_for_another_post_to_the_same_wave_to_commit(org):
    wave = services.wave_open(wave=services.wave_create(organization=org, instrument=build_instrument(org),
                                                        name="S", slug="shards"))
    start = data_version(wave)
    outcome: list[object] = []

    def second_post() -> None:
        try:
            with connection.cursor() as cursor:  # this thread's own connection
                cursor.execute("SET lock_timeout = '3s'")
            _post(wave)
            outcome.append("stored")
        except Exception as exc:  # noqa: BLE001  (reported to the main thread)
            outcome.append(exc)
        finally:
            connections.close_all()

    with transaction.atomic():
        _post(wave)  # holds its shard's row lock until this block ends
        thread = threading.Thread(target=second_post)
        thread.start()
        thread.join(timeout=30)
        assert outcome == ["stored"]  # it did not wait for this transaction (3 s lock timeout)
        during = data_version(wave)  # this transaction sees its own statement and the other post's (one each)
    after = data_version(wave)
    assert (during, after) == (start + 2, start + 2)
    # A version read before a commit never names the state after it: each commit raises the sum.
    _post(wave)
    assert data_version(wave) == after + 1
