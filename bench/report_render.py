"""Time a full executive report of the demo wave: gap engine, context, HTML+charts, WeasyPrint layout and PDF.

Usage (any database with the demo loaded, e.g. after `manage.py load_demo --responses 200`):
    python bench/report_render.py [--wave demo-2026-h2] [--repeat 3]
Prints one line per language with the median of each step in seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wave", default="demo-2026-h2")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    t0 = time.perf_counter()
    import weasyprint  # noqa: F401  (import cost is paid once per worker process; reported apart)

    import_s = time.perf_counter() - t0
    from reports.context import build_report_context
    from reports.pdf.render import render_pdf
    from reports.services import gap_analysis
    from surveys.models import SurveyResponse, Wave

    wave = Wave.objects.select_related("previous_wave").get(slug=args.wave)
    n = SurveyResponse.objects.filter(wave=wave).count()
    print(f"wave {wave.slug}: {n} responses; weasyprint import {import_s:.2f} s")
    for language in ("ja", "en"):
        steps: dict[str, list[float]] = {"analysis": [], "context": [], "render": [], "total": []}
        pages = 0
        for _ in range(args.repeat):
            t = time.perf_counter()
            analysis = gap_analysis(wave=wave, compare_wave=wave.previous_wave, language=language)
            t1 = time.perf_counter()
            ctx = build_report_context(analysis, language=language, wave=wave)
            t2 = time.perf_counter()
            rendered = render_pdf(ctx)
            t3 = time.perf_counter()
            pages = rendered.page_count
            for key, value in (("analysis", t1 - t), ("context", t2 - t1), ("render", t3 - t2), ("total", t3 - t)):
                steps[key].append(value)
        medians = ", ".join(f"{k} {statistics.median(v):.2f} s" for k, v in steps.items())
        print(f"{language}: {pages} pages; median of {args.repeat}: {medians}")


if __name__ == "__main__":
    main()
