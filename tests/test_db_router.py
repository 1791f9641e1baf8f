"""The replica router's one rule, on any database: only reads inside ``replica_reads`` go to the replica.

The same rule against a real streaming replica is tests/reports/test_replica.py (PostgreSQL pass).
"""

from __future__ import annotations

import threading

import pytest

from backend import db_router
from backend.db_router import ReplicaRouter
from surveys.models import SurveyResponse


@pytest.fixture
def configured(monkeypatch):
    monkeypatch.setattr(db_router, "replica_alias", lambda: "replica")


def test_reads_go_to_the_replica_only_inside_the_scope_and_writes_never(configured):
    r = ReplicaRouter()
    assert r.db_for_read(SurveyResponse) == "default"
    with db_router.replica_reads() as alias:
        assert alias == "replica"
        assert r.db_for_read(SurveyResponse) == "replica"
        assert r.db_for_write(SurveyResponse) == "default"
        # Another thread at the same moment (a request, a report worker) still reads the primary.
        seen: list[str] = []
        other = threading.Thread(target=lambda: seen.append(r.db_for_read(SurveyResponse)))
        other.start()
        other.join()
        assert seen == ["default"]
    assert r.db_for_read(SurveyResponse) == "default"
    assert r.allow_migrate("default", "surveys") and not r.allow_migrate("replica", "surveys")


def test_the_scope_ends_even_when_the_read_fails(configured):
    r = ReplicaRouter()
    with pytest.raises(ZeroDivisionError), db_router.replica_reads():
        1 / 0  # noqa: B018
    assert r.db_for_read(SurveyResponse) == "default"


def test_without_a_replica_the_scope_is_refused_and_every_read_stays_on_the_primary(monkeypatch):
    monkeypatch.setattr(db_router, "replica_alias", lambda: None)
    with pytest.raises(RuntimeError), db_router.replica_reads():
        pass
    assert ReplicaRouter().db_for_read(SurveyResponse) == "default"
