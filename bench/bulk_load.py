"""The bulk load alone, as ``bench/run.py`` measures it: ``bench.data.bench_wave`` (generator and loader), JSON out.

    python bench/bulk_load.py --sizes 100000,1000000 [--profile out.txt]

Each size loads a fresh wave (its own organisation) in the quiet-database mode that ``bench_wave`` uses from
100,000 responses, into the configured database, and reports the seconds ``bench_wave`` returns (what
``bench/run.py`` records as ``load_s``). It then runs the benchmark's generator alone for the same wave and
size, without loading anything, so that the loader's share of the figure can be told from the generator's.
The server's durability settings and the load average before and after are printed with the figures: only
ratios within one run on one machine mean much. So is the CPU per response of this process and of its
PostgreSQL backend (read from /proc: the server must run on this machine), which depends much less on the load
than the wall time; a parallel index build's workers, the WAL writer and the checkpointer are not counted.
``--profile`` writes a cProfile of the first size's load.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--profile")
    args = parser.parse_args()

    import django

    django.setup()
    import numpy as np
    from django.db import connection

    from bench import data
    from surveys.models import CustomerAccount

    with connection.cursor() as c:
        settings = {}
        for name in ("fsync", "synchronous_commit", "full_page_writes", "maintenance_work_mem", "shared_buffers"):
            c.execute(f"SHOW {name}")
            settings[name] = c.fetchone()[0]
        c.execute("SELECT pg_backend_pid()")
        backend = c.fetchone()[0]
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    tick = os.sysconf("SC_CLK_TCK")

    def cpu() -> tuple[float, float | None]:
        """CPU seconds of this process (both its threads) and of its PostgreSQL backend (same machine only)."""
        own = resource.getrusage(resource.RUSAGE_SELF)
        try:
            fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
            server = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        except OSError:
            server = None
        return own.ru_utime + own.ru_stime, server

    out = {"commit": commit, "server": settings, "sizes": {}}
    for k, n in enumerate(int(s) for s in args.sizes.split(",")):
        slug = f"bench-bulk-{n}-{int(time.time())}"
        before = os.getloadavg()
        cpu_before = cpu()
        profiler = cProfile.Profile() if args.profile and k == 0 else None
        if profiler:
            profiler.enable()
        wave, load_s = data.bench_wave(n, seed=7, slug=slug)
        if profiler:
            profiler.disable()
            with open(args.profile, "w") as fh:
                pstats.Stats(profiler, stream=fh).sort_stats("cumulative").print_stats(40)
        cpu_after = cpu()
        after = os.getloadavg()
        # The generator alone, same seed and wave (the stream is the one bench_wave drew from).
        rng = np.random.default_rng([7, n])
        rng.choice(["active", "renewed", "churned"], size=data.ACCOUNTS, p=[0.5, 0.35, 0.15])
        rng.choice(data.TIERS, size=data.ACCOUNTS, p=[0.1, 0.3, 0.6])
        accounts = list(CustomerAccount.objects.filter(organization=wave.organization).order_by("external_id")
                        .values_list("id", "tier"))
        began = time.perf_counter()
        for _ in data._rows(wave, n, rng, accounts):
            pass
        generator_s = time.perf_counter() - began
        out["sizes"][n] = entry = {"load_s": round(load_s, 2), "rate": round(n / load_s), "generator_alone_s":
                                   round(generator_s, 2), "loadavg_before": before, "loadavg_after": after,
                                   # CPU of the whole bench_wave call (wave and accounts made too; small)
                                   "python_cpu_us_per_response": round((cpu_after[0] - cpu_before[0]) / n * 1e6, 1),
                                   "backend_cpu_us_per_response": None if cpu_after[1] is None else
                                   round((cpu_after[1] - cpu_before[1]) / n * 1e6, 1)}
        print(f"{n}: {entry}", file=sys.stderr, flush=True)
    print("JSON " + json.dumps(out))


if __name__ == "__main__":
    main()
