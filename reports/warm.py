"""Loading the gap engine before the first request, in processes that serve requests.

The engine (numpy, pandas, scipy and the statistics built on them) is imported lazily, so that ``manage.py``
commands and the tests start fast. A process that serves pages imports it when it starts instead: on the demo
(SQLite, ``runserver``, 2 shared cores) the imports were 8.5 s of a 15.9 s first mirror view (pyinstrument,
2026-12-08). ``backend.wsgi`` calls :func:`load_engine`, so both gunicorn's workers and ``runserver`` pay it
at start, not the first analyst.
"""

from __future__ import annotations


def load_engine() -> None:
    """Import what the first computed view would (the engine, its statistics and the gap API's serializers)."""
    import scipy.stats  # noqa: F401  (reports.context's intervals import from it when first used)

    import reports.api.gap_serializers  # noqa: F401
    import reports.pdf.charts  # noqa: F401  (the mirror page's charts)
    import reports.services  # noqa: F401
