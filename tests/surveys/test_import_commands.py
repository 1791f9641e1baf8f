"""The import/export management commands, end to end through call_command."""

from __future__ import annotations

import csv
import io
import re
from io import StringIO

import openpyxl
import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from surveys import models as m
from surveys import releases, services
from surveys.services import invitations as invitation_services
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


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write(tmp_path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return str(path)


ACCOUNTS = "external_id,name,arr,touch_model\nA-1,髙橋商事,1000,high\nA-2,Beta,abc,low\nA-3,Gamma,5,medium\n"


def test_import_accounts_reads_a_cp932_file(tmp_path, org):
    path = write(tmp_path, "accounts.csv", "external_id,name,arr\nA-1,髙橋商事 ①,1000\nA-2,Beta,\n", "cp932")
    out, _ = run("import_accounts", "--org", "mirror", path)
    assert "Imported 2 account(s) for 'mirror'." in out
    assert dict(m.CustomerAccount.objects.filter(organization=org).values_list("external_id", "name")) == {
        "A-1": "髙橋商事 ①", "A-2": "Beta"}


def test_import_accounts_lists_every_bad_row_and_imports_nothing(tmp_path, org):
    path = write(tmp_path, "accounts.csv", ACCOUNTS)
    with pytest.raises(CommandError) as info:
        run("import_accounts", "--org", "mirror", path)
    message = str(info.value)
    assert "2 problem(s) in 2 row(s); nothing was imported." in message
    assert "Row 3, column 'arr': Must be a non-negative number, got 'abc'." in message
    assert "Row 4, column 'touch_model': Must be one of high, low, tech, got 'medium'." in message
    assert m.CustomerAccount.objects.count() == 0


def test_import_accounts_with_skip_bad_rows_imports_the_good_rows(tmp_path, org):
    path = write(tmp_path, "accounts.csv", ACCOUNTS)
    out, err = run("import_accounts", "--org", "mirror", path, "--skip-bad-rows")
    assert "Imported 1 account(s)" in out
    assert "Skipped 2 bad row(s):" in err and "Row 3, column 'arr'" in err
    assert list(m.CustomerAccount.objects.values_list("external_id", flat=True)) == ["A-1"]


def test_commands_refuse_unknown_targets_and_missing_files(tmp_path, wave):
    path = write(tmp_path, "a.csv", "external_id\nA-1\n")
    with pytest.raises(CommandError, match="No organization with slug 'nope'"):
        run("import_accounts", "--org", "nope", path)
    with pytest.raises(CommandError, match="No wave with id or slug 'nope'"):
        run("import_contacts", "--wave", "nope", "--side", "staff", path)
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_accounts", "--org", "mirror", str(tmp_path / "missing.csv"))


def test_import_contacts_from_xlsx_by_wave_id(tmp_path, wave):
    workbook = openpyxl.Workbook()
    workbook.active.append(["email", "name", "department", "shoe_size"])
    workbook.active.append(["a@example.com", "髙田", "営業", "27"])
    workbook.active.append(["b@example.com", "Bob", "CS", "29"])
    path = tmp_path / "staff.xlsx"
    workbook.save(path)
    out, _ = run("import_contacts", "--wave", str(wave.pk), "--side", "staff", str(path))
    assert "Created 2 staff invitation(s) for wave 'spring'." in out
    assert "Ignored unknown column(s): shoe_size." in out
    assert sorted(wave.invitations.values_list("name", flat=True)) == ["Bob", "髙田"]
    assert len(mail.outbox) == 0


def test_import_contacts_send_needs_an_open_wave(tmp_path, wave):
    path = write(tmp_path, "c.csv", "email\na@example.com\n")
    with pytest.raises(CommandError, match="--send needs an open wave"):
        run("import_contacts", "--wave", "spring", "--side", "customer", path, "--send")
    assert wave.invitations.count() == 0


def test_import_contacts_send_emails_a_working_link_to_each_contact(tmp_path, wave):
    services.wave_open(wave=wave)
    path = write(tmp_path, "c.csv", "email,name,language\na@example.com,Alice,en\nb@example.com,佐藤,ja\n,NoMail,en\n")
    out, _ = run("import_contacts", "--wave", "spring", "--side", "customer", path, "--send")
    assert "Created 3 customer invitation(s)" in out
    assert "Sent 2 email(s); 1 without an email address." in out
    assert sorted(message.to[0] for message in mail.outbox) == ["a@example.com", "b@example.com"]
    for message in mail.outbox:
        token = re.search(r"/r/([A-Za-z0-9_-]+)/", message.body).group(1)
        invitation = services.invitation_by_token(token=token)
        assert invitation.email == message.to[0] and invitation.sent_at is not None


def test_import_contacts_never_prints_a_staff_link_and_refuses_staff_rows_without_an_address(tmp_path, wave):
    # P1: a staff link is only ever emailed to the invitation's address.
    services.wave_open(wave=wave)
    minted: list[str] = []
    real = invitation_services.new_token

    def spy() -> str:
        minted.append(real())
        return minted[-1]

    path = write(tmp_path, "s.csv", "email,name,language\na@example.com,Alice,en\n,NoMail,en\nb@example.com,Bob,ja\n")
    with pytest.raises(CommandError) as info:
        run("import_contacts", "--wave", "spring", "--side", "staff", path, "--send")
    assert f"Row 3, column 'email': {services.STAFF_EMAIL_REQUIRED}" in str(info.value)
    assert wave.invitations.count() == 0 and mail.outbox == []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(invitation_services, "new_token", spy)
        out, err = run("import_contacts", "--wave", "spring", "--side", "staff", path, "--send", "--skip-bad-rows")
    assert "Created 2 staff invitation(s)" in out and "Sent 2 email(s)" in out
    assert "Row 3, column 'email'" in err
    assert "/r/" not in out + err and not any(token in out + err for token in minted)
    assert sorted(message.to[0] for message in mail.outbox) == ["a@example.com", "b@example.com"]
    for message in mail.outbox:
        assert services.invitation_by_token(token=re.search(r"/r/([A-Za-z0-9_-]+)/", message.body).group(1)).email \
            == message.to[0]


def test_import_responses_then_export_them_as_csv_and_xlsx(tmp_path, wave, org):
    f.CustomerAccountFactory(organization=org, external_id="A-1")
    path = write(tmp_path, "responses.csv",
                 "speed,ease,nps,comment,account,weight\n4,5,9,=1+1,A-1,2\nna,3,7,,,\n", "utf-8-sig")
    out, _ = run("import_responses", "--wave", "spring", "--side", "customer", path)
    assert "Imported 2 customer response(s) into wave 'spring'." in out

    # Two customer responses wait for a release (k = 5 customers by default): no export shows them yet.
    waiting_path = tmp_path / "waiting.csv"
    run("export_responses", "--wave", "spring", "--format", "csv", "--out", str(waiting_path))
    assert list(csv.reader(io.StringIO(waiting_path.read_bytes().decode("utf-8-sig"), newline="")))[1:] == []
    # On this test wave every customer response may be published on its own.
    wave.customer_threshold = 1
    wave.save()

    csv_path = tmp_path / "out.csv"
    out, _ = run("export_responses", "--wave", "spring", "--format", "csv", "--out", str(csv_path))
    assert f"Wrote 2 response(s) to {csv_path}." in out
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert sorted((r["speed"], r["ease"], r["nps"], r["comment"], r["account"], r["weight"]) for r in rows) == [
        ("4", "5", "9", "'=1+1", "A-1", "2.0"), ("na", "3", "7", "", "", "")]

    xlsx_path = tmp_path / "out.xlsx"
    run("export_responses", "--wave", str(wave.pk), "--side", "customer", "--format", "xlsx", "--out", str(xlsx_path))
    sheet = openpyxl.load_workbook(xlsx_path).active
    values = list(sheet.iter_rows(values_only=True))
    header = values[0]
    assert len(values) == 3
    assert sorted(row[header.index("nps")] for row in values[1:]) == [7, 9]
    assert "'=1+1" in [row[header.index("comment")] for row in values[1:]]


def test_export_responses_counts_only_the_rows_it_writes(tmp_path, wave):
    # Responses waiting for a release are neither written nor counted (nor is how many wait told).
    path = write(tmp_path, "responses.csv", "speed,ease,nps\n4,5,9\nna,3,7\n")
    run("import_responses", "--wave", "spring", "--side", "customer", path)
    csv_path = tmp_path / "out.csv"
    out, _ = run("export_responses", "--wave", "spring", "--format", "csv", "--out", str(csv_path))
    assert list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"), newline="")))[1:] == []
    assert f"Wrote 0 response(s) to {csv_path}." in out


def test_export_responses_counts_no_staff_rows_when_the_staff_side_is_not_released(tmp_path, wave):
    # Six published staff responses, then the threshold goes up to 7: no staff row leaves, and none is counted.
    services.wave_open(wave=wave)
    for i in range(6):
        inv = services.invitation_create(wave=wave, side="staff", email=f"s{i}@example.com").invitation
        services.response_submit(wave=wave, side="staff", answers={"speed": 4, "ease": 5}, language="en",
                                 channel="invitation", invitation=inv)
    releases.publish_due(wave)
    m.Wave.objects.filter(pk=wave.pk).update(anonymity_threshold=7)
    for fmt in ("csv", "xlsx"):
        path = tmp_path / f"staff.{fmt}"
        out, _ = run("export_responses", "--wave", "spring", "--side", "staff", "--format", fmt, "--out", str(path))
        assert f"Wrote 0 response(s) to {path}." in out


def test_import_responses_reports_bad_rows_and_imports_nothing(tmp_path, wave):
    path = write(tmp_path, "responses.csv", "speed,ease\n4,5\n9,2\n")
    with pytest.raises(CommandError, match=r"Row 3, column 'speed': Must be between 1 and 5\. Got '9'\."):
        run("import_responses", "--wave", "spring", "--side", "staff", path)
    assert m.SurveyResponse.objects.count() == 0


def test_export_responses_writes_csv_to_stdout_and_refuses_xlsx_there(wave):
    out, _ = run("export_responses", "--wave", "spring", "--side", "staff", "--format", "csv", "--out", "-")
    assert out.startswith("\ufeffresponse,side,language,channel,submitted_on,")
    with pytest.raises(CommandError, match="Only CSV"):
        run("export_responses", "--wave", "spring", "--format", "xlsx", "--out", "-")


def test_export_responses_refuses_a_missing_folder(tmp_path, wave):
    with pytest.raises(CommandError, match="does not exist"):
        run("export_responses", "--wave", "spring", "--format", "csv", "--out", str(tmp_path / "no" / "x.csv"))
