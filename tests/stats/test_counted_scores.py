"""A sample given as (value, count) gives exactly the results of the expanded sample."""

from __future__ import annotations

import numpy as np
import pytest

from reports import stats


def _pair(rng, n):
    values = np.array([1.0, 4 / 3, 5 / 3, 2.0, 2.5, 3.0, 11 / 3, 4.0, 4.5, 5.0])
    counts = rng.integers(0, 40, size=values.size)
    return values, counts, np.repeat(values, counts)


@pytest.mark.parametrize("seed", range(5))
def test_dimension_comparison_and_did_are_the_same_on_counted_scores(seed):
    rng = np.random.default_rng(seed)
    parts = [_pair(rng, 10) for _ in range(4)]
    expanded = [rng.permutation(p[2]) for p in parts]
    counted = [stats.CountedScores(p[0], p[1]) for p in parts]
    assert counted[0].size == expanded[0].size
    a = stats.dimension_comparison(expanded[0], expanded[1], levels=[1, 2, 3, 4, 5])
    b = stats.dimension_comparison(counted[0], counted[1], levels=[1, 2, 3, 4, 5])
    assert a == b
    assert stats.did_from_scores(*expanded) == stats.did_from_scores(*counted)
    values_a, counts_a = stats.tabulate(expanded[0], counted[1])
    values_b, counts_b = stats.tabulate(counted[0], expanded[1])
    assert values_a.tolist() == values_b.tolist()


def test_counted_scores_refuses_what_an_array_would_not_be():
    with pytest.raises(ValueError, match="same length"):
        stats.CountedScores([1.0, 2.0], [1])
    with pytest.raises(ValueError, match="non-negative"):
        stats.CountedScores([1.0], [-1])
    with pytest.raises(ValueError, match="infinite"):
        stats.dimension_comparison(stats.CountedScores([np.inf], [1]), [1.0], levels=[1, 2, 3, 4, 5])
    empty = stats.CountedScores([], [])
    assert empty.size == 0
    assert stats.dimension_comparison(empty, [3.0] * 10, levels=[1, 2, 3, 4, 5])["report_status"] == "no_data"
