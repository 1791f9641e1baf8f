"""The Celery app: ``celery -A backend worker``. Only used when CELERY_BROKER_URL is set."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

app = Celery("kagami")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
