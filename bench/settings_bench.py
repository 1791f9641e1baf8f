"""The production settings plus one trivial view (the framework's ceiling) and no flood limit for the load test."""

from __future__ import annotations

import os

os.environ.setdefault("KAGAMI_PUBLIC_FLOOD_LIMIT", "1000000000")

from backend.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.urls"
