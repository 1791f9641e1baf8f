"""WSGI entry point (gunicorn backend.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
application = get_wsgi_application()

# A serving process loads the gap engine now, not on an analyst's first view (reports/warm.py).
from reports.warm import load_engine  # noqa: E402  (needs the apps loaded above)

load_engine()
