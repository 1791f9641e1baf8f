"""Tenant isolation over the whole URLconf: every URL pattern × every method × every role, on
objects of an organization the user does not belong to.

The URLs are generated from ``get_resolver()``, not listed by hand: a new endpoint is covered
automatically, and a new path parameter without an entry in ``_value`` fails the test until
someone says which other-organization object it should point at.

Rules: no 2xx on another organization's objects; 404 (never 403) for members of other
organizations; anonymous gets 401 (API) or a login redirect (pages); the Django admin redirects
every non-staff user to its login; no error body (or list) contains the other organization's
names, slugs, emails or texts. Public form links are public by design: there, an unknown token
or slug is a plain 404 whose body is the same for any unknown value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import Token

from surveys import models as m

METHODS = ("get", "post", "put", "patch", "delete")
ROLES = ("anonymous", "admin", "analyst", "executive", "outsider")

PUBLIC_PREFIXES = ("r/", "s/", "api/v1/public/", "diagnosis/")
# Writes that act on the caller's own account only, whatever the body names: revoking one's own API token.
OWN_ACCOUNT_WRITES = {("delete", "/api/v1/auth/token/")}
# Pages that are open by design (log in, password reset, API docs): only "no leak, no 5xx" applies.
OPEN_PAGES = ("accounts/", "api/schema/", "api/docs/", "api/redoc/", "admin/login/", "admin/logout/")


@dataclass(frozen=True)
class Route:
    """One URL pattern: its parts from the root, and its name."""

    parts: tuple[object, ...]
    name: str | None
    pattern: URLPattern

    @property
    def template(self) -> str:
        return "".join(str(p) for p in self.parts)


def walk(patterns=None, parts: tuple[object, ...] = ()) -> Iterator[Route]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, parts + (entry.pattern,))
        else:
            yield Route(parts + (entry.pattern,), entry.name, entry)


ROUTES = list(walk())

_ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")
_REGEX_PARAM = re.compile(r"\(\?P<(\w+)>[^)]*\)")

# admin/<app>/<model>/<object_id>/…: the other organization's object of that model.
ADMIN_OBJECTS = {
    ("surveys", "organization"): lambda t: t.org.pk,
    ("surveys", "membership"): lambda t: t.membership.pk,
    ("surveys", "instrument"): lambda t: t.instrument.pk,
    ("surveys", "dimension"): lambda t: t.instrument.dimensions.first().pk,
    ("surveys", "itempair"): lambda t: t.instrument.items.first().pk,
    ("surveys", "wave"): lambda t: t.wave.pk,
    ("surveys", "anonymouslink"): lambda t: t.wave.anonymous_links.first().pk,
    ("surveys", "customeraccount"): lambda t: t.account.pk,
    ("surveys", "invitation"): lambda t: t.invitation.pk,
    ("surveys", "invitationuse"): lambda t: t.invitation.pk,
    ("surveys", "surveyresponse"): lambda t: t.wave.responses.first().pk,
    ("surveys", "answer"): lambda t: m.Answer.objects.filter(response__wave=t.wave).first().pk,
    ("surveys", "auditevent"): lambda t: 1,
    ("auth", "user"): lambda t: t.membership.user_id,
    ("auth", "group"): lambda t: 1,
    ("authtoken", "tokenproxy"): lambda t: t.membership.user_id,
    ("axes", "accessattempt"): lambda t: 1,
    ("axes", "accesslog"): lambda t: 1,
    ("axes", "accessfailurelog"): lambda t: 1,
}

# /api/v1/<collection>/{pk}/…: the other organization's object of that collection.
API_OBJECTS = {
    "organizations": lambda t: t.org.pk,
    "memberships": lambda t: t.membership.pk,
    "membership-invitations": lambda t: t.member_invitation.pk,
    "instruments": lambda t: t.editable.pk,
    "waves": lambda t: t.wave.pk,
    "invitations": lambda t: t.invitation.pk,
    "accounts": lambda t: t.account.pk,
    "reports": lambda t: t.report.pk,
    # An import job of the tenant, made when a route asks for one (background imports, surveys/import_jobs.py).
    "import-jobs": lambda t: m.ImportJob.objects.get_or_create(
        organization=t.org, kind="accounts")[0].pk,
}


class UnmappedParameter(Exception):
    pass


def _diagnosis(target):
    """The tenant's diagnosis link, its token and a result through it (made on first use)."""
    from diagnosis import services as diagnosis_services

    if not hasattr(target, "diagnosis"):
        token = f"diagnosis-link-of-{target.org.slug}"
        link, _ = diagnosis_services.link_create(organization=target.org, token=token)
        result = diagnosis_services.result_submit(answers=dict.fromkeys([f"q{i:02d}" for i in range(1, 16)], 3),
                                                  language="en", link=link)
        target.diagnosis = (link, token, result)
    return target.diagnosis


def _value(name: str, prefix: str, target) -> str:
    """The value of path parameter ``name`` after the literal URL ``prefix``, pointing into ``target``."""
    admin = re.match(r"admin/([a-z]\w*)/([a-z]\w*)/$", prefix)
    if name in ("object_id", "id") and admin and not prefix.startswith("admin/r/"):
        key = (admin.group(1), admin.group(2))
        if key not in ADMIN_OBJECTS:
            raise UnmappedParameter(f"admin model {key} has no entry in ADMIN_OBJECTS")
        return str(ADMIN_OBJECTS[key](target))
    api = re.match(r"api/v1/([\w-]+)/$", prefix)
    if name == "pk" and api:
        if api.group(1) not in API_OBJECTS:
            raise UnmappedParameter(f"API collection {api.group(1)!r} has no entry in API_OBJECTS")
        return str(API_OBJECTS[api.group(1)](target))
    simple = {
        ("pk", "reports/jobs/"): lambda: target.report.pk,
        ("wave_pk", None): lambda: target.wave.pk,
        ("wave_id", None): lambda: target.wave.pk,
        ("language", None): lambda: "en",
        ("token", "r/"): lambda: target.token,
        ("token", "api/v1/public/forms/"): lambda: target.token,
        ("token", "accounts/reset/"): lambda: "set-password",
        ("instrument_pk", "api/v1/instruments/"): lambda: target.editable.pk,
        ("organization_pk", "api/v1/organizations/"): lambda: target.org.pk,  # …/touchpoints/
        ("key", "api/v1/organizations/"): lambda: "support",  # a default touchpoint every organization has
        ("pk", "api/v1/instruments/"): lambda: target.editable.items.order_by("pk").first().pk,  # …/items/{pk}/
        # A join link works for whoever holds it (the invitee); another tenant's real one is tested in
        # tests/security/test_membership_invitations.py. Here: an unknown token, no leak, no 5xx.
        ("token", "accounts/join/"): lambda: "not-an-invitation",
        ("uidb64", None): lambda: urlsafe_base64_encode(force_bytes(target.membership.user_id)),
        ("slug", None): lambda: target.wave.slug,
        ("side", None): lambda: "customer",
        ("app_label", None): lambda: "surveys",
        ("content_type_id", None): lambda: ContentType.objects.get_for_model(m.Wave).pk,
        ("object_id", "admin/r/"): lambda: target.wave.pk,
        ("url", None): lambda: f"nowhere/{target.wave.pk}/",  # only the catch-all matches
        ("org_pk", "api/v1/organizations/"): lambda: target.org.pk,
        ("pk", "api/v1/organizations/"): lambda: _diagnosis(target)[0].pk,  # …/diagnosis/links/{pk}/
        ("token", "diagnosis/o/"): lambda: _diagnosis(target)[1],
        ("uuid", "diagnosis/r/"): lambda: _diagnosis(target)[2].uuid,
        ("uuid", "api/v1/public/diagnosis/"): lambda: _diagnosis(target)[2].uuid,
    }
    for (param, where), make in simple.items():
        if param == name and (where is None or prefix.startswith(where)):
            return str(make())
    raise UnmappedParameter(f"path parameter {name!r} after {prefix!r} is not mapped to another tenant's object")


def build_url(route: Route, target) -> tuple[str, bool]:
    """The route's URL with every parameter filled from ``target``; and whether it had parameters."""
    url = ""
    has_params = False
    for part in route.parts:
        text = str(part)
        if type(part).__name__ == "RegexPattern":
            pieces = _REGEX_PARAM.split(text)  # literal, name, literal, name, …
        else:
            pieces = _ROUTE_PARAM.split(text)
        for index, piece in enumerate(pieces):
            if index % 2:
                has_params = True
                url += _value(piece, url.lstrip("/"), target)
            else:
                url += piece.replace("^", "").replace("$", "").replace("\\", "")
    url = "/" + url.lstrip("/")
    match = resolve(url)
    assert match.url_name == route.name and match.func == route.pattern.callback, (route.template, url)
    return url, has_params


def _kind(url: str) -> str:
    path = url.lstrip("/")
    if path.startswith(PUBLIC_PREFIXES):
        return "public"
    if path.startswith(OPEN_PAGES):
        return "open"
    if path.startswith("admin/"):
        return "admin"
    return "protected"


def _foreign_body(target) -> dict:
    """A write body that names only the other organization's objects (by id)."""
    return {"organization": target.org.pk, "instrument": target.instrument.pk, "previous_wave": target.wave.pk,
            "wave": target.wave.pk, "role": "admin", "side": "customer", "contacts": [{"account": ""}],
            "external_id": "NEW-1", "name_ja": "x", "name_en": "x", "name": "x", "slug": "new-slug-x",
            "key": "new-key-x", "language": "en", "segments": [], "dimensions": [], "items": []}


def _client(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def cast(home, away, owner, analyst, executive, outsider):
    """role → (user, the tenant whose objects they must not reach)."""
    return {
        "anonymous": (None, away),
        "admin": (owner, away),
        "analyst": (analyst, away),
        "executive": (executive, away),
        "outsider": (outsider, home),
    }


def test_every_url_pattern_is_generated_and_resolves_back_to_itself(home, away):
    kinds = {}
    for route in ROUTES:
        url, _ = build_url(route, away)
        kinds.setdefault(_kind(url), []).append(url)
    # The walk saw the whole URLconf: staff API, gap, reports, admin, public forms, auth pages.
    assert len(ROUTES) >= 150
    protected = kinds["protected"]
    assert f"/api/v1/waves/{away.wave.pk}/gap/" in protected
    assert f"/api/v1/accounts/{away.account.pk}/" in protected
    assert f"/reports/jobs/{away.report.pk}/" in protected
    assert f"/admin/surveys/wave/{away.wave.pk}/change/" in kinds["admin"]
    assert f"/r/{away.token}/" in kinds["public"]


def test_an_unmapped_path_parameter_fails_instead_of_being_skipped(away):
    with pytest.raises(UnmappedParameter):
        _value("widget_id", "api/v1/widgets/", away)
    with pytest.raises(UnmappedParameter):
        _value("pk", "api/v1/widgets/", away)
    with pytest.raises(UnmappedParameter):
        _value("object_id", "admin/surveys/widget/", away)


def _check(role: str, user, target, protected_secrets: list[str]) -> list[str]:
    problems: list[str] = []
    client = _client(user)
    for route in ROUTES:
        url, has_params = build_url(route, target)
        kind = _kind(url)
        if kind == "public":
            continue  # public by design; see test_unknown_public_links_are_plain_identical_404s
        for method in METHODS:
            cache.clear()
            kwargs = {}
            if method in ("post", "put", "patch"):
                kwargs = {"data": _foreign_body(target), "content_type": "application/json"}
            # Open pages include the logout views: a throwaway session keeps ``client`` logged in.
            response = getattr(_client(user) if kind == "open" else client, method)(url, **kwargs)
            status = response.status_code
            label = f"{role} {method.upper()} {url} → {status}"
            body = b"" if getattr(response, "streaming", False) else response.content
            text = body.decode("utf-8", "replace")
            leaked = [s for s in protected_secrets if s in text]
            if leaked:
                problems.append(f"{label}: body shows {leaked}")
            if status >= 500:
                problems.append(f"{label}: server error")
            if kind == "open":
                continue
            if kind == "admin":
                location = response.get("Location", "")
                if status != 302 or not location.startswith("/admin/login/"):
                    problems.append(f"{label}: non-staff must be redirected to the admin login, got {location!r}")
                continue
            is_api = url.startswith("/api/")
            if has_params:
                if role == "anonymous":
                    allowed = {401, 405} if is_api else {302, 405}
                    if status == 302 and "/login/" not in response.get("Location", ""):
                        problems.append(f"{label}: redirects elsewhere than the login page")
                else:
                    allowed = {404, 405}
                if status not in allowed:
                    problems.append(f"{label}: expected one of {sorted(allowed)}")
            elif 200 <= status < 300 and method != "get" and is_api and (method, url) not in OWN_ACCOUNT_WRITES:
                problems.append(f"{label}: a write naming another organization's objects succeeded")
    return problems


@pytest.mark.parametrize("role", ROLES)
def test_nobody_reaches_another_organizations_objects_through_any_url_or_method(role, cast, home, away):
    user, target = cast[role]
    secrets = away.secrets + (home.secrets if role == "anonymous" else [])
    if target is home:
        secrets = home.secrets
    problems = _check(role, user, target, secrets)
    assert not problems, "\n".join(problems)


def test_an_api_token_is_held_to_the_same_rules_as_a_session(away, owner):
    # Token authentication is checked before the session: the same 404s, without a cookie.
    key = Token.objects.create(user=owner).key
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    for url in (f"/api/v1/waves/{away.wave.pk}/", f"/api/v1/waves/{away.wave.pk}/gap/",
                f"/api/v1/waves/{away.wave.pk}/responses/export/", f"/api/v1/accounts/{away.account.pk}/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


# The public routes that take a link or handle (the diagnosis questionnaire itself has none).
PUBLIC_ROUTES = [r for r in ROUTES if r.template.startswith(PUBLIC_PREFIXES) and _ROUTE_PARAM.search(r.template)]


@pytest.mark.parametrize("route", PUBLIC_ROUTES, ids=lambda r: r.template)
@pytest.mark.parametrize("method", ["get", "post"])
def test_unknown_public_links_are_plain_identical_404s(route, method, away):
    unknowns = {
        "token": ["x" * 43, "Zm9vYmFyYmF6cXV1eGZvb2JhcmJhenF1dXhmb29iYXI", away.token[:-1]],
        "slug": ["no-such-wave", "another-unknown", away.wave.slug + "-x"],
        "uuid": ["00000000-0000-4000-8000-000000000000", "not-a-uuid", "6f1c1d9e-58f4-4a53-9d4f-2f5b8d0c9e11"],
    }
    param = "token" if "token" in route.template else "uuid" if "uuid" in route.template else "slug"
    bodies = set()
    for unknown in unknowns[param]:
        cache.clear()
        url = route.template.replace("<str:token>", unknown).replace("<slug:slug>", unknown)
        url = url.replace("<str:uuid>", unknown)
        url = "/" + url.replace("<str:side>", "customer")
        kwargs = {"data": {"answers": {}}, "content_type": "application/json"} if method == "post" else {}
        response = getattr(Client(), method)(url, **kwargs)
        if response.status_code == 405:  # the thanks pages take GET only
            assert method == "post"
            continue
        assert response.status_code == 404, url
        text = response.content.decode()
        assert unknown not in text
        assert not any(s in text for s in away.secrets)
        bodies.add(text)
    assert len(bodies) <= 1


def test_an_unknown_side_of_a_real_wave_is_the_same_404_as_an_unknown_wave(away):
    for prefix in ("/s/", "/api/v1/public/waves/"):
        cache.clear()
        real_wave_bad_side = Client().get(f"{prefix}{away.wave.slug}/nobody/")
        cache.clear()
        no_wave = Client().get(f"{prefix}no-such-wave/nobody/")
        assert real_wave_bad_side.status_code == no_wave.status_code == 404
        assert real_wave_bad_side.content == no_wave.content
