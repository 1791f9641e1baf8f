"""Bad-input corpus: every write endpoint and every import command, fed malformed input.

Each case must end in a 4xx (or a clean CommandError) that names the problem, never a 500, and
leave the database exactly as it was (row counts of every model). Where HTML, script or
formula-looking text is valid data (names, comments), it is stored verbatim and rendered escaped.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from surveys import models as m
from surveys import services
from surveys.public import throttling

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil.example","click")'
# Counted before/after each case; sessions and login-attempt logs are bookkeeping, not data.
IGNORED_TABLES = {"django_session", "axes_accessattempt", "axes_accesslog", "axes_accessfailurelog"}


def snapshot() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()
            if model._meta.db_table not in IGNORED_TABLES and not model._meta.proxy}


@pytest.fixture
def api(owner) -> APIClient:
    client = APIClient()
    client.force_authenticate(owner)
    return client


# --------------------------------------------------------------------------- the corpus

@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    url: Callable  # home → path
    public: bool = False


def _deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


ENDPOINTS = [
    Endpoint("membership create", "post", lambda h: "/api/v1/memberships/"),
    Endpoint("membership role", "patch", lambda h: f"/api/v1/memberships/{h.membership.pk}/"),
    Endpoint("instrument create", "post", lambda h: "/api/v1/instruments/"),
    Endpoint("instrument replace", "put", lambda h: f"/api/v1/instruments/{h.editable.pk}/"),
    Endpoint("instrument change", "patch", lambda h: f"/api/v1/instruments/{h.editable.pk}/"),
    Endpoint("instrument clone", "post", lambda h: f"/api/v1/instruments/{h.editable.pk}/clone/"),
    Endpoint("instrument item add", "post", lambda h: f"/api/v1/instruments/{h.editable.pk}/items/"),
    Endpoint("instrument item change", "patch",
             lambda h: f"/api/v1/instruments/{h.editable.pk}/items/{h.editable.items.get(key='c2').pk}/"),
    Endpoint("wave create", "post", lambda h: "/api/v1/waves/"),
    Endpoint("wave change", "patch", lambda h: f"/api/v1/waves/{h.draft.pk}/"),
    Endpoint("invitations create", "post", lambda h: f"/api/v1/waves/{h.wave.pk}/invitations/"),
    Endpoint("invitations remind", "post", lambda h: f"/api/v1/waves/{h.wave.pk}/invitations/remind/"),
    Endpoint("account create", "post", lambda h: "/api/v1/accounts/"),
    Endpoint("account replace", "put", lambda h: f"/api/v1/accounts/{h.account.pk}/"),
    Endpoint("account change", "patch", lambda h: f"/api/v1/accounts/{h.account.pk}/"),
    Endpoint("report request", "post", lambda h: f"/api/v1/waves/{h.wave.pk}/reports/"),
    Endpoint("auth token", "post", lambda h: "/api/v1/auth/token/", public=True),
    Endpoint("public invitation form", "post", lambda h: f"/api/v1/public/forms/{h.token}/", public=True),
    Endpoint("public anonymous form", "post", lambda h: f"/api/v1/public/waves/{h.wave.slug}/customer/",
             public=True),
]

# (label, raw body, content type)
RAW_BODIES = [
    ("a JSON list", b"[1, 2, 3]", "application/json"),
    ("a JSON string", b'"text"', "application/json"),
    ("a JSON number", b"42", "application/json"),
    ("JSON null", b"null", "application/json"),
    ("truncated JSON", b'{"name_en": "x", ', "application/json"),
    ("invalid UTF-8", b'{"name_en": "\xff\xfe\xc3\x28", "comment": "\xe9"}', "application/json"),
    ("deeply nested JSON", _deep(100_000), "application/json"),
    ("a 3 MB body", b'{"comment": "' + b"x" * 3_000_000 + b'"}', "application/json"),
    ("NaN and Infinity", b'{"arr": NaN, "answers": {"c1": Infinity}, "organization": -Infinity}', "application/json"),
    ("XML", b"<?xml version='1.0'?><a>1</a>", "application/xml"),
    ("text/plain", b"organization=1", "text/plain"),
]


# Every field name some write endpoint reads: a payload putting garbage under all of them reaches
# every endpoint's validation (DRF ignores keys an endpoint does not know, which is not an error).
FIELDS = ("organization", "username", "role", "key", "name_ja", "name_en", "name", "slug", "instrument", "side",
          "contacts", "answers", "external_id", "arr", "status", "language", "dimensions", "items", "password",
          "comment", "segments", "weighted", "compare_wave", "send")
ANSWERING = {"public invitation form", "public anonymous form"}


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"a": [value]}
    return value


def _typed_garbage(home) -> list[tuple[str, dict, set[str] | None]]:
    """Well-formed JSON objects with wrong types, out-of-range values, unknown keys, NUL bytes.

    Each with the endpoints it applies to (None: all of them).
    """
    org = home.org.pk
    cases = [
        ("every field a list", {k: [1] for k in FIELDS}),
        ("every field nested 200 levels deep", {k: _nested(200) for k in FIELDS}),
        ("every field an object", {k: {"x": 1} for k in ("organization", "username", "role", "name_en", "slug",
                                                          "instrument", "side", "answers", "external_id",
                                                          "language", "comment", "password")}),
        ("huge and negative integers", {"organization": 2**80, "instrument": -1, "previous_wave": 2**64,
                                        "arr": -5, "anonymity_threshold": 2**70, "customer_threshold": 0,
                                        "answers": {"c1": 2**70}, "compare_wave": 2**70, "name_en": "x",
                                        "name_ja": "x", "role": 2**70, "side": -1, "language": 2**64,
                                        "username": 2**70, "password": -1,
                                        "dimensions": [{"key": "d", "name_en": "d", "name_ja": "d", "order": -1}],
                                        "items": [{"key": "i", "order": 2**70, "scale_points": 2**70,
                                                   "customer_text_en": "c", "customer_text_ja": "c",
                                                   "topbox_levels": [2**70]}]}),
        ("NUL bytes in text", {**{k: "x\x00y" for k in FIELDS}, "organization": org,
                               "answers": {"c1\x00": 3}, "segments": {"tier\x00": "Gold"}}),
        ("10,000-character texts", {**{k: "n" * 10_000 for k in FIELDS}, "organization": org}),
        ("invalid dates and enums", {"organization": org, "external_id": "NEW", "customer_since": "2025-02-30",
                                     "status": "zombie", "touch_model": "telepathy", "role": "owner",
                                     "side": "both", "language": "fr", "opens_on": "yesterday",
                                     "languages": ["ja", "ja", "fr"], "weighted": "maybe",
                                     "username": "", "password": "", "name_en": "x", "name_ja": "x",
                                     "dimensions": [], "items": [{"key": "i", "kind": "zombie"}]}),
    ]
    contacts = [
        ("NUL bytes in nested text", {"side": "customer", "contacts": [{"email": "a@example.com", "name": "x\x00y",
                                                                        "segments": {"tier": "G\x00"}}]}),
        ("HTML in an email address", {"side": "customer", "contacts": [{"email": SCRIPT}]}),
        ("thousands of contacts", {"side": "customer", "contacts": [{"email": f"c{i}@example.com"}
                                                                    for i in range(1_001)]}),
        ("an unknown account", {"side": "customer", "contacts": [{"account": "NO-SUCH-ACCOUNT"}]}),
    ]
    answers = [
        ("out-of-range Likert values", {"answers": {"c1": 6, "c2": 0, "c3": -1, "nps": 11}}),
        ("non-integer answers", {"answers": {"c1": 2.5, "c2": True, "c3": "four", "nps": [9]}}),
        ("unknown item codes", {"answers": {"c1": 3, "c2": 3, "c3": 3, "nps": 9, "no_such_item": 3}}),
        ("an answer nested as an object", {"answers": {"c1": {"value": 3}, "c2": 3, "c3": 3, "nps": 9}}),
    ]
    return ([(label, payload, None) for label, payload in cases]
            + [(label, payload, {"invitations create"}) for label, payload in contacts]
            + [(label, payload, ANSWERING) for label, payload in answers])


def _request(client, method: str, url: str, body: bytes, content_type: str):
    cache.clear()  # the public forms' rate limit is not what is being tested here
    return getattr(client, method)(url, data=body, content_type=content_type)


def _assert_named_4xx(response, label: str) -> None:
    assert 400 <= response.status_code < 500, (label, response.status_code, response.content[:300])
    data = response.json()
    assert data["code"] and data["detail"], label


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_write_endpoint_refuses_malformed_bodies_cleanly_and_changes_nothing(endpoint, home, api):
    client = APIClient() if endpoint.public else api
    url = endpoint.url(home)
    cases = [(label, body, ctype) for label, body, ctype in RAW_BODIES]
    cases += [(label, json.dumps(payload).encode(), "application/json")
              for label, payload, only in _typed_garbage(home) if only is None or endpoint.name in only]
    for label, body, ctype in cases:
        before = snapshot()
        response = _request(client, endpoint.method, url, body, ctype)
        _assert_named_4xx(response, f"{endpoint.name}: {label}")
        assert snapshot() == before, f"{endpoint.name}: {label} changed the database"


# --------------------------------------------------------------------------- imports: commands and uploads

CONTACTS = "email,name,language,tier\n"
ACCOUNTS = "external_id,name,tier,arr,status,customer_since\n"
RESPONSES = "c1,c2,c3,nps,comment\n"

# (label, command → file bytes, words the error must contain)
IMPORT_CORPUS: list[tuple[str, dict[str, bytes], str]] = [
    ("NUL bytes", {k: (h + "a@example.com,x\x00y,1,2,3\n").encode() for k, h in
                   (("contacts", CONTACTS), ("accounts", ACCOUNTS), ("responses", RESPONSES))}, "not readable"),
    ("undecodable bytes", {k: h.encode() + b"\x80\xff\xfd,\xfe\xff\x85\n" for k, h in
                           (("contacts", CONTACTS), ("accounts", ACCOUNTS), ("responses", RESPONSES))},
     "not readable"),
    ("mixed UTF-8 and CP932 rows", {
        "contacts": CONTACTS.encode() + "a@example.com,山田,ja,Gold\n".encode() + "b@example.com,鈴木,ja,Gold\n"
        .encode("cp932"),
        "accounts": ACCOUNTS.encode() + "A-1,山田商事,Gold,,active,\n".encode() + "A-2,鈴木商事,Gold,,active,\n"
        .encode("cp932"),
        "responses": RESPONSES.encode() + "1,2,3,4,良い\n".encode() + "1,2,3,4,悪い\n".encode("cp932"),
    }, "mixes text encodings"),
    ("a BOM in the middle (two files joined)", {
        "contacts": (CONTACTS + "a@example.com,x,ja,Gold\n\ufeff" + CONTACTS + "b@example.com,y,ja,Gold\n").encode(),
        "accounts": (ACCOUNTS + "A-1,x,Gold,,active,\n\ufeff" + ACCOUNTS + "A-2,y,Gold,,active,\n").encode(),
        "responses": (RESPONSES + "1,2,3,4,x\n\ufeff" + RESPONSES + "1,2,3,4,y\n").encode(),
    }, "byte-order mark"),
    ("formula-looking cells in typed columns", {
        "contacts": (CONTACTS + '=cmd|" /C calc"!A0,x,ja,Gold\n').encode(),
        "accounts": (ACCOUNTS + "A-1,x,Gold,=1+2,active,@SUM(A1)\n").encode(),
        "responses": (RESPONSES + '=1+2,+3,-4,@SUM(A1),x\n').encode(),
    }, "row 2"),
    ("HTML and script in typed columns", {
        "contacts": (CONTACTS + f'"{SCRIPT}",x,ja,Gold\n').encode(),
        "accounts": (ACCOUNTS + f'A-1,x,Gold,"{SCRIPT}",active,\n').encode(),
        "responses": (RESPONSES + f'"{SCRIPT}",2,3,4,x\n').encode(),
    }, "row 2"),
    ("wrong types and out-of-range values", {
        "contacts": (CONTACTS + "not-an-email,x,fr,Gold\n").encode(),
        "accounts": (ACCOUNTS + "A-1,x,Gold,-5,zombie,2025-02-30\n").encode(),
        "responses": (RESPONSES + "6,0,-1,11,x\n").encode(),
    }, "row 2"),
    ("unknown columns", {
        "contacts": b"mail,nom\nx,y\n",
        "accounts": b"id_externe,nom\nx,y\n",
        # Extra columns beside known ones are reported as ignored (other tools' exports carry timestamps);
        # a file whose columns name no item at all is refused.
        "responses": b"no_such_item,q99\n1,2\n",
    }, "column"),
    ("a corrupt Excel workbook", {k: b"PK\x03\x04" + b"\x00garbage" * 100 for k in ("contacts", "accounts",
                                                                                   "responses")},
     "excel"),
]


def _command(kind: str, path: str, home) -> tuple[str, list[str]]:
    if kind == "contacts":
        return "import_contacts", [path, "--wave", home.wave.slug, "--side", "customer"]
    if kind == "accounts":
        return "import_accounts", [path, "--org", home.org.slug]
    return "import_responses", [path, "--wave", home.wave.slug, "--side", "customer"]


@pytest.mark.parametrize("kind", ["contacts", "accounts", "responses"])
def test_every_import_command_refuses_bad_files_with_a_clean_error_and_imports_nothing(kind, home, tmp_path):
    for label, files, words in IMPORT_CORPUS:
        suffix = ".xlsx" if files[kind].startswith(b"PK") else ".csv"
        path = tmp_path / f"{kind}-{len(label)}{suffix}"
        path.write_bytes(files[kind])
        before = snapshot()
        name, args = _command(kind, str(path), home)
        with pytest.raises(CommandError) as failure:
            call_command(name, *args, stdout=io.StringIO(), stderr=io.StringIO())
        assert words in str(failure.value).lower(), (kind, label, str(failure.value)[:300])
        assert snapshot() == before, (kind, label)


def test_a_50_mb_csv_is_refused_by_every_import_command_and_upload(home, api, tmp_path):
    path = tmp_path / "huge.csv"
    row = b"someone@example.com,A name long enough to fill the file quickly,ja,Gold\n"
    with path.open("wb") as out:
        out.write(CONTACTS.encode())
        out.write(row * (50 * 1_048_576 // len(row) + 1))
    assert path.stat().st_size > 50 * 1_048_576
    before = snapshot()
    for kind in ("contacts", "accounts", "responses"):
        name, args = _command(kind, str(path), home)
        with pytest.raises(CommandError, match="larger than"):
            call_command(name, *args, stdout=io.StringIO(), stderr=io.StringIO())
    with path.open("rb") as upload:
        response = api.post(f"/api/v1/waves/{home.wave.pk}/invitations/import/",
                            {"side": "customer", "file": upload}, format="multipart")
    assert response.status_code in (400, 413)
    assert response.json()["code"] in ("invalid", "payload_too_large", "import_failed")
    assert snapshot() == before


UPLOADS = {
    "contacts": lambda h: (f"/api/v1/waves/{h.wave.pk}/invitations/import/", {"side": "customer"}),
    "accounts": lambda h: ("/api/v1/accounts/import/", {"organization": h.org.pk}),
}


@pytest.mark.parametrize("kind", list(UPLOADS))
def test_every_import_upload_refuses_bad_files_with_row_and_column_and_imports_nothing(kind, home, api):
    url, fields = UPLOADS[kind](home)
    for label, files, _words in IMPORT_CORPUS:
        suffix = ".xlsx" if files[kind].startswith(b"PK") else ".csv"
        before = snapshot()
        upload = io.BytesIO(files[kind])
        upload.name = f"{kind}{suffix}"
        response = api.post(url, {**fields, "file": upload}, format="multipart")
        assert response.status_code == 400, (kind, label, response.content[:300])
        body = response.json()
        assert body["code"] == "import_failed" and body["errors"], (kind, label)
        assert all({"row", "column", "message"} <= set(error) for error in body["errors"])
        assert snapshot() == before, (kind, label)


# --------------------------------------------------------------------------- the HTML forms, and text that is data

RAW_SCRIPT = "<script>alert"


def test_the_html_forms_refuse_bad_answers_keep_the_rest_escaped_and_store_nothing(home):
    cases = [
        (f"/s/{home.wave.slug}/customer/", {"a_c1": "9", "a_c2": "3", "a_c3": "2", "a_nps": "x",
                                              "comment": SCRIPT, "s_tier": SCRIPT}),
        (f"/r/{home.token}/", {"a_c1": "\x00", "a_c2": "-1", "a_c3": FORMULA, "a_nps": "99", "comment": SCRIPT}),
        (f"/r/{home.token}/", {"a_c1": ["1", "2"], "a_zzz": "3", "comment": "c" * 20_000}),
    ]
    for url, data in cases:
        cache.clear()
        before = snapshot()
        response = Client().post(url, data)
        assert response.status_code == 400, url
        page = response.content.decode()
        assert RAW_SCRIPT not in page
        if data.get("comment") == SCRIPT:
            assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page  # kept, escaped
        assert snapshot() == before, url


def test_html_script_and_formulas_accepted_as_data_are_stored_verbatim_and_rendered_escaped(home, api, owner):
    text = FORMULA + SCRIPT
    cache.clear()
    response = APIClient().post(f"/api/v1/public/waves/{home.wave.slug}/customer/",
                                {"answers": {"c1": 4, "c2": "na", "c3": 2, "nps": 9}, "comment": text,
                                 "segments": {"region": SCRIPT}}, format="json")  # free text, asked anonymously
    assert response.status_code == 201
    stored = m.SurveyResponse.objects.get(comment=text)
    assert stored.segments["region"] == SCRIPT

    response = api.post("/api/v1/accounts/", {"organization": home.org.pk, "external_id": "X-1", "name": text},
                        format="json")
    assert response.status_code == 201 and response.json()["name"] == text
    assert m.CustomerAccount.objects.get(external_id="X-1").name == text

    # Exports neutralise the formula; the HTML stays as text. (A customer threshold of 1 publishes it at once.)
    m.Wave.objects.filter(pk=home.wave.pk).update(customer_threshold=1)
    export = api.get(f"/api/v1/waves/{home.wave.pk}/responses/export/?side=customer")
    csv_text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "'" + text in csv_text.replace('""', '"')
    assert "\n" + text not in csv_text and "," + text not in csv_text

    # The admin renders both as text.
    owner.is_staff = owner.is_superuser = True
    owner.save()
    admin = Client()
    admin.force_login(owner)
    for url in ("/admin/surveys/customeraccount/", f"/admin/surveys/surveyresponse/{stored.pk}/change/"):
        page = admin.get(url)
        assert page.status_code == 200, url
        assert RAW_SCRIPT not in page.content.decode(), url
        assert "&lt;script&gt;" in page.content.decode(), url


def test_html_in_an_instruments_wording_is_shown_escaped_on_the_respondents_form(home, api):
    payload = {"organization": home.org.pk, "key": "html", "name_en": SCRIPT, "name_ja": SCRIPT,
               "dimensions": [{"key": "d", "name_en": SCRIPT, "name_ja": SCRIPT}],
               "items": [{"key": "i1", "dimension": "d", "staff_text_en": SCRIPT, "staff_text_ja": SCRIPT,
                          "customer_text_en": SCRIPT + " {company}", "customer_text_ja": SCRIPT}]}
    response = api.post("/api/v1/instruments/", payload, format="json")
    assert response.status_code == 201
    instrument = m.Instrument.objects.get(pk=response.json()["id"])
    assert instrument.items.get().customer_text_en == SCRIPT + " {company}"
    wave = services.wave_create(organization=home.org, instrument=instrument, name="HTML", slug="html-wave",
                                default_language="en")
    services.wave_open(wave=wave)
    cache.clear()
    page = Client().get(f"/s/{wave.slug}/customer/?lang=en").content.decode()
    assert RAW_SCRIPT not in page
    assert page.count("&lt;script&gt;") >= 2  # title and wording at least


@pytest.mark.parametrize("forwarded", ["not-an-ip", "<script>", "999.1.1.1", "1.2.3.4\x00"])
def test_a_forged_forwarded_address_is_never_stored_as_the_login_ip(forwarded, monkeypatch, owner):
    # django-axes records failed logins in an IP column; PostgreSQL refused these values with a 500.
    monkeypatch.setattr(throttling, "TRUSTED_PROXY_COUNT", 1)
    response = APIClient().post("/api/v1/auth/token/", {"username": owner.username, "password": "wrong"},
                                format="json", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="")
    assert response.status_code == 400
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="")
    assert throttling.client_ip(request) == "0.0.0.0"
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=f"{forwarded}, 203.0.113.9", REMOTE_ADDR="10.0.0.1")
    assert throttling.client_ip(request) == "203.0.113.9"


@pytest.mark.parametrize("digits", ["\u00b2", "\u0661", "\uff11"])  # superscript two, Arabic-Indic one, fullwidth one
def test_unicode_digits_in_an_id_are_a_404_or_a_field_error_not_a_500(digits, home, api):
    assert api.get(f"/api/v1/waves/{digits}/").status_code == 404
    assert api.get(f"/api/v1/organizations/{digits}/").status_code == 404
    response = api.post("/api/v1/memberships/", {"organization": digits, "email": "a@example.com", "role": "analyst"},
                        format="json")
    assert response.status_code == 400, response.content
    assert "organization" in response.json()
