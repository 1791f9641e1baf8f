"""bench/caches.py runs at a tiny size and measures every process cache with and without it (no timing asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.no_database  # the script makes and removes its own SQLite database, in a process of its own
def test_the_cache_benchmark_measures_each_cache_with_and_without_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DEBUG="1", DJANGO_SETTINGS_MODULE="bench.settings_bench", TMPDIR=str(tmp_path))
    run = subprocess.run(
        [sys.executable, "bench/caches.py", "--responses", "60", "--requests", "2", "--rounds", "2",
         "--gap-rounds", "1", "--repeats", "1"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    result = json.loads(next(line[5:] for line in run.stdout.splitlines() if line.startswith("JSON ")))
    caches = result["caches"]
    assert set(caches) == {"frozen_instruments", "recent_links", "wave_counts", "gap_results"}
    measured = [caches["frozen_instruments"]["post"], caches["frozen_instruments"]["get"],
                caches["recent_links"]["post"], caches["wave_counts"]["gap"], caches["gap_results"]["gap"]]
    for figures in measured:
        for key in ("with_cpu_ms", "without_cpu_ms", "with_wall_ms", "without_wall_ms", "ratio_cpu", "ratio_wall"):
            assert figures[key] > 0, (key, figures)
        assert len(figures["rounds_cpu_ms"]["with"]) == len(figures["rounds_cpu_ms"]["without"]) >= 1
    # SQLite keeps a trigger-kept data version too (reports.counts.sqlite_version): the tables are kept there.
    assert caches["wave_counts"]["active"] is True
    assert caches["wave_counts"]["fingerprint_ms"] > 0 and "compute_ms" not in caches["wave_counts"]
    assert (result["machine"]["database"], result["responses"]) == ("sqlite", 60)
    assert list(tmp_path.iterdir()) == []  # its temporary database is gone
