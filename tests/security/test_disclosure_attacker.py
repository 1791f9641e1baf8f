"""The attacker of docs/anonymity.md: random small waves, every view, exact integer linear algebra.

For each random wave (several staff segment fields, groups of 1–6 people, N/A
answers, roster and self-declared segments, customers too) the test

1. asks the gap engine for every view an API caller can obtain — all
   respondents, every filter on every combination of staff fields and values
   (values nobody has included), heatmaps inside each filtered view, the
   change since an earlier wave, customer filters and weighting;
2. states, for every released number, the set of responses it is computed over
   (as the documented semantics say: the responses whose released block matches
   the filter, minus the blocks whose answers to the unit are hidden) and checks
   that the number *is* the statistic of exactly that set — counts per level,
   n, means — so the equations below are the attacker's real knowledge;
3. solves: a released count over a set S is the linear functional 1_S over the
   respondents' answers, so what the attacker can learn about a group T is
   whether 1_T lies in the row space of the matrix of all the sets. Every vector
   of that row space is constant on the classes of respondents that no set
   separates, so the test checks every class holds at least k people, and
   checks by exact rational elimination that no class (or union of two) under k
   is in the row space.

The exports' microdata and the PDF context are attacked in the same waves.
"""

from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest

from reports import services as gap
from surveys import disclosure, releases, services
from surveys import models as m
from tests import factories as f
from tests.gap.conftest import build_instrument

pytestmark = pytest.mark.django_db

ITEMS = ("c1", "c2", "c3", "s1", "s2")  # the random waves' instrument (tests.gap.conftest.build_instrument)
VALUES = {"department": ("Sales", "Support", "Ops", "Legal"), "role": ("lead", "member"), "site": ("north", "south")}


# --------------------------------------------------------------------------- a random small wave


def _answers(rng: random.Random, na_rate: float) -> dict:
    return {key: ("na" if rng.random() < na_rate else rng.randint(1, 5)) for key in ITEMS}


def build_wave(seed: int, *, fields: tuple[str, ...], k: int = 5, slug: str | None = None, org=None,
               instrument=None) -> tuple[m.Wave, list[dict]]:
    """A wave answered by small random groups; returns the wave and every response as submitted."""
    rng = random.Random(seed)
    org = org or f.OrganizationFactory()
    instrument = instrument or build_instrument(org)
    staff_fields = [{"key": key, "label_en": key, "label_ja": key, "choices": []} for key in fields]
    wave = services.wave_create(organization=org, instrument=instrument, name=f"random {seed}",
                                slug=slug or f"attack-{seed}-{rng.randrange(10**9)}",
                                staff_segment_fields=staff_fields)
    if k != 5:
        wave.anonymity_threshold = k
        wave.anonymity_override_reason = "attacker test"
        wave.save()
    services.wave_open(wave=wave)
    truth: list[dict] = []
    combos = list(itertools.product(*(VALUES[key] for key in fields)))
    for combo in rng.sample(combos, k=min(len(combos), rng.randint(5, 9))):
        for _ in range(rng.randint(1, 6)):
            segments = dict(zip(fields, combo, strict=True))
            answers = _answers(rng, 0.15)
            if rng.random() < 0.75:  # through an invitation: segments from the roster
                inv = services.invitation_create(wave=wave, side="staff", segments=segments)
                services.response_submit(wave=wave, side="staff", answers=answers, language="en",
                                         channel="invitation", invitation=inv.invitation, required=False)
                channel = "invitation"
            else:  # the anonymous link: self-declared, sometimes incomplete
                if rng.random() < 0.3:
                    segments.pop(rng.choice(fields))
                services.response_submit(wave=wave, side="staff", answers=answers, language="en",
                                         channel="anonymous", segments=segments, required=False)
                channel = "anonymous"
            truth.append({"side": "staff", "segments": segments, "channel": channel, "answers": answers})
    for i in range(rng.randint(12, 24)):
        answers = _answers(rng, 0.1)
        answers["nps"] = rng.randint(0, 10)
        tier = ("Gold", "Silver", "Bronze")[rng.randrange(3) if i > 2 else 0]
        inv = services.invitation_create(wave=wave, side="customer", segments={"tier": tier})
        services.response_submit(wave=wave, side="customer", answers=answers, language="en", channel="invitation",
                                 invitation=inv.invitation, required=False, weight=round(rng.uniform(0.5, 2), 2))
        truth.append({"side": "customer", "segments": {"tier": tier}, "channel": "invitation", "answers": answers})
    releases.publish_due(wave)
    return wave, truth


# --------------------------------------------------------------------------- the documented semantics


class Semantics:
    """Which responses each released number is computed over, per the documented design (docs/anonymity.md)."""

    def __init__(self, wave: m.Wave, truth: list[dict], *, blocks: bool = True):
        self.truth, self.blocks = truth, blocks
        likert = list(m.ItemPair.objects.filter(instrument=wave.instrument, kind=m.ItemKind.LIKERT)
                      .select_related("dimension"))
        self.flip = {i.key: (i.scale_points + 1 if i.reverse_keyed else None) for i in likert}
        self.levels = {i.key: i.scale_points for i in likert}
        self.dims: dict[str, tuple[str, ...]] = {}
        for i in sorted((i for i in likert if i.dimension_id), key=lambda i: (i.dimension.order, i.order, i.pk)):
            self.dims.setdefault(i.dimension.key, ())
            self.dims[i.dimension.key] += (i.key,)
        self.dims["overall"] = tuple(k for keys in self.dims.values() for k in keys)
        self.k = {side: releases.threshold(wave, side) for side in ("staff", "customer")}
        self.fields = {side: [fd["key"] for fd in wave.segment_fields(side)] for side in ("staff", "customer")}
        self.block: dict[int, tuple | None] = {}
        for side in ("staff", "customer"):
            atoms: dict = {}
            for r in self.rows(side):
                atom = disclosure.atom_of(truth[r]["segments"], self.fields[side])
                v = 1 if disclosure.is_verified(truth[r]["channel"]) else 0
                atoms[atom] = atoms.get(atom, disclosure.AtomCount(0, 0)) + disclosure.AtomCount(v, 1)
            plan = disclosure.plan_blocks(atoms, self.fields[side], self.k[side])
            for r in self.rows(side):
                self.block[r] = plan.block_of(disclosure.atom_of(truth[r]["segments"], self.fields[side]))

    def rows(self, side: str) -> list[int]:
        return [i for i, t in enumerate(self.truth) if t["side"] == side]

    def value(self, r: int, key: str) -> int | None:
        v = self.truth[r]["answers"].get(key)
        if v in (None, "na"):
            return None
        return self.flip[key] - v if self.flip.get(key) else v

    def selected(self, side: str, flt: dict) -> list[int]:
        """Responses whose released block matches every value of the filter (or, plainly, whose own values do)."""
        if not self.blocks:
            return [r for r in self.rows(side)
                    if all(self.truth[r]["segments"].get(key) == value for key, value in flt.items())]
        out = []
        for r in self.rows(side):
            block = self.block[r]
            if block is None:
                continue
            released = dict(zip(self.fields[side], block, strict=True))
            if all(released.get(key) == value for key, value in flt.items()):
                out.append(r)
        return out

    def item_set(self, side: str, flt: dict, key: str) -> list[int]:
        """The selection minus the blocks with fewer than k answers to the item (hidden answers)."""
        if not self.blocks:
            return self.selected(side, flt)
        answered: dict = {}
        for r in self.rows(side):
            if self.block[r] is not None and self.value(r, key) is not None:
                answered[self.block[r]] = answered.get(self.block[r], 0) + 1
        return [r for r in self.selected(side, flt) if answered.get(self.block[r], 0) >= self.k[side]]

    def score(self, r: int, keys: tuple[str, ...]) -> float | None:
        values = [self.value(r, key) for key in keys]
        given = [v for v in values if v is not None]
        if len(given) < math.ceil(len(keys) / 2):
            return None
        return sum(given) / len(given)

    def score_blocks(self, side: str, flt: dict, keys: tuple[str, ...]) -> list[int]:
        """Everyone (scored or not) in the blocks whose scores are released: the set the attacker can name."""
        if not self.blocks:
            return self.selected(side, flt)
        scored = set(self.score_set(side, {}, keys))
        blocks = {self.block[r] for r in scored}
        return [r for r in self.selected(side, flt) if self.block[r] in blocks]

    def score_set(self, side: str, flt: dict, keys: tuple[str, ...]) -> list[int]:
        """Scored respondents of blocks with k scored people and every item of the score released."""
        if not self.blocks:
            return [r for r in self.selected(side, flt) if self.score(r, keys) is not None]
        ok_items = [set(self.item_set(side, {}, key)) for key in keys]
        scored: dict = {}
        for r in self.rows(side):
            if self.block[r] is not None and self.score(r, keys) is not None:
                scored[self.block[r]] = scored.get(self.block[r], 0) + 1
        return [r for r in self.selected(side, flt)
                if self.score(r, keys) is not None and scored.get(self.block[r], 0) >= self.k[side]
                and all(r in s for s in ok_items)]


# --------------------------------------------------------------------------- reading the views


class Knowledge:
    """The attacker's equations: sets of responses whose released statistics were checked exact."""

    def __init__(self):
        self.sets: dict[str, set[frozenset[int]]] = {"staff": set(), "customer": set()}
        self.checked = 0

    def add(self, side: str, members: list[int]) -> None:
        if members:
            self.sets[side].add(frozenset(members))


def _level_counts(sem: Semantics, members: list[int], key: str) -> list[int]:
    counts = [0] * sem.levels[key]
    for r in members:
        counts[sem.value(r, key) - 1] += 1
    return counts


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _explain(sems: list[Semantics], check):
    """The first semantics under which ``check`` holds (every number must be explained by one)."""
    error = None
    for sem in sems:
        try:
            return check(sem)
        except AssertionError as exc:
            error = exc
    raise error


def read_view(sems: list[Semantics], know: Knowledge, body: dict, staff_flt: dict, customer_flt: dict) -> None:
    """Check every staff and customer number of one gap result against its set, and record the sets.

    ``sems``: the semantics the attacker knows (the documented one first, then the plain filter); each
    number must be the exact statistic of its set under one of them, and that set is what it teaches.
    """
    for side, flt in (("staff", staff_flt), ("customer", customer_flt)):
        n = body["response_counts"][side]

        def count(sem, side=side, flt=flt, n=n):
            selected = sem.selected(side, flt)
            assert n in (None, len(selected)), (side, flt, n, len(selected))
            # Under the documented semantics a selection that is not released is empty; plainly, hidden.
            assert n is not None or not selected or not sem.blocks, (side, flt)
            return selected if n else []

        selected = _explain(sems, count)
        if n:
            know.add(side, selected)
        for item in body["items"]:
            # The set is defined by what the attacker can name (blocks), not by who answered: N/A people of a
            # block are in it and count for nothing.
            def item_check(sem, side=side, flt=flt, item=item):
                members = sem.item_set(side, flt, item["key"])
                answered = [r for r in members if sem.value(r, item["key"]) is not None]
                counts = item[f"counts_{side}"]
                if counts is None:  # no_data on a side (then its n may show), or the selection is not released
                    assert item[f"n_{side}"] in (None, len(answered)) and item[f"mean_{side}"] is None, (side, flt)
                    return members if item[f"n_{side}"] else []
                assert counts == _level_counts(sem, answered, item["key"]), (side, flt, item["key"])
                assert item[f"n_{side}"] == len(answered)
                if answered:
                    assert item[f"mean_{side}"] == pytest.approx(
                        _mean([sem.value(r, item["key"]) for r in answered]), rel=1e-12, abs=1e-12)
                return members

            know.add(side, _explain(sems, item_check))
            know.checked += 1
        for dim in [*body["dimensions"], body["overall"]]:
            keys = sems[0].dims[dim["key"]]

            def dim_check(sem, side=side, flt=flt, dim=dim, keys=keys):
                members = sem.score_set(side, flt, keys)
                if dim[f"mean_{side}"] is None:
                    assert dim[f"n_{side}"] in (None, 0, len(members)), (side, flt, dim["key"])
                    return sem.score_blocks(side, flt, keys) if dim[f"n_{side}"] else []
                assert dim[f"n_{side}"] == len(members), (side, flt, dim["key"], dim[f"n_{side}"], len(members))
                assert dim[f"mean_{side}"] == pytest.approx(_mean([sem.score(r, keys) for r in members]), rel=1e-12)
                return sem.score_blocks(side, flt, keys)

            know.add(side, _explain(sems, dim_check))
            know.checked += 1
    # Heatmaps: each group of a field inside the view, against the other side's selection.
    for side in ("staff", "customer"):
        own = staff_flt if side == "staff" else customer_flt
        for field in (body["segments"] or {}).get(side, []):
            for group in field["groups"]:
                flt = {**own, field["field"]: group["value"]}

                def group_check(sem, side=side, flt=flt, group=group):
                    selected = sem.selected(side, flt)
                    if group["n"] is None:
                        assert not selected or not sem.blocks, (side, flt)
                        return []
                    assert group["n"] == len(selected), (side, flt)
                    for key, cell in group["dimensions"].items():
                        if cell[f"n_{side}"] is not None:
                            members = sem.score_set(side, flt, sems[0].dims[key])
                            assert cell[f"n_{side}"] == len(members), (side, flt, key)
                    return selected

                know.add(side, _explain(sems, group_check))
                for key, cell in group["dimensions"].items():
                    if cell[f"n_{side}"] is not None:
                        know.add(side, _explain(sems, lambda sem, side=side, flt=flt, key=key: (
                            sem.score_blocks(side, flt, sems[0].dims[key]))))
                        know.checked += 1


# --------------------------------------------------------------------------- solving


def _rank(rows: list[list[Fraction]]) -> int:
    """Exact rank by Gaussian elimination over the rationals."""
    rows = [r[:] for r in rows]
    rank, width = 0, len(rows[0]) if rows else 0
    for col in range(width):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][col] != 0:
                factor = rows[i][col] / rows[rank][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def recoverable_small_groups(sets: set[frozenset[int]], k: int) -> tuple[list[frozenset[int]], list[frozenset[int]]]:
    """(classes under k, groups under k whose indicator is in the row space of the sets)."""
    people = sorted(set().union(*sets)) if sets else []
    ordered = sorted(sets, key=sorted)
    signature: dict[int, tuple] = {p: tuple(p in s for s in ordered) for p in people}
    classes: dict[tuple, set[int]] = {}
    for p, sig in signature.items():
        classes.setdefault(sig, set()).add(p)
    small = [frozenset(c) for c in classes.values() if len(c) < k]
    recovered = []
    if small:
        index = {p: i for i, p in enumerate(people)}
        matrix = [[Fraction(int(p in s)) for p in people] for s in ordered]
        base = _rank(matrix)
        candidates = small + [a | b for a, b in itertools.combinations(small, 2) if len(a | b) < k]
        for group in candidates:
            vector = [Fraction(0)] * len(people)
            for p in group:
                vector[index[p]] = Fraction(1)
            if _rank([*matrix, vector]) == base:
                recovered.append(group)
    return small, recovered


# --------------------------------------------------------------------------- the test


def _filters(fields: tuple[str, ...]) -> list[dict]:
    """All respondents, every value of every field (and one nobody has), every combination of fields' values."""
    out: list[dict] = [{}]
    for size in range(1, len(fields) + 1):
        for chosen in itertools.combinations(fields, size):
            extra = ("Nobody",) if size == 1 else ()
            for values in itertools.product(*((*VALUES[key], *extra) for key in chosen)):
                out.append(dict(zip(chosen, values, strict=True)))
    return out


@pytest.mark.parametrize("seed,fields,k", [
    (1, ("department", "role"), 5),
    (5, ("department", "role", "site"), 5),
    (3, ("department", "site"), 3),
    (4, ("department", "role"), 4),
])
def test_no_combination_of_released_numbers_recovers_fewer_than_k_respondents(seed, fields, k):
    before, _ = build_wave(seed + 100, fields=fields, k=k)
    wave, truth = build_wave(seed, fields=fields, k=k, org=before.organization, instrument=before.instrument)
    sem = Semantics(wave, truth)
    sems = [sem, Semantics(wave, truth, blocks=False)]
    know = Knowledge()
    views = 0
    for staff_flt in _filters(fields):
        for customer_flt in ({}, {"tier": "Gold"}) if len(staff_flt) <= 1 else ({},):
            body = gap.gap_analysis(wave=wave, staff_filter=staff_flt, customer_filter=customer_flt,
                                    weighted=bool(customer_flt), compare_wave=before if len(staff_flt) == 1 else None)
            read_view(sems, know, body, staff_flt, customer_flt)
            views += 1
    assert views >= 20 and know.checked > 100, (views, know.checked)
    n_staff = len(sem.rows("staff"))
    assert any(len(s) < n_staff for s in know.sets["staff"]), "the wave must release some segment view"
    for side in ("staff", "customer"):
        small, recovered = recoverable_small_groups(know.sets[side], sem.k[side])
        assert recovered == [], f"{side}: groups of {[len(g) for g in recovered]} recovered exactly"
        assert small == [], f"{side}: classes of {[len(c) for c in small]} people are told apart by the views"


def test_the_solver_finds_a_small_group_where_two_views_differ_by_one_person():
    """The solver itself: two overlapping sets that differ by fewer than k people give that group away."""
    sets = {frozenset(range(10)), frozenset(range(8))}
    small, recovered = recoverable_small_groups(sets, 5)
    assert small == [frozenset({8, 9})] and recovered == [frozenset({8, 9})]
    # Inclusion–exclusion over four views: A − A∩B − A∩C + A∩B∩C isolates A∖(B∪C).
    a, b, c = set(range(0, 12)), set(range(3, 20)), set(range(6, 25))
    views = {frozenset(a), frozenset(a & b), frozenset(a & c), frozenset(a & b & c)}
    small, recovered = recoverable_small_groups(views, 5)
    assert frozenset(a - b - c) in recovered


def test_the_exports_the_command_line_and_the_pdf_hide_exactly_what_the_gap_hides(tmp_path):
    """One random wave: the staff microdata, `manage.py gap` and the PDF context against the gap engine."""
    import csv
    import io
    import json

    from django.core.management import call_command

    from reports.context import build_report_context
    from surveys import exports, microdata

    wave, truth = build_wave(11, fields=("department", "role"))
    sem = Semantics(wave, truth)
    body = gap.gap_analysis(wave=wave)
    k = sem.k["staff"]
    # The export: one row per released staff response, in groups of at least k by released values.
    text = "".join(exports.responses_csv(wave=wave, side="staff"))
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    released = [r for r in sem.rows("staff") if sem.block[r] is not None]
    assert len(rows) == len(released)
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["department"], row["role"]), []).append(row)
    assert min(len(g) for g in groups.values()) >= k
    for item in body["items"]:
        key = item["key"]
        members = sem.item_set("staff", {}, key)
        # Withheld in the export exactly where the gap leaves the block out of the item's numbers.
        shown = [row[key] for row in rows if row[key] not in (microdata.WITHHELD, "", exports.NOT_APPLICABLE)]
        withheld = sum(1 for row in rows if row[key] == microdata.WITHHELD)
        assert withheld == len(released) - len(members), key
        counts = [0] * sem.levels[key]
        for value in shown:
            counts[(sem.flip[key] - int(value) if sem.flip.get(key) else int(value)) - 1] += 1
        assert counts == (item["counts_staff"] or [0] * sem.levels[key]), key
        assert item["withheld"]["staff"] == sum(1 for r in released if r not in set(members)
                                                 and sem.value(r, key) is not None), key
    # The command line prints the same engine's numbers.
    out = io.StringIO()
    call_command("gap", "--wave", str(wave.pk), "--format", "json", stdout=out)
    cli = json.loads(out.getvalue())
    assert cli["response_counts"] == body["response_counts"]
    assert [(i["key"], i["counts_staff"], i["n_staff"]) for i in cli["items"]] == [
        (i["key"], i["counts_staff"], i["n_staff"]) for i in body["items"]]
    # The PDF context shows the engine's numbers or none, never others.
    context = build_report_context(body, language="en", wave=wave)
    by_key = {i["key"]: i for i in body["items"]}
    for row in context["items"]:
        item = by_key[row["key"]]
        assert row["n_staff"] in (None, item["n_staff"]) and row["mean_staff"] in (None, item["mean_staff"])
        if item["counts_staff"] is None:
            assert row["n_staff"] is None and row["mean_staff"] is None
