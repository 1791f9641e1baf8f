"""Kagami settings: one module, every value from the environment.

Defaults are safe for a laptop (`make run` sets DEBUG=true); production sets
the variables listed in README.md → Configuration. A malformed value stops
start-up with the variable's name (see backend/env.py).
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from backend.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

_secret = env_str("SECRET_KEY", "")
if not _secret:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is false.")
    _secret = "kagami-insecure-development-key-only-for-debug-mode-0123456789"
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "surveys",
    "reports",
    "diagnosis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "backend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite by default; production: DATABASE_URL=postgres://user:pass@host:5432/kagami
_db_url = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at the same time; the busy timeout
    # makes a second writer wait instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

# PgBouncer in transaction mode between Kagami and PostgreSQL (README → Past one machine): a server
# connection serves another client after every transaction, so nothing may outlive one. Server-side
# cursors (named, WITH HOLD) and psycopg's automatic prepared statements would; SET LOCAL, transactional
# advisory locks and the COPY inside a transaction do not.
KAGAMI_PGBOUNCER = env_bool("KAGAMI_PGBOUNCER", False)


def _pooled(db: dict) -> dict:
    if KAGAMI_PGBOUNCER and db["ENGINE"] == "django.db.backends.postgresql":
        db["DISABLE_SERVER_SIDE_CURSORS"] = True
        db.setdefault("OPTIONS", {})["prepare_threshold"] = None
    return db


_pooled(DATABASES["default"])

# A PostgreSQL streaming replica for the gap's count reads (backend/db_router.py, reports/counts/replica.py).
_replica_url = env_str("KAGAMI_REPLICA_DATABASE_URL", "")
if _replica_url:
    try:
        _replica = dj_database_url.parse(_replica_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
    except ValueError as exc:
        raise ImproperlyConfigured(f"KAGAMI_REPLICA_DATABASE_URL is not a valid database URL: {exc}") from None
    if _replica["ENGINE"] != "django.db.backends.postgresql" or DATABASES["default"]["ENGINE"] != _replica["ENGINE"]:
        raise ImproperlyConfigured("KAGAMI_REPLICA_DATABASE_URL needs PostgreSQL for both DATABASE_URL and the replica")
    # Tests: the replica alias reads the test database by replication (the test runner creates none on it).
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _pooled(_replica)
    DATABASE_ROUTERS = ["backend.db_router.ReplicaRouter"]
# How long a count read waits for a replica behind the wave's data version before reading the primary.
KAGAMI_REPLICA_MAX_WAIT_MS = env_int("KAGAMI_REPLICA_MAX_WAIT_MS", 200, minimum=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Tokyo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Where saved files (the report PDFs) go: "filesystem" (MEDIA_ROOT, which must then be shared by every web
# and worker host) or "database" (reports.storage.DatabaseStorage: PostgreSQL, readable from every host).
KAGAMI_FILE_STORAGE = env_str("KAGAMI_FILE_STORAGE", "filesystem")
if KAGAMI_FILE_STORAGE not in ("filesystem", "database"):
    raise ImproperlyConfigured("KAGAMI_FILE_STORAGE must be 'filesystem' or 'database'")
if KAGAMI_FILE_STORAGE == "database":
    STORAGES["default"] = {"BACKEND": "reports.storage.DatabaseStorage"}

# Request size limits: survey bodies and imports are small; anything larger is refused.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 10_485_760, minimum=1024)
KAGAMI_MAX_IMPORT_BYTES = env_int("KAGAMI_MAX_IMPORT_BYTES", 20_971_520, minimum=1024)
# API imports (surveys/imports/, surveys/import_jobs.py): at most this many data rows (413 beyond), no cell
# longer than this (400); files of more than KAGAMI_IMPORT_SYNC_ROWS rows run as a background job (202).
KAGAMI_IMPORT_MAX_ROWS = env_int("KAGAMI_IMPORT_MAX_ROWS", 50_000, minimum=1)
KAGAMI_IMPORT_MAX_CELL_CHARS = env_int("KAGAMI_IMPORT_MAX_CELL_CHARS", 10_000, minimum=100)
KAGAMI_IMPORT_SYNC_ROWS = env_int("KAGAMI_IMPORT_SYNC_ROWS", 1_000, minimum=0)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# Email: console by default (prints invitations to the terminal).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Kagami <no-reply@kagami.localhost>")
# Absolute base for links in emails and printed demo URLs.
KAGAMI_PUBLIC_URL = env_str("KAGAMI_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# Cache: process-local by default; REDIS_URL makes rate limits shared across processes.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kagami"}}

# Background jobs: in-process threads unless a Celery broker is configured.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", "")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes "not logged in" a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "backend.api.errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Kagami API",
    "DESCRIPTION": (
        "Matched staff/customer surveys and the self-vs-customer perception gap. "
        'Errors share one shape: {"detail": "...", "code": "..."}; validation errors '
        "add DRF's per-field messages."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One name per choice set shared by several serializers.
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "surveys.models.Language",
        "SideEnum": "surveys.models.Side",
        "RoleEnum": "surveys.models.Role",
        "WaveStatusEnum": "surveys.models.WaveStatus",
        "WaveKindEnum": "surveys.models.WaveKind",
        "ItemKindEnum": "surveys.models.ItemKind",
        "ImportJobStatusEnum": "surveys.models.ImportJob.Status",
        "ImportJobKindEnum": "surveys.models.ImportJob.Kind",
        "ModuleEnum": "surveys.instruments.modules.MODULE_CHOICES",
    },
}

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/reports/"

# Security. Production (DEBUG=false) gets secure defaults; each can be overridden.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --------------------------------------------------------------------------- security: CSP, login throttling
# (issue 6 → hardening; kept in one block. backend/security.py holds the code these names point to.)
from datetime import timedelta  # noqa: E402

from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE  # noqa: E402

INSTALLED_APPS += ["csp", "axes"]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # last, as django-axes requires
TEMPLATES[0]["OPTIONS"]["context_processors"].append("csp.context_processors.nonce")

# Content Security Policy on every response. No 'unsafe-inline' and no 'unsafe-eval' for scripts: our
# pages load scripts from our own static files only, and the few inline <script>/<style> blocks (Swagger
# UI's initialiser, the report pages' styles) carry the per-request nonce; fixed third-party inline styles
# are allowed by their hashes. Style *attributes* stay allowed: the public form
# sets a CSS variable in one (they cannot run code). Docs are served offline, so nothing external.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [
            SELF, NONCE,
            "'sha256-blvLUW3UscWqsXGByNOqdBboM+ShWAuugp2mC/wbafU='",  # Django admin change list
            # ReDoc's bundle (drf-spectacular-sidecar, pinned) inserts one fixed stylesheet and an empty
            # <style> before its nonce option applies; both are constant text, allowed by hash.
            "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        ],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],  # ReDoc parses the schema in a blob: worker
        "manifest-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

# Login throttling (django-axes): admin login, /accounts/login/ and POST /api/v1/auth/token/ all go
# through authenticate(), which axes guards. Locked per (username, client IP), so an attacker elsewhere
# cannot lock a user out of their own office; the client IP honours KAGAMI_TRUSTED_PROXY_COUNT.
# Plus a per-address ceiling (KAGAMI_LOGIN_IP_FAILURE_LIMIT failures, any usernames, same cool-off):
# one password sprayed across many usernames is stopped too (backend/account_limits.py).
AUTHENTICATION_BACKENDS = [
    "backend.security.KagamiAxesBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]  # order matters to the handler
AXES_HANDLER = "backend.account_limits.KagamiAxesHandler"
KAGAMI_LOGIN_IP_FAILURE_LIMIT = env_int("KAGAMI_LOGIN_IP_FAILURE_LIMIT", 30, minimum=1)
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "backend.security.client_ip"
AXES_LOCKOUT_CALLABLE = "backend.security.lockout_response"
AXES_VERBOSE = False

# A report job whose worker stopped beating for this long was interrupted (kill -9, deploy) and is
# retried or failed by the sweep (reports/jobs.py); the crash-safety test sets it to a few seconds.
KAGAMI_REPORT_STALE_SECONDS = env_int("KAGAMI_REPORT_STALE_SECONDS", 600, minimum=2)
# PostgreSQL work_mem for the gap engine's one read of a wave (SET LOCAL, that query only).
KAGAMI_GAP_WORK_MEM = env_str("KAGAMI_GAP_WORK_MEM", "256MB")
if not __import__("re").fullmatch(r"[1-9][0-9]{0,6}(kB|MB|GB)", KAGAMI_GAP_WORK_MEM):
    raise ImproperlyConfigured("KAGAMI_GAP_WORK_MEM must be a PostgreSQL memory size such as 256MB or 1GB")
KAGAMI_GAP_COUNTS_CACHE_SECONDS = env_int("KAGAMI_GAP_COUNTS_CACHE_SECONDS", 7 * 24 * 3600, minimum=60)
# --------------------------------------------------------------------------- end of security block

# Public forms: how many reverse proxies in front of Kagami append to X-Forwarded-For
# (1 behind nginx). 0 trusts only the socket address, so nobody can forge their IP.
KAGAMI_TRUSTED_PROXY_COUNT = env_int("KAGAMI_TRUSTED_PROXY_COUNT", 0, minimum=0)
KAGAMI_PUBLIC_MAX_BODY_BYTES = env_int("KAGAMI_PUBLIC_MAX_BODY_BYTES", 131_072, minimum=4096)
KAGAMI_PUBLIC_FLOOD_LIMIT = env_int("KAGAMI_PUBLIC_FLOOD_LIMIT", 300, minimum=10)
KAGAMI_PUBLIC_FAILURE_LIMIT = env_int("KAGAMI_PUBLIC_FAILURE_LIMIT", 60, minimum=5)
# The staff anonymous link stores at most this many responses per client address and wave in a rolling
# 24 hours (invitation links and the customer link are not counted; see surveys/public/tickets.py).
# 50 lets an office of up to 50 behind one NAT all answer on the same day (larger ones: invitations, or
# over two days); it bounds bulk stuffing from one address, not the padding of a small group.
KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY = env_int("KAGAMI_STAFF_LINK_PER_ADDRESS_DAILY", 50, minimum=1)
# A reminder skips an invitation mailed less than this many hours ago (0: no cool-down); surveys/invitation_links.py.
KAGAMI_REMINDER_COOLDOWN_HOURS = env_int("KAGAMI_REMINDER_COOLDOWN_HOURS", 24, minimum=0)

# Domain settings.
KAGAMI_MIN_ANONYMITY_THRESHOLD = 3  # never below this, whatever a wave says
# The staff threshold of new waves. At least 5: a wave goes to 3 or 4 only with its own written, audited
# reason (surveys.services.wave_threshold_reason), never by a site-wide default.
KAGAMI_DEFAULT_ANONYMITY_THRESHOLD = env_int("KAGAMI_DEFAULT_ANONYMITY_THRESHOLD", 5, minimum=5)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
