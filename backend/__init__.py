"""Kagami's Django project package.

The Celery app is loaded only when a broker is configured: importing Celery
costs start-up time that the default in-process job runner does not need.
"""

import os

if os.environ.get("CELERY_BROKER_URL"):
    from .celery import app as celery_app

    __all__ = ("celery_app",)
