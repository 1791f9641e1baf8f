"""Anonymity end to end: no small staff group's numbers in the gap API (by brute force over every single and
pairwise filter of the demo's staff segment fields, including by subtracting two allowed views), in the
exports, or in the PDF; and every view of staff segment results is in the audit log, readable by admins only.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook
from rest_framework.test import APIClient

from surveys import models as m
from surveys import services
from surveys.demo import SMALL_DEPARTMENT
from tests import factories as f
from tests.surveys.test_public_support import CUSTOMER_ANSWERS, STAFF_ANSWERS, open_wave

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- the demo wave, loaded once


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo organization's latest wave (load_demo, 200 customer and 60 staff responses a wave)."""
    with django_db_blocker.unblock():
        call_command("load_demo", "--responses", "200", "--seed", "11", stdout=open("/dev/null", "w"))  # noqa: SIM115
        wave = m.Wave.objects.select_related("organization").filter(previous_wave__isnull=False).first()
        staff = [(r.pk, r.segments, {a.item.key: a.value for a in r.answers.select_related("item")})
                 for r in m.SurveyResponse.objects.filter(wave=wave, side="staff").prefetch_related("answers")]
        analyst = get_user_model().objects.get(username="demo-analyst")
    yield {"wave": wave, "staff": staff, "analyst": analyst}
    with django_db_blocker.unblock():
        from reports.models import ReportJob
        from surveys.demo import demo_delete

        ReportJob.objects.filter(wave__organization=wave.organization).delete()
        m.AuditEvent.objects.filter(organization=wave.organization).delete()
        demo_delete()


def _filters(wave: m.Wave) -> list[dict[str, str]]:
    """All staff, every single field:value filter and every pair of values of two different fields."""
    fields = [(fd["key"], fd["choices"]) for fd in wave.staff_segment_fields]
    singles = [{key: value} for key, choices in fields for value in choices]
    pairs = [{k1: v1, k2: v2} for (k1, c1), (k2, c2) in itertools.combinations(fields, 2) for v1 in c1 for v2 in c2]
    return [{}, *singles, *pairs]


def _members(staff: list, flt: dict[str, str]) -> frozenset:
    return frozenset(pk for pk, segments, _ in staff if all(segments.get(k) == v for k, v in flt.items()))


def _numbers_anywhere(node: Any, path: str) -> list[str]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _numbers_anywhere(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _numbers_anywhere(v, f"{path}[{i}]")]
    return [path] if isinstance(node, int | float) and not isinstance(node, bool) else []


def _staff_numbers(node: Any, path: str = "") -> list[str]:
    """Paths of every number the JSON shows under a staff-side key (n_staff, mean_staff, counts_staff, alpha.staff…)
    or in a statistic that needs the staff side (gap, tests, effect sizes)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if key == "staff_text":
                continue
            if "staff" in key.lower() or key in ("gap", "welch", "mwu", "cohen_d", "hedges_g", "p_adjusted"):
                # Reliability (alpha) is a whole-side figure: test_whole_wave_figures… checks it never varies.
                found += [p for p in _numbers_anywhere(value, here) if ".alpha.staff." not in p]
            else:
                found += _staff_numbers(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _staff_numbers(value, f"{path}[{i}]")
    return found


def _exposed_counts(body: dict) -> dict[str, int]:
    """Every respondent count a view shows for the staff side, by what it counts."""
    counts = {"responses": body["response_counts"]["staff"]}
    for item in body["items"]:
        counts[f"item:{item['key']}"] = item["n_staff"]
        if item["counts_staff"] is not None:
            counts[f"item-levels:{item['key']}"] = sum(item["counts_staff"])
    for dim in body["dimensions"]:
        counts[f"dimension:{dim['key']}"] = dim["n_staff"]
        counts[f"dimension-scored:{dim['key']}"] = dim["n_scored_staff"]
    if body["overall"]:
        counts["overall"] = body["overall"]["n_staff"]
    return {k: v for k, v in counts.items() if v is not None}


@pytest.fixture(scope="module")
def gap_views(demo, django_db_blocker) -> list[tuple[dict, frozenset, dict]]:
    """The gap API's answer for all staff, every single filter and every pairwise filter: (filter, members, body)."""
    wave, staff = demo["wave"], demo["staff"]
    client = APIClient()
    client.force_authenticate(demo["analyst"])
    out = []
    with django_db_blocker.unblock():
        for flt in _filters(wave):
            params = {"staff": [f"{key}:{value}" for key, value in flt.items()], "segments": "false", "lang": "en"}
            response = client.get(f"/api/v1/waves/{wave.pk}/gap/", params)
            assert response.status_code == 200, (flt, response.content[:300])
            out.append((flt, _members(staff, flt), response.json()))
    return out


def _shown_staff_numbers(body: dict) -> dict[str, Any]:
    paths = _staff_numbers({"items": body["items"], "dimensions": body["dimensions"], "overall": body["overall"],
                            "headline": body["headline"]})
    values: dict[str, Any] = {}
    for path in paths:
        node: Any = body
        for part in re.findall(r"\.([A-Za-z_]+)|\[(\d+)\]", path):
            node = node[part[0]] if part[0] else node[int(part[1])]
        values[path] = node
    return values


def test_a_staff_group_under_the_threshold_shows_no_staff_number_in_any_view(demo, gap_views):
    k = demo["wave"].anonymity_threshold
    small = [(flt, members, body) for flt, members, body in gap_views if 0 < len(members) < k]
    assert len(small) >= 10, "the demo must have groups under the threshold for this test to mean anything"
    assert len(gap_views) == 1 + 12 + (5 * 3 + 5 * 4 + 3 * 4)  # all, 5+3+4 values, every pair of fields
    for flt, members, body in small:
        shown = {p: v for p, v in _shown_staff_numbers(body).items() if v != 0}
        assert shown == {}, (flt, len(members), list(shown.items())[:5])
        assert body["response_counts"]["staff"] is None, flt
    for flt, members, body in gap_views:
        if len(members) >= k:
            assert body["response_counts"]["staff"] in (None, len(members)), flt
        for what, value in _exposed_counts(body).items():
            assert value == 0 or value >= k, (flt, what, value)


def test_a_staff_group_under_the_threshold_does_not_even_show_that_its_members_skipped_an_item(demo, gap_views):
    k = demo["wave"].anonymity_threshold
    for flt, members, body in gap_views:
        if 0 < len(members) < k:
            assert _shown_staff_numbers(body) == {}, (flt, len(members))


def test_no_small_staff_group_can_be_derived_by_subtracting_two_gap_views(demo, gap_views):
    """For every two views whose groups are nested, every count both show differs by 0 or at least k."""
    k = demo["wave"].anonymity_threshold
    checked = 0
    for (flt_a, members_a, body_a), (flt_b, members_b, body_b) in itertools.permutations(gap_views, 2):
        if not members_b < members_a:
            continue
        exposed_a, exposed_b = _exposed_counts(body_a), _exposed_counts(body_b)
        for what in exposed_a.keys() & exposed_b.keys():
            diff = exposed_a[what] - exposed_b[what]
            checked += 1
            assert diff == 0 or diff >= k, f"{flt_a} minus {flt_b} reveals {what} = {diff} (k = {k})"
    assert checked > 1000


def test_whole_wave_figures_are_the_same_in_every_filtered_view(gap_views):
    # Invitation-based response rates and reliability's complete cases describe the whole staff side: the
    # same numbers whatever the filter, so they say nothing about a filtered group.
    rates = {tuple(body["response_rates"]["staff"].values()) for _, _, body in gap_views}
    assert len(rates) == 1, rates
    whole = {d["key"]: d["alpha"]["staff"] for d in gap_views[0][2]["dimensions"]}  # gap_views[0]: all staff
    for flt, _, body in gap_views:
        for dim in body["dimensions"]:
            alpha = dim["alpha"]["staff"]
            assert alpha["n_complete"] == whole[dim["key"]]["n_complete"], flt
            for key in ("listwise", "pairwise"):
                assert alpha[key] is None or alpha[key] == whole[dim["key"]][key], (flt, dim["key"], key)


def test_the_segment_breakdown_and_the_filtered_views_agree_on_what_is_hidden(demo):
    wave, staff = demo["wave"], demo["staff"]
    client = APIClient()
    client.force_authenticate(demo["analyst"])
    body = client.get(f"/api/v1/waves/{wave.pk}/gap/", {"lang": "en"}).json()
    k = wave.anonymity_threshold
    marketing = None
    for field in body["segments"]["staff"]:
        shown = {g["value"]: g["n"] for g in field["groups"] if g["n"] is not None}
        for group in field["groups"]:
            true_n = len(_members(staff, {field["field"]: group["value"]}))
            if true_n < k:
                assert group["n"] is None and group["dimensions"] == {} or all(
                    c["n_staff"] is None and c["gap"] is None for c in group["dimensions"].values()), group
            if group["n"] is not None:
                assert group["n"] == true_n
            if field["field"] == "department" and group["value"] == SMALL_DEPARTMENT:
                marketing = group
        total = body["response_counts"]["staff"]
        # All staff minus the groups shown never leaves a small remainder.
        hidden = total - sum(shown.values())
        assert hidden == 0 or hidden >= k, (field["field"], hidden)
    assert marketing is not None and marketing["report_status"] == "suppressed_anonymity"


# --------------------------------------------------------------------------- the PDF


def test_the_pdf_shows_no_number_for_the_suppressed_department(demo):
    from pypdf import PdfReader

    from reports.jobs import build_report

    wave = demo["wave"]
    options = {"segments": True, "compare_wave": wave.previous_wave_id}
    rendered = build_report(wave=wave, language="en", options=options, progress=lambda pct, step: None)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(rendered.pdf)).pages)
    rows = [line for line in text.splitlines() if SMALL_DEPARTMENT in line]
    assert rows, "the suppressed department is listed (marked), not silently dropped"
    for line in rows:
        if line.strip().startswith(SMALL_DEPARTMENT):  # its heatmap rows
            assert "suppressed" in line, line
            assert not re.search(r"\d", line), line
    true_n = len(_members(demo["staff"], {"department": SMALL_DEPARTMENT}))
    assert true_n < wave.anonymity_threshold
    assert not re.search(rf"{SMALL_DEPARTMENT}\D*\b{true_n}\b", text)


# --------------------------------------------------------------------------- exports


@pytest.fixture
def export_wave(org):
    """Staff answered through invitations carrying names and emails; customers through accounts."""
    wave = open_wave(org, slug="export")
    secrets: list[str] = []
    for i in range(6):
        issued = services.invitation_create(wave=wave, side="staff", language="en", email=f"staffer{i}@mirror.jp",
                                            name=f"Staffer Number{i}")
        secrets += [issued.token, issued.invitation.token_hash, f"staffer{i}@mirror.jp", f"Number{i}"]
        services.response_submit(wave=wave, side="staff", language="en", invitation=issued.invitation,
                                 answers={k: (v if v == "na" else int(v)) for k, v in STAFF_ANSWERS.items()})
    account = f.CustomerAccountFactory(organization=org, external_id="ACME-1")
    issued = services.invitation_create(wave=wave, side="customer", language="en", email="buyer@acme.jp",
                                        customer_account=account)
    services.response_submit(wave=wave, side="customer", language="en", invitation=issued.invitation,
                             answers={k: (v if v == "na" else int(v)) for k, v in CUSTOMER_ANSWERS.items()})
    return wave, secrets


def _assert_staff_rows_are_unlinkable(header: list[str], rows: list[list[Any]], secrets: list[str]) -> None:
    lowered = [str(h).lower() for h in header]
    assert not [h for h in lowered if "email" in h or "invitation" in h or "token" in h or "time" in h
                or h == "submitted_at" or h == "name"], header
    staff_rows = [dict(zip(header, row, strict=True)) for row in rows if row[header.index("side")] == "staff"]
    assert len(staff_rows) == 6
    for row in staff_rows:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(row["submitted_on"])[:10]) and (
            len(str(row["submitted_on"])) == 10 or str(row["submitted_on"]).endswith("00:00:00")), row
        assert row["account"] in ("", None) and row["weight"] in ("", None)
        flat = " ".join(str(v) for v in row.values())
        assert not [s for s in secrets if s in flat], row
        assert not re.search(r"\d{1,2}:\d{2}", flat.replace("00:00:00", "")), row  # no clock time


def test_csv_and_xlsx_exports_carry_no_invitation_email_or_exact_time_for_staff(owner_client, export_wave):
    wave, secrets = export_wave
    response = owner_client.get(f"/api/v1/waves/{wave.pk}/responses/export/", {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    _assert_staff_rows_are_unlinkable(rows[0], rows[1:], secrets)
    customer = [r for r in rows[1:] if r[rows[0].index("side")] == "customer"]
    assert customer[0][rows[0].index("account")] == "ACME-1"  # customers keep their account link

    response = owner_client.get(f"/api/v1/waves/{wave.pk}/responses/export/", {"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    values = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    _assert_staff_rows_are_unlinkable([str(h) for h in values[0]], values[1:], secrets)


def test_the_staff_responses_api_carries_no_invitation_email_or_exact_time(owner_client, export_wave):
    wave, secrets = export_wave
    body = owner_client.get(f"/api/v1/waves/{wave.pk}/responses/", {"side": "staff"}).json()
    assert body["count"] == 6
    text = str(body)
    assert not [s for s in secrets if s in text]
    for row in body["results"]:
        assert not {"invitation", "email", "customer_account", "name"} & set(row)
        assert row["submitted_at"] is None and row["account"] is None and row["weight"] is None


# --------------------------------------------------------------------------- audit log


def _events(owner_client, wave, action: str) -> list[dict]:
    body = owner_client.get("/api/v1/audit-events/", {"wave": wave.pk, "action": action}).json()
    return body["results"]


def test_requesting_a_report_with_segments_is_audited_through_the_api_and_the_page(
        owner_client, executive, executive_client, org, django_capture_on_commit_callbacks):
    wave = open_wave(org, slug="audited")
    with django_capture_on_commit_callbacks(execute=False):
        assert executive_client.post(f"/api/v1/waves/{wave.pk}/reports/", {"language": "en"},
                                     format="json").status_code == 202
        assert executive_client.post(f"/api/v1/waves/{wave.pk}/reports/", {"language": "ja", "segments": False},
                                     format="json").status_code == 202
        page = Client()
        page.force_login(executive)
        assert page.post(f"/reports/waves/{wave.pk}/ja/").status_code == 302
    events = _events(owner_client, wave, "report_request")
    assert [(e["username"], e["details"]["via"], e["details"]["language"]) for e in events] == [
        ("executive", "page", "ja"), ("executive", "api", "en")]  # newest first; segments=false is not audited
    assert events[1]["wave"] == wave.pk and events[1]["details"]["segments"] is True
    assert events[0]["created_at"] >= events[1]["created_at"]


def test_exporting_responses_is_audited(owner_client, analyst_client, export_wave):
    wave, _ = export_wave
    b"".join(analyst_client.get(f"/api/v1/waves/{wave.pk}/responses/export/",
                                {"format": "csv", "side": "staff"}).streaming_content)
    analyst_client.get(f"/api/v1/waves/{wave.pk}/responses/export/", {"format": "xlsx"})
    events = _events(owner_client, wave, "export")
    assert [(e["details"]["format"], e["details"]["side"]) for e in events] == [("xlsx", "all"), ("csv", "staff")]
    assert all(e["wave"] == wave.pk and e["created_at"] for e in events)


def test_the_command_line_export_is_audited_as_system(owner_client, export_wave, tmp_path):
    wave, _ = export_wave
    call_command("export_responses", "--wave", wave.slug, "--format", "csv", "--out", str(tmp_path / "out.csv"),
                 stdout=io.StringIO(), stderr=io.StringIO())
    events = _events(owner_client, wave, "export")
    assert [(e["username"], e["details"]["format"]) for e in events] == [("", "csv")]


def test_an_api_export_names_who_exported(owner_client, analyst_client, export_wave):
    wave, _ = export_wave
    analyst_client.get(f"/api/v1/waves/{wave.pk}/responses/export/", {"format": "xlsx"})
    assert _events(owner_client, wave, "export")[0]["username"] == "analyst"


def test_the_audit_log_is_readable_by_admins_only(owner_client, analyst_client, executive_client, outsider_client,
                                                   anon_client, export_wave):
    wave, _ = export_wave
    analyst_client.get(f"/api/v1/waves/{wave.pk}/responses/export/", {"format": "xlsx"})
    assert len(_events(owner_client, wave, "export")) == 1
    assert analyst_client.get("/api/v1/audit-events/").status_code == 403
    assert executive_client.get("/api/v1/audit-events/").status_code == 403
    assert anon_client.get("/api/v1/audit-events/").status_code == 401
    assert outsider_client.get("/api/v1/audit-events/").json()["results"] == []
