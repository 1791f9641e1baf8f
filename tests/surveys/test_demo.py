"""manage.py load_demo: idempotent, deterministic, working links, and data that looks like the field."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from surveys import models as m
from surveys import services
from surveys.demo import DEMO_PASSWORD, demo_counts

TOKEN_LINE = re.compile(r"^(staff|customer) invitation \(unused\): (?P<base>\S+)/r/(?P<token>[A-Za-z0-9_-]+)/$")
DIMENSIONS = ["culture", "speed", "ease", "personalization", "proactive", "onboarding", "experience"]


def load(*args: str) -> list[str]:
    out = StringIO()
    call_command("load_demo", *args, stdout=out, stderr=StringIO())
    return out.getvalue().splitlines()


def diagnosis_demo_token() -> str:
    from diagnosis.demo import demo_link_token

    return demo_link_token(demo_org())


def tokens(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = TOKEN_LINE.match(line)
        if match:
            found[match.group(1)] = match.group("token")
    return found


def demo_org() -> m.Organization:
    return m.Organization.objects.get(slug="demo")


def model_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (
        m.Organization, m.Membership, m.Instrument, m.Dimension, m.ItemPair, m.Wave, m.Invitation,
        m.InvitationUse, m.AnonymousLink, m.CustomerAccount, m.SurveyResponse, m.Answer, get_user_model(),
    )}


def favourable_values(wave: m.Wave) -> list[tuple[str, str | None, bool, int]]:
    """(side, dimension key, is_headline, value recoded so higher is better) for every Likert answer given."""
    rows = m.Answer.objects.filter(response__wave=wave, item__kind=m.ItemKind.LIKERT, value__isnull=False).values_list(
        "response__side", "item__dimension__key", "item__is_headline", "item__reverse_keyed", "value")
    return [(side, dim, headline, 6 - v if rev else v) for side, dim, headline, rev, v in rows]


def dimension_means(wave: m.Wave) -> dict[tuple[str, str], float]:
    sums: dict[tuple[str, str], list[int]] = defaultdict(list)
    for side, dim, headline, value in favourable_values(wave):
        if not headline:
            sums[(dim, side)].append(value)
    return {key: sum(v) / len(v) for key, v in sums.items()}


def headline_topbox(wave: m.Wave) -> dict[str, float]:
    per_side: dict[str, list[int]] = defaultdict(list)
    for side, _, headline, value in favourable_values(wave):
        if headline:
            per_side[side].append(value)
    return {side: sum(v >= 4 for v in values) / len(values) for side, values in per_side.items()}


@pytest.fixture
def small_demo(db) -> list[str]:
    return load("--responses", "30")


@pytest.fixture
def full_demo(db) -> list[str]:
    return load("--responses", "200")


def test_it_creates_the_organization_users_waves_and_responses(small_demo):
    org = demo_org()
    assert (org.name, org.display_name_ja, org.display_name_en) == ("Kagami Demo", "ミラー商事", "Mirror Trading")
    h1, h2 = org.waves.order_by("opens_on")
    assert (h1.name, h1.status, h2.name, h2.status) == ("2026 H1", "closed", "2026 H2", "open")
    assert h2.previous_wave_id == h1.pk
    assert h1.instrument_id == h2.instrument_id
    assert h1.instrument.organization_id == org.pk and h1.instrument.based_on.is_builtin and h1.instrument.is_frozen
    counts = demo_counts(org)
    assert counts["demo-2026-h1:customer"] == counts["demo-2026-h2:customer"] == 30
    assert counts["demo-2026-h1:staff"] == counts["demo-2026-h2:staff"] == 12
    assert counts["accounts"] == 60 and counts["accounts_churned"] > 0
    roles = dict(org.memberships.values_list("user__username", "role"))
    assert roles == {"demo-admin": "admin", "demo-analyst": "analyst", "demo-exec": "executive"}
    admin = get_user_model().objects.get(username="demo-admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password(DEMO_PASSWORD)
    assert not get_user_model().objects.get(username="demo-exec").is_staff


def test_a_second_run_changes_nothing_and_prints_the_same_links(small_demo):
    before = model_counts()
    again = load("--responses", "30")
    assert model_counts() == before
    assert again[0].startswith("Demo already loaded")
    assert again[1:] == small_demo[1:]


def test_it_prints_logins_and_full_urls_one_per_line(small_demo):
    base = settings.KAGAMI_PUBLIC_URL
    found = tokens(small_demo)
    assert small_demo[1:] == [
        f"login: demo-admin / {DEMO_PASSWORD}  (admin, Django superuser)",
        f"login: demo-analyst / {DEMO_PASSWORD}  (analyst)",
        f"login: demo-exec / {DEMO_PASSWORD}  (executive)",
        f"staff invitation (unused): {base}/r/{found['staff']}/",
        f"customer invitation (unused): {base}/r/{found['customer']}/",
        f"staff anonymous link: {base}/s/demo-2026-h2/staff/",
        f"customer anonymous link: {base}/s/demo-2026-h2/customer/",
        f"API docs: {base}/api/docs/",
        f"admin: {base}/admin/",
        f"executive reports: {base}/reports/",
        f"quick diagnosis (anyone): {base}/diagnosis/",
        f"quick diagnosis (the demo organization's link): {base}/diagnosis/o/{diagnosis_demo_token()}/",
    ]


def test_the_links_follow_the_public_url_so_another_port_prints_that_port(db, settings):
    settings.KAGAMI_PUBLIC_URL = "http://127.0.0.1:8123"
    lines = load("--responses", "30")
    links = [line for line in lines if "http" in line]
    assert len(links) == 9 and all("http://127.0.0.1:8123/" in line for line in links)
    assert not any(":8000" in line for line in lines)


def _make_run_public_url(port: str, environ: dict[str, str]) -> str:
    """KAGAMI_PUBLIC_URL as `make run PORT=<port>` exports it to load_demo and runserver (from its dry run)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k != "KAGAMI_PUBLIC_URL"}
    recipe = subprocess.run([make, "-s", "-n", "run", f"PORT={port}"], cwd=root, env=env, capture_output=True,
                            text=True, check=True).stdout
    before_demo = recipe.split("load_demo")[0]
    exports = [line.strip().removesuffix("\\").strip().removesuffix("&&").strip()
               for line in before_demo.splitlines() if line.strip().startswith("export KAGAMI_PUBLIC_URL=")]
    assert exports, recipe
    script = " && ".join([*exports, 'printf %s "$KAGAMI_PUBLIC_URL"'])
    return subprocess.run(["bash", "-c", script], env={**env, **environ}, capture_output=True, text=True,
                          check=True).stdout


def test_make_run_passes_its_port_to_the_printed_links_unless_a_public_url_is_set():
    assert _make_run_public_url("8123", {}) == "http://127.0.0.1:8123"
    assert _make_run_public_url("8000", {}) == "http://127.0.0.1:8000"
    assert _make_run_public_url("8123", {"KAGAMI_PUBLIC_URL": "https://kagami.example"}) == "https://kagami.example"


def test_printed_invitation_links_resolve_to_unused_invitations_of_the_open_wave(small_demo):
    for side, token in tokens(small_demo).items():
        invitation = services.invitation_by_token(token=token)
        assert (invitation.side, invitation.wave.slug, invitation.wave.status) == (side, "demo-2026-h2", "open")
        assert not invitation.is_used
        assert token not in "".join(m.Invitation.objects.values_list("token_hash", flat=True))  # only hashes stored


def test_once_a_printed_invitation_is_used_the_next_run_prints_another_unused_one(small_demo):
    staff_token = tokens(small_demo)["staff"]
    invitation = services.invitation_by_token(token=staff_token)
    items = services.survey_items(wave=invitation.wave, side="staff")
    services.response_submit(wave=invitation.wave, side="staff", answers={i.key: 3 for i in items}, language="ja",
                             channel=m.Channel.INVITATION, invitation=invitation)
    next_token = tokens(load("--responses", "30"))["staff"]
    assert next_token != staff_token
    assert not services.invitation_by_token(token=next_token).is_used


def test_the_anonymous_links_exist_for_both_sides_of_the_open_wave(small_demo):
    wave = demo_org().waves.get(slug="demo-2026-h2")
    assert sorted(wave.anonymous_links.filter(is_active=True).values_list("side", flat=True)) == ["customer", "staff"]


def test_staff_rows_carry_no_invitation_account_or_time_and_customers_link_to_accounts(small_demo):
    responses = m.SurveyResponse.objects.filter(wave__organization=demo_org())
    staff = responses.filter(side="staff")
    assert staff.exists()
    assert not staff.filter(invitation__isnull=False).exists()
    assert not staff.filter(customer_account__isnull=False).exists()
    assert not staff.filter(submitted_at__isnull=False).exists()
    assert not staff.filter(weight__isnull=False).exists()
    invited = responses.filter(side="customer", channel=m.Channel.INVITATION)
    assert invited.exists() and not invited.filter(customer_account__isnull=True).exists()
    assert not invited.filter(invitation__use__isnull=True).exists()  # every linked invitation is marked used
    assert responses.filter(side="customer", weight__gt=0).exists()


def test_response_rates_are_meaningful(small_demo):
    for wave in demo_org().waves.all():
        for side in ("staff", "customer"):
            invitations = wave.invitations.filter(side=side)
            used = invitations.filter(use__isnull=False).count()
            assert 0 < used < invitations.count()
        # Every invited staff answer has its used invitation; the rest came through the anonymous link.
        staff_invited = wave.responses.filter(side="staff", channel=m.Channel.INVITATION).count()
        assert staff_invited == wave.invitations.filter(side="staff", use__isnull=False).count()


def test_one_department_is_too_small_to_show(small_demo):
    for wave in demo_org().waves.all():
        departments = Counter(r["segments"].get("department") for r in wave.responses.filter(side="staff").values(
            "segments"))
        assert 3 <= departments["Marketing"] < wave.anonymity_threshold
        assert all(departments[d] >= 1 for d in ("Sales", "Customer Success", "Support", "Engineering"))


def test_answers_include_na_comments_in_both_languages_and_every_scale_in_range(small_demo):
    answers = m.Answer.objects.filter(response__wave__organization=demo_org())
    assert answers.filter(value__isnull=True).exists()
    for item in demo_org().instruments.get().items.all():
        values = set(answers.filter(item=item, value__isnull=False).values_list("value", flat=True))
        assert values and values <= set(item.levels), item.key
    comments = m.SurveyResponse.objects.filter(wave__organization=demo_org()).exclude(comment="")
    assert comments.filter(language="ja").exists() and comments.filter(language="en").exists()


def test_the_data_looks_like_the_field(full_demo):
    h1, h2 = demo_org().waves.order_by("opens_on")
    for wave in (h1, h2):
        topbox = headline_topbox(wave)
        # Bain: most staff say "superior", few customers agree.
        assert 0.70 <= topbox["staff"] <= 0.90, topbox
        assert 0.05 <= topbox["customer"] <= 0.30, topbox
        means = dimension_means(wave)
        gaps = {d: means[(d, "staff")] - means[(d, "customer")] for d in DIMENSIONS}
        assert [d for d, g in gaps.items() if g < 0] == ["onboarding"], gaps  # the one hidden strength
        assert gaps["onboarding"] < -0.4
        assert abs(gaps["ease"]) < 0.25 and abs(gaps["experience"]) < 0.25, gaps  # aligned
    gap = {w.slug: dimension_means(w) for w in (h1, h2)}
    proactive = {slug: v[("proactive", "staff")] - v[("proactive", "customer")] for slug, v in gap.items()}
    assert proactive["demo-2026-h1"] > 1.0 and proactive["demo-2026-h2"] < proactive["demo-2026-h1"] - 0.4


def test_customers_of_churned_accounts_rated_the_company_lower(full_demo):
    by_status: dict[str, list[int]] = defaultdict(list)
    rows = m.Answer.objects.filter(
        response__customer_account__organization=demo_org(), item__is_headline=True, value__isnull=False,
    ).values_list("response__customer_account__status", "value")
    for status, value in rows:
        by_status["churned" if status == "churned" else "kept"].append(value)
    mean = {k: sum(v) / len(v) for k, v in by_status.items()}
    assert mean["churned"] < mean["kept"] - 0.2, mean
    churned = m.CustomerAccount.objects.filter(organization=demo_org(), status="churned")
    assert not churned.filter(responses__wave__slug="demo-2026-h2").exists()  # they left before H2


def _histogram() -> Counter:
    return Counter(m.Answer.objects.filter(response__wave__organization=demo_org()).values_list(
        "response__wave__slug", "response__side", "item__key", "value"))


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not(db):
    load("--responses", "20", "--seed", "7")
    first = _histogram()
    first_ids = set(m.SurveyResponse.objects.values_list("id", flat=True))
    load("--responses", "20", "--seed", "7", "--reset")
    assert _histogram() == first
    assert set(m.SurveyResponse.objects.values_list("id", flat=True)) == first_ids
    load("--responses", "20", "--seed", "8", "--reset")
    assert _histogram() != first


def test_reset_rebuilds_the_demo_with_the_new_size(small_demo):
    load("--responses", "20", "--reset")
    counts = demo_counts(demo_org())
    assert counts["demo-2026-h1:customer"] == 20
    assert m.Organization.objects.filter(slug="demo").count() == 1
    assert get_user_model().objects.filter(username__startswith="demo-").count() == 3


def test_a_response_count_too_small_for_a_demo_is_refused(db):
    with pytest.raises(CommandError, match="at least 10"):
        load("--responses", "3")
    assert not m.Organization.objects.filter(slug="demo").exists()
