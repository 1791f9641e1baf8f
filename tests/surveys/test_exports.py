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
# A one-side export carries only that side's segment fields and items (nps is asked of customers only).
STAFF_HEADER = ["response", "side", "language", "channel", "submitted_on", "department", "role", "tenure",
                "weight", "account", "speed", "ease", "comment"]
CUSTOMER_HEADER = ["response", "side", "language", "channel", "submitted_on", "tier", "touch_model", "plan",
                   "region", "weight", "account", "speed", "ease", "nps", "comment"]


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


def invited_staff(wave, n: int, *, segments: dict, answers=None, comment: str = "",
                  start: int = 0) -> list[m.SurveyResponse]:
    """n staff answers through invitations carrying ``segments`` (verified values: they count toward k)."""
    responses = []
    for i in range(start, start + n):
        invitation = services.invitation_create(wave=wave, side="staff", email=f"staff{i}@example.com",
                                                name=f"Staff {i}", segments=segments).invitation
        responses.append(services.response_submit(
            wave=wave, side="staff", answers=answers(i) if callable(answers) else answers or {"speed": 3, "ease": 4},
            language="ja", channel="invitation", invitation=invitation, comment=comment))
    return responses


def publish_every_customer(wave) -> None:
    """Customers are not promised anonymity: on a test wave every customer response may be published at once."""
    wave.customer_threshold = 1
    wave.save()


STAFF_ANSWERS = [(1, 5), (2, 4), (3, 3), (4, 2), (5, 1)]  # (speed, ease) of the five staff in ``filled``


@pytest.fixture
def filled(wave, org):
    """Five staff answers through invitations (one staff release: k = 5), one customer answer through an
    invitation with an account (the customer threshold set to 1, so it is published on its own)."""
    publish_every_customer(wave)
    account = f.CustomerAccountFactory(organization=org, external_id="A-1", tier="Gold", touch_model="high")
    staff_invs = [services.invitation_create(wave=wave, side="staff", email=f"taro{i}@example.com", name=f"Taro{i}",
                                             segments={"department": "営業"}).invitation for i in range(5)]
    cust_inv = services.invitation_create(wave=wave, side="customer", email="cust@example.com",
                                          customer_account=account).invitation
    staff = [services.response_submit(wave=wave, side="staff", answers={"speed": speed, "ease": ease}, language="ja",
                                      channel="invitation", invitation=inv, comment=f"社内は良い{i}")
             for i, (inv, (speed, ease)) in enumerate(zip(staff_invs, STAFF_ANSWERS, strict=True))]
    customer = services.response_submit(wave=wave, side="customer", answers={"speed": "na", "ease": 2, "nps": 6},
                                        language="en", channel="invitation", invitation=cust_inv, weight=2.5,
                                        comment="Slow replies")
    return staff, customer, account, staff_invs, cust_inv


def read_csv(wave, side=None) -> list[list[str]]:
    text = "".join(exports.responses_csv(wave=wave, side=side))
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def read_xlsx(wave, side=None) -> list[tuple]:
    workbook = openpyxl.load_workbook(io.BytesIO(exports.responses_xlsx(wave=wave, side=side)))
    return list(workbook.active.iter_rows(values_only=True))


def records(rows: list, header: list[str] = HEADER) -> list[dict]:
    assert list(rows[0]) == header
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


# What a staff row never carries (P6): nothing that orders it, dates it or links it to a person or an invitation.
STAFF_BLANK_COLUMNS = ("response", "language", "channel", "submitted_on", "weight", "account", "comment")


def test_the_csv_starts_with_a_bom_then_the_header_and_carries_every_answer(filled, wave):
    _staff, customer, *_ = filled
    rows = records(read_csv(wave))
    # Customers first, then the staff microdata: one row per published response.
    assert [row["side"] for row in rows] == ["customer"] + ["staff"] * 5
    today = dt.date.today().isoformat()
    assert rows[0] == {
        "response": str(customer.pk), "side": "customer", "language": "en", "channel": "invitation",
        "submitted_on": today, "department": "", "role": "", "tenure": "", "tier": "Gold", "touch_model": "high",
        "plan": "", "region": "", "weight": "2.5", "account": "A-1", "speed": "na", "ease": "2", "nps": "6",
        "comment": "Slow replies",
    }
    # Every staff answer is there, with the released department and nothing else.
    blank = dict.fromkeys(HEADER, "")
    assert sorted(rows[1:], key=lambda row: row["speed"]) == [
        {**blank, "side": "staff", "department": "営業", "speed": str(speed), "ease": str(ease)}
        for speed, ease in STAFF_ANSWERS
    ]


def test_the_csv_is_streamed_row_by_row(filled, wave):
    lines = exports.responses_csv(wave=wave)
    assert isinstance(lines, types.GeneratorType)
    assert next(lines) == "\ufeff" + ",".join(HEADER) + "\r\n"
    assert len(list(lines)) == 6  # one customer, five staff


def test_staff_export_rows_carry_no_linkable_data(filled, wave):
    staff, _customer, _account, staff_invs, _cust_inv = filled
    text = "".join(exports.responses_csv(wave=wave, side="staff"))
    rows = records(list(csv.reader(io.StringIO(text[1:], newline=""))), STAFF_HEADER)
    assert len(rows) == 5
    for row in rows:
        assert row["side"] == "staff" and row["department"] == "営業"
        assert {row[column] for column in STAFF_BLANK_COLUMNS} == {""}
    for response, invitation in zip(staff, staff_invs, strict=True):
        for linkable in (str(response.pk), invitation.email, invitation.name, invitation.token_hash, response.comment):
            assert linkable not in text
    assert "社内は良い" not in text  # staff comments leave only through the comments endpoint, per group
    assert re.search(r"\d{4}-\d{2}-\d{2}", text) is None  # no day
    assert re.search(r"\d{1,2}:\d{2}", text) is None  # no time of day anywhere
    assert not any(column in HEADER for column in ("email", "invitation", "submitted_at", "name"))
    # The XLSX twin has the same staff rows: no day, nothing to link by.
    sheet = read_xlsx(wave, side="staff")
    xrows = records(sheet, STAFF_HEADER)
    assert len(xrows) == 5
    for xrow in xrows:
        assert {xrow[column] for column in STAFF_BLANK_COLUMNS} == {None}
        assert (xrow["side"], xrow["department"]) == ("staff", "営業")
    assert sorted((xrow["speed"], xrow["ease"]) for xrow in xrows) == STAFF_ANSWERS
    assert not any(isinstance(cell, dt.date) for row in sheet for cell in row)
    assert "taro" not in repr(sheet).lower() and "社内" not in repr(sheet)


def test_a_side_filter_keeps_only_that_side_and_its_items(filled, wave):
    rows = read_csv(wave, side="customer")
    assert rows[0] == CUSTOMER_HEADER and [row[1] for row in rows[1:]] == ["customer"]
    assert read_xlsx(wave, side="customer")[0] == tuple(CUSTOMER_HEADER)
    rows = read_csv(wave, side="staff")
    assert rows[0] == STAFF_HEADER and [row[1] for row in rows[1:]] == ["staff"] * 5


def test_withheld_answers_and_generalised_values_are_marked_in_both_formats(wave):
    # Six staff of one department: three say 1-3y, three 3-5y (fewer than k each), three answer speed, three N/A.
    invited_staff(wave, 3, segments={"department": "営業", "tenure": "1-3y"}, answers={"speed": 2, "ease": 4})
    invited_staff(wave, 3, segments={"department": "営業", "tenure": "3-5y"}, answers={"speed": "na", "ease": 5},
                  start=3)
    blank = dict.fromkeys(STAFF_HEADER, "")
    expected = [{**blank, "side": "staff", "department": "営業", "tenure": "(withheld)", "speed": "withheld",
                 "ease": ease} for ease in ["4"] * 3 + ["5"] * 3]
    text = "".join(exports.responses_csv(wave=wave, side="staff"))
    assert "1-3y" not in text and "3-5y" not in text
    rows = records(list(csv.reader(io.StringIO(text[1:], newline=""))), STAFF_HEADER)
    assert sorted(rows, key=lambda row: row["ease"]) == expected
    xrows = records(read_xlsx(wave, side="staff"), STAFF_HEADER)
    assert sorted((row["tenure"], row["speed"], row["ease"]) for row in xrows) == [
        ("(withheld)", "withheld", 4)] * 3 + [("(withheld)", "withheld", 5)] * 3


def test_no_staff_rows_while_fewer_than_k_staff_responses_are_published(wave):
    publish_every_customer(wave)
    invited_staff(wave, 4, segments={"department": "営業"})
    services.response_submit(wave=wave, side="customer", answers={"ease": 3}, language="en", required=False)
    assert [row[1] for row in read_csv(wave)[1:]] == ["customer"]  # the four staff wait for a fifth
    assert read_xlsx(wave, side="staff") == [tuple(STAFF_HEADER)]
    invited_staff(wave, 1, segments={"department": "営業"}, start=4)
    assert [row[1] for row in read_csv(wave)[1:]] == ["customer"] + ["staff"] * 5


def _with_formula_everywhere(wave, payload: str, comment: str) -> None:
    """A customer comment and segment, and a released staff segment and a staff comment, all carrying payload."""
    publish_every_customer(wave)
    services.response_submit(wave=wave, side="customer", answers={"ease": 3, "nps": 10}, language="en",
                             required=False, comment=comment, segments={"region": payload.strip()},
                             weight=0.5)
    # Five invitation respondents share the value, so it is released as it is (k = 5).
    invited_staff(wave, 5, segments={"department": payload.strip()}, comment=payload + " staff only")


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://evil\",\"x\")", "+1+2", "-1+2", "@SUM(A1)", "\t=1",
                                     "\r=1", "＝1+1"])
def test_formulas_in_comments_and_segments_are_neutralised_in_csv(wave, payload):
    _with_formula_everywhere(wave, payload, payload + " tail")
    text = "".join(exports.responses_csv(wave=wave))
    rows = records(list(csv.reader(io.StringIO(text[1:], newline=""))))
    (customer,) = (row for row in rows if row["side"] == "customer")
    # response_submit strips the comment, so its first character may be a later one; both must be defused.
    assert customer["comment"].startswith("'") and customer["comment"][1:] == (payload + " tail").strip()
    assert customer["region"] == "'" + payload.strip()
    staff = [row for row in rows if row["side"] == "staff"]
    assert len(staff) == 5
    for row in staff:
        assert row["department"] == "'" + payload.strip()
        assert row["comment"] == ""
    assert "staff only" not in text  # a staff comment never reaches an export


@pytest.mark.parametrize("payload", ["=1+2", "+1+2", "-1+2", "@SUM(A1)", "=cmd|' /C calc'!A0"])
def test_formulas_in_comments_and_segments_are_neutralised_in_xlsx(wave, payload):
    _with_formula_everywhere(wave, payload, payload)
    workbook = openpyxl.load_workbook(io.BytesIO(exports.responses_xlsx(wave=wave)))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    assert header == HEADER
    rows = [{name: cell for name, cell in zip(header, cells, strict=True)} for cells in sheet.iter_rows(min_row=2)]
    (customer,) = (row for row in rows if row["side"].value == "customer")
    for column in ("comment", "region"):
        assert customer[column].value == "'" + payload
        assert customer[column].data_type == "s"
    # Numbers stay numbers.
    assert (customer["ease"].value, customer["nps"].value, customer["weight"].value) == (3, 10, 0.5)
    assert customer["ease"].data_type == "n"
    staff = [row for row in rows if row["side"].value == "staff"]
    assert len(staff) == 5
    for row in staff:
        assert (row["department"].value, row["department"].data_type) == ("'" + payload, "s")
        assert row["comment"].value is None
        assert (row["speed"].value, row["speed"].data_type) == (3, "n")
    assert not any("staff only" in str(cell.value) for cells in sheet.iter_rows() for cell in cells)


def test_neutralize_cell_leaves_numbers_and_harmless_text_alone():
    assert exports.neutralize_cell(-5) == -5
    assert exports.neutralize_cell(2.5) == 2.5
    assert exports.neutralize_cell(None) is None
    assert exports.neutralize_cell("-5") == "'-5"
    assert exports.neutralize_cell("@home") == "'@home"
    assert exports.neutralize_cell("a=b") == "a=b"
    assert exports.neutralize_cell("") == ""


def test_control_characters_in_a_comment_or_a_segment_do_not_break_the_xlsx(wave):
    publish_every_customer(wave)
    services.response_submit(wave=wave, side="customer", answers={"speed": 2}, language="ja", required=False,
                             comment="ok\x01\x1b=bad", segments={"region": "Kan\x02to"})
    # Control characters in a released staff value too (five invitation respondents share it).
    invited_staff(wave, 5, segments={"department": "営\x01業"}, comment="staff\x01\x1b=comment")
    rows = records(read_xlsx(wave))
    (customer,) = (row for row in rows if row["side"] == "customer")
    assert (customer["comment"], customer["region"]) == ("ok=bad", "Kanto")
    staff = [row for row in rows if row["side"] == "staff"]
    assert [(row["department"], row["comment"]) for row in staff] == [("営業", None)] * 5


def test_odd_segment_values_stored_by_other_paths_still_export(wave):
    publish_every_customer(wave)
    f.SurveyResponseFactory(wave=wave, side="customer", segments={"tier": ["a", "b"], "touch_model": None, "plan": 3})
    row = dict(zip(HEADER, read_xlsx(wave)[1], strict=True))
    assert (row["tier"], row["touch_model"], row["plan"]) == ("['a', 'b']", None, 3)
    assert dict(zip(HEADER, read_csv(wave)[1], strict=True))["tier"] == "['a', 'b']"


def test_odd_staff_segment_values_stored_by_other_paths_still_export(wave):
    for _ in range(5):  # verified (invitation channel) and one atom: released as they are
        f.SurveyResponseFactory(wave=wave, side="staff", channel="invitation",
                                segments={"department": ["a", "b"], "role": None, "tenure": 3})
    rows = records(read_xlsx(wave, side="staff"), STAFF_HEADER)
    assert len(rows) == 5
    assert {(row["department"] is not None, row["tenure"]) for row in rows} == {(True, "3")}
    assert len(read_csv(wave, side="staff")) == 6


def test_an_empty_wave_exports_just_the_header(wave):
    assert read_csv(wave) == [HEADER]
    assert read_xlsx(wave) == [tuple(HEADER)]


def test_a_csv_export_imports_back_into_a_wave_of_the_same_instrument(filled, wave, org, instrument):
    copy = services.wave_create(organization=org, instrument=instrument, name="Copy", slug="copy")
    data = "".join(exports.responses_csv(wave=wave, side="customer")).encode("utf-8")
    result = imports.import_responses(wave=copy, side="customer", data=data, filename="export.csv")
    assert result.created == 1
    # A customer export carries no staff segment column; its response id (the respondent key), side and day
    # are read back, and only the channel is ignored (an import's channel is "import").
    assert result.ignored_columns == ["channel"]
    again = imports.import_responses(wave=copy, side="customer", data=data, filename="export.csv")
    assert again.created == 0 and again.duplicates == [2]  # the same file twice adds nothing
    imported = result.objects[0]
    assert {a.item.key: a.value for a in imported.answers.all()} == {"speed": None, "ease": 2, "nps": 6}
    assert (imported.weight, imported.customer_account.external_id, imported.comment) == (2.5, "A-1", "Slow replies")
    # Staff microdata whose values and answers are all released imports back as what it is: the released
    # department and the answers, self-declared (channel "import"), with no comment, day or language to restore.
    data = "".join(exports.responses_csv(wave=wave, side="staff")).encode("utf-8")
    result = imports.import_responses(wave=copy, side="staff", data=data, filename="staff.csv")
    assert result.created == 5 and result.skipped == [] and len(result.unkeyed) == 5
    assert result.ignored_columns == ["channel", "weight", "account"]  # the customer-only columns too
    assert sorted(tuple(a.value for a in r.answers.order_by("item__order")) for r in result.objects) == STAFF_ANSWERS
    assert {(r.segments["department"], r.channel, r.comment) for r in result.objects} == {("営業", "import", "")}


def test_staff_microdata_with_withheld_cells_is_refused_by_the_importer(wave, org, instrument):
    # A withheld answer or a generalised value of a field with choices is no value: every such row is refused,
    # naming the row and the column, and nothing is imported.
    invited_staff(wave, 3, segments={"department": "営業", "tenure": "1-3y"}, answers={"speed": 2, "ease": 4})
    invited_staff(wave, 3, segments={"department": "営業", "tenure": "3-5y"}, answers={"speed": "na", "ease": 5},
                  start=3)
    data = "".join(exports.responses_csv(wave=wave, side="staff")).encode("utf-8")
    copy = services.wave_create(organization=org, instrument=instrument, name="Copy", slug="copy")
    with pytest.raises(errors.ImportFailed) as info:
        imports.import_responses(wave=copy, side="staff", data=data, filename="staff.csv")
    problems = {(p["row"], p["column"], p["message"]) for p in info.value.errors}
    assert problems == {
        *((row, "speed", "Must be a whole number. Got 'withheld'.") for row in range(2, 8)),
        *((row, "tenure", "'(withheld)' marks a value an export withheld; leave the cell empty.")
          for row in range(2, 8)),
    }
    assert "nothing was imported" in info.value.detail
    result = imports.import_responses(wave=copy, side="staff", data=data, filename="staff.csv", skip_bad_rows=True)
    assert result.created == 0 and {p["row"] for p in result.skipped} == set(range(2, 8))
    assert not copy.responses.exists()


def test_a_withheld_value_of_a_free_text_field_is_refused_too(wave, org, instrument):
    """'(withheld)' in a field without choices would otherwise be stored as if somebody had given it."""
    invited_staff(wave, 3, segments={"department": "営業"}, answers={"speed": 2, "ease": 4})
    invited_staff(wave, 3, segments={"department": "総務"}, answers={"speed": 3, "ease": 4}, start=3)
    data = "".join(exports.responses_csv(wave=wave, side="staff")).encode("utf-8")
    assert "(withheld)" in data.decode("utf-8")
    copy = services.wave_create(organization=org, instrument=instrument, name="Copy", slug="copy")
    with pytest.raises(errors.ImportFailed) as info:
        imports.import_responses(wave=copy, side="staff", data=data, filename="staff.csv")
    assert {p["column"] for p in info.value.errors} == {"department", "role", "tenure"}  # all generalised
    assert not copy.responses.exists()


def test_an_unknown_side_is_refused_before_streaming_starts(wave):
    with pytest.raises(errors.ValidationFailed) as info:
        exports.responses_csv(wave=wave, side="board")
    assert info.value.field_errors == {"side": ["Must be staff or customer, got 'board'."]}
