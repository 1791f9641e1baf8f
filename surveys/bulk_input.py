"""What the bulk loader (``surveys.bulk``) takes: responses as rows (``BulkResponse``) or as column batches
(``ResponseColumns``), and how one turns into the other. Kept apart from the loader, which decides how they are
stored (binary COPY on PostgreSQL, the ORM elsewhere)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from surveys import packing

if TYPE_CHECKING:
    import numpy as np


@dataclass
class BulkResponse:
    """One response and its answers (item id → value, None for N/A), as the ORM would store them."""

    wave_id: int
    side: str
    answers: Sequence[tuple[int, int | None]]
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    language: str = "ja"
    channel: str = "import"
    segments: dict = field(default_factory=dict)
    weight: float | None = None
    comment: str = ""
    submitted_on: date | None = None
    submitted_at: datetime | None = None
    invitation_id: int | None = None
    customer_account_id: int | None = None
    served_department: str = ""  # internal waves only (surveys/internal.py); "" elsewhere


@dataclass
class ResponseColumns:
    """Many responses of one wave as columns, one entry per response: a load of millions makes no Python object
    per response (``bench/data.py``). ``responses_bulk_load`` takes these batches as well as ``BulkResponse`` rows
    and stores the same rows for the same data (tests/surveys/test_bulk_columns.py).

    ``items`` and ``values`` are responses × answer slots as ``packing.pack_many`` takes them (item 0: an empty
    slot; value −1: N/A). ``segments`` lists the distinct segment dicts, ``segment_codes`` each response's index
    into it. ``side`` is an array of strings. In the optional arrays, a weight of NaN, an id of 0 and a time of
    NaT (datetime64, UTC) are "none"; ``submitted_on`` is datetime64 days.
    """

    wave_id: int
    ids: np.ndarray  # (n, 16) uint8: each response's UUID, its 16 bytes
    side: np.ndarray
    items: np.ndarray
    values: np.ndarray
    segments: Sequence[dict]
    segment_codes: np.ndarray
    submitted_on: np.ndarray
    weight: np.ndarray | None = None
    customer_account_id: np.ndarray | None = None
    invitation_id: np.ndarray | None = None
    submitted_at: np.ndarray | None = None
    language: str = "ja"
    channel: str = "import"

    def __len__(self) -> int:
        return len(self.ids)

    def piece(self, start: int, stop: int) -> ResponseColumns:
        """Responses ``start:stop`` of the batch (views of its arrays, no copy)."""
        def cut(value):
            return None if value is None else value[start:stop]

        return ResponseColumns(
            wave_id=self.wave_id, ids=self.ids[start:stop], side=self.side[start:stop], items=self.items[start:stop],
            values=self.values[start:stop], segments=self.segments, segment_codes=self.segment_codes[start:stop],
            submitted_on=self.submitted_on[start:stop], weight=cut(self.weight),
            customer_account_id=cut(self.customer_account_id), invitation_id=cut(self.invitation_id),
            submitted_at=cut(self.submitted_at), language=self.language, channel=self.channel)

    def check(self) -> None:
        """Raise ValueError naming the column unless every column has one value per response and the segment
        codes point into ``segments`` (the packing checks the answers, the database the rest)."""
        import numpy as np

        n = len(self)
        for name in ("ids", "side", "items", "values", "segment_codes", "submitted_on", "weight",
                     "customer_account_id", "invitation_id", "submitted_at"):
            value = getattr(self, name)
            if value is not None and np.shape(value)[:1] != (n,):
                raise ValueError(f"{name}: one value per response is needed ({n}), got shape {np.shape(value)}")
        if np.shape(self.ids) != (n, 16):
            raise ValueError(f"ids: 16 bytes per response are needed, got shape {np.shape(self.ids)}")
        codes = np.asarray(self.segment_codes)
        if n and (codes.min() < 0 or codes.max() >= len(self.segments)):
            raise ValueError("segment_codes: an index outside segments")

    def to_rows(self) -> list[BulkResponse]:
        """The same responses as ``BulkResponse`` rows (the ORM path on SQLite takes these; tests compare)."""
        import numpy as np

        self.check()
        packing.pack_many(self.items, self.values)  # refuses what the COPY path refuses, before anything is made
        items, values = np.asarray(self.items).tolist(), np.asarray(self.values).tolist()
        weight = None if self.weight is None else np.asarray(self.weight, dtype=np.float64).tolist()
        accounts = None if self.customer_account_id is None else np.asarray(self.customer_account_id).tolist()
        invitations = None if self.invitation_id is None else np.asarray(self.invitation_id).tolist()
        days = np.asarray(self.submitted_on, dtype="datetime64[D]").tolist()
        times = (None if self.submitted_at is None
                 else np.asarray(self.submitted_at, dtype="datetime64[us]").tolist())
        ids = np.asarray(self.ids, dtype=np.uint8)
        out = []
        for r, code in enumerate(np.asarray(self.segment_codes).tolist()):
            out.append(BulkResponse(
                id=uuid.UUID(bytes=ids[r].tobytes()), wave_id=self.wave_id, side=str(self.side[r]),
                answers=[(i, None if v == packing.NA else v) for i, v in zip(items[r], values[r], strict=True) if i],
                language=self.language, channel=self.channel, segments=dict(self.segments[code]),
                weight=None if weight is None or weight[r] != weight[r] else weight[r], submitted_on=days[r],
                submitted_at=None if times is None or times[r] is None else times[r].replace(tzinfo=UTC),
                invitation_id=(invitations[r] or None) if invitations else None,
                customer_account_id=(accounts[r] or None) if accounts else None))
        return out
