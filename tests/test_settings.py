"""Settings come from the environment, fail loudly on bad values, and pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7#kq!2vL9@pZ4mN8$wR6^tY1&uI3*oP5(aS0)dF-gH+jK=lZ_cV",
    "DATABASE_URL": "postgres://kagami:secret@db.internal:5432/kagami",
    "ALLOWED_HOSTS": "kagami.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://kagami.example.com",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and not k.startswith("SECURE_")
             and k not in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "DJANGO_SETTINGS_MODULE",
                           # set by the browser tests' conftest for Playwright; never in a deployment
                           "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_the_production_settings_pass_check_deploy_without_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("SECRET_KEY", "", "SECRET_KEY is required"),
        ("EMAIL_PORT", "twenty-five", "EMAIL_PORT='twenty-five' is not an integer"),
        ("DATABASE_URL", "nosuchdb://x", "DATABASE_URL"),
        ("KAGAMI_REPLICA_DATABASE_URL", "sqlite:///replica.sqlite3", "KAGAMI_REPLICA_DATABASE_URL needs PostgreSQL"),
        ("KAGAMI_PGBOUNCER", "perhaps", "KAGAMI_PGBOUNCER='perhaps' is not a boolean"),
        ("KAGAMI_FILE_STORAGE", "s3", "KAGAMI_FILE_STORAGE must be 'filesystem' or 'database'"),
    ],
)
def test_a_bad_environment_value_stops_start_up_naming_the_variable(variable, value, message):
    result = _manage("check", env={**PRODUCTION, variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_pgbouncer_mode_drops_what_would_outlive_a_transaction_and_a_replica_gets_the_router():
    code = ("from django.conf import settings as s; d = s.DATABASES; "
            "print(d['default']['DISABLE_SERVER_SIDE_CURSORS'], d['default']['OPTIONS']['prepare_threshold'], "
            "d['replica']['DISABLE_SERVER_SIDE_CURSORS'], d['replica']['OPTIONS']['prepare_threshold'], "
            "d['replica']['HOST'], s.DATABASE_ROUTERS)")
    env = {**PRODUCTION, "KAGAMI_PGBOUNCER": "1",
           "KAGAMI_REPLICA_DATABASE_URL": "postgres://kagami:secret@replica.internal:5432/kagami"}
    result = _manage("shell", "-v", "0", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "None", "True", "None", "replica.internal",
                                     "['backend.db_router.ReplicaRouter']"]
    # Without the flag nothing of it is set.
    result = _manage("shell", "-v", "0", "-c", "from django.conf import settings as s; d = s.DATABASES['default']; "
                     "print(d.get('DISABLE_SERVER_SIDE_CURSORS', False), 'prepare_threshold' in d['OPTIONS'], "
                     "list(s.DATABASES), getattr(s, 'DATABASE_ROUTERS', []))",
                     env={**PRODUCTION, "KAGAMI_PGBOUNCER": "false", "KAGAMI_REPLICA_DATABASE_URL": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "['default']", "[]"]
