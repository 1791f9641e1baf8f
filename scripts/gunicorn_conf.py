"""gunicorn settings for scripts/prod.sh (and a starting point for real servers).

The gap engine (numpy, pandas, scipy) is imported lazily so that `manage.py`
and tests start fast; a web worker imports it when it boots instead, so no
analyst's request pays seconds of imports on a fresh worker.
"""

from __future__ import annotations


def post_worker_init(worker) -> None:  # noqa: ARG001  (gunicorn's hook signature)
    import reports.api.gap_serializers  # noqa: F401
    import reports.services  # noqa: F401
