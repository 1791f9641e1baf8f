"""The first read's publishing after a bulk load: is it an UPDATE of every loaded row? JSON out.

    python bench/publish_after_load.py --sizes 100000,1000000

Each size loads a fresh bench wave (``bench.data.bench_wave``, the quiet-database mode from 100,000), then
times the first ``surveys.releases.publish_due`` of the wave, which a reader's first request runs, and the rows
PostgreSQL's statistics count as updated in the response table meanwhile (``pg_stat_xact_user_tables`` is per
transaction, so the counters are read from ``pg_stat_user_tables`` after ``pg_stat_clear_snapshot``).
Before the import stamped its own release (branch stamp-at-import), that publish rewrote every row: 632 s at
10M with production durability (bench/NOTES.md). Run under ``KAGAMI_TEST_DURABLE=1 scripts/with_postgres.sh``;
the load average before and after each step is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from bench import data
    from surveys.models import Release, SurveyResponse
    from surveys.releases import publish_due

    def updated_rows() -> int:
        with connection.cursor() as c:
            c.execute("SELECT pg_stat_force_next_flush()")  # PostgreSQL 15: this backend's own counts
            c.execute("SELECT pg_stat_clear_snapshot()")
            c.execute("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = %s",
                      [SurveyResponse._meta.db_table])
            return int(c.fetchone()[0])

    with connection.cursor() as c:
        c.execute("SHOW fsync")
        fsync = c.fetchone()[0]
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    out = {"commit": commit, "fsync": fsync, "sizes": {}}
    for n in (int(s) for s in args.sizes.split(",")):
        load_before = os.getloadavg()
        wave, load_s = data.bench_wave(n, seed=7, slug=f"bench-publish-{n}-{int(time.time())}")
        after_load = os.getloadavg()
        released_at_load = list(Release.objects.filter(wave=wave).values_list("side", "number", "n_added"))
        upd_before = updated_rows()
        began = time.perf_counter()
        publish_due(wave)
        publish_s = time.perf_counter() - began
        time.sleep(0.6)  # statistics reach the shared counters on the next flush (at most 1 s in PostgreSQL 15)
        upd = updated_rows() - upd_before
        out["sizes"][n] = entry = {
            "load_s": round(load_s, 2), "first_publish_s": round(publish_s, 3), "rows_updated_by_publish": upd,
            "releases_made_by_load": released_at_load,
            "releases_after_publish": list(Release.objects.filter(wave=wave).values_list("side", "number", "n_added")),
            "loadavg_before_load": load_before, "loadavg_after_load": after_load,
            "loadavg_after_publish": os.getloadavg()}
        print(f"{n}: {entry}", file=sys.stderr, flush=True)
    print("JSON " + json.dumps(out))


if __name__ == "__main__":
    main()
