"""Row-level data as it may leave Kagami (disclosure promises P4 and P6).

Staff rows leave only as k-anonymous microdata: published responses only,
each shown with its block's released segment values (surveys.disclosure),
answers of the items whose block gave at least k answers, and nothing else —
no id, no day, no channel, no language, no comment. Comments leave separately,
per released block, in an order that says nothing about who wrote them.

The verdicts are those of :mod:`surveys.disclosure`, computed from the same
published responses the gap engine reads, so the exports hide exactly what
the gap hides. Customer rows are not promised anonymity (they come through
invitations tied to accounts) and keep their identifying columns; they are
published responses only.

Internal waves (surveys/internal.py) release no row-level data at all, on either side: their rows are
about one serving department each, a person may have several, and both sides are employees. Their
results are the per-department gap only; the plans below release nothing and the lists are empty.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.db.models.fields.json import KeyTextTransform

from surveys import disclosure, internal, releases
from surveys.models import Answer, Side, SurveyResponse, Wave

WITHHELD = "withheld"  # an answer whose block gave fewer than k answers to the item


@dataclass
class SidePlan:
    """The released blocks of one side of a wave and, per item, the blocks whose answers may leave."""

    side: str
    fields: list[str]
    plan: disclosure.BlockPlan
    item_blocks: dict[int, frozenset[disclosure.Atom]]

    @property
    def released(self) -> bool:
        return self.plan.n_released > 0

    def atom(self, response: SurveyResponse) -> disclosure.Atom:
        """The atom of a response read by :func:`published_responses`: its segment values as the database
        reads them (``segments ->> key``), exactly as the plan and the gap engine's count tables do."""
        values = [getattr(response, _annotation(i)) for i in range(len(self.fields))]
        return tuple(disclosure.NOT_GIVEN if v is None else str(v) for v in values)

    def row(self, response: SurveyResponse, answers: dict[int, int | None]) -> disclosure.MicrodataRow | None:
        return disclosure.microdata_row(self.plan, self.atom(response), answers, self.item_blocks)


def _annotation(i: int) -> str:
    return f"disclosure_seg_{i}"


def _segment_values(qs: QuerySet, fields: list[str], prefix: str = "") -> tuple[QuerySet, list[str]]:
    """The segment values as the database reads them; one reading for plans, rows and the gap engine."""
    names = [_annotation(i) for i in range(len(fields))]
    annotated = qs.annotate(**{n: KeyTextTransform(key, f"{prefix}segments") for n, key in zip(names, fields,
                                                                                                strict=True)})
    return annotated, names


def side_plan(wave: Wave, side: str) -> SidePlan:
    """The block plan of one side from its published responses (two GROUP BY queries)."""
    releases.publish_due(wave)
    fields = [f["key"] for f in wave.segment_fields(side)]
    k = releases.threshold(wave, side)
    published = SurveyResponse.objects.filter(wave=wave, side=side, release__isnull=False)
    if internal.is_internal(wave):
        published = published.none()  # no row-level data of an internal wave (module docstring)
    qs, names = _segment_values(published, fields)
    atoms: dict[disclosure.Atom, disclosure.AtomCount] = {}
    for row in qs.values(*names, "channel").annotate(n=Count("id")).order_by():
        atom = tuple(disclosure.NOT_GIVEN if row[n] is None else str(row[n]) for n in names)
        verified = row["n"] if disclosure.is_verified(row["channel"]) else 0
        atoms[atom] = atoms.get(atom, disclosure.AtomCount(0, 0)) + disclosure.AtomCount(verified, row["n"])
    plan = disclosure.plan_blocks(atoms, fields, k)
    answers = Answer.objects.filter(response__wave=wave, response__side=side, response__release__isnull=False,
                                    value__isnull=False)
    qs, names = _segment_values(answers, fields, "response__")
    per_block: dict[int, dict[disclosure.Atom, int]] = {}
    for row in qs.values(*names, "item_id").annotate(n=Count("id")).order_by():
        atom = tuple(disclosure.NOT_GIVEN if row[n] is None else str(row[n]) for n in names)
        block = plan.block_of(atom)
        if block is not None:
            counts = per_block.setdefault(row["item_id"], {})
            counts[block] = counts.get(block, 0) + row["n"]
    item_blocks = {item: disclosure.released_units(counts, k) for item, counts in per_block.items()}
    return SidePlan(side=side, fields=fields, plan=plan, item_blocks=item_blocks)


def published_responses(wave: Wave, side: str | None = None) -> QuerySet[SurveyResponse]:
    """Published responses in an order that hints at nothing (random ids), never by day.

    Each carries its staff segment values as the database reads them, for :meth:`SidePlan.atom`.
    """
    qs = SurveyResponse.objects.filter(wave=wave, release__isnull=False)
    if internal.is_internal(wave):
        qs = qs.none()  # no row-level data of an internal wave (module docstring)
    if side:
        qs = qs.filter(side=side)
    qs, _ = _segment_values(qs, [f["key"] for f in wave.segment_fields(Side.STAFF)])
    return qs.order_by("side", "id")


@dataclass(frozen=True)
class CommentGroup:
    segments: dict[str, str]  # the block's released values (GENERALISED where withheld)
    n_responses: int
    comments: list[str]


def _shuffle_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def comment_groups(wave: Wave, side: str) -> list[CommentGroup]:
    """Comments per released block (each of at least k respondents), in an order unrelated to time or person.

    For staff a block's comments are released only if it holds at least k
    respondents (every released block does); a side that is not released gives none.
    """
    plan = side_plan(wave, side)
    if not plan.released:
        return []
    texts: dict[disclosure.Atom, list[str]] = {}
    if not internal.protected_side(wave, side):
        qs, _ = _segment_values(SurveyResponse.objects.filter(wave=wave, side=side, release__isnull=False),
                                plan.fields)
    else:
        qs = published_responses(wave, side)
    for response in qs.exclude(comment="").only("comment").order_by():
        block = plan.plan.block_of(plan.atom(response))
        if block is not None:
            texts.setdefault(block, []).append(response.comment)
    out = []
    for block in sorted(texts):
        out.append(CommentGroup(segments=dict(zip(plan.fields, block, strict=True)),
                                n_responses=plan.plan.sizes[block],
                                comments=sorted(texts[block], key=_shuffle_key)))
    return out


def staff_rows(wave: Wave, plan: SidePlan) -> Iterator[tuple[dict[str, str], dict[int, int | None | str]]]:
    """The staff microdata: (released segments, item id → value, None for N/A, WITHHELD) per published response."""
    if not plan.released:
        return
    qs = published_responses(wave, Side.STAFF).only("id", "answers_packed")  # the answers are in the row
    for response in qs.iterator(chunk_size=2000):
        row = plan.row(response, response.answer_values())
        if row is None:
            continue
        shown: dict[int, int | None | str] = dict(row.answers)
        for item in row.withheld_items:
            shown[item] = WITHHELD
        yield row.segments, shown
