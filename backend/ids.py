"""Ids from URLs, query strings and forms: the one parser, for the API and the pages alike.

A value that is not an id is None (the caller answers 404, or 400 naming the field), never a 500:
``str.isdigit()`` accepts "²", which ``int()`` and so the ORM refuse, and an id longer than 18 digits
overflows the database driver (SQLite: OverflowError).
"""

from __future__ import annotations

import uuid
from typing import Any

MAX_ID_DIGITS = 18  # larger ids exist nowhere


def parse_id(value: Any) -> int | None:
    """An integer id (ASCII digits, at most MAX_ID_DIGITS; or an int in range); None when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value < 10**MAX_ID_DIGITS else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= MAX_ID_DIGITS:
        return int(value)
    return None


def parse_uuid(value: Any) -> uuid.UUID | None:
    """A UUID id (report and import jobs); None when it is not one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
