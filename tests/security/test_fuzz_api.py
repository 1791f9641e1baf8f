"""Property-based fuzzing of every API operation against Kagami's own OpenAPI schema (Schemathesis 4).

Each operation is one test; every generated case is sent as anonymous, admin,
analyst, executive and an admin of another organization. Path parameters are
replaced by real objects of the home organization in most cases, so the
operations are reached with valid and invalid data, not only as 404s.
Fixed seed (derandomized Hypothesis), no example database, bounded examples.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.wsgi import application
from surveys import models as m

# Per operation (each operation is its own test, so every one is reached whatever the number); the
# findings of deeper runs are replayed in REGRESSIONS. KAGAMI_FUZZ_EXAMPLES=500 makes a deeper
# (slower) exploratory run.
MAX_EXAMPLES = int(os.environ.get("KAGAMI_FUZZ_EXAMPLES", "10"))
# The gap engine recomputes for every new filter combination: fewer, heavier examples.
HEAVY = {"GET /api/v1/waves/{wave_pk}/gap/": max(MAX_EXAMPLES // 3, 5)}

# Operations with a known defect whose owner is elsewhere: xfail(strict) so the mark must go once
# they are fixed. None at present: the report API's undocumented 401, non-nullable pdf_url and the 500
# of ?wave=<20+ digits> are fixed and replayed below.
FOREIGN_DEFECTS: dict[str, str] = {}

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
ROLES = ("anonymous", "admin", "analyst", "executive", "outsider")


def _real_path_parameters(path: str, home) -> dict[str, object]:
    """Ids of real objects of the home organization for the path's parameters."""
    values: dict[str, object] = {"wave_pk": home.wave.pk, "wave_id": home.wave.pk, "token": home.token,
                                 "slug": home.wave.slug}
    by_collection = {
        "organizations": home.org.pk, "memberships": home.membership.pk, "instruments": home.editable.pk,
        "membership-invitations": home.member_invitation.pk,
        "waves": home.wave.pk, "invitations": home.invitation.pk, "accounts": home.account.pk,
        "reports": str(home.report.pk),
    }
    if path.startswith("/api/v1/import-jobs/{id}"):  # a finished background import of the home organization
        job, _ = m.ImportJob.objects.get_or_create(organization=home.org, kind=m.ImportJob.Kind.ACCOUNTS,
                                                   defaults={"status": m.ImportJob.Status.DONE})
        by_collection["import-jobs"] = str(job.pk)
    for collection, pk in by_collection.items():
        if path.startswith(f"/api/v1/{collection}/{{id}}") or path.startswith(f"/api/v1/{collection}/{{pk}}"):
            values["id"] = values["pk"] = pk
    # The quick diagnosis: the home organization, a link of it, a result through that link.
    values["org_pk"] = home.org.pk
    if "/diagnosis/" in path:
        from diagnosis import services as diagnosis_services
        from diagnosis.models import DiagnosisResult

        result = DiagnosisResult.objects.filter(organization=home.org).select_related("link").first()
        if result is None:
            link, _ = diagnosis_services.link_create(organization=home.org)
            result = diagnosis_services.result_submit(
                answers={f"q{i:02d}": 1 + i % 5 for i in range(1, 16)}, language="ja", link=link)
        values["uuid"] = str(result.uuid)
        if path.startswith("/api/v1/organizations/{org_pk}/diagnosis/links/{pk}"):
            values["pk"] = result.link.pk
    # Items of the editable instrument: the first one still asked (earlier examples may have retired some).
    values["instrument_pk"] = home.editable.pk
    if path.startswith("/api/v1/instruments/{instrument_pk}/items/{id}"):
        item = home.editable.items.filter(retired_at__isnull=True).order_by("pk").first()
        values["id"] = values["pk"] = item.pk if item else 0
    return values


@pytest.fixture
def fuzz_world(home, away, tokens):
    return home, tokens


OPERATIONS = [result.ok() for result in schema.get_all_operations()]


def _xfail_if(op, defects: dict[str, str], condition: bool = True) -> list:
    return [pytest.mark.xfail(condition, strict=True, reason=defects[op.label])] if op.label in defects else []


def _params(operations):
    for op in operations:
        yield pytest.param(op, id=op.label, marks=_xfail_if(op, FOREIGN_DEFECTS))


def test_the_fuzzing_reaches_every_operation_of_the_api():
    labels = {op.label for op in OPERATIONS}
    # Spot checks that the schema was loaded whole: staff, public, gap and report operations.
    assert {"GET /api/v1/waves/{wave_pk}/gap/", "POST /api/v1/public/forms/{token}/", "POST /api/v1/accounts/import/",
            "POST /api/v1/waves/{wave_pk}/reports/", "DELETE /api/v1/memberships/{id}/"} <= labels
    assert len(labels) >= 45


@pytest.mark.parametrize("operation", list(_params(OPERATIONS)))
def test_it_answers_every_generated_request_as_documented_for_every_role(operation, fuzz_world):
    _fuzz(operation, fuzz_world, CHECKS)


def _fuzz(operation, fuzz_world, checks) -> None:
    home, tokens = fuzz_world
    real = _real_path_parameters(operation.path, home)
    fixed = {name: real[name] for name in real if name in {p.name for p in operation.path_parameters}}
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=fixed),
        # Generated path parameters too: unknown ids, odd tokens and slugs.
        operation.as_strategy(GenerationMode.POSITIVE),
    )

    @given(case=strategy)
    @settings(max_examples=HEAVY.get(operation.label, MAX_EXAMPLES), deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case) -> None:
        for role in ROLES:
            cache.clear()  # the public forms' rate limits would otherwise answer 429 to everything
            headers = {} if role == "anonymous" else {"Authorization": f"Token {tokens[role]}"}
            case.call_and_validate(headers=headers, checks=checks)

    run()


def _operation(label: str):
    return next(op for op in OPERATIONS if op.label == label)


REGRESSIONS = [
    # Found by deeper runs (KAGAMI_FUZZ_EXAMPLES=300); replayed here on every run.
    ("POST /api/v1/waves/{wave_pk}/invitations/", "admin", {"body": {"side": "customer", "contacts": [{}]},
                                                           "media_type": "application/json"}),
    ("POST /api/v1/accounts/", "admin", {"body": b"\xf3\x8b\xba\x9f", "media_type": "multipart/form-data"}),
    ("POST /api/v1/waves/{wave_pk}/invitations/remind/", "admin",
     {"body": b"\xc2\x98\xf1\xb3\xb4\xa3", "media_type": "multipart/form-data"}),
    ("GET /api/v1/audit-events/", "admin", {"query": {"wave": "-1.525990628459878e+244", "organization": "429"}}),
    ("GET /api/v1/waves/", "admin", {"query": {"organization": "-11449177936192620"}}),
    ("GET /api/v1/waves/{wave_pk}/responses/", "analyst", {}),
    ("GET /api/v1/reports/", "admin", {"query": {"wave": "9" * 25}}),  # OverflowError on SQLite, once
    ("GET /api/v1/reports/", "admin", {"query": {"wave": "\u00b2"}}),  # "²".isdigit() but int("²") fails
    ("GET /api/v1/reports/{id}/", "admin", {}),  # a queued job's pdf_url is null
    ("POST /api/v1/waves/{wave_pk}/reports/", "analyst", {"body": {"language": "en"},
                                                          "media_type": "application/json"}),
]


@pytest.mark.parametrize(("label", "role", "parts"), REGRESSIONS, ids=[f"{r[0]} as {r[1]}" for r in REGRESSIONS])
def test_requests_that_once_broke_the_contract_stay_fixed(label, role, parts, fuzz_world):
    home, tokens = fuzz_world
    operation = _operation(label)
    path_parameters = {name: value for name, value in _real_path_parameters(operation.path, home).items()
                       if name in {p.name for p in operation.path_parameters}}
    case = operation.Case(path_parameters=path_parameters, **parts)
    case.call_and_validate(headers={"Authorization": f"Token {tokens[role]}"}, checks=CHECKS)
