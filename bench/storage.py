"""Bytes per response on PostgreSQL: the on-disk size of a benchmark wave's tables and indexes (JSON).

    scripts/with_postgres.sh env DEBUG=1 python bench/storage.py --responses 20000

Migrates the configured (PostgreSQL) database, loads ``bench_wave(n)`` (bench/data.py: its shape, its
seed), publishes it as the benchmark does, runs VACUUM ANALYZE and prints, per table that grows with the
responses, its heap + TOAST + indexes divided by the number of responses. The figures feed the sizing
arithmetic of README → Past one machine; everything else in the database (instruments, organisations,
accounts) does not grow with responses and is left out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

GROWING = ("surveys_surveyresponse",)  # the answers are packed in its rows (surveys.packing; surveys_answer is a view)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--responses", type=int, default=20_000)
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.data import bench_wave
    from surveys import releases

    if connection.vendor != "postgresql":
        raise SystemExit("bench/storage.py measures PostgreSQL: run it through scripts/with_postgres.sh")
    call_command("migrate", interactive=False, verbosity=0)
    began = time.monotonic()
    wave, _ = bench_wave(args.responses)
    releases.publish_due(wave)
    loaded_s = time.monotonic() - began
    with connection.cursor() as cursor:
        for table in GROWING:
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT count(*) FROM surveys_surveyresponse WHERE wave_id = %s", [wave.pk])
        n = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(sum(length(answers_packed) / 6), 0) FROM surveys_surveyresponse "
                       "WHERE wave_id = %s", [wave.pk])
        answers = cursor.fetchone()[0]
        tables = {}
        for table in GROWING:
            cursor.execute("SELECT pg_table_size(%s::regclass), pg_indexes_size(%s::regclass)", [table, table])
            heap, indexes = cursor.fetchone()
            tables[table] = {"heap_bytes": heap, "index_bytes": indexes,
                             "bytes_per_response": round((heap + indexes) / n, 1)}
    total = sum(t["heap_bytes"] + t["index_bytes"] for t in tables.values())
    print("JSON " + json.dumps({"responses": n, "answers": answers, "load_s": round(loaded_s, 1), "tables": tables,
                                "bytes_per_response": round(total / n, 1)}))


if __name__ == "__main__":
    main()
