"""Imports from CSV/XLSX: encodings, row/column errors, all-or-nothing, skipping bad rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveys import errors, imports, services
from surveys import models as m
from tests import factories as f


@pytest.fixture
def instrument(org):
    inst = f.InstrumentFactory(organization=org)
    dim = f.DimensionFactory(instrument=inst)
    f.ItemPairFactory(dimension=dim, instrument=inst, key="speed", allow_na=True)
    f.ItemPairFactory(dimension=dim, instrument=inst, key="ease", allow_na=False)
    m.ItemPair.objects.create(instrument=inst, key="nps", kind=m.ItemKind.NPS, customer_text_en="Recommend?",
                              customer_text_ja="推奨しますか", allow_na=False, topbox_levels=[9, 10])
    return inst


@pytest.fixture
def wave(org, instrument):
    return services.wave_create(organization=org, instrument=instrument, name="Spring", slug="spring")


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.replace("\n", "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def failure(call) -> list[dict]:
    with pytest.raises(errors.ImportFailed) as info:
        call()
    return info.value.errors


# --------------------------------------------------------------------------- reading


def test_it_reads_utf8_with_a_bom_and_numbers_rows_as_excel_shows_them():
    data = csv_bytes("Email, Name ,Department\na@example.com,山田 太郎,営業\n\nb@example.com,Bob,CS\n", "utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    header, rows = imports.read_table(data=data, filename="contacts.csv")
    assert header == ["email", "name", "department"]
    # The blank line is row 3 in Excel, so Bob is row 4.
    assert rows == [
        (2, {"email": "a@example.com", "name": "山田 太郎", "department": "営業"}),
        (4, {"email": "b@example.com", "name": "Bob", "department": "CS"}),
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_it_sniffs_the_delimiter_of_a_utf8_file_without_a_bom(delimiter):
    data = csv_bytes(delimiter.join(["external_id", "name", "arr"]) + "\n"
                     + delimiter.join(["A-1", "株式会社テスト", "1200"]) + "\n")
    header, rows = imports.read_table(data=data, filename="accounts.csv")
    assert header == ["external_id", "name", "arr"]
    assert rows == [(2, {"external_id": "A-1", "name": "株式会社テスト", "arr": "1200"})]


def test_it_reads_cp932_with_characters_only_cp932_has():
    text = "email,name,department\ntakahashi@example.com,髙橋 ① 﨑,開発部\n"
    with pytest.raises(UnicodeEncodeError):
        text.encode("shift_jis")  # 髙, ① and 﨑 are outside plain Shift_JIS: this really is a CP932 file
    header, rows = imports.read_table(data=csv_bytes(text, "cp932"), filename="社員.csv")
    assert rows == [(2, {"email": "takahashi@example.com", "name": "髙橋 ① 﨑", "department": "開発部"})]


def test_it_reads_the_first_sheet_of_an_xlsx_with_typed_cells_as_text():
    data = xlsx_bytes([
        ["External_ID", "ARR", "customer_since", "name"],
        ["A-1", 1200.0, dt.datetime(2021, 4, 1), "ミラー"],
        [None, None, None, None],
        [42, 12.5, dt.date(2022, 1, 31), None],
    ])
    header, rows = imports.read_table(data=data, filename="accounts.xlsx")
    assert header == ["external_id", "arr", "customer_since", "name"]
    assert rows == [
        (2, {"external_id": "A-1", "arr": "1200", "customer_since": "2021-04-01", "name": "ミラー"}),
        (4, {"external_id": "42", "arr": "12.5", "customer_since": "2022-01-31", "name": ""}),
    ]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.csv", "The file is empty."),
        (b"\r\n\r\n", "a.csv", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a.csv", "The file is not readable text"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls", "Old Excel (.xls)"),
        (b"PK\x03\x04 this is no zip", "broken.xlsx", "The Excel file could not be read"),
        (b"email\r\na@example.com\r\n", "contacts.pdf", "Unsupported file type"),
        (b"email\r\na@example.com\r\n", "contacts.xlsx", "is named .xlsx but is not an Excel workbook"),
        (b"email,email\r\na@example.com,b@example.com\r\n", "a.csv", "The column 'email' appears more than once."),
    ],
)
def test_a_file_it_cannot_read_gives_one_clear_error(data, filename, message):
    problems = failure(lambda: imports.read_table(data=data, filename=filename))
    assert len(problems) == 1
    assert message in problems[0]["message"]
    assert problems[0]["row"] in (0, 1)


def test_it_reads_the_utf16_tab_separated_text_excel_saves_as_unicode_text():
    data = "email\tname\r\nsato@example.com\t佐藤 髙\r\n".encode("utf-16")
    assert imports.read_table(data=data, filename="contacts.txt") == (
        ["email", "name"], [(2, {"email": "sato@example.com", "name": "佐藤 髙"})])


def test_a_file_with_nul_characters_is_refused_as_binary():
    problems = failure(lambda: imports.read_table(data="name\r\na\x00b\r\n".encode("utf-16"), filename="a.csv"))
    assert "not readable text" in problems[0]["message"]


def test_an_xlsx_with_a_corrupt_compressed_part_is_an_import_error_not_a_crash():
    data = bytearray(xlsx_bytes([["email"], ["a@example.com"]]))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/workbook.xml")
    # Garble the deflate stream of one part (found by the fuzz test below: zlib.error escaped).
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start:start + 8] = b"\xff" * 8
    problems = failure(lambda: imports.read_table(data=bytes(data), filename="contacts.xlsx"))
    assert "The Excel file could not be read" in problems[0]["message"]


def test_a_file_that_is_neither_utf8_nor_cp932_is_refused():
    # 0x81 0x20 is an incomplete CP932 lead byte and invalid UTF-8.
    problems = failure(lambda: imports.read_table(data=b"name\r\n\x81\x20\x81\r\n", filename="a.csv"))
    assert problems == [{"row": 0, "column": "", "message": problems[0]["message"]}]
    assert "UTF-8" in problems[0]["message"] and "CP932" in problems[0]["message"]


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.KAGAMI_MAX_IMPORT_BYTES = 1024
    problems = failure(lambda: imports.read_table(data=b"email\r\n" + b"a@example.com\r\n" * 100, filename="a.csv"))
    assert "larger than" in problems[0]["message"]


# --------------------------------------------------------------------------- accounts


ACCOUNTS_CSV = """external_id,name,tier,touch_model,plan,region,arr,status,customer_since,churned_on,renewed_on
A-1,株式会社アルファ,Gold,high,Pro,関東,"1,200,000",active,2020-04-01,,2024-03-31
A-2,Beta,Silver,Tech,Basic,Kansai,0,churned,2021/05/10,2024-01-31,
"""


def test_it_creates_accounts_from_a_file(org):
    result = imports.import_accounts(organization=org, data=csv_bytes(ACCOUNTS_CSV, "utf-8-sig"),
                                     filename="accounts.csv")
    assert (result.created, result.skipped, result.ignored_columns) == (2, [], [])
    alpha = m.CustomerAccount.objects.get(organization=org, external_id="A-1")
    assert (alpha.name, alpha.tier, alpha.touch_model, alpha.arr, alpha.status) == (
        "株式会社アルファ", "Gold", "high", Decimal("1200000.00"), "active")
    assert (alpha.customer_since, alpha.churned_on, alpha.renewed_on) == (dt.date(2020, 4, 1), None,
                                                                          dt.date(2024, 3, 31))
    beta = m.CustomerAccount.objects.get(organization=org, external_id="A-2")
    assert (beta.touch_model, beta.status, beta.customer_since, beta.churned_on) == (
        "tech", "churned", dt.date(2021, 5, 10), dt.date(2024, 1, 31))
    assert sorted(a.external_id for a in result.objects) == ["A-1", "A-2"]


def test_it_updates_accounts_by_external_id_and_leaves_absent_columns_alone(org, other_org):
    f.CustomerAccountFactory(organization=org, external_id="A-1", name="Old", tier="Bronze", region="Tokyo")
    theirs = f.CustomerAccountFactory(organization=other_org, external_id="A-1", name="Not ours")
    data = csv_bytes("external_id,name,tier\nA-1,New,\nA-9,Nine,Gold\n")
    result = imports.import_accounts(organization=org, data=data, filename="a.csv")
    assert result.created == 2
    updated = m.CustomerAccount.objects.get(organization=org, external_id="A-1")
    assert (updated.name, updated.tier, updated.region) == ("New", "", "Tokyo")
    assert m.CustomerAccount.objects.filter(organization=org).count() == 2
    theirs.refresh_from_db()
    assert theirs.name == "Not ours"


def test_an_xlsx_of_accounts_imports_typed_cells(org):
    data = xlsx_bytes([
        ["external_id", "arr", "customer_since", "status"],
        ["X-1", 350000, dt.datetime(2019, 10, 1), "Renewed"],
    ])
    imports.import_accounts(organization=org, data=data, filename="accounts.xlsx")
    account = m.CustomerAccount.objects.get(external_id="X-1")
    assert (account.arr, account.customer_since, account.status) == (Decimal("350000.00"), dt.date(2019, 10, 1),
                                                                     "renewed")


BAD_ACCOUNTS_CSV = """external_id,touch_model,arr,status,customer_since
A-1,high,100,active,2020-01-01
A-2,medium,200,active,2020-01-01
A-3,low,abc,active,2020-01-01
A-1,low,5,gone,2020-02-30
,tech,-3,active,
"""


def test_every_bad_row_is_reported_by_row_and_column_and_nothing_is_imported(org):
    problems = failure(lambda: imports.import_accounts(organization=org, data=csv_bytes(BAD_ACCOUNTS_CSV),
                                                       filename="accounts.csv"))
    assert problems == [
        {"row": 3, "column": "touch_model", "message": "Must be one of high, low, tech, got 'medium'."},
        {"row": 4, "column": "arr", "message": "Must be a non-negative number, got 'abc'."},
        {"row": 5, "column": "external_id", "message": "'A-1' also appears in row 2."},
        {"row": 5, "column": "status", "message": "Must be one of active, churned, renewed, got 'gone'."},
        {"row": 5, "column": "customer_since", "message": "Must be a date like 2024-04-01, got '2020-02-30'."},
        {"row": 6, "column": "external_id", "message": "An external id is required."},
        {"row": 6, "column": "arr", "message": "Must be a non-negative number, got '-3'."},
    ]
    assert m.CustomerAccount.objects.count() == 0


def test_skip_bad_rows_imports_the_good_rows_and_reports_the_bad(org):
    result = imports.import_accounts(organization=org, data=csv_bytes(BAD_ACCOUNTS_CSV), filename="accounts.csv",
                                     skip_bad_rows=True)
    assert result.created == 1
    assert list(m.CustomerAccount.objects.values_list("external_id", "arr")) == [("A-1", Decimal("100.00"))]
    assert sorted({p["row"] for p in result.skipped}) == [3, 4, 5, 6]
    assert {"row": 4, "column": "arr", "message": "Must be a non-negative number, got 'abc'."} in result.skipped


def test_a_missing_required_column_is_one_error_naming_it(org):
    problems = failure(lambda: imports.import_accounts(organization=org, data=csv_bytes("id,name\n1,Alpha\n"),
                                                       filename="a.csv"))
    assert problems == [{"row": 1, "column": "external_id", "message": "The required column 'external_id' is missing."}]


def test_unknown_columns_are_ignored_and_listed(org):
    result = imports.import_accounts(organization=org, data=csv_bytes("external_id,nmae,Owner\nA-1,Alpha,Ken\n"),
                                     filename="a.csv")
    assert result.ignored_columns == ["nmae", "owner"]
    assert m.CustomerAccount.objects.get().name == ""


def test_a_row_with_more_cells_than_the_header_is_an_error(org):
    data = csv_bytes("external_id,name\nA-1,Alpha,Inc\n")
    problems = failure(lambda: imports.import_accounts(organization=org, data=data, filename="a.csv"))
    assert problems[0]["row"] == 2 and "1 more cell" in problems[0]["message"]


def test_ten_thousand_accounts_import_in_bulk_not_row_by_row(org, django_assert_max_num_queries):
    """Speed is a benchmark's business (bench/); here: batches, not a statement per row (SQLite batches small)."""
    lines = ["external_id,name,tier,touch_model,arr,status,customer_since"]
    lines += [f"ACC-{i:05d},顧客{i},Gold,low,{i * 10},active,2022-01-01" for i in range(10_000)]
    data = csv_bytes("\n".join(lines) + "\n", "cp932")
    with django_assert_max_num_queries(10_000 // 20):
        result = imports.import_accounts(organization=org, data=data, filename="big.csv")
    assert result.created == 10_000
    assert m.CustomerAccount.objects.filter(organization=org).count() == 10_000
    # And again as an update of every row.
    with django_assert_max_num_queries(10_000 // 20):
        assert imports.import_accounts(organization=org, data=data, filename="big.csv").created == 10_000
    assert m.CustomerAccount.objects.filter(organization=org).count() == 10_000


# --------------------------------------------------------------------------- invitations


def test_it_creates_invitations_from_a_cp932_contact_list(wave):
    text = "email,name,language,department,tenure\ntakahashi@example.com,髙橋 ①,ja,営業,1-3y\n" \
           "kim@example.com,Kim,en,CS,\n,匿名,,,\n"
    result = imports.import_invitations(wave=wave, side="staff", data=csv_bytes(text, "cp932"), filename="staff.csv")
    assert result.created == 3
    invitations = {i.invitation.name: i.invitation for i in result.objects}
    takahashi = invitations["髙橋 ①"]
    assert (takahashi.email, takahashi.language, takahashi.segments) == (
        "takahashi@example.com", "ja", {"department": "営業", "tenure": "1-3y"})
    assert invitations["Kim"].language == "en"
    assert invitations["匿名"].language == wave.default_language
    # Each issued token opens its own invitation.
    for issued in result.objects:
        assert services.invitation_by_token(token=issued.token) == issued.invitation


def test_customer_invitations_link_the_account_by_external_id(wave, org, other_org):
    account = f.CustomerAccountFactory(organization=org, external_id="A-1")
    f.CustomerAccountFactory(organization=other_org, external_id="B-1")
    text = "email,account,touch_model\nc1@example.com,A-1,high\nc2@example.com,B-1,low\n"
    problems = failure(lambda: imports.import_invitations(wave=wave, side="customer", data=csv_bytes(text),
                                                          filename="c.csv"))
    assert problems == [{"row": 3, "column": "account", "message": "No customer account with external id 'B-1'."}]
    result = imports.import_invitations(wave=wave, side="customer", data=csv_bytes(text), filename="c.csv",
                                        skip_bad_rows=True)
    assert [(i.invitation.email, i.invitation.customer_account) for i in result.objects] == [
        ("c1@example.com", account)]


def test_bad_contact_rows_are_reported_and_no_invitation_is_created(wave):
    services.invitation_create(wave=wave, side="staff", email="old@example.com")
    text = ("email,language,tenure,account\n"
            "good@example.com,ja,<1y,\n"
            "not-an-email,ja,,\n"
            "OLD@example.com,fr,,\n"
            "Good@Example.com,,forever,\n"
            "x@example.com,,,A-1\n")
    problems = failure(lambda: imports.import_invitations(wave=wave, side="staff", data=csv_bytes(text),
                                                          filename="staff.csv"))
    assert problems == [
        {"row": 3, "column": "email", "message": "Not a valid email address: 'not-an-email'."},
        {"row": 4, "column": "email", "message": "'OLD@example.com' is already invited to this wave (staff)."},
        {"row": 4, "column": "language", "message": "Must be 'ja' or 'en', got 'fr'."},
        {"row": 5, "column": "email", "message": "'Good@Example.com' also appears in row 2."},
        {"row": 5, "column": "tenure", "message": "'forever' is not one of: <1y, 1-3y, 3-5y, 5y+."},
        {"row": 6, "column": "account",
         "message": "Staff invitations carry no account (staff answers stay anonymous)."},
    ]
    assert m.Invitation.objects.filter(wave=wave).count() == 1


def test_an_xlsx_contact_list_imports(wave):
    data = xlsx_bytes([["Email", "Name", "Region"], ["c@example.com", "髙島屋 様", "関西"]])
    result = imports.import_invitations(wave=wave, side="customer", data=data, filename="customers.xlsx")
    invitation = result.objects[0].invitation
    assert (invitation.side, invitation.name, invitation.segments) == ("customer", "髙島屋 様", {"region": "関西"})


def test_a_closed_wave_takes_no_new_invitations(wave):
    services.wave_open(wave=wave)
    services.wave_close(wave=wave)
    problems = failure(lambda: imports.import_invitations(wave=wave, side="staff", data=csv_bytes("email\na@b.jp\n"),
                                                          filename="a.csv"))
    assert "closed" in problems[0]["message"]


# --------------------------------------------------------------------------- responses


def test_it_imports_customer_responses_through_the_submission_rule(wave, org):
    account = f.CustomerAccountFactory(organization=org, external_id="A-1", tier="Gold", touch_model="tech")
    text = ("speed,ease,nps,language,comment,weight,account,touch_model,extra\n"
            "4,5,9,en,Great,1.5,A-1,,x\n"
            "na,2,,ja,遅い,,,low,\n")
    result = imports.import_responses(wave=wave, side="customer", data=csv_bytes(text, "utf-8-sig"),
                                      filename="responses.csv")
    assert (result.created, result.ignored_columns) == (2, ["extra"])
    first, second = result.objects
    assert (first.channel, first.language, first.weight, first.customer_account, first.comment) == (
        "import", "en", 1.5, account, "Great")
    # The account fills segment fields the row leaves empty (as an invitation would).
    assert first.segments == {"tier": "Gold", "touch_model": "tech"}
    assert {a.item.key: a.value for a in first.answers.all()} == {"speed": 4, "ease": 5, "nps": 9}
    assert {a.item.key: a.value for a in second.answers.all()} == {"speed": None, "ease": 2}
    assert (second.customer_account, second.segments, second.comment) == (None, {"touch_model": "low"}, "遅い")


@pytest.mark.parametrize("copy", [False, None], ids=["row-by-row", "default path"])
def test_keyed_rows_naming_accounts_are_each_imported_once(wave, org, copy):
    # Regression: the account's segment loop reused the name of the row's respondent key, so every row with
    # an account was keyed by a segment name and all but the first were skipped as duplicates.
    f.CustomerAccountFactory(organization=org, external_id="A-1", tier="Gold", touch_model="tech")
    f.CustomerAccountFactory(organization=org, external_id="A-2", tier="SMB", touch_model="low")
    text = "response_id,speed,account\nk1,4,A-1\nk2,3,A-2\nk3,2,A-1\n"
    first = imports.import_responses(wave=wave, side="customer", data=csv_bytes(text), filename="r.csv", copy=copy)
    assert (first.created, first.duplicates) == (3, [])
    again = imports.import_responses(wave=wave, side="customer", data=csv_bytes(text), filename="r.csv", copy=copy)
    assert (again.created, again.duplicates) == (0, [2, 3, 4])
    assert sorted(m.SurveyResponse.objects.filter(wave=wave).values_list("customer_account__external_id", flat=True)) \
        == ["A-1", "A-1", "A-2"]


def test_imported_staff_responses_carry_nothing_linkable(wave):
    result = imports.import_responses(wave=wave, side="staff", data=csv_bytes("speed,ease,department\n3,4,営業\n"),
                                      filename="staff.csv")
    response = result.objects[0]
    assert (response.side, response.invitation, response.customer_account, response.submitted_at,
            response.weight) == ("staff", None, None, None, None)
    assert response.segments == {"department": "営業"}


def test_bad_response_rows_name_the_item_column_and_nothing_is_imported(wave):
    text = ("speed,ease,nps,weight,language\n"
            "4,5,9,1,en\n"
            "6,na,10,0,en\n"
            ",,,,\n"
            "abc,3,11,-1,de\n"
            ",,,2,\n")
    problems = failure(lambda: imports.import_responses(wave=wave, side="customer", data=csv_bytes(text),
                                                        filename="r.csv"))
    assert problems == [
        {"row": 3, "column": "speed", "message": "Must be between 1 and 5. Got '6'."},
        {"row": 3, "column": "ease", "message": "This question has no “not applicable” option. Got 'na'."},
        {"row": 3, "column": "weight", "message": "Must be a positive number, got '0'."},
        {"row": 5, "column": "speed", "message": "Must be a whole number. Got 'abc'."},
        {"row": 5, "column": "nps", "message": "Must be between 0 and 10. Got '11'."},
        {"row": 5, "column": "weight", "message": "Must be a positive number, got '-1'."},
        {"row": 5, "column": "language", "message": "Must be 'ja' or 'en', got 'de'."},
        {"row": 6, "column": "", "message": "This row answers no item."},
    ]
    assert m.SurveyResponse.objects.count() == 0


def test_a_response_file_naming_no_item_is_one_error(wave):
    problems = failure(lambda: imports.import_responses(wave=wave, side="staff", data=csv_bytes("q1,q2\n1,2\n"),
                                                        filename="r.csv"))
    assert len(problems) == 1 and problems[0]["row"] == 1 and "speed" in problems[0]["message"]


def test_staff_response_files_cannot_carry_accounts_or_weights(wave):
    # Not staff columns at all: ignored and listed, never stored.
    result = imports.import_responses(wave=wave, side="staff", data=csv_bytes("speed,account,weight,nps\n3,A-1,2,9\n"),
                                      filename="r.csv")
    assert result.ignored_columns == ["account", "weight", "nps"]
    response = result.objects[0]
    assert (response.customer_account, response.weight) == (None, None)
    assert {a.item.key for a in response.answers.all()} == {"speed"}


# --------------------------------------------------------------------------- no input is a crash


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), filename=st.sampled_from(["a.csv", "a.xlsx", "a.txt", "a", "a.xls"]))
def test_any_bytes_either_read_or_fail_with_an_import_error(data, filename):
    try:
        header, rows = imports.read_table(data=data, filename=filename)
    except errors.ImportFailed as exc:
        assert exc.errors and all(set(p) == {"row", "column", "message"} for p in exc.errors)
    else:
        assert all(isinstance(name, str) for name in header)
        assert all(number >= 2 for number, _ in rows)


FUZZ_EXAMPLES = 40
# Mostly plausible values (so rows get written), some arbitrary text (so every check is exercised).
cell = st.one_of(
    st.sampled_from(["", "1", "3", "5", "9", "na", "en", "ja", "a@example.com", "b@example.com", "A-1", "1-3y",
                     "high", "2.5", "=1+1", "2024-02-30", "-0"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12),
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cell, min_size=7, max_size=7), min_size=1, max_size=4))
def test_any_account_cells_import_or_fail_with_row_errors(org, rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["external_id", "arr", "touch_model", "status", "customer_since", "tier", "x"],
                                  *rows])
    try:
        with transaction.atomic():
            imports.import_accounts(organization=org, data=buffer.getvalue().encode("utf-8"), filename="a.csv",
                                    skip_bad_rows=True)
            transaction.set_rollback(True)
    except errors.ImportFailed as exc:
        assert exc.errors


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cell, min_size=8, max_size=8), min_size=1, max_size=4),
       side=st.sampled_from(["staff", "customer"]))
def test_any_contact_or_response_cells_import_or_fail_with_row_errors(wave, org, rows, side):
    if not m.CustomerAccount.objects.filter(external_id="A-1").exists():
        f.CustomerAccountFactory(organization=org, external_id="A-1")
    def table(header: list[str]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, *rows])
        return buffer.getvalue().encode("utf-8")

    contacts = table(["email", "name", "language", "account", "tenure", "touch_model", "department", "region"])
    responses = table(["speed", "ease", "nps", "weight", "language", "account", "comment", "tenure"])
    for call in (
        lambda: imports.import_invitations(wave=wave, side=side, data=contacts, filename="c.csv"),
        lambda: imports.import_invitations(wave=wave, side=side, data=contacts, filename="c.csv", skip_bad_rows=True),
        lambda: imports.import_responses(wave=wave, side=side, data=responses, filename="r.csv"),
        lambda: imports.import_responses(wave=wave, side=side, data=responses, filename="r.csv", skip_bad_rows=True),
    ):
        try:
            with transaction.atomic():
                result = call()
                transaction.set_rollback(True)
        except errors.ImportFailed as exc:
            assert exc.errors and all(p["row"] >= 0 for p in exc.errors)
        else:
            assert result.created == len(result.objects) and all(p["row"] >= 2 for p in result.skipped)
