"""Import resource limits (issue 13, item 3): header first, streamed rows, row and cell caps, 413/400 fast,
and large API imports as background jobs with progress."""

from __future__ import annotations

import io
import time
import zipfile

import openpyxl
import pytest
from django.db import connection

from surveys import errors, imports
from surveys import models as m
from tests import factories as f


def _xlsx(header: list[str], row_xml: bytes, rows: int) -> bytes:
    """A valid workbook with ``rows`` copies of one data row, built in about a second.

    openpyxl's write_only mode takes most of a minute for a million rows, so it writes a one-row
    workbook and the sheet's XML is replaced (rows without r= attributes are valid SpreadsheetML).
    """
    book = openpyxl.Workbook(write_only=True)
    book.create_sheet().append(header)
    small = io.BytesIO()
    book.save(small)
    out = io.BytesIO()
    with zipfile.ZipFile(small) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                start, rest = data.split(b"<sheetData>", 1)
                first_row, end = rest.split(b"</sheetData>", 1)
                data = b"".join([start, b"<sheetData>", first_row, row_xml * rows, b"</sheetData>", end])
            target.writestr(info.filename, data)
    return out.getvalue()


ROW = b'<row><c t="inlineStr"><is><t>ACC</t></is></c><c t="n"><v>7</v></c></row>'


@pytest.fixture(scope="module")
def million_accounts() -> bytes:
    return _xlsx(["external_id", "name"], ROW, 1_000_000)


@pytest.fixture(scope="module")
def million_wrong_header() -> bytes:
    return _xlsx(["customer", "amount"], ROW, 1_000_000)


def _post(client, org, data: bytes, name: str):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post("/api/v1/accounts/import/", {"organization": org.pk, "file": upload}, format="multipart")


def test_a_million_row_xlsx_is_refused_with_413_within_seconds(org, owner_client, million_accounts):
    assert len(million_accounts) < 20 * 1_048_576  # under the byte limit: the rows are what is too many
    started = time.monotonic()
    response = _post(owner_client, org, million_accounts, "accounts.xlsx")
    elapsed = time.monotonic() - started
    assert response.status_code == 413, response.data
    assert response.data["code"] == "payload_too_large"
    assert "50,000 rows" in response.data["detail"]
    assert elapsed < 6, f"took {elapsed:.1f} s"
    assert not m.CustomerAccount.objects.exists()


def test_a_wrong_header_is_refused_before_any_row_is_read(org, owner_client, million_wrong_header):
    started = time.monotonic()
    response = _post(owner_client, org, million_wrong_header, "accounts.xlsx")
    elapsed = time.monotonic() - started
    assert response.status_code == 400, response.data
    assert "external_id" in response.data["detail"]
    assert response.data["errors"][0]["column"] == "external_id"
    assert elapsed < 1.5, f"took {elapsed:.1f} s: the rows were read before the header was checked"


def test_a_million_row_csv_is_refused_with_413_within_seconds(org, owner_client):
    data = b"external_id,name\n" + b"ACC,Name\n" * 1_000_000
    started = time.monotonic()
    response = _post(owner_client, org, data, "accounts.csv")
    assert response.status_code == 413, response.data
    assert time.monotonic() - started < 6


def test_the_row_cap_is_a_setting_and_names_the_limit(org, settings):
    settings.KAGAMI_IMPORT_MAX_ROWS = 3
    data = b"external_id\nA\nB\nC\nD\n"
    with pytest.raises(errors.ImportTooLarge, match="more than 3 rows"):
        imports.import_accounts(organization=org, data=data, filename="a.csv", max_rows=3)
    assert imports.import_accounts(organization=org, data=b"external_id\nA\nB\nC\n", filename="a.csv",
                                   max_rows=3).created == 3


def test_an_overlong_cell_is_a_400_naming_row_and_column(org, owner_client, settings):
    settings.KAGAMI_IMPORT_MAX_CELL_CHARS = 100
    response = _post(owner_client, org, b"external_id,name\nA," + b"x" * 101 + b"\n", "a.csv")
    assert response.status_code == 400, response.data
    assert response.data["errors"][0]["row"] == 2
    assert response.data["errors"][0]["column"] == "name"
    assert "100 characters" in response.data["errors"][0]["message"]


def test_the_byte_limit_is_a_413(org, owner_client, settings):
    settings.KAGAMI_MAX_IMPORT_BYTES = 1024
    response = _post(owner_client, org, b"external_id\n" + b"A\n" * 1000, "a.csv")
    assert response.status_code == 413, response.data


# --------------------------------------------------------------------------- background jobs


def _wait(client, url: str) -> dict:
    """The job as polled once the in-process job threads are idle (SQLite's shared in-memory test database
    locks tables between threads, so the test does not poll while the job writes)."""
    from reports import jobs

    with jobs._executor_lock:
        executor, jobs._executor = jobs._executor, None
    if executor is not None:
        executor.shutdown(wait=True)
    return client.get(url).data


@pytest.mark.django_db(transaction=True)
def test_a_large_import_runs_as_a_job_and_reports_progress(org, owner_client, outsider_client, settings):
    settings.KAGAMI_IMPORT_SYNC_ROWS = 5
    lines = ["external_id,name"] + [f"ACC-{i},Name {i}" for i in range(40)]
    response = _post(owner_client, org, ("\n".join(lines) + "\n").encode(), "accounts.csv")
    assert response.status_code == 202, response.data
    job = response.data
    assert (job["kind"], job["rows_total"], job["organization"]) == ("accounts", 40, org.pk)
    assert job["status"] in ("queued", "running", "done")
    url = f"/api/v1/import-jobs/{job['id']}/"
    assert response["Location"].endswith(url)
    done = _wait(owner_client, url)
    assert done["status"] == "done", done
    assert (done["rows_done"], done["created"], done["skipped"], done["errors"]) == (40, 40, [], [])
    assert m.CustomerAccount.objects.filter(organization=org).count() == 40
    assert m.ImportJob.objects.get(pk=job["id"]).data in (b"", memoryview(b""))  # the upload is not kept
    # Another organisation's member sees nothing of it.
    assert outsider_client.get(url).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_reports_its_rows_and_imports_nothing(org, owner_client, settings):
    settings.KAGAMI_IMPORT_SYNC_ROWS = 1
    response = _post(owner_client, org, b"external_id,arr\nA,1\nB,abc\nC,3\n", "accounts.csv")
    assert response.status_code == 202, response.data
    done = _wait(owner_client, f"/api/v1/import-jobs/{response.data['id']}/")
    assert done["status"] == "failed"
    assert done["errors"] == [{"row": 3, "column": "arr", "message": "Must be a non-negative number, got 'abc'."}]
    assert not m.CustomerAccount.objects.exists()


def test_a_large_invitation_import_is_a_job_too(org, owner_client, settings):
    settings.KAGAMI_IMPORT_SYNC_ROWS = 1
    wave = f.WaveFactory(organization=org)
    upload = io.BytesIO(b"email\na@example.com\nb@example.com\n")
    upload.name = "contacts.csv"
    response = owner_client.post(f"/api/v1/waves/{wave.pk}/invitations/import/",
                                 {"side": "customer", "file": upload}, format="multipart")
    assert response.status_code == 202, response.data
    assert (response.data["kind"], response.data["wave"], response.data["rows_total"]) == ("invitations", wave.pk, 2)
    from surveys import import_jobs

    job = import_jobs.import_job_run(response.data["id"])
    assert (job.status, job.created, job.rows_done) == ("done", 2, 2)
    assert m.Invitation.objects.filter(wave=wave).count() == 2
    assert connection.vendor in ("sqlite", "postgresql")
