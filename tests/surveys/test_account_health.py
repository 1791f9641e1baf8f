"""Customer health score on accounts (issue 16, item 5): through the staff API, imports, the database and the demo."""

from __future__ import annotations

import datetime as dt
import io
from io import StringIO

import openpyxl
import pytest
import yaml
from django.core.management import call_command
from django.db import IntegrityError, transaction

from surveys import errors, imports
from surveys import models as m
from tests import factories as f

URL = "/api/v1/accounts/"


def csv_bytes(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


def import_failure(org: m.Organization, text: str) -> list[dict]:
    with pytest.raises(errors.ImportFailed) as info:
        imports.import_accounts(organization=org, data=csv_bytes(text), filename="accounts.csv")
    return info.value.errors


# --------------------------------------------------------------------------- staff API


def test_the_api_creates_patches_and_lists_the_health_score_and_its_date(org, owner_client):
    created = owner_client.post(URL, {"organization": org.pk, "external_id": "H-1", "health_score": 72,
                                      "health_scored_on": "2026-06-30"}, format="json")
    assert created.status_code == 201, created.data
    assert (created.data["health_score"], created.data["health_scored_on"]) == (72, "2026-06-30")
    account = m.CustomerAccount.objects.get(pk=created.data["id"])
    assert (account.health_score, account.health_scored_on) == (72, dt.date(2026, 6, 30))

    # A PATCH of the date alone leans on the stored score; 0 and 100 are both allowed.
    patched = owner_client.patch(f"{URL}{account.pk}/", {"health_scored_on": "2026-09-30"}, format="json")
    assert patched.status_code == 200, patched.data
    for score in (0, 100):
        patched = owner_client.patch(f"{URL}{account.pk}/", {"health_score": score}, format="json")
        assert (patched.status_code, patched.data["health_score"]) == (200, score)
    account.refresh_from_db()
    assert (account.health_score, account.health_scored_on) == (100, dt.date(2026, 9, 30))

    listed = {a["external_id"]: a for a in owner_client.get(URL).data["results"]}
    assert (listed["H-1"]["health_score"], listed["H-1"]["health_scored_on"]) == (100, "2026-09-30")

    cleared = owner_client.patch(f"{URL}{account.pk}/", {"health_score": None, "health_scored_on": None},
                                 format="json")
    assert cleared.status_code == 200, cleared.data
    account.refresh_from_db()
    assert (account.health_score, account.health_scored_on) == (None, None)


def test_an_account_without_a_health_score_says_null(org, owner_client):
    f.CustomerAccountFactory(organization=org, external_id="PLAIN")
    listed = owner_client.get(URL).data["results"]
    assert [(a["health_score"], a["health_scored_on"]) for a in listed] == [(None, None)]


@pytest.mark.parametrize(("payload", "field"), [
    ({"health_score": 101}, "health_score"),
    ({"health_score": -1}, "health_score"),
    ({"health_score": "abc"}, "health_score"),
    ({"health_score": 50.5}, "health_score"),
    ({"health_score": 50, "health_scored_on": "2026-02-30"}, "health_scored_on"),
    ({"health_scored_on": "2026-06-30"}, "health_scored_on"),
    ({"health_score": None, "health_scored_on": "2026-06-30"}, "health_scored_on"),
])
def test_a_bad_health_value_is_a_400_naming_the_field(org, owner_client, payload, field):
    created = owner_client.post(URL, {"organization": org.pk, "external_id": "BAD", **payload}, format="json")
    assert created.status_code == 400, created.data
    assert field in created.data
    assert not m.CustomerAccount.objects.filter(external_id="BAD").exists()

    account = f.CustomerAccountFactory(organization=org, external_id="KEEP")
    patched = owner_client.patch(f"{URL}{account.pk}/", payload, format="json")
    assert patched.status_code == 400, patched.data
    assert field in patched.data


def test_clearing_the_score_but_keeping_its_date_is_a_400_naming_the_date(org, owner_client):
    account = f.CustomerAccountFactory(organization=org, health_score=40, health_scored_on=dt.date(2026, 1, 5))
    response = owner_client.patch(f"{URL}{account.pk}/", {"health_score": None}, format="json")
    assert response.status_code == 400 and "health_scored_on" in response.data
    account.refresh_from_db()
    assert account.health_score == 40


def test_the_openapi_schema_describes_the_health_fields(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--file", str(target), stderr=StringIO())
    schema = yaml.safe_load(target.read_text())
    properties = schema["components"]["schemas"]["CustomerAccount"]["properties"]
    assert properties["health_score"]["maximum"] == 100 and properties["health_score"]["minimum"] == 0
    assert "0-100 inclusive" in properties["health_score"]["description"]
    assert "needs a health score" in properties["health_scored_on"]["description"]


# --------------------------------------------------------------------------- imports


def test_an_import_sets_updates_and_clears_health_scores(org):
    f.CustomerAccountFactory(organization=org, external_id="A-2", health_score=10,
                             health_scored_on=dt.date(2025, 1, 1))
    result = imports.import_accounts(organization=org, filename="accounts.csv", data=csv_bytes(
        "external_id,health_score,health_scored_on\nA-1,85,2026/06/30\nA-2,,\nA-3,0,\n"))
    assert (result.created, result.skipped) == (3, [])
    scores = dict(m.CustomerAccount.objects.filter(organization=org).values_list(
        "external_id", "health_score"))
    assert scores == {"A-1": 85, "A-2": None, "A-3": 0}
    assert m.CustomerAccount.objects.get(external_id="A-1").health_scored_on == dt.date(2026, 6, 30)
    assert m.CustomerAccount.objects.get(external_id="A-2").health_scored_on is None


def test_an_import_without_health_columns_leaves_the_scores_alone(org):
    f.CustomerAccountFactory(organization=org, external_id="A-1", health_score=55,
                             health_scored_on=dt.date(2025, 1, 1))
    imports.import_accounts(organization=org, filename="a.csv", data=csv_bytes("external_id,name\nA-1,Renamed\n"))
    account = m.CustomerAccount.objects.get(external_id="A-1")
    assert (account.name, account.health_score, account.health_scored_on) == ("Renamed", 55, dt.date(2025, 1, 1))


def test_a_date_only_import_leans_on_the_stored_score(org):
    f.CustomerAccountFactory(organization=org, external_id="SCORED", health_score=55)
    f.CustomerAccountFactory(organization=org, external_id="UNSCORED")
    problems = import_failure(org, "external_id,health_scored_on\nSCORED,2026-06-30\nUNSCORED,2026-06-30\n")
    assert problems == [{"row": 3, "column": "health_scored_on",
                         "message": "A health score date needs a health score."}]
    imports.import_accounts(organization=org, filename="a.csv",
                            data=csv_bytes("external_id,health_scored_on\nSCORED,2026-06-30\n"))
    assert m.CustomerAccount.objects.get(external_id="SCORED").health_scored_on == dt.date(2026, 6, 30)


def test_bad_health_cells_are_reported_by_row_and_column_and_nothing_is_imported(org):
    problems = import_failure(org, (
        "external_id,health_score,health_scored_on\n"
        "A-1,80,2026-06-30\n"
        "A-2,101,\n"
        "A-3,-1,\n"
        "A-4,abc,2026-06-30\n"
        "A-5,50.5,\n"
        "A-6,50,2026-13-01\n"
        "A-7,,2026-06-30\n"
    ))
    assert problems == [
        {"row": 3, "column": "health_score", "message": "Must be a whole number from 0 to 100, got '101'."},
        {"row": 4, "column": "health_score", "message": "Must be a whole number from 0 to 100, got '-1'."},
        {"row": 5, "column": "health_score", "message": "Must be a whole number from 0 to 100, got 'abc'."},
        {"row": 6, "column": "health_score", "message": "Must be a whole number from 0 to 100, got '50.5'."},
        {"row": 7, "column": "health_scored_on", "message": "Must be a date like 2024-04-01, got '2026-13-01'."},
        {"row": 8, "column": "health_scored_on", "message": "A health score date needs a health score."},
    ]
    assert m.CustomerAccount.objects.count() == 0


def test_an_xlsx_import_reads_typed_health_cells(org):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["external_id", "health_score", "health_scored_on"])
    sheet.append(["X-1", 85, dt.datetime(2026, 6, 30)])
    sheet.append(["X-2", 60.0, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    imports.import_accounts(organization=org, data=buffer.getvalue(), filename="accounts.xlsx")
    assert dict(m.CustomerAccount.objects.values_list("external_id", "health_score")) == {"X-1": 85, "X-2": 60}
    assert m.CustomerAccount.objects.get(external_id="X-1").health_scored_on == dt.date(2026, 6, 30)


def test_the_api_import_reports_a_bad_health_cell_as_a_400(org, owner_client):
    upload = io.BytesIO(csv_bytes("external_id,health_score\nA-1,101\n"))
    upload.name = "accounts.csv"
    response = owner_client.post(f"{URL}import/", {"organization": org.pk, "file": upload}, format="multipart")
    assert response.status_code == 400, response.data
    assert "health_score" in str(response.data) and "101" in str(response.data)


# --------------------------------------------------------------------------- database


@pytest.mark.parametrize("fields", [
    {"health_score": 101},
    {"health_score": None, "health_scored_on": dt.date(2026, 6, 30)},
])
def test_the_database_refuses_a_bad_health_score_even_past_the_serializer(org, fields):
    account = f.CustomerAccountFactory(organization=org)
    with pytest.raises(IntegrityError), transaction.atomic():
        m.CustomerAccount.objects.filter(pk=account.pk).update(**fields)
    account.refresh_from_db()
    assert account.health_score is None


def test_the_database_keeps_0_and_100(org):
    account = f.CustomerAccountFactory(organization=org, health_score=0, health_scored_on=dt.date(2026, 6, 30))
    m.CustomerAccount.objects.filter(pk=account.pk).update(health_score=100)
    account.refresh_from_db()
    assert account.health_score == 100


# --------------------------------------------------------------------------- demo


def test_the_demo_accounts_carry_health_scores_lower_for_the_churned(db):
    call_command("load_demo", "--responses", "30", stdout=StringIO(), stderr=StringIO())
    accounts = list(m.CustomerAccount.objects.filter(organization__slug="demo"))
    assert accounts and all(a.health_score is not None and 0 <= a.health_score <= 100 for a in accounts)
    assert all(a.health_scored_on is not None for a in accounts)
    churned = [a.health_score for a in accounts if a.status == m.CustomerAccount.Status.CHURNED]
    kept = [a.health_score for a in accounts if a.status != m.CustomerAccount.Status.CHURNED]
    assert churned and kept
    assert sum(churned) / len(churned) < sum(kept) / len(kept) - 5
    assert len({a.health_score for a in accounts}) > 10  # spread, not one value
