"""Results of pure, costly statistics kept in the cache under a digest of their inputs.

Why it pays: the key drivers (a 1,000-resample bootstrap per outcome) and the measurement-invariance fits
(three maximum-likelihood fits per dimension) are whole-side figures: they do not follow the page's filters,
yet every filtered view, every column of the mirror's trend and every PDF asked for them again. On the demo
wave (SQLite, 2 shared cores) a filtered web-mirror view spent 2.1 s of 4.7 s of engine time in the drivers of
its trend wave and 1.1 s in the invariance fits (pyinstrument, 2026-12-07).

The key is a digest of the inputs' bytes (arrays with their dtype and shape) and of a format number the caller
bumps when the function's output changes: a kept result is the result of the very same inputs, so nothing has
to be invalidated. The cache pickles what it keeps, so a caller may change the dict it gets back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np
from django.conf import settings
from django.core.cache import cache

T = TypeVar("T")


def _feed(digest: Any, part: Any) -> None:
    if isinstance(part, np.ndarray):
        digest.update(f"nd{part.dtype.str}{part.shape}".encode())
        digest.update(np.ascontiguousarray(part).tobytes())
    elif isinstance(part, (list, tuple)):
        digest.update(f"seq{len(part)}".encode())
        for sub in part:
            _feed(digest, sub)
    else:
        digest.update(f"{type(part).__name__}:{part!r};".encode())


def kept(name: str, version: int, inputs: Iterable[Any], compute: Callable[[], T]) -> T:
    """``compute()``, kept under ``name``, ``version`` and the digest of ``inputs`` (everything it reads)."""
    digest = hashlib.sha256(f"{name}:{version}".encode())
    _feed(digest, list(inputs))
    key = f"memo:{name}:{digest.hexdigest()}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, getattr(settings, "KAGAMI_GAP_COUNTS_CACHE_SECONDS", 7 * 24 * 3600))
    return value
