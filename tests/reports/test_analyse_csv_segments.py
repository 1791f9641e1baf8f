"""Segment columns of a file (`analyse_csv --segment`) under the disclosure rules of a wave (docs/anonymity.md).

A file's segment values are self-declared (P5): by default no group is shown at all. With --verified-segments
they count as a roster's, and then a group shows only as a released block of at least k, never one that "all"
minus the shown groups would single out (P2, P3). The attacker's view: everything printed, searched for what
must not be there, and differenced.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from django.core.management import call_command


def _file(tmp_path, staff_departments: list[str], *, seed: int = 0, n_customer: int = 12):
    rng = np.random.default_rng(seed)
    staff = rng.integers(1, 6, size=(len(staff_departments), 2))
    cust = rng.integers(1, 6, size=(n_customer, 2))
    path = tmp_path / "f.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["side", "department", "q1", "q2"])
        writer.writerows(["staff", d, *r] for d, r in zip(staff_departments, staff, strict=True))
        writer.writerows(["customer", "", *r] for r in cust)
    return path, staff, cust


def _run(path, *args) -> tuple[dict, str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("analyse_csv", str(path), "--dimension", "d=q1,q2", *args, "--format", "json", stdout=out,
                 stderr=err)
    return json.loads(out.getvalue()), out.getvalue(), err.getvalue()


def test_self_declared_segments_show_no_group_however_large(tmp_path):
    """P5: a file's values are declared by whoever made it; forty 'Sales' rows lift nothing."""
    path, _, _ = _file(tmp_path, ["Sales"] * 40 + ["Support"] * 30)
    result, text, err = _run(path, "--segment", "department")
    assert result["segments"] == {"staff": [], "customer": []}
    assert "Sales" not in text and "Support" not in text
    assert result["response_counts"]["staff"] == 70  # the side as a whole: the catch-all block
    assert "no segment group is shown" in err and "--verified-segments" in err
    assert result["file"]["notes"] and result["file"]["segments"]["verified"] is False


def test_verified_segments_show_only_released_blocks_and_no_small_group_by_difference(tmp_path):
    """The worked example's shape, k = 5: Sales 6, Support 5, Legal 2. Legal (2) is too small for the catch-all,
    which absorbs the smallest block, Support: only Sales is shown, and all − Sales = 7 ≥ k."""
    departments = ["Sales"] * 6 + ["Support"] * 5 + ["Legal"] * 2
    path, staff, cust = _file(tmp_path, departments, seed=3)
    result, text, _ = _run(path, "--segment", "staff:department", "--verified-segments")
    (field,) = result["segments"]["staff"]
    assert field["field"] == "department"
    assert [(g["value"], g["n"]) for g in field["groups"]] == [("Sales", 6)]
    assert "Legal" not in text and "Support" not in text
    assert result["response_counts"]["staff"] == 13 and 13 - 6 >= 5
    # The Sales cell: the Sales staff's dimension scores against every customer's (hand computation).
    sales = staff[:6].mean(axis=1)
    cell = field["groups"][0]["dimensions"]["d"]
    assert cell["n_staff"] == 6 and cell["gap"] == pytest.approx(sales.mean() - cust.mean(axis=1).mean(), rel=1e-12)
    assert result["segments"]["customer"] == []  # the column segments staff only


@pytest.mark.parametrize("seed", range(12))
def test_no_printed_group_and_no_difference_of_printed_numbers_covers_fewer_than_k(tmp_path, seed):
    """Random departments of 1 to 7 people, k from 3 to 5: each shown group is exactly its department and holds at
    least k, and the staff not in any shown group are none or at least k."""
    rng = np.random.default_rng(100 + seed)
    k = int(rng.integers(3, 6))
    sizes = rng.integers(1, 8, size=int(rng.integers(2, 6)))
    departments = [f"D{j}" for j, size in enumerate(sizes) for _ in range(size)]
    path, _, _ = _file(tmp_path, departments, seed=seed, n_customer=k + 3)
    result, text, _ = _run(path, "--segment", "staff:department", "--verified-segments", "--k-min", str(k))
    total = len(departments)
    groups = [g for f in result["segments"]["staff"] for g in f["groups"]]
    for group in groups:
        assert group["n"] == departments.count(group["value"]) >= k
    shown = sum(g["n"] for g in groups)
    rest = (result["response_counts"]["staff"] or 0) - shown
    assert rest == 0 or rest >= k
    if total >= k:
        assert result["response_counts"]["staff"] == total
    for j, size in enumerate(sizes):  # a department below k is named nowhere in the output
        if size < k:
            assert f'"D{j}"' not in text
