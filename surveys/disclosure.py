"""What may be released about the people who answered: the one decision point (docs/anonymity.md).

Pure: counts in, typed verdicts out, no ORM. Every output that shows numbers or
rows derived from responses — the gap engine (API, executives' pages, PDF,
``manage.py gap``), the responses list, the exports, the comments, the response
rates — builds its data through :func:`plan_blocks` and the verdicts below,
never on raw segment values. ``tests/security/test_disclosure_*`` check that
every output asks (with a policy that releases nothing, no output may show a
number) and attack the result.

The design, for one side of one wave (staff, or customers with their own k):

- **Atoms.** Responses are partitioned by the values of every segment field
  of the side ("" where not given).
- **Blocks.** Atoms are merged into blocks of at least k responses by
  generalising field values to :data:`GENERALISED`, least important field
  (the last configured) first. A block keeps a field's value only if it holds at
  least k *verified* responses (segments from the roster: an invitation, or
  the demo); self-declared values (anonymous link, embedded API, imports) ride
  along but never lift a group over k (P5). What is left over after every field
  is generalised is one residual block, which needs k responses of any kind; if
  it has fewer, it absorbs the smallest block, and if the whole side has fewer
  than k, nothing is released.
- Every view — a filter on any fields, a heatmap group inside a filter, all
  respondents — selects whole blocks, so any combination of released numbers
  is a combination of block totals, each over at least k people (P3).
- **Per unit.** For an item, a block with fewer than k answers to it (N/A
  counts as no answer) contributes nothing to any number of that item; for a
  dimension score, a block contributes only if it has k scored respondents
  and every item of the dimension is released in it (P2).
- **Releases.** Numbers change only when at least k new responses have
  arrived since the last release (P4); responses waiting for one are in no
  number, no count and no row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

GENERALISED = "\x00*"  # a field value generalised away: never a filter match, shown as "(withheld)"
GENERALISED_LABEL = "(withheld)"
NOT_GIVEN = ""  # the respondent gave no value for the field

# Channels whose segment values come from the roster (the invitation), not from the respondent.
VERIFIED_CHANNELS = frozenset({"invitation", "demo"})

Atom = tuple[str, ...]


class Verdict(StrEnum):
    """Why a number or a row is, or is not, released."""

    RELEASED = "released"
    SMALL_GROUP = "small_group"  # fewer than k people (or k verified people) in its block
    HIDDEN_ANSWERS = "hidden_answers"  # its block gave fewer than k answers to this item / dimension
    PENDING = "pending"  # arrived after the last release


@dataclass(frozen=True)
class AtomCount:
    verified: int
    total: int

    def __add__(self, other: AtomCount) -> AtomCount:
        return AtomCount(self.verified + other.verified, self.total + other.total)


@dataclass(frozen=True)
class BlockPlan:
    """The blocks of one side: which released values each atom is shown with, and the block sizes."""

    fields: tuple[str, ...]
    k: int
    block_of_atom: Mapping[Atom, Atom]  # only atoms of released blocks
    sizes: Mapping[Atom, int]  # released block → responses
    n_released: int  # responses in released blocks
    n_withheld: int  # responses of the side in no released block (the side has fewer than k)

    def block_of(self, atom: Atom) -> Atom | None:
        return self.block_of_atom.get(atom)

    def verdict(self, atom: Atom) -> Verdict:
        """Whether the responses of an atom are released (in a block of at least k) or not."""
        return Verdict.RELEASED if atom in self.block_of_atom else Verdict.SMALL_GROUP

    def released_values(self, atom: Atom) -> dict[str, str] | None:
        """The segment values this atom's responses are shown with (GENERALISED where withheld); None if hidden."""
        block = self.block_of_atom.get(atom)
        return None if block is None else dict(zip(self.fields, block, strict=True))


def atom_of(segments: Mapping[str, object] | None, fields: Iterable[str]) -> Atom:
    """The atom of a response's segment values ("" for a missing or empty value)."""
    segments = segments or {}
    out = []
    for key in fields:
        value = segments.get(key)
        out.append(NOT_GIVEN if value is None else str(value))
    return tuple(out)


def is_verified(channel: str) -> bool:
    return channel in VERIFIED_CHANNELS


def plan_blocks(atoms: Mapping[Atom, AtomCount], fields: Iterable[str], k: int) -> BlockPlan:
    """Merge atoms into blocks of at least k responses (see the module docstring)."""
    fields = tuple(fields)
    width = len(fields)
    residual: Atom = (GENERALISED,) * width
    groups: dict[Atom, AtomCount] = {}
    members: dict[Atom, list[Atom]] = {}
    for atom, count in atoms.items():
        if count.total <= 0:
            continue
        if len(atom) != width:
            raise ValueError(f"atom {atom!r} does not have {width} values")
        groups[atom] = groups.get(atom, AtomCount(0, 0)) + count
        members.setdefault(atom, []).append(atom)

    def strong(key: Atom, count: AtomCount) -> bool:
        return (count.total if key == residual else count.verified) >= k

    for j in reversed(range(width)):
        merged: dict[Atom, AtomCount] = {}
        merged_members: dict[Atom, list[Atom]] = {}
        for key in sorted(groups):
            count = groups[key]
            if not strong(key, count):
                key_new = (*key[:j], GENERALISED, *key[j + 1:])
            else:
                key_new = key
            merged[key_new] = merged.get(key_new, AtomCount(0, 0)) + count
            merged_members.setdefault(key_new, []).extend(members[key])
        groups, members = merged, merged_members
    if width == 0 and groups:
        groups = {residual: sum(groups.values(), AtomCount(0, 0))}
        members = {residual: [a for ms in members.values() for a in ms]}

    if residual in groups and not strong(residual, groups[residual]):
        others = [key for key in groups if key != residual]
        if others:
            # The leftover is too small on its own: it absorbs the smallest block (ties: the first in order).
            smallest = min(others, key=lambda key: (groups[key].total, key))
            groups[residual] = groups[residual] + groups.pop(smallest)
            members[residual].extend(members.pop(smallest))
    total = sum(c.total for c in groups.values())
    released = {key: c for key, c in groups.items() if strong(key, c)}
    block_of_atom = {atom: key for key in released for atom in members[key]}
    n_released = sum(c.total for c in released.values())
    return BlockPlan(fields=fields, k=k, block_of_atom=block_of_atom,
                     sizes={key: c.total for key, c in released.items()},
                     n_released=n_released, n_withheld=total - n_released)


def released_units(block_answers: Mapping[Atom, int], k: int) -> frozenset[Atom]:
    """The blocks whose answers to one unit (an item) may be used: at least k answers there."""
    return frozenset(block for block, n in block_answers.items() if n >= k)


def released_score_blocks(block_scored: Mapping[Atom, int], item_blocks: Iterable[frozenset[Atom]],
                          k: int) -> frozenset[Atom]:
    """The blocks whose dimension scores may be used: k scored respondents and every item of it released there.

    A score mixes the items of its dimension; if one item's answers are hidden in a
    block, the block's scores would let them be inferred, so the block's scores go too.
    """
    allowed = released_units(block_scored, k)
    for blocks in item_blocks:
        allowed = allowed & blocks
    return frozenset(allowed)


@dataclass(frozen=True)
class ReleaseDecision:
    due: bool
    reason: str
    # Publish only the waiting *imported* responses; the posted ones keep waiting (see release_due).
    imported_only: bool = False


def release_due(*, pending: int, k: int, imported: int = 0) -> ReleaseDecision:
    """Whether the responses waiting now may be published together (P4): at least k of them.

    ``pending`` counts the waiting responses that were answered (invitation, link, embedded form) and
    ``imported`` those that someone imported (or bulk-loaded): an importer may know every answer they imported.
    Imported responses therefore never make up the k of a release that holds a posted answer: an insider who
    imports k − 1 rows and waits for one colleague's answer would otherwise read it as the release minus their
    own rows (P4 with P5's padding). With at least k posted responses waiting, everything waiting is published
    (the imported rows ride along; the posted ones alone are k); else, with at least k imported, only those are
    published; else nothing.

    The same at close: fewer than k responses after the last release are never
    published, because the difference between two releases would show them.
    """
    if pending >= k:
        return ReleaseDecision(True, f"{pending} responses waiting, at least {k}")
    if imported >= k:
        return ReleaseDecision(True, f"{imported} imported responses waiting, at least {k}; "
                                     f"the {pending} posted ones wait for more", imported_only=True)
    if imported:
        return ReleaseDecision(False, f"fewer than {k} posted and fewer than {k} imported responses waiting")
    return ReleaseDecision(False, f"fewer than {k} responses waiting")


@dataclass(frozen=True)
class MicrodataRow:
    """One response as it may leave Kagami (P6): generalised segments, answers of released units only."""

    segments: dict[str, str]
    answers: dict[int, int | None]  # item id → value (None: not applicable); withheld items left out
    withheld_items: frozenset[int] = field(default_factory=frozenset)


def microdata_row(plan: BlockPlan, atom: Atom, answers: Mapping[int, int | None],
                  item_blocks: Mapping[int, frozenset[Atom]]) -> MicrodataRow | None:
    """The exported form of one response, or None when its block is not released."""
    block = plan.block_of(atom)
    if block is None:
        return None
    shown: dict[int, int | None] = {}
    withheld = set()
    for item_id, value in answers.items():
        blocks = item_blocks.get(item_id)
        if blocks is not None and block not in blocks:
            withheld.add(item_id)
        else:
            shown[item_id] = value
    return MicrodataRow(segments=dict(zip(plan.fields, block, strict=True)), answers=shown,
                        withheld_items=frozenset(withheld))


def display_value(value: str | None) -> str:
    """A released segment value as people read it."""
    if value == GENERALISED:
        return GENERALISED_LABEL
    return value or ""


__all__ = [
    "GENERALISED", "GENERALISED_LABEL", "NOT_GIVEN", "VERIFIED_CHANNELS", "Atom", "AtomCount", "BlockPlan",
    "MicrodataRow", "ReleaseDecision", "Verdict", "atom_of", "display_value", "is_verified",
    "microdata_row", "plan_blocks", "release_due", "released_score_blocks", "released_units",
]
