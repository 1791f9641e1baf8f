"""A response's answers as bytes: the one module that knows the packed format of ``SurveyResponse.answers_packed``.

Per answer, in item-id order: the item id as a big-endian 4-byte integer, then the value as a big-endian
2-byte integer, −1 for "don't know / not applicable". Six bytes an answer, no header: a response's 26
answers are 156 bytes in its own row, written by the one INSERT that stores the response (no answer rows,
no answer indexes). It is PostgreSQL's ``int4send(item_id) || int2send(value)``, so SQL can build it
(``surveys`` migration 0017) and unpack it (the ``surveys_answer`` view, :func:`create_view_sql`), and the gap
reader receives it unchanged through a binary COPY (:mod:`reports.counts.pgcopy`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping

WIDTH = 6  # bytes per answer: ">i4" item id, ">i2" value
NA = -1  # the stored value of "don't know / not applicable"
_ITEM_MAX = 2**31 - 1
_VALUE_RANGE = (-(2**15), 2**15 - 1)


def pack(answers: Mapping[int, int | None] | Iterable[tuple[int, int | None]]) -> bytes:
    """The packed bytes of a response's answers, given as {item id: value or None} or (item id, value) pairs.

    Sorted by item id, so that one set of answers has one packing (the view and the readers rely on the
    order only for determinism, not for lookups). Raises ValueError for an item id or value that does not fit,
    for −1 as a value (it means N/A), for an item answered twice and for more answers than the SQLite view
    has positions for (an instrument has a few dozen items).
    """
    pairs = sorted(answers.items() if isinstance(answers, Mapping) else answers, key=lambda a: a[0])
    if len(pairs) > POSITIONS_COUNT:
        raise ValueError(f"cannot pack more than {POSITIONS_COUNT} answers")
    flat: list[int] = []
    last = None
    for item, value in pairs:
        item = int(item)
        if not 0 < item <= _ITEM_MAX or item == last:
            raise ValueError(f"cannot pack item id {item!r}")
        last = item
        if value is None:
            stored = NA
        else:
            stored = int(value)
            if stored == NA or not _VALUE_RANGE[0] <= stored <= _VALUE_RANGE[1]:
                raise ValueError(f"cannot pack the value {value!r} of item {item}")
        flat += (item, stored)
    return struct.pack(">" + "ih" * len(pairs), *flat)


def pack_many(items, values):
    """The packings of many responses at once, for bulk loads: (all their bytes as one uint8 array, each
    response's length in bytes as an int64 array), in the responses' order.

    ``items`` and ``values`` are integer arrays of one shape, responses × answer slots: slot ``j`` of response
    ``r`` answers item ``items[r, j]`` with ``values[r, j]``, ``NA`` (−1) for "not applicable"; an item id of 0
    marks an empty slot (that response has fewer answers). Each response's bytes equal ``pack`` of its answers
    (tests/surveys/test_packing.py), and what ``pack`` refuses is refused here, for the whole call.
    """
    import numpy as np

    items = np.asarray(items, dtype=np.int64)
    values = np.asarray(values, dtype=np.int64)
    if items.ndim != 2 or items.shape != values.shape:
        raise ValueError("items and values must be two arrays of one shape (responses × answer slots)")
    if items.shape[1] > POSITIONS_COUNT:
        raise ValueError(f"cannot pack more than {POSITIONS_COUNT} answers")
    if items.shape[1] and not (items[:, 1:] >= items[:, :-1]).all():  # the callers' columns are usually in order
        order = np.argsort(items, axis=1, kind="stable")
        items, values = np.take_along_axis(items, order, axis=1), np.take_along_axis(values, order, axis=1)
    present = items != 0
    wrong = (items < 0) | (items > _ITEM_MAX)
    wrong[:, 1:] |= present[:, 1:] & (items[:, 1:] == items[:, :-1])  # an item answered twice
    if wrong.any():
        raise ValueError(f"cannot pack item id {int(items[wrong][0])!r}")
    wrong = present & ((values < _VALUE_RANGE[0]) | (values > _VALUE_RANGE[1]))
    if wrong.any():
        raise ValueError(f"cannot pack the value {int(values[wrong][0])!r} of item {int(items[wrong][0])}")
    packed = np.empty(items.shape, dtype=numpy_dtype())
    packed["item"], packed["value"] = items, values
    as_bytes = packed.view(np.uint8).reshape(len(items), WIDTH * items.shape[1])
    return as_bytes[np.repeat(present, WIDTH, axis=1)], present.sum(axis=1) * WIDTH


def numpy_dtype():
    """One packed answer as a numpy structured dtype (numpy imported here: serving a form needs none of it)."""
    import numpy as np

    return np.dtype([("item", ">i4"), ("value", ">i2")])


def unpack_arrays(packed: bytes | memoryview | None):
    """(item ids as int64, values as int16 with −1 for N/A) of one packing, in its order, as numpy arrays."""
    import numpy as np

    answers = np.frombuffer(bytes(packed or b""), dtype=numpy_dtype())
    return answers["item"].astype(np.int64), answers["value"].astype(np.int16)


def unpack(packed: bytes | memoryview | None) -> dict[int, int | None]:
    """{item id: value, None for N/A} of one packing (PostgreSQL gives a memoryview, SQLite bytes)."""
    data = bytes(packed or b"")
    if len(data) % WIDTH:
        raise ValueError("a packed answer list is a whole number of 6-byte answers")
    return {item: (None if value == NA else value) for item, value in struct.iter_unpack(">ih", data)}


# --------------------------------------------------------------------------- the derived answer view

VIEW = "surveys_answer"  # named like the table it replaced: the readers' SQL and the ORM model keep their name
POSITIONS = "surveys_answerposition"  # SQLite only: 0, 1, 2, … one row per answer slot a response can have
POSITIONS_COUNT = 4096  # answers per response the SQLite view can show; an instrument has far fewer items

# PostgreSQL: the answer slots of each row by generate_series, each field by get_byte (0-based offsets).
_PG_BYTE = "get_byte(r.answers_packed, {at})"


def _pg_int(first: int, count: int) -> str:
    parts = [f"({_PG_BYTE.format(at=f'6 * g.i + {first + k}')} << {8 * (count - 1 - k)})" for k in range(count)]
    return "(" + " | ".join(parts) + ")"


# SQLite has no byte function: instr() on two blobs finds a byte's position in the blob of all 256 bytes.
_ALL_BYTES = "x'" + bytes(range(256)).hex() + "'"


def _sqlite_int(first: int, count: int) -> str:
    parts = [f"((instr({_ALL_BYTES}, substr(r.answers_packed, 6 * p.n + {first + k + 1}, 1)) - 1)"
             f" << {8 * (count - 1 - k)})" for k in range(count)]
    return "(" + " | ".join(parts) + ")"


def _view_select(vendor: str) -> str:
    if vendor == "postgresql":
        item, raw = _pg_int(0, 4), _pg_int(4, 2)
        source = ("FROM surveys_surveyresponse r "
                  "CROSS JOIN LATERAL generate_series(0, length(r.answers_packed) / 6 - 1) AS g(i)")
        key = "r.id::text || ':' || g.i::text"
        cast_item, cast_value = "({e})::integer", "({e})::smallint"
    else:
        item, raw = _sqlite_int(0, 4), _sqlite_int(4, 2)
        source = (f"FROM surveys_surveyresponse r JOIN {POSITIONS} p "
                  "ON p.n < length(r.answers_packed) / 6")
        key = "r.id || ':' || p.n"
        cast_item, cast_value = "{e}", "{e}"
    # The 2-byte value is signed; 0xFFFF (−1) is N/A.
    value = f"(CASE WHEN {raw} = 65535 THEN NULL WHEN {raw} >= 32768 THEN {raw} - 65536 ELSE {raw} END)"
    # The key is the response and the answer's position in it: unique, and free to compute (COUNT("id") over the
    # view would otherwise unpack the item id once more per row; on SQLite that is most of a query's time).
    return (f"SELECT {key} AS id, r.id AS response_id, "
            f"{cast_item.format(e=item)} AS item_id, {cast_value.format(e=value)} AS value {source}")


def create_view_sql(vendor: str) -> list[str]:
    """What migration 0017 makes: on PostgreSQL the view; on SQLite the positions table only — the view there
    is made after every ``migrate`` (:func:`sqlite_view_install`)."""
    if vendor == "postgresql":
        return [f"CREATE VIEW {VIEW} AS {_view_select(vendor)}"]
    return [f"CREATE TABLE {POSITIONS} (n integer NOT NULL PRIMARY KEY)",
            f"WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {POSITIONS_COUNT - 1}) "
            f"INSERT INTO {POSITIONS} (n) SELECT n FROM s"]


def drop_view_sql(vendor: str) -> list[str]:
    out = [f"DROP VIEW IF EXISTS {VIEW}"]
    if vendor != "postgresql":
        out.append(f"DROP TABLE IF EXISTS {POSITIONS}")
    return out


# SQLite checks every view when a table is renamed, and Django changes a table's schema there by building a new
# table, dropping the old one and renaming the new: with the view naming the response table in place, any later
# migration that changes that table would fail. So, like the data-version triggers (reports.counts.
# sqlite_version), the view is dropped before every ``migrate`` and made again after it (surveys.apps).


def sqlite_view_drop(connection) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = %s", [VIEW])
        if cursor.fetchone():
            cursor.execute(f"DROP VIEW {VIEW}")


def sqlite_view_install(connection) -> bool:
    """Make the SQLite view where the schema has the packed column (migration 0017 applied); True if made."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT type, name FROM sqlite_master WHERE name IN (%s, %s)", [VIEW, POSITIONS])
        found = dict((name, kind) for kind, name in cursor.fetchall())
        if found.get(POSITIONS) != "table" or VIEW in found:  # before 0017 (a table), or already made
            return False
        cursor.execute(f"CREATE VIEW {VIEW} AS {_view_select('sqlite')}")
    return True
