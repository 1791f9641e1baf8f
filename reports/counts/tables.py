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
#: What the accounts table is made from, and what adds up over disjoint sets of responses: per account and
#: measure, how many of its contacts' scores (or answers) count and their total (the score is total / count).
ACCOUNT_SUM_COLUMNS = ["account_id", "status", "measure", "count", "total"]


def account_sums_frame(records: list[tuple]) -> pd.DataFrame:
    """The account sums from ``(account_id, status, measure, count, total)`` records."""
    frame = pd.DataFrame.from_records(records, columns=ACCOUNT_SUM_COLUMNS)
    frame["count"] = frame["count"].astype(np.int64)
    frame["total"] = frame["total"].astype(np.float64)
    return frame


def accounts_from_sums(sums: pd.DataFrame) -> pd.DataFrame:
    """The accounts table of the engine from the account sums: each score is the mean, total / count.

    Column arithmetic, not a loop over rows: at a million responses the sums have hundreds of thousands of
    rows, and a loop over them cost most of a cold read's time spent on the kept tables (bench/NOTES.md).
    """
    frame = pd.DataFrame({
        "account_id": sums["account_id"].to_numpy(),
        "status": sums["status"].to_numpy(dtype=object),
        "measure": sums["measure"].to_numpy(dtype=object),
        "score": sums["total"].to_numpy(dtype=np.float64) / sums["count"].to_numpy(dtype=np.float64),
    })
    return _with_health(frame)


def account_frame(records: list[tuple]) -> pd.DataFrame:
    """The accounts table from ``(account_id, status, measure, score)`` records."""
    return _with_health(pd.DataFrame.from_records(records, columns=ACCOUNT_COLUMNS[:4]))


def _with_health(frame: pd.DataFrame) -> pd.DataFrame:
    """The accounts table with each account's health score (0-100, NaN where it has none) and its date.

    They are the account's own, read in one query at the time of the read, so they are as current as the data
    version that keys the tables (an account's update bumps it, reports/0002).
    """
    ids = frame.account_id.unique().tolist() if len(frame) else []
    rows = list(CustomerAccount.objects.filter(pk__in=ids).values_list("pk", "health_score", "health_scored_on")
                ) if ids else []
    health = pd.DataFrame.from_records(rows, columns=["account_id", "health", "health_on"])
    index = pd.Index(health["account_id"].to_numpy()).get_indexer(frame["account_id"].to_numpy())
    found = index >= 0
    scores = np.full(len(frame), np.nan)
    scores[found] = pd.to_numeric(health["health"], errors="coerce").to_numpy(dtype=np.float64)[index[found]]
    dates = np.full(len(frame), None, dtype=object)
    dates[found] = health["health_on"].to_numpy(dtype=object)[index[found]]
    frame["health"] = scores
    frame["health_on"] = dates
    return frame


@dataclass(frozen=True)
class ReleaseSpan:
    """Which published responses a read counts: per side, those with ``after[side] < release <= upto[side]``.

    Releases are numbered per side and never grow once made (surveys.releases), so the responses of a span
    are fixed for good: what lets a wave's counts be kept and only the new releases read
    (:mod:`reports.counts.kept`). Without a span a read counts every published response.
    """

    after: dict[str, int]
    upto: dict[str, int]
    accounts: tuple[int, ...] | None = None  # only the responses linked to these customer accounts

    def empty(self) -> bool:
        return all(self.upto[side] <= self.after[side] for side in (Side.STAFF, Side.CUSTOMER))


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
    # What ``accounts`` is computed from (ACCOUNT_SUM_COLUMNS), kept so that two WaveCounts of disjoint
    # responses add up (:func:`merge_counts`). Empty for a file.
    account_sums: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ACCOUNT_SUM_COLUMNS))


_SUMMED = ("n", "w", "w2")
_NONE = "\x00none"  # stands for a missing segment value or status while frames are grouped (groupby drops None)


def _add_frames(a: pd.DataFrame, b: pd.DataFrame, summed: tuple[str, ...] = _SUMMED) -> pd.DataFrame:
    """Two count tables of disjoint responses as one: rows with the same key columns summed."""
    if not len(b):
        return a.copy()
    if not len(a):
        return b.copy()
    both = pd.concat([a, b], ignore_index=True)
    sums = [c for c in both.columns if c in summed]
    keys = [c for c in both.columns if c not in summed]
    objects = [c for c in keys if both[c].dtype == object]
    both[objects] = both[objects].astype(object).where(both[objects].notna(), _NONE)
    out = both.groupby(keys, sort=False, dropna=False)[sums].sum().reset_index()
    out = out[out[sums[0]] != 0].reset_index(drop=True)  # cells a subtraction emptied (reports.counts.kept)
    out[objects] = out[objects].astype(object).where(out[objects] != _NONE, None)
    for column in sums:
        out[column] = out[column].astype(a[column].dtype)
    return out[list(a.columns)]


def _add_moments(a: dict, b: dict) -> dict:
    out = {key: dict(pairs) for key, pairs in a.items()}
    for key, pairs in b.items():
        target = out.setdefault(key, {})
        for pair, m in pairs.items():
            old = target.get(pair)
            target[pair] = m if old is None else PairMoments(
                old.n + m.n, old.sum_i + m.sum_i, old.sum_j + m.sum_j, old.sum_ii + m.sum_ii, old.sum_jj + m.sum_jj,
                old.sum_ij + m.sum_ij)
    return out


def status_part(counts: WaveCounts, status: str | None = None, sign: int = 1) -> WaveCounts:
    """The tables of ``counts`` that are split by account status — answers, scores, account sums — with every
    status set to ``status`` (when given) and every sum multiplied by ``sign``; the other tables empty.

    Adding ``status_part(p, old, -1)`` and ``status_part(p)`` to kept tables moves the responses ``p`` counts
    from status ``old`` to the one they carry now: how an account's status change is applied.
    """
    def part(frame: pd.DataFrame, column: str, sums: tuple[str, ...]) -> pd.DataFrame:
        frame = frame.copy()
        if status is not None and len(frame):
            frame[column] = status
        for name in sums:
            frame[name] = frame[name] * sign
        return frame

    return WaveCounts(
        answers=part(counts.answers, "account_status", _SUMMED),
        scores=part(counts.scores, "account_status", _SUMMED),
        overall_scores=counts.overall_scores.iloc[0:0],
        responses=counts.responses.iloc[0:0],
        moments={},
        accounts=counts.accounts.iloc[0:0],
        touchpoint_scores=counts.touchpoint_scores.iloc[0:0],
        account_sums=part(counts.account_sums, "status", ("count", "total")),
    )


def merge_counts(a: WaveCounts, b: WaveCounts) -> WaveCounts:
    """The count tables of two disjoint sets of one wave's responses, as the tables of their union.

    Every table is a sum over respondents (docs/methods.md §1.1–§3.3, §10 as totals and counts), so the
    union's tables are the sums, row by row of the same key: what keeps a wave's counts release by release
    (:mod:`reports.counts.kept`). The accounts table is made again from the summed account sums, with each
    account's health as it is now.
    """
    sums = _add_frames(a.account_sums, b.account_sums, ("count", "total"))
    return WaveCounts(
        answers=_add_frames(a.answers, b.answers),
        scores=_add_frames(a.scores, b.scores),
        overall_scores=_add_frames(a.overall_scores, b.overall_scores),
        responses=_add_frames(a.responses, b.responses),
        moments=_add_moments(a.moments, b.moments),
        accounts=accounts_from_sums(sums),
        touchpoint_scores=_add_frames(a.touchpoint_scores, b.touchpoint_scores),
        account_sums=sums,
    )


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
