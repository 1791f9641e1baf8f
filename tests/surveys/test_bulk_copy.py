"""The COPY paths write what the row-by-row path writes, exactly once, and all or nothing (PostgreSQL).

An import stored by COPY (``surveys.imports.import_responses``, the default on PostgreSQL) against the same
file stored row by row through ``response_submit`` (``copy=False``), on a random wave: every row, its
packed answers, the keys, the data version and the gap computed from it. The quiet-database mode of
``surveys.bulk`` (foreign keys and indexes rebuilt) against the normal load. A failure in the middle of a
load leaves nothing behind, schema included.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime

import pytest
from django.db import connection

from reports.counts.version import data_version
from surveys import errors, packing, releases, services
from surveys import models as m
from surveys.bulk import BulkResponse, responses_bulk_load
from surveys.imports import import_responses
from tests.gap.conftest import build_instrument
from tests.surveys.twins import differences, gap_of

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

STAFF_FIELDS = [{"key": "department", "label_en": "Dept", "label_ja": "部署", "choices": []}]
CUSTOMER_FIELDS = [{"key": "tier", "label_en": "Tier", "label_ja": "ティア", "choices": []}]


@pytest.fixture
def twin_waves(org) -> tuple[m.Wave, m.Wave]:
    """Two open waves of one instrument (so the same item ids), one per storing path."""
    inst = build_instrument(org)
    for i in range(3):
        m.CustomerAccount.objects.create(organization=org, external_id=f"A-{i}", tier=["Gold", "Silver", "SMB"][i],
                                         status=["active", "churned", "renewed"][i])
    return tuple(services.wave_open(wave=services.wave_create(
        organization=org, instrument=inst, name=f"W{k}", slug=f"copy-w{k}", staff_segment_fields=STAFF_FIELDS,
        customer_segment_fields=CUSTOMER_FIELDS)) for k in (1, 2))


def _csv(wave: m.Wave, side: str, *, seed: int, n: int) -> bytes:
    """A random response file: values, N/A, blanks, both languages, escapes, weights, accounts, days, keys."""
    rng = random.Random(seed)
    items = services.survey_items(wave=wave, side=side)
    header = ["response_id", *[i.key for i in items], "language", "comment", "submitted_on"]
    header += ["department"] if side == "staff" else ["tier", "weight", "account"]
    lines = [",".join(header)]
    for row in range(n):
        cells = [f"K-{seed}-{row}"]
        answered = False
        for item in items:
            roll = rng.random()
            if roll < 0.08:
                cells.append("")
            elif roll < 0.16 and item.allow_na:
                cells.append("na")
            else:
                cells.append(str(rng.randint(item.scale_min, item.scale_max)))
                answered = True
        if not answered:
            cells[1] = str(items[0].scale_min)
        # A unique comment pairs each row across the two waves; quotes, tabs, backslashes and Japanese.
        cells += [rng.choice(["ja", "en", ""]), f'"{seed} row {row}: \t\\ ありがとう ""ok"""',
                  rng.choice(["", f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"])]
        if side == "staff":
            cells.append(rng.choice(["営業", "Support", ""]))
        else:
            cells += [rng.choice(["Gold", "Silver", ""]), rng.choice(["", "0.5", "2", "1.25"]),
                      rng.choice(["", "A-0", "A-1", "A-2"])]
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


def _stored(wave: m.Wave, *, release: bool = True) -> dict[str, tuple]:
    """Everything stored for each response of ``wave``, by its (unique) comment; ids and import times aside
    (and the release with ``release=False``: a COPY publishes its own rows, the row-by-row path waits)."""
    out = {}
    for r in m.SurveyResponse.objects.filter(wave=wave).prefetch_related("answers"):
        out[r.comment] = (r.side, r.language, r.channel, r.segments, r.weight, r.submitted_on, r.invitation_id,
                          r.customer_account_id, r.release if release else "-", r.submitted_at is None,
                          sorted((a.item_id, a.value) for a in r.answers.all()), bytes(r.answers_packed))
    assert len(out) == m.SurveyResponse.objects.filter(wave=wave).count()
    return out


def test_an_import_by_copy_stores_what_the_row_by_row_path_stores_and_the_same_gap(twin_waves):
    by_copy, by_row = twin_waves
    for side, seed, n in (("staff", 11, 60), ("customer", 12, 140)):
        data = _csv(by_copy, side, seed=seed, n=n)
        before = data_version(by_copy)
        got = import_responses(wave=by_copy, side=side, data=data, filename="r.csv")
        assert data_version(by_copy) > before  # caches keyed by it see the import
        expected = import_responses(wave=by_row, side=side, data=data, filename="r.csv", copy=False)
        assert got.created == expected.created == n and got.duplicates == expected.duplicates == []
        assert [r.customer_account_id for r in got.objects] == [r.customer_account_id for r in expected.objects]
        assert (m.ImportedResponseKey.objects.filter(wave=by_copy, side=side).count()
                == m.ImportedResponseKey.objects.filter(wave=by_row, side=side).count() == n)

    stored_copy, stored_row = _stored(by_copy, release=False), _stored(by_row, release=False)
    assert len(stored_copy) == 200
    assert stored_copy == stored_row
    # Each COPY import (one side each, at least k) made its own release; the row-by-row rows wait.
    assert sorted(m.Release.objects.filter(wave=by_copy).values_list("side", "number", "n_added")) == [
        ("customer", 1, 140), ("staff", 1, 60)]
    assert not m.SurveyResponse.objects.filter(wave=by_copy, release__isnull=True).exists()
    # The packed bytes are the same in both (compared above): check one by hand too, against the view's rows.
    some = m.SurveyResponse.objects.filter(wave=by_copy).first()
    assert bytes(some.answers_packed) == packing.pack(some.answers.values_list("item_id", "value"))

    for wave in twin_waves:
        releases.publish_due(wave)
    assert _stored(by_copy) == _stored(by_row)  # the same releases too
    gap_copy, gap_row = gap_of(by_copy), gap_of(by_row)
    # Only the wave's own identity and its releases' times may differ; every figure is the same.
    diffs = differences(gap_copy, gap_row)
    assert all(d.startswith((".wave.", ".release.customer.published_at", ".release.staff.published_at"))
               for d in diffs), diffs
    assert len(json.dumps(gap_copy)) > 5000 and gap_copy["items"]


def test_an_import_by_copy_runs_exactly_once(twin_waves):
    wave = twin_waves[0]
    data = _csv(wave, "customer", seed=21, n=50)
    first = import_responses(wave=wave, side="customer", data=data, filename="r.csv")
    stored = _stored(wave)
    version = data_version(wave)
    again = import_responses(wave=wave, side="customer", data=data, filename="r.csv")
    assert (first.created, again.created, again.duplicates) == (50, 0, list(range(2, 52)))
    assert _stored(wave) == stored and data_version(wave) == version
    # A file sharing half of its keys: only the new half is stored.
    more = _csv(wave, "customer", seed=21, n=80)
    third = import_responses(wave=wave, side="customer", data=more, filename="r.csv")
    assert (third.created, third.duplicates) == (30, list(range(2, 52)))
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 80
    assert m.ImportedResponseKey.objects.filter(wave=wave).count() == 80


def test_an_import_by_copy_with_a_bad_row_keeps_no_response_or_key(twin_waves):
    wave = twin_waves[0]
    data = _csv(wave, "customer", seed=31, n=20).decode().rstrip("\n").split("\n")
    data[-1] = data[-1].replace("K-31-19,", "K-31-19,99", 1)  # the last row's first answer out of range
    with pytest.raises(errors.ImportFailed):
        import_responses(wave=wave, side="customer", data=("\n".join(data) + "\n").encode(), filename="r.csv")
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 0
    assert m.ImportedResponseKey.objects.filter(wave=wave).count() == 0
    # Skipping bad rows stores the others, and only them.
    result = import_responses(wave=wave, side="customer", data=("\n".join(data) + "\n").encode(),
                              filename="r.csv", skip_bad_rows=True)
    assert (result.created, [p["row"] for p in result.skipped]) == (19, [21])
    assert m.ImportedResponseKey.objects.filter(wave=wave).count() == 19 == len(_stored(wave))


# --------------------------------------------------------------------------- surveys.bulk, both modes


def _rows(wave: m.Wave, seed: int, n: int) -> list[BulkResponse]:
    rng = random.Random(seed)
    items = list(wave.instrument.items.order_by("?"))  # any order: the vector is in item-id order
    account = m.CustomerAccount.objects.filter(organization=wave.organization).first()
    out = []
    for i in range(n):
        side = "staff" if i % 3 == 0 else "customer"
        answers = [(it.pk, None if rng.random() < 0.1 else rng.randint(it.scale_min, it.scale_max))
                   for it in items if it.asked_of(side) and rng.random() < 0.9]
        out.append(BulkResponse(
            wave_id=wave.pk, side=side, answers=answers if i % 17 else [],  # some responses answer nothing
            segments={"department": rng.choice(["営業", "Sup\tport"])} if side == "staff" else {"tier": "Gold"},
            weight=None if side == "staff" else rng.choice([None, 0.5, 2.0]), comment=f"c{i}\\\n",
            submitted_on=date(2026, 5, 1 + i % 20),
            submitted_at=None if side == "staff" else datetime(2026, 5, 1, 9, i % 60, tzinfo=UTC),
            customer_account_id=account.pk if side == "customer" and i % 2 else None))
    return out


def _twin(rows: list[BulkResponse], wave: m.Wave) -> list[BulkResponse]:
    return [BulkResponse(**{**r.__dict__, "id": uuid.uuid4(), "wave_id": wave.pk, "comment": r.comment})
            for r in rows]


def _schema() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) || ' ' "
            "|| convalidated FROM pg_constraint WHERE conrelid = 'surveys_surveyresponse'::regclass "
            "UNION ALL SELECT indexdef FROM pg_indexes WHERE tablename = 'surveys_surveyresponse' UNION ALL "
            "SELECT tgname::text || tgenabled::text FROM pg_trigger "
            "WHERE NOT tgisinternal AND tgrelid = 'surveys_surveyresponse'::regclass")
        return sorted(r[0] for r in cursor.fetchall())


def test_the_quiet_database_mode_writes_what_the_normal_load_writes_and_restores_the_schema(twin_waves):
    quiet, triggered = twin_waves
    rows = _rows(quiet, seed=41, n=120)
    schema = _schema()
    versions = (data_version(quiet), data_version(triggered))
    assert responses_bulk_load(rows, batch_size=50, rebuild_indexes=True) == 120
    assert _schema() == schema
    responses_bulk_load(_twin(rows, triggered), batch_size=50)
    assert data_version(quiet) > versions[0] and data_version(triggered) > versions[1]
    assert _stored(quiet) == _stored(triggered)
    assert m.SurveyResponse.objects.filter(wave=quiet, answers_packed=b"").count() == sum(
        1 for r in rows if not r.answers) > 0
    # Each response's bytes are its answers packed in item-id order, whatever order the rows gave them in.
    for row in rows:
        assert bytes(m.SurveyResponse.objects.get(pk=row.id).answers_packed) == packing.pack(dict(row.answers))


@pytest.mark.parametrize("quiet", [False, True], ids=["triggers", "quiet-database"])
def test_a_failure_in_the_middle_of_a_load_leaves_nothing_half_loaded(twin_waves, quiet):
    wave = twin_waves[0]
    schema, version = _schema(), data_version(wave)
    rows = _rows(wave, seed=51, n=100)
    rows[77].submitted_at = datetime(2026, 5, 1, tzinfo=UTC)  # a staff row with a time: the database refuses it
    rows[77].side = "staff"
    loaded = []
    with pytest.raises(Exception, match="response_staff_unlinkable"):
        responses_bulk_load(rows, batch_size=25, rebuild_indexes=quiet, progress=loaded.append)
    assert loaded == [25, 25, 25]  # three batches were written before the fourth failed
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 0
    assert m.Answer.objects.filter(response__wave=wave).count() == 0
    assert _schema() == schema and data_version(wave) == version


def test_the_import_command_loads_a_file_in_the_quiet_database_mode(twin_waves, tmp_path):
    from django.core.management import call_command

    quiet, triggered = twin_waves
    data = _csv(quiet, "customer", seed=61, n=40)
    (tmp_path / "r.csv").write_bytes(data)
    schema = _schema()
    call_command("import_responses", str(tmp_path / "r.csv"), wave=quiet.slug, side="customer", quiet_database=True)
    assert _schema() == schema
    import_responses(wave=triggered, side="customer", data=data, filename="r.csv")
    assert len(_stored(quiet)) == 40 and _stored(quiet) == _stored(triggered)
    call_command("import_responses", str(tmp_path / "r.csv"), wave=quiet.slug, side="customer", quiet_database=True)
    assert m.SurveyResponse.objects.filter(wave=quiet).count() == 40  # exactly once in this mode too
