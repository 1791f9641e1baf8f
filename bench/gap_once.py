"""One gap analysis of a bench wave in a fresh process: time and peak memory (JSON on stdout).

    python bench/gap_once.py --wave bench-1000000 [--cold [--rescan]] [--lang ja] [--profile out.txt] [--pdf]

``--cold`` empties the cache first (the count tables come from the ones kept in the database,
reports.counts.kept, plus any release since; results are computed); ``--rescan`` also forgets the kept
tables, so the whole wave is read (a wave's first read); without either, the cached counts are used if present. The
request goes through the real endpoint (DRF view, serializer) in-process.
``--pdf`` renders the full executive report instead (gap engine + WeasyPrint).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_bench")


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wave", required=True)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--rescan", action="store_true")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--profile")
    parser.add_argument("--pdf", action="store_true")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.cache import cache
    from django.test import Client

    import reports.api.gap_serializers  # noqa: F401  (imports numpy/pandas/scipy before the baseline)
    import reports.services  # noqa: F401
    cache.get("bench-warm-up")  # a worker's first use of the cache opens its connection: not part of a request
    from surveys.models import Membership, Role, Wave

    wave = Wave.objects.select_related("organization").get(slug=args.wave)
    if args.pdf:
        import weasyprint  # noqa: F401  (import paid once per worker; not part of the render time)

        from reports.context import build_report_context
        from reports.pdf.render import render_pdf
        from reports.services import gap_analysis
    if args.rescan:
        from reports.models import KeptCounts

        KeptCounts.objects.filter(wave=wave).delete()
    if args.cold:
        cache.clear()
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username=f"bench-{wave.organization.slug}")
    Membership.objects.get_or_create(user=user, organization=wave.organization, defaults={"role": Role.ANALYST})
    from rest_framework.authtoken.models import Token

    # Token auth, as an API client would: no login signal, no session.
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    baseline = _status("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    except OSError:
        pass
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.005)
        profiler.start()
    t0 = time.perf_counter()
    out: dict = {}
    if args.pdf:
        # CPU seconds beside the wall time: the render is one thread, so on a shared machine its wall time is
        # mostly waiting for a core (2026-12-07: 2-4x its CPU time at load average 8-11).
        c0 = time.process_time()
        analysis = gap_analysis(wave=wave, language=args.lang)
        t1, c1 = time.perf_counter(), time.process_time()
        rendered = render_pdf(build_report_context(analysis, language=args.lang, wave=wave))
        out.update(engine_s=t1 - t0, render_s=time.perf_counter() - t1, pages=rendered.page_count,
                   engine_cpu_s=c1 - c0, render_cpu_s=time.process_time() - c1, load=os.getloadavg()[0])
    else:
        response = client.get(f"/api/v1/waves/{wave.pk}/gap/", {"segments": "true", "lang": args.lang})
        assert response.status_code == 200, response.content[:500]
        out["bytes"] = len(response.content)
    out["seconds"] = time.perf_counter() - t0
    if profiler is not None:
        profiler.stop()
        Path(args.profile).write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    out.update(peak_rss_mb=_status("VmHWM") / 2**20, baseline_rss_mb=baseline / 2**20,
               peak_increase_mb=(_status("VmHWM") - baseline) / 2**20)
    print("JSON " + json.dumps(out))


if __name__ == "__main__":
    main()
