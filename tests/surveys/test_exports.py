"""Exports of responses: CSV streamed with a BOM, XLSX, formula neutralisation, unlinkable staff rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import types

import openpyxl
import pytest

from surveys import errors, exports, imports, services
from surveys import models as m
from tests import factories as f

HEADER = ["response", "side", "language", "channel", "submitted_on", "department", "role", "tenure", "tier",
          "touch_model", "plan", "region", "weight", "account", "speed", "ease", "nps", "comment"]
STAFF_HEADER = [c for c in HEADER if c != "nps"]  # nps is asked of customers only


@pytest.fixture
def instrument(org):
    inst = f.InstrumentFactory(organization=org)
    dim = f.DimensionFactory(instrument=inst)
    f.ItemPairFactory(dimension=dim, instrument=inst, key="speed", allow_na=True, order=1)
    f.ItemPairFactory(dimension=dim, instrument=inst, key="ease", allow_na=False, order=2)
    m.ItemPair.objects.create(instrument=inst, key="nps", kind=m.ItemKind.NPS, customer_text_en="Recommend?",
                              customer_text_ja="推奨しますか", allow_na=False, topbox_levels=[9, 10])
    return inst


@pytest.fixture
def wave(org, instrument):
    wave = services.wave_create(organization=org, instrument=instrument, name="Spring", slug="spring")
    return services.wave_open(wave=wave)


@pytest.fixture
def filled(wave, org):
    """One staff answer through an invitation, one customer answer through an invitation with an account."""
    account = f.CustomerAccountFactory(organization=org, external_id="A-1", tier="Gold", touch_model="high")
    staff_inv = services.invitation_create(wave=wave, side="staff", email="taro@example.com", name="Taro",
                                           segments={"department": "営業"}).invitation
    cust_inv = services.invitation_create(wave=wave, side="customer", email="cust@example.com",
                                          customer_account=account).invitation
    staff = services.response_submit(wave=wave, side="staff", answers={"speed": 5, "ease": 4}, language="ja",
                                     channel="invitation", invitation=staff_inv, comment="社内は良い")
    customer = services.response_submit(wave=wave, side="customer", answers={"speed": "na", "ease": 2, "nps": 6},
                                        language="en", channel="invitation", invitation=cust_inv, weight=2.5,
                                        comment="Slow replies")
    return staff, customer, account, staff_inv, cust_inv


def read_csv(wave, side=None) -> list[list[str]]:
    text = "".join(exports.responses_csv(wave=wave, side=side))
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def read_xlsx(wave, side=None) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(exports.responses_xlsx(wave=wave, side=side)))
    return list(workbook.active.iter_rows(values_only=True))


def test_the_csv_starts_with_a_bom_then_the_header_and_carries_every_answer(filled, wave):
    staff, customer, *_ = filled
    rows = read_csv(wave)
    assert rows[0] == HEADER
    by_side = {row[1]: dict(zip(HEADER, row, strict=True)) for row in rows[1:]}
    today = dt.date.today().isoformat()
    assert by_side["staff"] == {
        "response": str(staff.pk), "side": "staff", "language": "ja", "channel": "invitation", "submitted_on": today,
        "department": "営業", "role": "", "tenure": "", "tier": "", "touch_model": "", "plan": "", "region": "",
        "weight": "", "account": "", "speed": "5", "ease": "4", "nps": "", "comment": "社内は良い",
    }
    assert by_side["customer"] == {
        "response": str(customer.pk), "side": "customer", "language": "en", "channel": "invitation",
        "submitted_on": today, "department": "", "role": "", "tenure": "", "tier": "Gold", "touch_model": "high",
        "plan": "", "region": "", "weight": "2.5", "account": "A-1", "speed": "na", "ease": "2", "nps": "6",
        "comment": "Slow replies",
    }


def test_the_csv_is_streamed_row_by_row(filled, wave):
    lines = exports.responses_csv(wave=wave)
    assert isinstance(lines, types.GeneratorType)
    assert next(lines) == "\ufeff" + ",".join(HEADER) + "\r\n"
    assert len(list(lines)) == 2


def test_staff_export_rows_carry_no_linkable_data(filled, wave):
    staff, _customer, _account, staff_inv, _cust_inv = filled
    text = "".join(exports.responses_csv(wave=wave, side="staff"))
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert rows[0] == STAFF_HEADER and len(rows) == 2
    row = dict(zip(STAFF_HEADER, rows[1], strict=True))
    assert (row["account"], row["weight"]) == ("", "")
    assert row["submitted_on"] == staff.submitted_on.isoformat()  # the day, no time of day
    for linkable in ("taro@example.com", "Taro", staff_inv.token_hash):
        assert linkable not in text
    assert re.search(r"\d{1,2}:\d{2}", text) is None  # no time of day anywhere
    assert not any(column in HEADER for column in ("email", "invitation", "submitted_at", "name"))
    # The XLSX twin has the same staff row: day only, nothing to link by.
    sheet = read_xlsx(wave, side="staff")
    assert sheet[0] == tuple(STAFF_HEADER)
    xrow = dict(zip(STAFF_HEADER, sheet[1], strict=True))
    assert xrow["submitted_on"] == dt.datetime.combine(staff.submitted_on, dt.time(0))
    assert (xrow["account"], xrow["weight"], xrow["response"]) == (None, None, str(staff.pk))
    assert "taro@example.com" not in repr(sheet)


def test_a_side_filter_keeps_only_that_side_and_its_items(filled, wave):
    rows = read_csv(wave, side="customer")
    assert [row[1] for row in rows[1:]] == ["customer"]
    assert read_csv(wave, side="staff")[0] == STAFF_HEADER


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://evil\",\"x\")", "+1+2", "-1+2", "@SUM(A1)", "\t=1",
                                     "\r=1", "＝1+1"])
def test_formulas_in_comments_and_segments_are_neutralised_in_csv(wave, payload):
    services.response_submit(wave=wave, side="customer", answers={"ease": 3}, language="en", required=False,
                             comment=payload + " tail", segments={"region": payload.strip()})
    rows = read_csv(wave)
    row = dict(zip(HEADER, rows[1], strict=True))
    # response_submit strips the comment, so its first character may be a later one; both must be defused.
    assert row["comment"].startswith("'") and row["comment"][1:] == (payload + " tail").strip()
    assert row["region"] == "'" + payload.strip()


@pytest.mark.parametrize("payload", ["=1+2", "+1+2", "-1+2", "@SUM(A1)", "=cmd|' /C calc'!A0"])
def test_formulas_in_comments_and_segments_are_neutralised_in_xlsx(wave, payload):
    services.response_submit(wave=wave, side="customer", answers={"ease": 3, "nps": 10}, language="en", required=False,
                             comment=payload, segments={"region": payload}, weight=0.5)
    workbook = openpyxl.load_workbook(io.BytesIO(exports.responses_xlsx(wave=wave)))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    for column in ("comment", "region"):
        assert row[column].value == "'" + payload
        assert row[column].data_type == "s"
    # Numbers stay numbers.
    assert (row["ease"].value, row["nps"].value, row["weight"].value) == (3, 10, 0.5)
    assert row["ease"].data_type == "n"


def test_neutralize_cell_leaves_numbers_and_harmless_text_alone():
    assert exports.neutralize_cell(-5) == -5
    assert exports.neutralize_cell(2.5) == 2.5
    assert exports.neutralize_cell(None) is None
    assert exports.neutralize_cell("-5") == "'-5"
    assert exports.neutralize_cell("@home") == "'@home"
    assert exports.neutralize_cell("a=b") == "a=b"
    assert exports.neutralize_cell("") == ""


def test_control_characters_in_a_comment_do_not_break_the_xlsx(wave):
    services.response_submit(wave=wave, side="staff", answers={"speed": 2}, language="ja", required=False,
                             comment="ok\x01\x1b=bad")
    rows = read_xlsx(wave)
    assert rows[1][HEADER.index("comment")] == "ok=bad"


def test_odd_segment_values_stored_by_other_paths_still_export(wave):
    f.SurveyResponseFactory(wave=wave, side="staff", segments={"department": ["a", "b"], "role": None, "tenure": 3})
    row = dict(zip(HEADER, read_xlsx(wave)[1], strict=True))
    assert (row["department"], row["role"], row["tenure"]) == ("['a', 'b']", None, 3)
    assert dict(zip(HEADER, read_csv(wave)[1], strict=True))["department"] == "['a', 'b']"


def test_an_empty_wave_exports_just_the_header(wave):
    assert read_csv(wave) == [HEADER]
    assert read_xlsx(wave) == [tuple(HEADER)]


def test_a_csv_export_imports_back_into_a_wave_of_the_same_instrument(filled, wave, org, instrument):
    data = "".join(exports.responses_csv(wave=wave, side="customer")).encode("utf-8")
    copy = services.wave_create(organization=org, instrument=instrument, name="Copy", slug="copy")
    result = imports.import_responses(wave=copy, side="customer", data=data, filename="export.csv")
    assert result.created == 1
    assert "response" in result.ignored_columns and "department" in result.ignored_columns
    imported = result.objects[0]
    assert {a.item.key: a.value for a in imported.answers.all()} == {"speed": None, "ease": 2, "nps": 6}
    assert (imported.weight, imported.customer_account.external_id, imported.comment) == (2.5, "A-1", "Slow replies")


def test_an_unknown_side_is_refused_before_streaming_starts(wave):
    with pytest.raises(errors.ValidationFailed) as info:
        exports.responses_csv(wave=wave, side="board")
    assert info.value.field_errors == {"side": ["Must be staff or customer, got 'board'."]}
