"""The one decision point (surveys.disclosure), on its own: pure functions, counts in, verdicts out."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys import disclosure as d
from surveys.disclosure import GENERALISED as G
from surveys.disclosure import AtomCount


def _verified(n: int) -> AtomCount:
    return AtomCount(n, n)


def test_atoms_of_k_verified_respondents_stay_as_they_are():
    plan = d.plan_blocks({("Sales", "lead"): _verified(5), ("Ops", "lead"): _verified(6)}, ["dept", "role"], 5)
    assert plan.sizes == {("Sales", "lead"): 5, ("Ops", "lead"): 6}
    assert plan.n_released == 11 and plan.n_withheld == 0
    assert plan.released_values(("Sales", "lead")) == {"dept": "Sales", "role": "lead"}
    assert plan.verdict(("Sales", "lead")) == d.Verdict.RELEASED


def test_a_small_atom_is_generalised_on_the_last_field_first():
    atoms = {("Sales", "lead"): _verified(2), ("Sales", "member"): _verified(4), ("Ops", "member"): _verified(7)}
    plan = d.plan_blocks(atoms, ["dept", "role"], 5)
    # Sales/lead (2) and Sales/member (4) become Sales/* (6); Ops/member keeps its values.
    assert plan.sizes == {("Sales", G): 6, ("Ops", "member"): 7}
    assert plan.block_of(("Sales", "lead")) == plan.block_of(("Sales", "member")) == ("Sales", G)


def test_what_is_left_after_every_field_is_one_residual_block_that_absorbs_the_smallest_if_too_small():
    atoms = {("Sales", "lead"): _verified(6), ("Ops", "lead"): _verified(7), ("Legal", "lead"): _verified(3)}
    plan = d.plan_blocks(atoms, ["dept", "role"], 5)
    # Legal (3) ends alone in the residual (*, *), under k: it takes the smallest block (Sales, 6) with it.
    assert plan.sizes == {(G, G): 9, ("Ops", "lead"): 7}
    assert plan.block_of(("Legal", "lead")) == plan.block_of(("Sales", "lead")) == (G, G)


def test_self_declared_values_never_lift_a_group_over_k():
    # 3 from the roster + 10 self-declared "Legal": the value is still not released.
    atoms = {("Legal",): AtomCount(3, 13), ("Sales",): _verified(8)}
    plan = d.plan_blocks(atoms, ["dept"], 5)
    assert ("Legal",) not in plan.sizes and plan.block_of(("Legal",)) == (G,)
    # The residual (everyone left over) counts every response: 13 people, released as "everyone else".
    assert plan.sizes[(G,)] == 13


def test_a_side_under_k_releases_nothing():
    plan = d.plan_blocks({("Sales",): _verified(2), ("Ops",): _verified(2)}, ["dept"], 5)
    assert plan.sizes == {} and plan.n_released == 0 and plan.n_withheld == 4
    assert plan.verdict(("Sales",)) == d.Verdict.SMALL_GROUP and plan.released_values(("Sales",)) is None


def test_no_fields_means_one_block_of_everyone():
    assert d.plan_blocks({(): AtomCount(0, 7)}, [], 5).sizes == {(): 7}
    assert d.plan_blocks({(): AtomCount(0, 4)}, [], 5).sizes == {}


def test_k_of_one_releases_every_atom():
    atoms = {("a", "x"): _verified(1), ("b", "y"): _verified(1)}
    assert d.plan_blocks(atoms, ["f", "g"], 1).sizes == {("a", "x"): 1, ("b", "y"): 1}


def test_an_atom_of_the_wrong_width_is_refused():
    with pytest.raises(ValueError):
        d.plan_blocks({("a",): _verified(5)}, ["f", "g"], 5)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.tuples(st.sampled_from(["a", "b", "c", ""]), st.sampled_from(["x", "y", ""]),
                                 st.sampled_from(["p", "q"])),
                       st.tuples(st.integers(0, 6), st.integers(0, 4)), max_size=24),
       st.integers(1, 7))
def test_every_block_is_released_whole_with_at_least_k_and_every_view_is_a_union_of_blocks(raw, k):
    atoms = {a: AtomCount(v, v + u) for a, (v, u) in raw.items() if v + u}
    fields = ["f", "g", "h"]
    plan = d.plan_blocks(atoms, fields, k)
    total = sum(c.total for c in atoms.values())
    assert plan.n_released + plan.n_withheld == total
    assert plan.n_released in (0, total)  # all or nothing: the residual absorbs what is left
    for block, size in plan.sizes.items():
        assert size >= k
        members = [a for a, b in plan.block_of_atom.items() if b == block]
        assert sum(atoms[a].total for a in members) == size
        if block != (G, G, G):  # a block with a value of its own needs k verified people
            assert sum(atoms[a].verified for a in members) >= k
        for a in members:  # a kept value is every member's own value: a filter on it selects the whole block
            assert all(bv in (G, av) for bv, av in zip(block, a, strict=True))


def test_an_item_is_released_in_a_block_only_with_k_answers():
    assert d.released_units({("a",): 5, ("b",): 4}, 5) == frozenset({("a",)})


def test_a_score_is_released_in_a_block_only_when_every_item_of_it_is():
    blocks = d.released_score_blocks({("a",): 6, ("b",): 6}, [frozenset({("a",), ("b",)}), frozenset({("a",)})], 5)
    assert blocks == frozenset({("a",)})


@pytest.mark.parametrize("pending,due", [(0, False), (4, False), (5, True), (40, True)])
def test_a_release_needs_k_waiting_responses(pending, due):
    assert d.release_due(pending=pending, k=5).due is due


@pytest.mark.parametrize("posted,imported,due,imported_only", [
    (4, 1, False, False),  # k − 1 known imported rows never make up a posted answer's k (padding)
    (1, 4, False, False),
    (5, 3, True, False),   # k posted: everything waiting goes out, the imported rows ride along
    (4, 5, True, True),    # k imported: only they go out; the posted answers keep waiting
    (0, 5, True, True),
])
def test_imported_responses_never_make_up_the_k_of_a_posted_answers_release(posted, imported, due, imported_only):
    decision = d.release_due(pending=posted, imported=imported, k=5)
    assert (decision.due, decision.imported_only) == (due, imported_only)


def test_microdata_rows_carry_released_values_and_withhold_hidden_items():
    plan = d.plan_blocks({("Sales", "lead"): _verified(2), ("Sales", "member"): _verified(4)}, ["dept", "role"], 5)
    row = d.microdata_row(plan, ("Sales", "lead"), {1: 5, 2: None, 3: 4},
                          {1: frozenset({("Sales", G)}), 2: frozenset({("Sales", G)}), 3: frozenset()})
    assert row.segments == {"dept": "Sales", "role": G}
    assert row.answers == {1: 5, 2: None} and row.withheld_items == frozenset({3})
    assert d.display_value(G) == d.GENERALISED_LABEL and d.display_value("") == ""
    small = d.plan_blocks({("Sales", "lead"): _verified(2)}, ["dept", "role"], 5)
    assert d.microdata_row(small, ("Sales", "lead"), {1: 5}, {}) is None


def test_atoms_read_missing_and_empty_values_as_not_given():
    assert d.atom_of({"dept": "Sales", "role": None}, ["dept", "role", "site"]) == ("Sales", "", "")
    assert d.atom_of(None, ["dept"]) == ("",)
    assert d.is_verified("invitation") and d.is_verified("demo") and not d.is_verified("anonymous")


def test_plans_do_not_depend_on_the_order_atoms_arrive_in():
    rng = random.Random(5)
    atoms = {(rng.choice("abcd"), rng.choice("xyz")): _verified(rng.randint(1, 6)) for _ in range(10)}
    shuffled = dict(rng.sample(list(atoms.items()), len(atoms)))
    assert d.plan_blocks(atoms, ["f", "g"], 5) == d.plan_blocks(shuffled, ["f", "g"], 5)
