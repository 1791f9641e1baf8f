"""The count-table model: what the gap engine reads about a wave, and how its columns are named.

Every item-level statistic is an exact function of a per-level count table
(docs/methods.md §1.1); a dimension score is an integer sum over a count of
answered items (§3.1–3.2); Cronbach's alpha needs only sums of products over
respondents (§1.2). So a wave is read as a handful of tables whose size depends
on items, levels, segment cells and accounts, never on the number of respondents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db.models import F
from django.db.models.fields.json import KeyTextTransform

from surveys.models import CustomerAccount, ItemKind, ItemPair, Side, Wave

# A pseudo segment carried by every count table: the response's channel, which tells the disclosure layer
# whether its segment values come from the roster (surveys.disclosure.VERIFIED_CHANNELS). Not a valid field key.
CHANNEL_KEY = "~channel"


def segment_keys(wave: Wave) -> dict[str, list[str]]:
    """The configured segment field keys of each side."""
    return {side: [f["key"] for f in wave.segment_fields(side)] for side in (Side.STAFF, Side.CUSTOMER)}


def table_segment_keys(wave: Wave) -> list[str]:
    """The segment keys every count table carries: both sides' fields (each once), then the channel."""
    keys: list[str] = []
    for side_keys in segment_keys(wave).values():
        for key in side_keys:
            if key not in keys:
                keys.append(key)
    return [*keys, CHANNEL_KEY]


def segment_column(key: str) -> str:
    """The column of a segment key in every count table."""
    return f"seg__{key}"


def segment_expression(key: str, prefix: str = ""):
    """The SQL expression of one segment column (the channel pseudo segment is a column of its own)."""
    if key == CHANNEL_KEY:
        return F(f"{prefix}channel")
    return KeyTextTransform(key, f"{prefix}segments")


#: The accounts table: one row per account and measure (docs/methods.md §10), with the account's health.
ACCOUNT_COLUMNS = ["account_id", "status", "measure", "score", "health", "health_on"]


def account_frame(records: list[tuple]) -> pd.DataFrame:
    """The accounts table from ``(account_id, status, measure, score)`` records, both readers' one builder.

    The health score (0-100, NaN where the account has none) and its date are the account's own,
    read in one query at the time of the read, so they are as current as the data version that keys the tables
    (an account's update bumps it, reports/0002).
    """
    frame = pd.DataFrame.from_records(records, columns=ACCOUNT_COLUMNS[:4])
    ids = frame.account_id.unique().tolist() if len(frame) else []
    health = {pk: (score, on) for pk, score, on in CustomerAccount.objects.filter(pk__in=ids)
              .values_list("pk", "health_score", "health_scored_on")} if ids else {}
    frame["health"] = pd.Series([health.get(a, (None, None))[0] for a in frame.account_id],
                                index=frame.index, dtype=float)
    frame["health_on"] = pd.Series([health.get(a, (None, None))[1] for a in frame.account_id],
                                   index=frame.index, dtype=object)
    return frame


@dataclass(frozen=True)
class PairMoments:
    """Sufficient statistics of one item pair over respondents who answered both."""

    n: int
    sum_i: float
    sum_j: float
    sum_ii: float
    sum_jj: float
    sum_ij: float


@dataclass
class WaveCounts:
    """Everything the gap engine reads from the database about one wave: count tables, never answer rows.

    Its size depends on items, levels, segment cells and accounts, not on the
    number of respondents, which is what makes it worth keeping.
    """

    answers: pd.DataFrame
    scores: pd.DataFrame
    overall_scores: pd.DataFrame
    responses: pd.DataFrame
    moments: dict[tuple[str, int, bool], dict[tuple[int, int], PairMoments]]
    accounts: pd.DataFrame
    # Respondent touchpoint scores (docs/methods.md §3.4): columns side, touchpoint (its key), s, c, seg__…,
    # n, w, w2 — the overall score's table with a touchpoint in place of the dimension. Empty for a file.
    touchpoint_scores: pd.DataFrame = field(default_factory=pd.DataFrame)


def touchpoint_items(items: Iterable[ItemPair]) -> dict[str, list[int]]:
    """Touchpoint key → the ids of its asked agreement items, keys sorted: the score units both readers count.

    An item's touchpoint is the key it carries (``ItemPair.touchpoint``); outcome items never count.
    """
    out: dict[str, list[int]] = {}
    for item in items:
        if item.kind == ItemKind.LIKERT and item.touchpoint and item.retired_at is None:
            out.setdefault(item.touchpoint, []).append(item.pk)
    return {key: sorted(out[key]) for key in sorted(out)}



@dataclass
class Chunk:
    """Up to a batch of responses as arrays, as a reader hands them to the tallies (:mod:`reports.counts.onepass`).

    Answers are (row, item id, value) triples; a value of −1 is N/A.
    """

    cell: np.ndarray  # per response, the code of its cell (side, segment values…, account status) in the reader
    staff: np.ndarray
    weight: np.ndarray  # 1.0 where the response has none
    account: np.ndarray  # −1 where the response has none
    row: np.ndarray
    item: np.ndarray
    value: np.ndarray
