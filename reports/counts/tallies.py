"""Running sums keyed by integer codes: how the one-pass reader tallies a wave without growing with it."""

from __future__ import annotations

import numpy as np
import pandas as pd


class SparseSum:
    """Running sums keyed by int64 codes: the table stays as large as its distinct keys, never as the wave.

    The table's keys are kept sorted: a chunk's distinct keys already in it are
    found by binary search and added in place; new keys wait in a pending list,
    merged into the table (one sort) only when it has grown by a quarter, so the
    sorting costs stay proportional to the table, not to the number of chunks.
    """

    def __init__(self, width: int):
        self._keys = np.zeros(0, dtype=np.int64)
        self._sums = np.zeros((width, 0))
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_size = 0

    def add(self, keys: np.ndarray, *values: np.ndarray) -> None:
        inverse, uniq = pd.factorize(keys)  # hashing, not sorting: the chunk's keys are many, its distinct keys few
        sums = np.stack([np.bincount(inverse, np.asarray(v, dtype=np.float64), minlength=uniq.size) for v in values])
        at = np.searchsorted(self._keys, uniq)
        known = at < self._keys.size
        known[known] = self._keys[at[known]] == uniq[known]
        self._sums[:, at[known]] += sums[:, known]  # distinct keys: no two land on the same slot
        if not known.all():
            self._pending.append((uniq[~known], sums[:, ~known]))
            self._pending_size += int((~known).sum())
            if self._pending_size > max(1 << 16, self._keys.size // 4):
                self._merge()

    def _merge(self) -> None:
        if not self._pending:
            return
        keys = np.concatenate([self._keys, *(k for k, _ in self._pending)])
        sums = np.concatenate([self._sums, *(v for _, v in self._pending)], axis=1)
        self._pending, self._pending_size = [], 0
        uniq, inverse = np.unique(keys, return_inverse=True)
        self._keys = uniq
        self._sums = np.stack([np.bincount(inverse, row, minlength=uniq.size) for row in sums])

    @property
    def keys(self) -> np.ndarray:
        self._merge()
        return self._keys

    @property
    def sums(self) -> np.ndarray:
        self._merge()
        return self._sums


class DenseSum:
    """Running sums indexed by small non-negative codes (``np.bincount``), sparse once they would not be small."""

    LIMIT = 1 << 21  # codes; beyond this many, the table turns into a SparseSum

    def __init__(self, width: int):
        self._sums: np.ndarray | None = np.zeros((width, 0))
        self._sparse: SparseSum | None = None

    def add(self, keys: np.ndarray, *values: np.ndarray) -> None:
        if self._sparse is None:
            size = int(keys.max()) + 1 if keys.size else 0
            if size <= self.LIMIT:
                if size > self._sums.shape[1]:
                    grown = np.zeros((self._sums.shape[0], max(size, 2 * self._sums.shape[1])))
                    grown[:, :self._sums.shape[1]] = self._sums
                    self._sums = grown
                for row, v in zip(self._sums, values, strict=True):
                    row += np.bincount(keys, np.asarray(v, dtype=np.float64), minlength=row.size)
                return
            self._sparse = SparseSum(self._sums.shape[0])
            used = np.flatnonzero(self._sums[0])
            if used.size:
                self._sparse.add(used, *self._sums[:, used])
            self._sums = None
        self._sparse.add(keys, *values)

    @property
    def keys(self) -> np.ndarray:
        return self._sparse.keys if self._sparse is not None else np.flatnonzero(self._sums[0])

    @property
    def sums(self) -> np.ndarray:
        return self._sparse.sums if self._sparse is not None else self._sums[:, np.flatnonzero(self._sums[0])]


def weighted_columns(keys: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, ...]:
    """The columns of a table with n, SUM(weight) and SUM(weight²) (docs/methods.md §9)."""
    return keys, np.ones(keys.size), weight, weight * weight
