"""PostgreSQL's binary COPY format, built by numpy for a whole batch of rows at once (the bulk loader's machinery).

Why it pays: ``surveys.bulk`` stored rows with psycopg's ``Copy.write_row``, which converts every field of every
row in Python; with the packing and the JSON that was about 50 µs a response, and the loader's rate was set by
it (bench/NOTES.md). Here each column of a batch becomes bytes in a few numpy operations (fixed-width values by
one ``astype`` to big-endian, texts with few distinct values encoded once each) and the rows are assembled by
scatter into one buffer, which psycopg sends with one ``Copy.write``. The format is PostgreSQL's documented one
(https://www.postgresql.org/docs/15/sql-copy.html, "Binary Format"): a header, then per row a 16-bit field count
and per field a 32-bit length (−1 for NULL) and the value in the type's binary send format, then a trailer.

This module knows the wire format and the send formats of the types it writes, nothing of Kagami's tables;
``surveys.bulk`` says which column is which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")  # signature, flags, extension
TRAILER = (-1).to_bytes(2, "big", signed=True)
_PG_EPOCH_DAY = np.datetime64("2000-01-01", "D")  # date and timestamp values count from here
_PG_EPOCH_US = np.datetime64("2000-01-01T00:00:00", "us")
_JSONB_VERSION = b"\x01"  # jsonb's binary format: a version byte, then the JSON text


@dataclass
class Field:
    """One column of a batch: per row its byte length (−1 for NULL) and where its bytes are in ``buffer``."""

    lengths: np.ndarray  # int64, −1 for NULL
    buffer: np.ndarray  # uint8
    starts: np.ndarray  # int64: row r's bytes are buffer[starts[r]:starts[r] + lengths[r]]


def _field(lengths: np.ndarray, buffer: np.ndarray, starts: np.ndarray, null: np.ndarray | None) -> Field:
    lengths = lengths.astype(np.int64, copy=True)
    if null is not None:
        lengths[np.asarray(null, dtype=bool)] = -1
    return Field(lengths=lengths, buffer=buffer, starts=starts.astype(np.int64, copy=False))


def fixed(values: np.ndarray, dtype: str, null: np.ndarray | None = None) -> Field:
    """A fixed-width number column (``dtype`` big-endian, e.g. ">i8", ">f8") from an array of one entry per row."""
    data = np.ascontiguousarray(np.asarray(values).astype(dtype))
    width = data.dtype.itemsize
    n = len(data)
    return _field(np.full(n, width), data.view(np.uint8), np.arange(n, dtype=np.int64) * width, null)


def raw(rows: np.ndarray, null: np.ndarray | None = None) -> Field:
    """A column of fixed-width bytes given as a (rows × width) uint8 array (a uuid is its 16 bytes)."""
    rows = np.ascontiguousarray(rows, dtype=np.uint8)
    n, width = rows.shape
    return _field(np.full(n, width), rows.reshape(-1), np.arange(n, dtype=np.int64) * width, null)


def variable(buffer: np.ndarray, lengths: np.ndarray, null: np.ndarray | None = None) -> Field:
    """A column of variable-length bytes, row after row in ``buffer`` (e.g. ``packing.pack_many``'s result)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    return _field(lengths, np.asarray(buffer, dtype=np.uint8), starts, null)


def coded(codes: np.ndarray, encoded: Sequence[bytes], null: np.ndarray | None = None) -> Field:
    """A column of few distinct values: ``encoded[codes[r]]`` is row r's bytes (each value encoded once)."""
    lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=len(encoded))
    starts = np.cumsum(lengths) - lengths
    codes = np.asarray(codes, dtype=np.int64)
    return _field(lengths[codes], np.frombuffer(b"".join(encoded), dtype=np.uint8), starts[codes], null)


def texts(values: Sequence[str]) -> Field:
    """A text column of any values (UTF-8), one Python string per row; few distinct values: use ``coded``."""
    encoded = [v.encode() for v in values]
    return variable(np.frombuffer(b"".join(encoded), dtype=np.uint8),
                    np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)))


def jsonb(codes: np.ndarray, json_texts: Sequence[str]) -> Field:
    """A jsonb column of few distinct documents, given as their JSON texts and each row's index into them."""
    return coded(codes, [_JSONB_VERSION + t.encode() for t in json_texts])


def dates(days: np.ndarray) -> Field:
    """A date column from datetime64 values (NaT is NULL)."""
    days = np.asarray(days, dtype="datetime64[D]")
    return fixed((days - _PG_EPOCH_DAY).astype(np.int64), ">i4", null=np.isnat(days))


def timestamps(moments: np.ndarray) -> Field:
    """A timestamptz column from datetime64 values in UTC (NaT is NULL), to the microsecond."""
    moments = np.asarray(moments, dtype="datetime64[us]")
    return fixed((moments - _PG_EPOCH_US).astype(np.int64), ">i8", null=np.isnat(moments))


def rows(fields: Sequence[Field]) -> np.ndarray:
    """The rows of a batch in the binary COPY format, without header or trailer, as one uint8 array."""
    n = len(fields[0].lengths)
    if any(len(f.lengths) != n for f in fields):
        raise ValueError("every column of a batch needs one value per row")
    sizes = np.full(n, 2, dtype=np.int64)  # the field count
    for f in fields:
        sizes += 4 + np.maximum(f.lengths, 0)
    ends = np.cumsum(sizes)
    total = int(ends[-1]) if n else 0
    out = np.empty(total, dtype=np.uint8)
    index = np.int32 if total < 2**31 else np.int64  # half the memory traffic of the scatters below
    at = (ends - sizes).astype(index)
    _put(out, at, np.frombuffer(len(fields).to_bytes(2, "big"), dtype=np.uint8))
    at += 2
    for f in fields:
        _put(out, at, f.lengths.astype(">i4").view(np.uint8).reshape(n, 4))
        at += 4
        present = np.maximum(f.lengths, 0).astype(index)
        widths = np.unique(present)
        if len(widths) == 1 or (len(widths) == 2 and widths[0] == 0):  # fixed width (some rows NULL)
            width = int(widths[-1])
            if width:
                keep = present > 0
                starts = f.starts[keep]
                _put(out, at[keep], f.buffer[starts[:, None] + np.arange(width, dtype=index)])
        elif (n_bytes := int(present.sum())):
            # Byte k of row r's value goes from buffer[starts[r] + k] to out[at[r] + k]: one scatter, and a gather
            # unless the values lie row after row in the buffer already.
            before = np.cumsum(present, dtype=index) - present
            step = np.arange(n_bytes, dtype=index)
            contiguous = bool((f.starts == before).all())
            source = f.buffer[:n_bytes] if contiguous else f.buffer[np.repeat(f.starts.astype(index) - before,
                                                                              present) + step]
            out[np.repeat(at - before, present) + step] = source
        at += present
    return out


def _put(out: np.ndarray, at: np.ndarray, values: np.ndarray) -> None:
    """out[at[r] + k] = values[r, k] (or values[k] for every row)."""
    out[at[:, None] + np.arange(values.shape[-1], dtype=at.dtype)] = values
