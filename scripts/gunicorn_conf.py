"""gunicorn settings for scripts/prod.sh (and a starting point for real servers).

The gap engine (numpy, pandas, scipy) is imported lazily so that `manage.py`
and tests start fast; each worker imports it when it loads the application
(backend/wsgi.py, reports/warm.py), so no analyst's request pays seconds of
imports on a fresh worker.

Sync workers (gunicorn's default class), on purpose. A form post waits for its commit's fsync, so threads
looked like the fix for posts, but on the 2-core bench machine they measured worse, like for like
(bench/post_cpu.py, the same stack and wave, 2026-12-07 21:21-21:24 UTC, load average 7.6-9.0): 5 sync
workers gave posts at 0.39-0.42 of the trivial view's rate (post p99 0.29-0.34 s), 3 gthread workers
of 4 threads 0.22-0.26 (p99 0.55-4.5 s). The machine is CPU-bound either way: threads with keep-alive
cut the trivial view's CPU per request (2.1-2.2 ms against 2.8-3.1 ms) but not the post's (8.5 ms in the
round measured whole, against 8.3-8.5 ms; web workers, PostgreSQL, Redis and wrk together), and
wrk's kept connections pile up unevenly on the threads. Give the database its own host before more
workers or threads (bench/NOTES.md).
"""

from __future__ import annotations
