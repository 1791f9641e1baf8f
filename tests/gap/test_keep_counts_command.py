"""manage.py keep_counts: the releases due are published and read off any request, so the next gap read reads
nothing but the kept tables (both databases: this module runs in the SQLite and the PostgreSQL pass)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from reports import gap
from reports.counts import kept
from reports.models import KeptCounts
from surveys import models as m
from tests.gap.conftest import fill_wave
from tests.gap.test_kept_counts import assert_equal_to_rescan


@pytest.fixture
def loaded_wave(fresh_wave):
    fill_wave(fresh_wave, seed=5, n_staff=12, n_customer=15)
    return fresh_wave


def test_the_command_publishes_and_keeps_and_the_next_read_reads_no_response(loaded_wave, monkeypatch):
    wave = loaded_wave
    assert not KeptCounts.objects.filter(wave=wave).exists()
    assert not m.SurveyResponse.objects.filter(wave=wave, release__isnull=False).exists()  # nothing published yet
    out = StringIO()
    call_command("keep_counts", wave=[wave.slug], stdout=out)
    row = KeptCounts.objects.get(wave=wave)
    published = m.SurveyResponse.objects.filter(wave=wave, release__isnull=False).count()
    assert published == 27 and row.responses == published
    assert row.basis == kept.high_water(wave)
    assert f"{published} published responses kept" in out.getvalue()
    assert_equal_to_rescan(wave)

    read = []
    real = kept.read_span
    monkeypatch.setattr(kept, "read_span", lambda w, span: read.append(span) or real(w, span))
    result = gap.gap_result(wave, gap.GapView())
    assert read == []  # the request read the kept tables only
    assert result["items"]


def test_a_second_run_reads_only_what_arrived_since(loaded_wave, monkeypatch):
    call_command("keep_counts", wave=[str(loaded_wave.pk)], stdout=StringIO())
    before = dict(KeptCounts.objects.get(wave=loaded_wave).basis)
    fill_wave(loaded_wave, seed=6, n_staff=6, n_customer=7)
    read = []
    real = kept.read_span
    monkeypatch.setattr(kept, "read_span", lambda w, span: read.append(span) or real(w, span))
    call_command("keep_counts", open=True, stdout=StringIO())
    assert [dict(s.after) for s in read] == [before]
    assert_equal_to_rescan(loaded_wave)


@pytest.mark.parametrize(("options", "message"), [
    ({"wave": ["no-such-wave"]}, "--wave: no wave with id or slug 'no-such-wave'"),
    ({"wave": ["999999"]}, "--wave: no wave with id or slug '999999'"),
    ({"wave": ["9" * 30]}, "--wave: no wave with id or slug '9{30}'"),
    ({}, "Name a wave with --wave"),
])
def test_bad_input_is_a_clear_error(db, options, message):
    with pytest.raises(CommandError, match=message):
        call_command("keep_counts", stdout=StringIO(), **options)


def test_an_import_by_the_command_keeps_the_counts_so_the_next_read_reads_no_response(fresh_wave, tmp_path,
                                                                                      monkeypatch):
    """``manage.py import_responses`` publishes what it imported (an import of at least k rows is its own
    release) and reads it into the kept tables before it ends: no analyst's request reads the import."""
    from surveys import services

    wave = fresh_wave
    items = services.survey_items(wave=wave, side="customer")
    rows = [",".join(str(1 + (i + n) % i_max.scale_max) for n, i_max in enumerate(items)) for i in range(12)]
    (tmp_path / "r.csv").write_text(",".join(i.key for i in items) + "\n" + "\n".join(rows) + "\n")
    out = StringIO()
    call_command("import_responses", str(tmp_path / "r.csv"), wave=wave.slug, side="customer", stdout=out)
    assert "Count tables kept up to date: 12 published responses counted." in out.getvalue()
    assert KeptCounts.objects.get(wave=wave).basis == kept.high_water(wave)
    assert_equal_to_rescan(wave)

    read = []
    real = kept.read_span
    monkeypatch.setattr(kept, "read_span", lambda w, span: read.append(span) or real(w, span))
    assert gap.gap_result(wave, gap.GapView())["items"]
    assert read == []
