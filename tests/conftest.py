"""Shared fixtures: one organization and a fixed cast of users in every permission test.

owner (admin), analyst, executive of ``org``; ``outsider`` is an admin of
``other_org``; ``anon`` is nobody. Clients are DRF APIClients logged in as each.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from surveys import models as m
from tests import factories as f

# Tests that cannot touch a database, so running them on a second database proves nothing new: the
# statistics (no database by design), report contexts and PDFs built from hand-written analyses, the
# OpenAPI schema, and the settings checks (subprocesses with their own environment).
NO_DATABASE = ("tests/stats/", "tests/reports/test_context.py", "tests/reports/test_pdf.py",
               "tests/test_openapi_schema.py", "tests/test_settings.py", "tests/security/test_disclosure_structure.py",
               "tests/security/test_disclosure_policy.py", "tests/test_structure.py", "tests/diagnosis/test_scoring.py",
               "tests/bench/test_coverage_script.py", "tests/reports/test_analyse_csv_exports.py",
               "tests/reports/test_analyse_csv_segments.py")
# Tests that use a database but whose subject is what a page, a PDF or the browser shows for an analysis, not how
# the analysis was read: they run in the SQLite pass only. That each database reads the same count tables, and so
# gives the same analysis, is proven on PostgreSQL by tests/gap/test_onepass.py (both readers, equal on random, the
# demo's and the journey's waves) and the gap API tests; the cached and replica reads by their own tests.
RENDERING = ("tests/browser/", "tests/reports/test_pdf_vs_api.py", "tests/reports/test_pdf_truth.py",
             "tests/reports/test_demo_report.py", "tests/reports/test_web_mirror.py", "tests/diagnosis/test_pdf.py")
# The slowest modules, slowest first. scripts/run_tests.sh hands whole modules to its two workers in
# collection order (--dist loadscope --no-loadscope-reorder), the next one to whichever is nearly done:
# starting the long ones first keeps both workers busy to the end. Only the order depends on this list.
RUN_FIRST = ("tests/security/test_anonymity.py", "tests/reports/test_demo_report.py",
             "tests/security/test_crash_safety.py", "tests/security/test_fuzz_api.py",
             "tests/security/test_concurrency.py", "tests/browser/", "tests/security/test_tenant_isolation.py",
             "tests/surveys/test_admin.py", "tests/surveys/api/test_api_permissions.py")
# (Not django_db_blocker: pytest-django's autouse fixtures ask for it in every test.)
DB_FIXTURES = frozenset({"db", "transactional_db", "django_db_setup", "live_server", "django_db_reset_sequences",
                         "django_db_serialized_rollback"})


def _skip_no_database() -> bool:
    # scripts/run_tests.sh sets this for its PostgreSQL pass; a run on PostgreSQL alone runs everything.
    return os.environ.get("KAGAMI_SKIP_NO_DATABASE_TESTS") == "1"


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _in_no_database_path(path: Path, root: Path) -> bool:
    return _relative(path, root).startswith(NO_DATABASE)


def _once_only(path: Path, root: Path) -> bool:
    """Left out of scripts/run_tests.sh's PostgreSQL pass: it ran in the SQLite pass and proves nothing new there."""
    return _relative(path, root).startswith(NO_DATABASE + RENDERING)


def _run_rank(item: pytest.Item, root: Path) -> int:
    path = _relative(Path(str(item.path)), root)
    return next((rank for rank, prefix in enumerate(RUN_FIRST) if path.startswith(prefix)), len(RUN_FIRST))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    # Not even imported when skipped: the statistics tests alone import pingouin and statsmodels,
    # seconds per worker.
    if _skip_no_database() and _once_only(collection_path, config.rootpath):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    kept, deselected = [], []
    for item in items:
        if "postgres_only" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL; runs in the PostgreSQL pass of make test"))
        if _in_no_database_path(Path(str(item.path)), config.rootpath):
            item.add_marker(pytest.mark.no_database)
        if "no_database" in item.keywords:
            if item.get_closest_marker("django_db") or DB_FIXTURES & set(getattr(item, "fixturenames", ())):
                raise pytest.UsageError(f"{item.nodeid} is marked no_database but asks for the database")
        if _skip_no_database() and ("no_database" in item.keywords or _once_only(Path(str(item.path)),
                                                                                config.rootpath)):
            deselected.append(item)  # named on the command line, so collected all the same
            continue
        kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    # A stable sort: within a module (and among the rest) pytest-django's order stays.
    items[:] = sorted(kept, key=lambda item: _run_rank(item, config.rootpath))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache. On SQLite a rolled-back test gives its primary keys back, so the next
    test's wave can have the same id and the same data version (reports.counts.version) as the last one's: a kept
    count table or analysis must not outlive the test that made it."""
    cache.clear()


@pytest.fixture
def org(db) -> m.Organization:
    return f.OrganizationFactory(name="Mirror Corp", slug="mirror", display_name_en="Mirror Corp",
                                 display_name_ja="ミラー株式会社")


@pytest.fixture
def other_org(db) -> m.Organization:
    return f.OrganizationFactory(name="Other Inc", slug="other")


def _member(org: m.Organization, role: str, username: str):
    user = f.UserFactory(username=username)
    m.Membership.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def owner(org):
    return _member(org, m.Role.ADMIN, "owner")


@pytest.fixture
def analyst(org):
    return _member(org, m.Role.ANALYST, "analyst")


@pytest.fixture
def executive(org):
    return _member(org, m.Role.EXECUTIVE, "executive")


@pytest.fixture
def outsider(other_org):
    return _member(other_org, m.Role.ADMIN, "outsider")


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    return client


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def owner_client(owner) -> APIClient:
    return _client(owner)


@pytest.fixture
def analyst_client(analyst) -> APIClient:
    return _client(analyst)


@pytest.fixture
def executive_client(executive) -> APIClient:
    return _client(executive)


@pytest.fixture
def outsider_client(outsider) -> APIClient:
    return _client(outsider)


@pytest.fixture
def clients(anon_client, owner_client, analyst_client, executive_client, outsider_client) -> dict[str, APIClient]:
    """Every member of the cast, by name, for parametrized permission matrices."""
    return {
        "anonymous": anon_client,
        "admin": owner_client,
        "analyst": analyst_client,
        "executive": executive_client,
        "outsider": outsider_client,
    }
