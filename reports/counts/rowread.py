"""The one-pass reader's rows on any database but PostgreSQL: each published response's attributes and packed
answers fetched through the ORM in batches, for the same tallies as the binary COPY (:mod:`reports.counts.onepass`).

Why it pays: since the answers live packed in the response row (surveys.packing), SQLite's GROUP BY reader
counts through the ``surveys_answer`` view, which unpacks every answer again for each of its sixty queries
(about 140 s for the tables of 10,000 responses on this machine, bench/NOTES.md). Here each response is read
once and its answers unpacked by numpy. The tables equal the GROUP BY reader's (tests/gap/test_rowread.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
from django.db.models import Q

from reports.counts.tables import CHANNEL_KEY, Chunk, ReleaseSpan
from surveys import packing
from surveys.models import Side, SurveyResponse, Wave

CHUNK = 10_000  # responses per batch


class RowReader:
    """Iterating gives :class:`Chunk` s of the wave's published responses (those of ``span`` if given); then
    :meth:`cells` names each cell code as ``(side, *segment values, account status)``."""

    def __init__(self, wave: Wave, seg_keys: list[str], span: ReleaseSpan | None = None):
        self.wave, self.seg_keys, self.span = wave, seg_keys, span
        self._codes: dict[tuple, int] = {}  # (staff, segments code, status) → cell code
        self._segments: dict[str, int] = {}  # the segments' JSON text → code
        self._values: list[tuple] = []  # per segments code, the values of seg_keys

    def _queryset(self):
        scope = Q()
        span = self.span
        if span is not None:
            scope = Q(side=Side.STAFF, release__gt=span.after[Side.STAFF], release__lte=span.upto[Side.STAFF]) | Q(
                side=Side.CUSTOMER, release__gt=span.after[Side.CUSTOMER], release__lte=span.upto[Side.CUSTOMER])
            if span.accounts is not None:
                scope &= Q(customer_account_id__in=list(span.accounts))
        return (SurveyResponse.objects.filter(scope, wave=self.wave, release__isnull=False)
                .order_by().values_list("side", "weight", "customer_account_id", "customer_account__status",
                                        "segments", "channel", "answers_packed"))

    def _segment_code(self, segments: dict | None, channel: str) -> int:
        text = json.dumps(segments or {}, sort_keys=True) + "\0" + channel
        code = self._segments.get(text)
        if code is None:
            code = self._segments[text] = len(self._segments)
            values = segments or {}
            # As the GROUP BY reader's ``segments ->> key``: a missing key is NULL, an object or list its JSON.
            self._values.append(tuple(channel if key == CHANNEL_KEY else _as_text(values.get(key))
                                      for key in self.seg_keys))
        return code

    def __iter__(self) -> Iterator[Chunk]:
        batch: list[tuple] = []
        for row in self._queryset().iterator(chunk_size=CHUNK):
            batch.append(row)
            if len(batch) == CHUNK:
                yield self._chunk(batch)
                batch = []
        if batch:
            yield self._chunk(batch)

    def _chunk(self, rows: list[tuple]) -> Chunk:
        n = len(rows)
        codes = self._codes
        cell = np.empty(n, dtype=np.int64)
        staff = np.empty(n, dtype=bool)
        weight = np.empty(n, dtype=np.float64)
        account = np.empty(n, dtype=np.int64)
        packed = []
        for i, (side, w, acct, status, segments, channel, answers) in enumerate(rows):
            is_staff = side == Side.STAFF
            key = (is_staff, self._segment_code(segments, channel), status)
            cell[i] = codes.setdefault(key, len(codes))
            staff[i] = is_staff
            weight[i] = 1.0 if w is None else w
            account[i] = -1 if acct is None else acct
            packed.append(bytes(answers or b""))
        lengths = np.fromiter(map(len, packed), dtype=np.int64, count=n) // packing.WIDTH
        answers = np.frombuffer(b"".join(packed), dtype=packing.numpy_dtype())
        return Chunk(cell=cell, staff=staff, weight=weight, account=account,
                     row=np.repeat(np.arange(n), lengths), item=answers["item"].astype(np.int64),
                     value=answers["value"].astype(np.int16))

    def cells(self) -> list[tuple]:
        out = []
        for staff, seg, status in self._codes:
            out.append((Side.STAFF if staff else Side.CUSTOMER, *self._values[seg], status))
        return out


def _as_text(value):
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value
