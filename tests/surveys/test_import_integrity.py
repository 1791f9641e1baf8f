"""Import integrity (issue 13, item 6): respondent keys make imports idempotent, closed waves need a flag,
submitted_on is kept."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from surveys import models as m
from surveys import releases, services
from tests import factories as f


@pytest.fixture
def wave(org):
    inst = f.InstrumentFactory(organization=org)
    dim = f.DimensionFactory(instrument=inst)
    f.ItemPairFactory(dimension=dim, instrument=inst, key="speed", allow_na=True)
    f.ItemPairFactory(dimension=dim, instrument=inst, key="ease", allow_na=False)
    wave = services.wave_create(organization=org, instrument=inst, name="Spring", slug="spring")
    wave.customer_threshold = 1
    wave.save()
    return wave


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_reimporting_an_export_twice_creates_nothing(tmp_path, wave):
    path = write(tmp_path, "r.csv", "speed,ease\n4,5\n3,2\n")
    run("import_responses", "--wave", "spring", "--side", "customer", path)
    export = tmp_path / "export.csv"
    run("export_responses", "--wave", "spring", "--side", "customer", "--format", "csv", "--out", str(export))
    for _ in range(2):
        out = run("import_responses", "--wave", "spring", "--side", "customer", str(export))
        assert "Imported 0 customer response(s)" in out and "2 duplicate(s)" in out
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 2


def test_a_respondent_key_is_imported_once_and_stored_only_as_a_hash(tmp_path, wave):
    path = write(tmp_path, "r.csv", "respondent_id,speed,ease\nEMP-0042,4,5\nEMP-0043,3,2\n")
    run("import_responses", "--wave", "spring", "--side", "staff", path)
    out = run("import_responses", "--wave", "spring", "--side", "staff", path)
    assert "Imported 0 staff response(s)" in out and "2 duplicate(s)" in out
    assert m.SurveyResponse.objects.filter(wave=wave, side="staff").count() == 2
    hashes = list(m.ImportedResponseKey.objects.values_list("key_hash", flat=True))
    assert len(hashes) == 2 and not any("EMP" in h or "0042" in h for h in hashes)
    # The database holds it under concurrency: one key per wave and side.
    with pytest.raises(IntegrityError), transaction.atomic():
        m.ImportedResponseKey.objects.create(key_hash=hashes[0], wave=wave, side="staff")


def test_a_closed_wave_refuses_imports_without_allow_closed(tmp_path, wave):
    services.wave_open(wave=wave)
    services.wave_close(wave=wave)
    path = write(tmp_path, "r.csv", "speed,ease\n4,5\n")
    with pytest.raises(CommandError, match="closed"):
        run("import_responses", "--wave", "spring", "--side", "customer", path)
    assert not m.SurveyResponse.objects.exists()
    out = run("import_responses", "--wave", "spring", "--side", "customer", "--allow-closed", path)
    assert "Imported 1 customer response(s)" in out
    # Published as a read publishes a closed wave's last responses (k = 1 for customers here): by the import
    # itself on PostgreSQL (written stamped, surveys.releases.ImportReleases), by the read on SQLite.
    releases.publish_due(wave)
    assert m.SurveyResponse.objects.get().release == 1
    assert m.Release.objects.get(wave=wave, side="customer").at_close


def test_submitted_on_is_kept_and_a_bad_date_names_row_and_column(tmp_path, wave):
    path = write(tmp_path, "r.csv", "speed,ease,submitted_on\n4,5,2024-04-01\n3,2,2024/05/02\n")
    run("import_responses", "--wave", "spring", "--side", "customer", path)
    assert sorted(m.SurveyResponse.objects.values_list("submitted_on", flat=True)) == [
        dt.date(2024, 4, 1), dt.date(2024, 5, 2)]
    bad = write(tmp_path, "bad.csv", "speed,ease,submitted_on\n4,5,2024-13-01\n")
    with pytest.raises(CommandError, match=r"Row 2, column 'submitted_on': Must be a date"):
        run("import_responses", "--wave", "spring", "--side", "customer", bad)
