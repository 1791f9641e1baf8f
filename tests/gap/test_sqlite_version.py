"""The wave's data version on SQLite (reports.counts.sqlite_version): every change that can change a number moves
it; the count tables are kept under it; a schema change that drops the triggers makes callers scan, never serve
stale tables."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports import counts
from reports.counts import sqlite_version
from surveys import models as m
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.skipif("connection.vendor != 'sqlite'")]


@pytest.fixture
def wave(org):
    wave = f.WaveFactory(organization=org)
    f.ItemPairFactory(dimension=f.DimensionFactory(instrument=wave.instrument))
    return wave


def _answered(wave, side="customer", value=3, account=None):
    response = f.SurveyResponseFactory(wave=wave, side=side, customer_account=account)
    item = wave.instrument.items.first()
    f.set_answers(response, {item.pk: value})
    return response, item


def test_the_triggers_are_there_after_migrate():
    assert sqlite_version.installed(connection)


def test_every_change_that_can_change_a_number_moves_the_version(wave, org):
    seen = [counts.data_version(wave)]

    def moved() -> bool:
        seen.append(counts.data_version(wave))
        return seen[-1] != seen[-2]

    account = m.CustomerAccount.objects.create(organization=org, name="Acme", external_id="a-1")
    assert not moved()  # a new account has no responses yet
    response, item = _answered(wave, account=account)
    assert moved()
    f.set_answers(response, {item.pk: 4})  # an answer changed: its response's row
    assert moved()
    m.SurveyResponse.objects.filter(pk=response.pk).update(weight=2.0)
    assert moved()
    m.CustomerAccount.objects.filter(pk=account.pk).update(health_score=40)
    assert moved()
    invitation = m.Invitation.objects.create(wave=wave, side="staff")
    assert moved()
    invitation.delete()
    assert moved()
    f.drop_answer(response, item)
    assert moved()
    response.delete()
    assert moved()
    other = f.WaveFactory(organization=f.OrganizationFactory(slug="elsewhere"))
    f.ItemPairFactory(dimension=f.DimensionFactory(instrument=other.instrument))
    _answered(other)
    assert not moved()  # another wave's data leave this one's version alone


def test_the_counts_are_kept_under_the_version_and_recounted_when_it_moves(wave):
    _answered(wave, value=2)
    first = counts.wave_counts(wave)
    with CaptureQueriesContext(connection) as kept:
        counts.wave_counts(wave)
    assert len(kept) <= 2, [q["sql"] for q in kept]  # the trigger check and the version: no counting
    _answered(wave, value=5)
    with CaptureQueriesContext(connection) as recounted:
        counts.wave_counts(wave)
    assert len(recounted) > 2
    assert first is not None


def test_a_schema_change_that_drops_a_trigger_makes_the_reads_scan_until_the_next_migrate(wave):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {sqlite_version.TRIGGER_NAMES[0]}")
    assert counts.data_version(wave) is None
    assert ":v" not in counts.data_fingerprint(wave)  # the scanned fingerprint, not a version
    call_command("migrate", verbosity=0)
    assert counts.data_version(wave) is not None


def test_an_upsert_of_accounts_moves_the_version_and_is_not_refused(wave, org):
    """Inside a trigger SQLite applies the outer statement's conflict policy: an INSERT OR IGNORE of an existing
    counter row under an account import's INSERT … ON CONFLICT DO UPDATE failed the import (UNIQUE constraint)."""
    m.CustomerAccount.objects.create(organization=org, name="Acme", external_id="a-1")
    _answered(wave)
    before = counts.data_version(wave)
    m.CustomerAccount.objects.bulk_create(
        [m.CustomerAccount(organization=org, name="Acme Ltd", external_id="a-1", health_score=70)],
        update_conflicts=True, unique_fields=["organization", "external_id"], update_fields=["name", "health_score"])
    assert m.CustomerAccount.objects.get(external_id="a-1").name == "Acme Ltd"
    assert counts.data_version(wave) != before


def test_migrate_drops_the_triggers_first_and_makes_them_again(wave):
    """A trigger naming a table that a migration dropped made SQLite refuse the next table rename (seen when
    reports/0006 replaced the counter table): migrate starts by dropping them (pre_migrate) and ends by making
    them with the current body (post_migrate)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {sqlite_version.TRIGGER_NAMES[0]}")
        cursor.execute(f"CREATE TRIGGER {sqlite_version.TRIGGER_NAMES[0]} AFTER INSERT ON surveys_surveyresponse "
                       "FOR EACH ROW BEGIN UPDATE reports_storedfile SET size = size WHERE id = -1; END")
    sqlite_version.uninstall(connection)
    assert not sqlite_version.installed(connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'kagami_version_%'")
        assert cursor.fetchone()[0] == 0
    call_command("migrate", verbosity=0)
    assert sqlite_version.installed(connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [sqlite_version.TRIGGER_NAMES[0]])
        assert "reports_waveversionshard" in cursor.fetchone()[0]
