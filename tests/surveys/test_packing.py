"""One row per response: the packed answers round-trip, the answer view shows exactly them, the form post stores
them in one INSERT, and migration 0017 carries existing answers over (and back) on both databases."""

from __future__ import annotations

import random
import struct

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys import models as m
from surveys import packing, services
from tests import factories as f

# --------------------------------------------------------------------------- the bytes


def test_pack_and_unpack_round_trip_with_na_and_any_order():
    answers = {30: 5, 7: None, 2**31 - 1: 0, 1: -3, 12: 32767, 13: -32768}
    packed = packing.pack(answers)
    assert len(packed) == 6 * len(answers)
    assert packing.unpack(packed) == answers
    assert list(packing.unpack(packed)) == sorted(answers)  # item-id order
    assert packing.pack(list(answers.items())) == packed == packing.pack(dict(reversed(answers.items())))
    items, values = packing.unpack_arrays(packed)
    assert items.tolist() == sorted(answers) and items.dtype == np.int64 and values.dtype == np.int16
    assert values.tolist() == [-1 if answers[i] is None else answers[i] for i in sorted(answers)]
    assert packing.unpack(memoryview(packed)) == answers  # as PostgreSQL hands a bytea over


def test_the_format_is_postgresql_int4send_and_int2send():
    assert packing.pack({258: 4, 3: None}) == struct.pack(">ihih", 3, -1, 258, 4) == bytes.fromhex(
        "00000003ffff" "000001020004")


def test_empty_answers_pack_to_nothing():
    assert packing.pack({}) == b""
    assert packing.unpack(b"") == packing.unpack(None) == {}
    items, values = packing.unpack_arrays(b"")
    assert items.size == values.size == 0


@pytest.mark.parametrize("bad", [{0: 1}, {-5: 1}, {2**31: 1}, {1: -1}, {1: 2**15}, {1: -(2**15) - 1}])
def test_what_does_not_fit_is_refused(bad):
    with pytest.raises(ValueError):
        packing.pack(bad)


def test_an_item_answered_twice_or_too_many_answers_are_refused_and_a_torn_packing_is_not_read():
    packing.pack({i: 1 for i in range(1, packing.POSITIONS_COUNT + 1)})
    with pytest.raises(ValueError):
        packing.pack({i: 1 for i in range(1, packing.POSITIONS_COUNT + 2)})
    with pytest.raises(ValueError):
        packing.pack([(4, 1), (4, 2)])
    with pytest.raises(ValueError):
        packing.unpack(b"\x00\x00\x00\x01\x00")


# --------------------------------------------------------------------------- the view


def _view(response_ids) -> dict:
    rows = m.Answer.objects.filter(response_id__in=list(response_ids)).values_list("id", "response_id", "item_id",
                                                                                 "value")
    return {(r, item): (key, value) for key, r, item, value in rows}


def _pack_rows(buffer: np.ndarray, lengths: np.ndarray) -> list[bytes]:
    ends = np.cumsum(lengths)
    return [buffer[e - n:e].tobytes() for e, n in zip(ends.tolist(), lengths.tolist(), strict=True)]


def test_pack_many_is_pack_row_by_row():
    """The bulk loader's packing (a whole batch in numpy) gives each response the bytes ``pack`` gives it."""
    rng = random.Random(5)
    rows = []
    for _ in range(400):
        chosen = rng.sample([1, 2, 3, 40, 41, 500, 70_000, 2**31 - 1], rng.randint(0, 8))  # any order, any count
        rows.append([(i, rng.choice([None, -(2**15), 2**15 - 1, 0, 1, 5, 7])) for i in chosen])
    rows[0] = []  # a response that answers nothing
    width = max(map(len, rows))
    items = np.zeros((len(rows), width), dtype=np.int64)
    values = np.zeros((len(rows), width), dtype=np.int64)
    for r, answers in enumerate(rows):
        slots = rng.sample(range(width), len(answers))  # empty slots anywhere, not only at the end
        for slot, (item, value) in zip(slots, answers, strict=True):
            items[r, slot], values[r, slot] = item, packing.NA if value is None else value
    buffer, lengths = packing.pack_many(items, values)
    assert _pack_rows(buffer, lengths) == [packing.pack(answers) for answers in rows]
    # Columns already in item order (the bench's and most callers') take the path without a sort: same bytes.
    order = np.argsort(np.where(items == 0, 0, items), axis=1, kind="stable")
    sorted_items, sorted_values = np.take_along_axis(items, order, 1), np.take_along_axis(values, order, 1)
    assert _pack_rows(*packing.pack_many(sorted_items, sorted_values)) == [packing.pack(a) for a in rows]
    assert _pack_rows(*packing.pack_many(np.zeros((3, 0)), np.zeros((3, 0)))) == [b"", b"", b""]


@pytest.mark.parametrize("items, values, message", [
    ([[5, 0, 5]], [[1, 1, 2]], "item id 5"),  # answered twice, an empty slot between
    ([[2**31, 1]], [[1, 1]], "item id 2147483648"),
    ([[-4, 1]], [[1, 1]], "item id -4"),
    ([[1, 2]], [[1, 2**15]], "value 32768 of item 2"),
    ([[1, 2]], [[-(2**15) - 1, 1]], "value -32769 of item 1"),
    ([[1, 2, 3]], [[1, 2]], "one shape"),
])
def test_pack_many_refuses_what_pack_refuses(items, values, message):
    with pytest.raises(ValueError, match=message):
        packing.pack_many(np.array(items), np.array(values))


@pytest.mark.django_db
def test_the_answer_view_shows_exactly_the_packed_answers(org):
    wave = f.WaveFactory(organization=org)
    rng = random.Random(5)
    expected = {}
    big = [1, 255, 256, 65535, 65536, 2**24 + 7, 2**31 - 1]  # every byte of an item id has its say
    for k in range(12):
        response = f.SurveyResponseFactory(wave=wave)
        items = rng.sample(big + list(range(2, 40)), rng.randint(0, 20)) if k else []
        answers = {i: rng.choice([None, 0, 1, 5, 10, 255, 256, 32767, -2, -32768]) for i in items}
        m.SurveyResponse.objects.filter(pk=response.pk).update(answers_packed=packing.pack(answers))
        expected.update({(response.pk, i): (f"{_db_id(response)}:{k}", answers[i])
                         for k, i in enumerate(sorted(answers))})
    got = _view(m.SurveyResponse.objects.filter(wave=wave).values_list("id", flat=True))
    assert got == expected and len(got) > 50
    # The reverse relation and a lookup by key read the same rows.
    some = next(iter(expected))
    response = m.SurveyResponse.objects.get(pk=some[0])
    assert {a.item_id: a.value for a in response.answers.all()} == response.answer_values()
    assert m.Answer.objects.get(pk=expected[some][0]).value == expected[some][1]


@pytest.mark.django_db
def test_answers_are_not_written_as_rows(org):
    answer = f.AnswerFactory(response__wave=f.WaveFactory(organization=org), value=2)
    with pytest.raises(TypeError):
        answer.save()
    with pytest.raises(TypeError):
        answer.delete()
    assert answer.response.answers.get().value == 2


@pytest.mark.django_db
def test_a_form_post_stores_its_answers_in_one_insert(org):
    wave = f.WaveFactory(organization=org, status=m.WaveStatus.OPEN)
    dimension = f.DimensionFactory(instrument=wave.instrument)
    items = [f.ItemPairFactory(dimension=dimension, allow_na=True) for _ in range(4)]
    services.survey_items(wave=wave, side="customer")  # the instrument read once, as a warm process has it
    with CaptureQueriesContext(connection) as queries:
        response = services.response_submit(wave=wave, side="customer", language="en", required=False,
                                            answers={items[0].key: 5, items[1].key: "na", items[2].key: 1})
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and "surveys_surveyresponse" in writes[0], writes
    assert m.SurveyResponse.objects.get(pk=response.pk).answer_values() == {
        items[0].pk: 5, items[1].pk: None, items[2].pk: 1}
    assert sorted(response.answers.values_list("item_id", "value"), key=lambda a: a[0]) == [
        (items[0].pk, 5), (items[1].pk, None), (items[2].pk, 1)]


@pytest.mark.django_db
def test_an_answered_item_is_still_protected_from_deletion(org):
    from django.db.models import ProtectedError

    answer = f.AnswerFactory(response__wave=f.WaveFactory(organization=org))
    with pytest.raises(ProtectedError):
        answer.item.delete()
    answer.response.delete()  # the answers go with their row
    assert not m.Answer.objects.filter(item=answer.item).exists()
    answer.item.delete()


# --------------------------------------------------------------------------- the migration, both ways


def _table_answers() -> set[tuple[str, int, int | None]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT response_id, item_id, value FROM surveys_answer")
        return {(str(r).replace("-", ""), i, v) for r, i, v in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_migration_0017_packs_existing_answers_and_unpacks_them_backwards(org):
    wave = f.WaveFactory(organization=org)
    dimension = f.DimensionFactory(instrument=wave.instrument)
    items = [f.ItemPairFactory(dimension=dimension) for _ in range(5)]
    rng = random.Random(17)
    responses = [f.SurveyResponseFactory(wave=wave) for _ in range(30)]
    packed = {}
    for k, response in enumerate(responses):
        chosen = rng.sample(items, rng.randint(1, 5)) if k % 7 else []  # some answer nothing
        packed[response.pk] = {i.pk: rng.choice([None, 1, 2, 3, 4, 5]) for i in chosen}
        f.set_answers(response, packed[response.pk], replace=True)
    expected = {(r.hex, i, v) for r, answers in packed.items() for i, v in answers.items()}
    latest = [(app, name) for app, name in _leaves()]
    try:
        call_command("migrate", "surveys", "0016_answer_drop_covered_indexes", verbosity=0)
        assert _table_answers() == expected  # backwards: the table again, with every answer
        # Before the migration: answers written as rows, one of them changed and one added, as the old code did.
        first, second = responses[1], responses[2]
        item = next(iter(packed[first.pk]))
        with connection.cursor() as cursor:
            cursor.execute("UPDATE surveys_answer SET value = NULL WHERE response_id = %s AND item_id = %s",
                           [_db_id(first), item])
            cursor.execute("DELETE FROM surveys_answer WHERE response_id = %s", [_db_id(second)])
            cursor.execute("INSERT INTO surveys_answer (response_id, item_id, value) VALUES (%s, %s, %s)",
                           [_db_id(second), items[0].pk, 4])
        packed[first.pk][item] = None
        packed[second.pk] = {items[0].pk: 4}
    finally:
        for app, name in latest:
            call_command("migrate", app, name, verbosity=0)
    stored = dict(m.SurveyResponse.objects.filter(wave=wave).values_list("id", "answers_packed"))
    assert {r: bytes(p) for r, p in stored.items()} == {r: packing.pack(a) for r, a in packed.items()}
    assert _view(stored) == {(r, i): (f"{r.hex if connection.vendor == 'sqlite' else r}:{k}", answers[i])
                             for r, answers in packed.items() for k, i in enumerate(sorted(answers))}


def _db_id(response) -> str:
    return response.pk.hex if connection.vendor == "sqlite" else str(response.pk)


def _leaves() -> list[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    graph = MigrationLoader(connection).graph
    return [node for node in graph.leaf_nodes() if node[0] in ("surveys", "reports")]
