"""Hardening: CSP on every HTML page, framing and sniffing headers, secure production cookies and HSTS,
login throttling on every login door, revocable tokens, password validators, request size limits and
the dependency audit step."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import django
import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reports.models import ReportJob
from surveys import member_invitations, services
from tests import factories as f
from tests.surveys.test_public_support import open_wave

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's password


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


# --------------------------------------------------------------------------- Content Security Policy


def parse_csp(header: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def inline_blocks(html: str) -> list[tuple[str, str, str]]:
    """(tag, attributes, content) of every inline <script> and <style> element."""
    return [(m.group(1), m.group(2), m.group(3))
            for m in re.finditer(r"<(script|style)\b([^>]*)>(.*?)</\1>", html, re.S | re.I)
            if "src=" not in m.group(2)]


def sha256_source(content: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(content.encode()).digest()).decode() + "'"


def assert_strict_csp_allows_only_what_the_page_uses(response) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"{response.request['PATH_INFO']} has no Content-Security-Policy"
    csp = parse_csp(header)
    assert csp["default-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[directive] and "'unsafe-eval'" not in csp[directive], directive
        assert not [s for s in csp[directive] if s.startswith(("http:", "https:", "*"))], csp[directive]
    html = response.content.decode()
    nonces = {s[len("'nonce-"):-1] for s in csp["script-src"] + csp["style-src"] if s.startswith("'nonce-")}
    for tag, attrs, content in inline_blocks(html):
        nonce = re.search(r'nonce="([^"]+)"', attrs)
        allowed = (nonce and nonce.group(1) in nonces) or sha256_source(content) in csp[f"{tag}-src"]
        assert allowed, f"inline <{tag}> on {response.request['PATH_INFO']} is blocked by the CSP: {content[:80]!r}"
    # No inline event handlers and no javascript: URLs: the CSP would block them.
    assert not re.search(r"\son[a-z]+\s*=\s*[\"']", html), "inline event handler"
    assert "javascript:" not in html
    return csp


@pytest.fixture
def pages(org, owner):
    """One URL of every kind of HTML page Kagami serves."""
    owner.is_staff = owner.is_superuser = True
    owner.save()
    wave = open_wave(org, slug="csp")
    token = services.invitation_create(wave=wave, side="customer", language="en").token
    job = ReportJob.objects.create(wave=wave, language="en", options={}, options_hash="x" * 64,
                                   data_fingerprint="y" * 64)
    member_invitations.invite(organization=org, email="joiner@example.com", role="analyst", invited_by=owner)
    join_token = re.search(r"/accounts/join/([\w-]+)/", mail.outbox[-1].body).group(1)
    return {
        "public form (invitation)": (f"/r/{token}/", None),
        "public form (anonymous)": ("/s/csp/staff/", None),
        "unknown link": ("/r/not-a-token/", None),
        "login": ("/accounts/login/", None),
        "membership join page": (f"/accounts/join/{join_token}/", None),
        "report page": ("/reports/", owner),
        "home page": ("/", None),
        "home page (member)": ("/?lang=ja", owner),
        "wave mirror page": (f"/reports/waves/{wave.pk}/", owner),
        "wave mirror page, bad filter": (f"/reports/waves/{wave.pk}/?staff=nope:1", owner),
        "report job page": (f"/reports/jobs/{job.pk}/", owner),
        "admin": ("/admin/", owner),
        "admin change list": ("/admin/surveys/wave/", owner),
        "admin login": ("/admin/login/", None),
        "Swagger UI": ("/api/docs/", owner),
        "ReDoc": ("/api/redoc/", owner),
        "404 page": ("/no/such/page/", None),
    }


def test_every_html_page_sends_a_strict_content_security_policy_that_allows_its_own_inline_code(pages):
    for name, (url, user) in pages.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code in (200, 400, 404), (name, response.status_code)
        assert response["Content-Type"].startswith("text/html"), name
        csp = assert_strict_csp_allows_only_what_the_page_uses(response)
        assert csp["script-src"][0] == "'self'", name
        assert response["X-Frame-Options"] == "DENY", name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] == "same-origin", name


def test_each_response_gets_its_own_nonce(pages):
    client = Client()
    client.force_login(pages["Swagger UI"][1])
    first = parse_csp(client.get("/api/docs/")["Content-Security-Policy"])["script-src"]
    second = parse_csp(client.get("/api/docs/")["Content-Security-Policy"])["script-src"]
    assert [s for s in first if s.startswith("'nonce-")] != [s for s in second if s.startswith("'nonce-")]


def test_the_admin_change_list_style_hash_in_the_csp_matches_djangos_template():
    # Django's change list has one fixed inline <style> (shown when it has no actions): its hash is in
    # the CSP. A Django upgrade that changes it fails here instead of silently unstyling the admin.
    from django.conf import settings

    template = Path(django.__file__).parent / "contrib/admin/templates/admin/change_list.html"
    content = re.search(r"<style>(.*?)</style>", template.read_text(), re.S).group(1)
    assert sha256_source(content) in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["style-src"]


def test_the_docs_pages_load_nothing_from_the_internet(pages):
    client = Client()
    client.force_login(pages["ReDoc"][1])
    for url in ("/api/docs/", "/api/redoc/"):
        html = client.get(url).content.decode()
        assert not re.search(r"""(src|href)=["']https?://""", html), url


# --------------------------------------------------------------------------- production settings


def _production_settings(*names: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SECURE_", "SESSION_", "CSRF_", "DJANGO_SETTINGS", "DEBUG"))}
    env.update({"DEBUG": "false", "SECRET_KEY": "x7#kq!2vL9@pZ4mN8$wR6^tY1&uI3*oP5(aS0)dF-gH+jK=lZ_cV",
                "ALLOWED_HOSTS": "kagami.example.com", "DJANGO_SETTINGS_MODULE": "backend.settings"})
    code = ("import json, django; django.setup(); from django.conf import settings; "
            f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_settings_use_secure_cookies_hsts_https_and_no_framing():
    s = _production_settings("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
                             "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT",
                             "X_FRAME_OPTIONS", "SECURE_CONTENT_TYPE_NOSNIFF", "AUTH_PASSWORD_VALIDATORS",
                             "AXES_ENABLED", "AXES_FAILURE_LIMIT", "MIDDLEWARE")
    assert s["SESSION_COOKIE_SECURE"] is True and s["CSRF_COOKIE_SECURE"] is True
    assert s["SESSION_COOKIE_HTTPONLY"] is True
    assert s["SECURE_HSTS_SECONDS"] >= 31_536_000 and s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["X_FRAME_OPTIONS"] == "DENY" and s["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert len(s["AUTH_PASSWORD_VALIDATORS"]) == 4
    assert s["AXES_ENABLED"] is True and s["AXES_FAILURE_LIMIT"] == 5
    assert "csp.middleware.CSPMiddleware" in s["MIDDLEWARE"]
    assert s["MIDDLEWARE"][-1] == "axes.middleware.AxesMiddleware"


def test_an_https_response_carries_hsts_and_secure_cookies(settings, owner):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    client = Client()
    response = client.post("/accounts/login/", {"username": "owner", "password": PASSWORD}, secure=True)
    assert response.status_code == 302
    assert response["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert client.get("/accounts/login/", secure=True).cookies["csrftoken"]["secure"]


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["password123", "12345678901", "owner-owner", "short"])
def test_weak_passwords_are_refused_by_the_validators(password):
    user = f.UserFactory(username="owner-owner")
    with pytest.raises(ValidationError):
        validate_password(password, user=user)


@pytest.mark.django_db
def test_a_strong_password_passes_the_validators():
    validate_password("plum-orbit-ferry-lantern-42", user=f.UserFactory())


# --------------------------------------------------------------------------- login throttling (django-axes)


def _fail(client, door: str, username: str, password: str = "wrong-password-0"):
    if door == "token":
        return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    return client.post(door, {"username": username, "password": password, "next": "/reports/"})


@pytest.mark.parametrize("door", ["/accounts/login/", "/admin/login/", "token"])
def test_after_five_failed_logins_even_the_right_password_is_refused_with_a_429(door, owner):
    owner.is_staff = True
    owner.save()
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    for _ in range(4):
        assert _fail(client, door, "owner").status_code in (200, 400)  # the form again / 400 for the API
    assert _fail(client, door, "owner").status_code == 429  # the fifth failure locks
    locked = _fail(client, door, "owner", PASSWORD)
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == 15 * 60
    if door == "token":
        assert locked.json()["code"] == "login_locked_out"
        assert not Token.objects.filter(user=owner).exists()
    else:
        assert "_auth_user_id" not in client.session
    # The lock is per (username, address): the user can still log in from their own office.
    other = APIClient(REMOTE_ADDR="198.51.100.20")
    ok = _fail(other, door, "owner", PASSWORD)
    assert ok.status_code == (200 if door == "token" else 302)


def test_a_successful_login_resets_the_failure_count(owner):
    client = Client(REMOTE_ADDR="203.0.113.8")
    for _ in range(4):
        _fail(client, "/accounts/login/", "owner")
    assert _fail(client, "/accounts/login/", "owner", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        _fail(client, "/accounts/login/", "owner")
    assert _fail(client, "/accounts/login/", "owner", PASSWORD).status_code == 302


def test_one_address_trying_many_usernames_is_locked_out_after_30_failures(owner):
    # One password sprayed across many usernames never hits the per-(username, address) limit;
    # the per-address ceiling (30 failures in 15 minutes) stops it, even for a real user's right password.
    client = Client(REMOTE_ADDR="203.0.113.9")
    for i in range(29):
        assert _fail(client, "/accounts/login/", f"nobody{i}").status_code == 200
    assert _fail(client, "/accounts/login/", "nobody29").status_code == 429  # the 30th failure locks
    locked = _fail(client, "/accounts/login/", "owner", PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    token = APIClient(REMOTE_ADDR="203.0.113.9").post(
        "/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    assert token.status_code == 429
    # Other addresses are not locked out.
    assert _fail(Client(REMOTE_ADDR="198.51.100.21"), "/accounts/login/", "owner", PASSWORD).status_code == 302


def test_a_successful_login_does_not_reset_the_per_address_ceiling(owner, analyst):
    client = Client(REMOTE_ADDR="203.0.113.10")
    for i in range(28):
        _fail(client, "/accounts/login/", f"nobody{i}")
    assert _fail(client, "/accounts/login/", "analyst", PASSWORD).status_code == 302  # an insider's own login
    client.logout()
    assert _fail(client, "/accounts/login/", "nobody28").status_code == 200
    assert _fail(client, "/accounts/login/", "nobody29").status_code == 429


# --------------------------------------------------------------------------- password reset


def _reset(client, email: str):
    return client.post("/accounts/password_reset/", {"email": email})


def test_password_reset_sends_at_most_one_mail_per_account_per_15_minutes(owner, mailoutbox):
    for i in range(5):
        response = _reset(Client(REMOTE_ADDR=f"203.0.113.{20 + i}"), owner.email)
        assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [owner.email]


def test_password_reset_sends_at_most_three_mails_per_address_per_hour(db, mailoutbox):
    users = [f.UserFactory(username=f"reset{i}") for i in range(6)]
    client = Client(REMOTE_ADDR="203.0.113.30")
    for user in users:
        response = _reset(client, user.email)
        assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert len(mailoutbox) == 3


def test_password_reset_answers_the_same_for_an_unknown_account(owner, mailoutbox):
    known = _reset(Client(REMOTE_ADDR="203.0.113.40"), owner.email)
    unknown = _reset(Client(REMOTE_ADDR="203.0.113.41"), "nobody@example.com")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mailoutbox) == 1
    done = Client().get(unknown["Location"])
    assert done.status_code == 200


# --------------------------------------------------------------------------- API tokens


def test_an_api_token_is_random_and_stops_working_once_revoked(owner, owner_client):
    first = APIClient().post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    key = first.json()["token"]
    assert re.fullmatch(r"[0-9a-f]{40}", key)  # 160 random bits (DRF authtoken)
    api = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 200
    # Revocation: deleting the token (Django admin → Tokens, or the owner's API call below) ends it at once.
    Token.objects.filter(key=key).delete()
    assert api.get("/api/v1/me/").status_code == 401


def test_a_user_can_revoke_their_own_token_through_the_api(owner):
    key = APIClient().post("/api/v1/auth/token/", {"username": "owner", "password": PASSWORD},
                           format="json").json()["token"]
    api = APIClient(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.delete("/api/v1/auth/token/").status_code == 204
    assert not Token.objects.filter(key=key).exists()
    assert api.get("/api/v1/me/").status_code == 401


def test_revoking_a_token_leaves_other_users_tokens_working(owner, analyst):
    mine = Token.objects.create(user=owner)
    theirs = Token.objects.create(user=analyst)
    assert APIClient(HTTP_AUTHORIZATION=f"Token {mine.key}").delete("/api/v1/auth/token/").status_code == 204
    assert list(Token.objects.values_list("key", flat=True)) == [theirs.key]
    assert APIClient(HTTP_AUTHORIZATION=f"Token {theirs.key}").get("/api/v1/me/").status_code == 200


@pytest.mark.parametrize("authorization", [None, "Token " + "0" * 40, "Token", "Bearer abc"])
def test_revoking_without_a_valid_token_is_a_401(owner, authorization):
    token = Token.objects.create(user=owner)
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = APIClient(**headers).delete("/api/v1/auth/token/")
    assert response.status_code == 401
    assert response.json()["code"] in ("not_authenticated", "authentication_failed")
    assert response["WWW-Authenticate"] == "Token"
    assert Token.objects.filter(key=token.key).exists()


def test_a_stale_token_does_not_block_logging_in_again(owner):
    # POST stays unauthenticated: a client holding a revoked token can still exchange its password.
    response = APIClient(HTTP_AUTHORIZATION="Token " + "0" * 40).post(
        "/api/v1/auth/token/", {"username": "owner", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    assert Token.objects.get(user=owner).key == response.json()["token"]


def test_a_logged_in_browser_revokes_only_with_the_csrf_token(owner):
    Token.objects.create(user=owner)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    assert browser.delete("/api/v1/auth/token/").status_code == 403  # a cross-site request has no CSRF token
    assert Token.objects.filter(user=owner).exists()
    secret = "a" * 32
    browser.cookies["csrftoken"] = secret
    assert browser.delete("/api/v1/auth/token/", HTTP_X_CSRFTOKEN=secret).status_code == 204
    assert not Token.objects.filter(user=owner).exists()


# --------------------------------------------------------------------------- request size limits


def test_a_staff_api_body_over_the_upload_limit_is_refused_without_a_500(settings, owner_client, org):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = json.dumps({"name": "x" * 20_000, "slug": "huge"})
    response = owner_client.post("/api/v1/organizations/", body, content_type="application/json")
    assert response.status_code in (400, 413), response.status_code
    assert response.json()["code"]


def test_a_public_submission_over_the_body_limit_is_a_413(org):
    from django.conf import settings

    open_wave(org, slug="size")
    comment = "x" * (settings.KAGAMI_PUBLIC_MAX_BODY_BYTES + 1)
    response = APIClient().post("/api/v1/public/waves/size/customer/",
                                {"answers": {"superior": 4}, "comment": comment}, format="json")
    assert response.status_code == 413
    assert response.json()["code"]


def test_a_token_request_over_16_kb_is_a_413(db):
    response = APIClient().post("/api/v1/auth/token/", {"username": "u" * 20_000, "password": "p"}, format="json")
    assert response.status_code == 413


def test_a_form_with_too_many_fields_is_refused_without_a_500(org):
    open_wave(org, slug="fields")
    data = {f"f{i}": "1" for i in range(2100)}  # DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
    response = Client().post("/s/fields/staff/", data)
    assert response.status_code in (400, 413)


# --------------------------------------------------------------------------- dependency audit


def _audit_main(monkeypatch, capsys, reports: list[dict], strict: bool = False) -> tuple[int, str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import audit_deps
    finally:
        sys.path.pop(0)
    queue = list(reports)
    monkeypatch.setattr(audit_deps, "audit", lambda path: queue.pop(0) if queue else {"dependencies": []})
    monkeypatch.setenv("KAGAMI_AUDIT_STRICT", "1" if strict else "0")
    code = audit_deps.main()
    out = capsys.readouterr()
    return code, out.out + out.err


def test_the_audit_step_fails_on_a_known_vulnerability(monkeypatch, capsys):
    code, text = _audit_main(monkeypatch, capsys, [{"dependencies": [
        {"name": "django", "version": "5.2.0", "vulns": [{"id": "PYSEC-2099-1", "fix_versions": ["5.2.1"]}]}]}])
    assert code == 1 and "django==5.2.0 PYSEC-2099-1 (fixed in 5.2.1)" in text


def test_the_audit_step_never_reports_unaudited_packages_as_clean(monkeypatch, capsys):
    unreachable = {"dependencies": [{"name": "django", "skip_reason": "Dependency not found on PyPI and could "
                                     "not be audited: django (5.2.19)"}]}
    code, text = _audit_main(monkeypatch, capsys, [unreachable, unreachable])
    assert code == 0 and "UNAUDITED" in text and "django==5.2.19" in text
    assert "no known vulnerabilities" not in text
    strict_code, _ = _audit_main(monkeypatch, capsys, [unreachable, unreachable], strict=True)
    assert strict_code == 1


def test_the_audit_step_passes_clean_audited_pins(monkeypatch, capsys):
    code, text = _audit_main(monkeypatch, capsys, [{"dependencies": [{"name": "django", "version": "5.2.19",
                                                                      "vulns": []}]}])
    assert code == 0 and "no known vulnerabilities in 1 pinned packages" in text


def test_make_test_runs_the_audit_step():
    script = (ROOT / "scripts" / "run_tests.sh").read_text()
    assert "scripts/audit_deps.py" in script
    assert "pip-audit==" in (ROOT / "requirements-dev.txt").read_text()


# --------------------------------------------------------------------------- the CSP in a real browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_no_page_breaks_a_csp_rule_in_chromium_and_the_docs_still_render(live_server, page, org, owner):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    owner.is_staff = owner.is_superuser = True
    owner.save()
    wave = open_wave(org, slug="browser-csp")
    client = Client()
    client.force_login(owner)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])
    violations: list[str] = []
    blocked_on_purpose: list[str] = []

    def on_console(msg) -> None:
        if "Content Security Policy" not in msg.text:
            return
        # ReDoc's footer logo lives on Redocly's CDN: blocking it is the CSP doing its job (served offline).
        (blocked_on_purpose if "'https://cdn.redoc.ly/" in msg.text else violations).append(msg.text)

    page.on("console", on_console)
    checks = {
        "/s/browser-csp/customer/": "form#survey-form",
        "/reports/": "table, main",
        "/": "main h1",
        f"/reports/waves/{wave.pk}/": "#trend",
        "/admin/surveys/wave/": "#changelist",
        "/api/docs/": ".swagger-ui .opblock",  # Swagger UI built the operation list: its scripts ran
        "/api/redoc/": "[role=menuitem], .menu-content",  # ReDoc rendered with its nonce'd styles
    }
    for url, selector in checks.items():
        page.goto(live_server.url + url)
        page.wait_for_selector(selector, timeout=30_000)
        page.wait_for_timeout(300)
        assert violations == [], "\n".join([url, *violations])
    # The progressive-enhancement script of the form ran (it counts answers).
    page.goto(live_server.url + "/s/browser-csp/customer/")
    page.locator("input[type=radio][name^=a_]").first.check()
    assert page.locator(".js-answered").first.text_content().strip() == "1"
    assert violations == []
    assert all("img-src" in v for v in blocked_on_purpose)


def test_the_login_throttle_records_a_missing_or_bad_client_address_as_a_valid_ip_or_unknown(rf, owner):
    import ipaddress

    from backend.security import client_ip

    assert client_ip(rf.get("/", REMOTE_ADDR="203.0.113.9")) == "203.0.113.9"
    bare = rf.get("/")
    bare.META.pop("REMOTE_ADDR")
    for request in (bare, rf.get("/", REMOTE_ADDR="unknown"), rf.get("/", REMOTE_ADDR="1.2.3.4<script>")):
        address = client_ip(request)
        assert address is None or ipaddress.ip_address(address), address  # never a string inet refuses
    # force_login builds a request without REMOTE_ADDR; axes logs it (an inet column on PostgreSQL).
    Client().force_login(owner)
