"""Responses and their exports: staff rows are never linkable to an invitee."""

from __future__ import annotations

import io

import pytest

from surveys import models as m
from surveys import services


def test_staff_rows_carry_no_invitation_no_account_and_no_time(world, analyst_client):
    services.response_submit(wave=world.open, side="staff", answers={"fast": 5, "easy": 4}, language="ja",
                             invitation=world.invitation, channel=m.Channel.INVITATION)
    rows = analyst_client.get(f"/api/v1/waves/{world.open.pk}/responses/?side=staff").data["results"]
    assert len(rows) == 2
    for row in rows:
        assert row["side"] == "staff"
        assert (row["submitted_at"], row["account"], row["weight"]) == (None, None, None)
        assert "invitation" not in row
    assert sorted(row["channel"] for row in rows) == ["anonymous", "invitation"]
    assert {"fast": 4, "easy": None} in [row["answers"] for row in rows]


def test_customer_rows_carry_weight_segments_and_answers(world, analyst_client):
    (row,) = analyst_client.get(f"/api/v1/waves/{world.open.pk}/responses/?side=customer").data["results"]
    assert (row["weight"], row["segments"], row["language"]) == (2.0, {"tier": "Gold"}, "ja")
    assert row["answers"] == {"fast": 2, "easy": 3, "nps": 9}
    assert row["submitted_at"] is not None


def test_csv_export_streams_with_bom_and_a_filename(world, analyst_client):
    pytest.importorskip("surveys.exports")
    response = analyst_client.get(f"/api/v1/waves/{world.open.pk}/responses/export/?format=csv")
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="summer-responses.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    header = text.lstrip("\ufeff").splitlines()[0].split(",")
    assert header[:5] == ["response", "side", "language", "channel", "submitted_on"]
    assert "email" not in header and "invitation" not in header
    assert len(text.strip().splitlines()) == 3


def test_xlsx_export_has_the_spreadsheet_content_type(world, analyst_client):
    pytest.importorskip("surveys.exports")
    openpyxl = pytest.importorskip("openpyxl")
    response = analyst_client.get(f"/api/v1/waves/{world.open.pk}/responses/export/?format=xlsx&side=customer")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="summer-responses-customer.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 2


@pytest.mark.parametrize(("query", "field"), [("format=pdf", "format"), ("format=csv&side=board", "side")])
def test_a_bad_export_parameter_is_a_json_400(world, analyst_client, query, field):
    response = analyst_client.get(f"/api/v1/waves/{world.open.pk}/responses/export/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.data
