"""The OpenAPI schema: `manage.py spectacular --validate --fail-on-warn` passes, and the staff API
documents its errors, files and uploads."""

from __future__ import annotations

import io
import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import resolve


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    """Generated once for the module (seconds each time); the tests only read it."""
    target = tmp_path_factory.mktemp("schema") / "schema.yaml"
    # Structure only here; the warning-free check is the first test's job.
    call_command("spectacular", "--file", str(target), stderr=io.StringIO())
    return yaml.safe_load(target.read_text())


def test_the_schema_validates_without_warnings_or_errors(tmp_path):
    err = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"), stderr=err)
    assert "Warning" not in err.getvalue() and "Error" not in err.getvalue()
    assert (tmp_path / "s.yaml").read_text().startswith("openapi: 3")


def test_the_staff_api_itself_adds_no_schema_warnings(tmp_path):
    err = io.StringIO()
    call_command("spectacular", "--validate", "--file", str(tmp_path / "s.yaml"), stderr=err)
    ours = [line for line in err.getvalue().splitlines()
            if ("Warning" in line or "Error" in line) and ("surveys/api/" in line or "surveys.api" in line
                                                         or "Enum" in line)]
    assert ours == []


def _staff_operations(schema: dict):
    """Operations served by surveys.api.views (resolved through the URLconf, not guessed from paths)."""
    for path, item in schema["paths"].items():
        match = resolve(re.sub(r"\{[^}]+\}", "1", path))
        if getattr(match.func, "cls", None) is None or match.func.cls.__module__ != "surveys.api.views":
            continue
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def test_every_staff_operation_documents_its_errors_with_the_error_component(schema):
    operations = list(_staff_operations(schema))
    assert len(operations) >= 30
    error_ref = "#/components/schemas/ErrorResponse"
    assert set(schema["components"]["schemas"]["ErrorResponse"]["properties"]) == {"detail", "code"}
    for path, method, operation in operations:
        codes = set(operation["responses"])
        if path != "/api/v1/auth/token/":
            assert "401" in codes, (path, method)
        if "{" in path:
            assert "404" in codes, (path, method)
        no_body = (path.endswith(("/open/", "/close/", "/reopen/", "/resend/", "/reissue/", "/retire/"))
                   or method == "delete")
        if (method != "get" or "export" in path) and not no_body:
            assert "400" in codes, (path, method)
        for code in codes - {"200", "201", "202", "204"}:
            content = operation["responses"][code]["content"]["application/json"]["schema"]["$ref"]
            assert content in (error_ref, "#/components/schemas/ImportErrorResponse"), (path, method, code)


def test_transitions_and_frozen_edits_document_409(schema):
    for path in ("/api/v1/waves/{id}/open/", "/api/v1/waves/{id}/close/", "/api/v1/waves/{id}/reopen/",
                 "/api/v1/invitations/{id}/resend/", "/api/v1/invitations/{id}/reissue/"):
        assert "409" in schema["paths"][path]["post"]["responses"]
    assert "409" in schema["paths"]["/api/v1/instruments/{id}/"]["patch"]["responses"]
    items = "/api/v1/instruments/{instrument_pk}/items/"
    for path, method in ((items, "post"), (f"{items}{{id}}/", "patch"), (f"{items}{{id}}/retire/", "post")):
        assert "409" in schema["paths"][path][method]["responses"], (path, method)
    # The destructive replacement is explicit and documented; a PATCH body offers texts only.
    instrument = schema["paths"]["/api/v1/instruments/{id}/"]
    assert "replace_items" in instrument["put"]["description"]
    patch_ref = instrument["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "items" not in schema["components"]["schemas"][patch_ref.rsplit("/", 1)[1]]["properties"]


def test_the_export_is_documented_as_binary_csv_or_xlsx(schema):
    content = schema["paths"]["/api/v1/waves/{wave_pk}/responses/export/"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    assert all(c["schema"] == {"type": "string", "format": "binary"} for c in content.values())


def test_imports_take_multipart_files(schema):
    for path in ("/api/v1/waves/{wave_pk}/invitations/import/", "/api/v1/accounts/import/"):
        body = schema["paths"][path]["post"]["requestBody"]["content"]
        assert list(body) == ["multipart/form-data"]


def test_operation_ids_are_unique(schema):
    ids = [op["operationId"] for item in schema["paths"].values() for m, op in item.items()
           if isinstance(op, dict) and "operationId" in op]
    assert len(ids) == len(set(ids))


def test_revoking_a_token_is_documented_as_an_authenticated_delete(schema):
    operation = schema["paths"]["/api/v1/auth/token/"]["delete"]
    assert set(operation["responses"]) == {"204", "401", "403"}
    assert {"tokenAuth": []} in operation["security"] and {} not in operation["security"]
    assert "requestBody" not in operation
    assert not schema["paths"]["/api/v1/auth/token/"]["post"].get("security")  # logging in needs no token


def test_the_report_api_documents_its_errors_and_a_null_pdf_url(schema):
    error_ref = "#/components/schemas/ErrorResponse"
    pdf_url = schema["components"]["schemas"]["ReportJob"]["properties"]["pdf_url"]
    assert pdf_url["nullable"] is True and pdf_url["format"] == "uri"
    listing = schema["paths"]["/api/v1/reports/"]["get"]
    assert {"200", "400", "401"} <= set(listing["responses"])
    wave = next(p for p in listing["parameters"] if p["name"] == "wave")
    assert wave["schema"]["maximum"] == 10**18 - 1
    create = schema["paths"]["/api/v1/waves/{wave_pk}/reports/"]["post"]["responses"]
    assert {"202", "400", "401", "404", "413", "415"} <= set(create)
    for responses in (listing["responses"], create):
        for code in set(responses) - {"200", "202"}:
            assert responses[code]["content"]["application/json"]["schema"]["$ref"] == error_ref, code


def test_no_operation_publishes_an_internal_docstring_as_its_description(schema):
    """A docstring of a shared base class (the staff API mixin) is no operation's description."""
    from surveys.api import views

    internal = ["Scopes, roles and guards shared by every staff API view"]
    internal += [cls.__doc__.strip() for name, cls in vars(views).items()
                 if isinstance(cls, type) and cls.__module__ == views.__name__ and name.endswith("Mixin")
                 and cls.__doc__]
    leaked = [(path, method) for path, item in schema["paths"].items() for method, operation in item.items()
              if isinstance(operation, dict)
              and any(text in operation.get("description", "") for text in internal)]
    assert leaked == []


def test_the_gap_schema_documents_the_statistics_of_issue_17(schema):
    """Alpha's Feldt interval, the opt-in bootstrap and every DiD field the engine computes are typed components
    (docs/methods.md §2.6, §3.3, §7, §11): the API renders only what its schema declares."""
    components = schema["components"]["schemas"]

    def props(name: str) -> dict:
        return components[name]["properties"]

    alpha = props("GapAlphaSide")
    assert {"listwise", "ci_low", "ci_high", "pairwise", "n_complete", "status"} <= set(alpha)
    assert alpha["ci_low"]["type"] == "number" and alpha["ci_low"]["nullable"] is True
    did = props("GapDidEntry")
    for field in ("n_staff_wave1", "n_customer_wave1", "n_staff_wave2", "n_customer_wave2"):
        assert did[field]["type"] == "integer" and did[field]["nullable"] is True, field
    for field in ("gap_wave1", "gap_wave1_ci_low", "gap_wave1_ci_high", "gap_wave2", "gap_wave2_ci_low",
                  "gap_wave2_ci_high", "did", "se", "df", "t", "p", "ci_low", "ci_high"):
        assert did[field]["type"] == "number", field
    assert did["ci_excludes_zero"]["type"] == "boolean" and did["ci_excludes_zero"]["nullable"] is True
    item_did = props("GapDidItem")
    assert set(did) < set(item_did) and "topbox_did" in item_did
    assert set(props("GapTopBoxDid")) == {"diff", "se", "ci_low", "ci_high", "low_base"}
    did_items = props("GapDid")["items"]["items"]["$ref"]
    assert did_items.endswith("/GapDidItem")
    boot = props("GapBootstrap")
    assert {"method", "n_resamples", "seed", "gap", "cliffs_delta", "topbox_diff"} == set(boot)
    assert set(props("GapBootstrapInterval")) == {"ci_low", "ci_high"}
    assert "bootstrap" in props("GapItem") and "bootstrap" not in components["GapItem"].get("required", [])
    assert "bootstrap" in props("GapFilters")
    params = {p["name"]: p for p in schema["paths"]["/api/v1/waves/{wave_pk}/gap/"]["get"]["parameters"]}
    assert params["bootstrap"]["schema"]["enum"] == ["percentile", "bca"]
    assert (params["bootstrap_reps"]["schema"]["minimum"], params["bootstrap_reps"]["schema"]["maximum"]) == (
        1000, 20000)
