"""reports.memo keeps a pure function's result under the digest of everything it reads: the same inputs never
compute twice, and any change of an input, of its type or shape, or of the format number computes again."""

from __future__ import annotations

import numpy as np
import pytest

from reports import memo


@pytest.fixture
def calls():
    seen: list[tuple] = []

    def compute(*args):
        seen.append(args)
        return {"result": len(seen), "list": [1, 2]}

    return seen, compute


def test_the_same_inputs_compute_once_and_the_caller_may_change_what_it_gets(calls):
    seen, compute = calls
    x = np.array([[1.0, np.nan], [2.0, 3.0]])
    first = memo.kept("t", 1, [x, ("a", "b"), True, 5], lambda: compute(1))
    first["list"].append(3)  # the kept copy is not the caller's
    again = memo.kept("t", 1, [x.copy(), ("a", "b"), True, 5], lambda: compute(2))
    assert len(seen) == 1 and again == {"result": 1, "list": [1, 2]}


@pytest.mark.parametrize("changed", [
    lambda x: [x + 1e-12, ("a", "b"), True, 5],          # a value
    lambda x: [x.astype(np.float32), ("a", "b"), True, 5],  # its dtype
    lambda x: [x.reshape(4, 1), ("a", "b"), True, 5],    # its shape
    lambda x: [x, ("a", "c"), True, 5],                  # a key
    lambda x: [x, ("a", "b"), False, 5],                 # a flag
    lambda x: [x, ("a", "b"), True, 6],                  # k
])
def test_any_change_of_an_input_computes_again(calls, changed):
    seen, compute = calls
    x = np.array([[1.0, 2.0], [2.0, 3.0]])
    memo.kept("t", 1, [x, ("a", "b"), True, 5], lambda: compute(1))
    memo.kept("t", 1, changed(x), lambda: compute(2))
    assert len(seen) == 2


def test_a_new_format_number_or_name_computes_again(calls):
    seen, compute = calls
    memo.kept("t", 1, [1], lambda: compute(1))
    memo.kept("t", 2, [1], lambda: compute(2))
    memo.kept("u", 1, [1], lambda: compute(3))
    assert len(seen) == 3
