"""Scale guards: no N+1 on the gap endpoint or the form submission; the kept counts follow the data."""

from __future__ import annotations

import random

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reports import counts
from surveys import models as m
from surveys import releases, services
from surveys import selectors as surveys_selectors
from surveys.public import links as public_links
from tests import factories as f


def _instrument(org, *, items_per_dimension: int):
    inst = f.InstrumentFactory(organization=org, key=f"scale-{items_per_dimension}")
    for d, key in enumerate(("culture", "speed")):
        dim = f.DimensionFactory(instrument=inst, key=key, order=d)
        for i in range(items_per_dimension):
            f.ItemPairFactory(instrument=inst, dimension=dim, key=f"{key}{i}", order=10 * d + i,
                              is_headline=(d == 0 and i == 0))
    m.ItemPair.objects.create(instrument=inst, key="nps", order=99, kind=m.ItemKind.NPS, customer_text_en="R?",
                              customer_text_ja="推奨", allow_na=False, topbox_levels=[9, 10])
    return inst


def _wave(org, slug: str, *, items_per_dimension: int, n: int) -> m.Wave:
    wave = services.wave_create(organization=org, instrument=_instrument(org, items_per_dimension=items_per_dimension),
                                name=slug, slug=slug)
    services.wave_open(wave=wave)
    rng = random.Random(n)
    for side, count in (("staff", n), ("customer", n)):
        for i in range(count):
            answers = {item.key: rng.randint(item.scale_min, item.scale_max)
                       for item in services.survey_items(wave=wave, side=side)}
            services.response_submit(wave=wave, side=side, answers=answers, language="en",
                                     segments={"department": f"D{i % 3}"} if side == "staff" else {"tier": "Gold"})
    return wave


def _gap_queries(client, wave: m.Wave) -> int:
    cache.clear()  # a cold request: counts and results computed, not served from the cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/api/v1/waves/{wave.pk}/gap/", {"segments": "true"})
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_the_gap_endpoint_runs_as_many_queries_for_more_items_and_more_responses(org, owner_client):
    small = _wave(org, "scale-small", items_per_dimension=2, n=6)
    large = _wave(org, "scale-large", items_per_dimension=5, n=20)
    counts.data_version(small)  # the once-per-process trigger check is not part of a request
    assert _gap_queries(owner_client, small) == _gap_queries(owner_client, large)


_TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


def _statements(ctx) -> list[str]:
    """The SQL a request ran, without transaction control (logged on some databases only)."""
    return [q["sql"] for q in ctx.captured_queries if not q["sql"].upper().startswith(_TRANSACTION)]


def _post_statements(url: str, data: dict, **kwargs) -> list[str]:
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = Client().post(url, data, **kwargs)
    assert response.status_code in (201, 302), response.content[:300]
    return _statements(ctx)


def _kinds(statements: list[str]) -> list[str]:
    """The first word of each statement; an executemany is logged as "<n> times: <sql>", counted once."""
    return [s.split(": ", 1)[1].split()[0] if s.split()[1] == "times:" else s.split()[0] for s in statements]


# What storing a response with its answers costs, whatever the number of answers: one INSERT … SELECT (the
# open-wave guard and the row, its answers packed in it: surveys.packing) on every database.
_STORE = ["INSERT"]


@pytest.mark.django_db
def test_a_form_submission_runs_two_statements_whatever_the_number_of_items(org):
    for per_dim, slug in ((2, "form-small"), (6, "form-large")):
        wave = _wave(org, slug, items_per_dimension=per_dim, n=0)
        data = {f"a_{item.key}": str(item.scale_max) for item in services.survey_items(wave=wave, side="customer")}
        statements = _post_statements(f"/s/{wave.slug}/customer/", data | {"language": "en", "comment": ""})
        # The link with its wave, organization and instrument; the response with its answers.
        # The frozen instrument's items are in memory (read above, as by the process's first post).
        assert _kinds(statements) == ["SELECT", *_STORE], statements
        assert m.Answer.objects.filter(response__wave=wave).count() == len(data)


@pytest.mark.django_db
def test_the_next_posts_to_a_link_within_seconds_only_store(org):
    wave = _wave(org, "form-recent", items_per_dimension=3, n=0)
    data = {f"a_{item.key}": str(item.scale_max) for item in services.survey_items(wave=wave, side="customer")}
    first = _post_statements(f"/s/{wave.slug}/customer/", data | {"language": "en"})
    second = _post_statements(f"/s/{wave.slug}/customer/", data | {"language": "en"})
    assert (_kinds(first), _kinds(second)) == (["SELECT", *_STORE], _STORE), (first, second)
    assert m.SurveyResponse.objects.filter(wave=wave).count() == 2


@pytest.mark.django_db
def test_the_first_post_of_a_process_reads_the_items_once(org):
    wave = _wave(org, "form-cold", items_per_dimension=3, n=0)
    data = {f"a_{item.key}": str(item.scale_max) for item in services.survey_items(wave=wave, side="customer")}
    surveys_selectors.frozen_instruments_forget()
    public_links.forget_recent_links()
    cold = _post_statements(f"/s/{wave.slug}/customer/", data | {"language": "en"})
    public_links.forget_recent_links()
    warm = _post_statements(f"/s/{wave.slug}/customer/", data | {"language": "en"})
    assert len(cold) == len(warm) + 1 == 2 + len(_STORE)


@pytest.mark.django_db
def test_an_invitation_and_an_api_submission_run_as_few_statements(org):
    wave = _wave(org, "form-invited", items_per_dimension=4, n=0)
    items = services.survey_items(wave=wave, side="customer")
    token = services.invitation_create(wave=wave, side="customer", language="en").token
    html = _post_statements(f"/r/{token}/", {f"a_{i.key}": str(i.scale_max) for i in items} | {"language": "en"})
    # The invitation with its use, account, wave …; its use; the response with its answers.
    assert _kinds(html) == ["SELECT", "INSERT", *_STORE], html
    api = _post_statements(f"/api/v1/public/waves/{wave.slug}/customer/",
                           {"answers": {i.key: i.scale_max for i in items}}, content_type="application/json")
    assert _kinds(api) == ["SELECT", *_STORE], api


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_data_version_moves_with_every_submission_and_account_change(org):
    wave = _wave(org, "version", items_per_dimension=2, n=2)
    before = counts.data_version(wave)
    assert before is not None and before > 0
    services.response_submit(wave=wave, side="customer", answers={"culture0": 3}, language="en", required=False)
    after = counts.data_version(wave)
    assert after == before + 1  # one statement: the response, its answers packed in its row
    f.CustomerAccountFactory(organization=org)  # a new account changes no result
    assert counts.data_version(wave) == after
    m.CustomerAccount.objects.filter(organization=org).update(status="churned")
    assert counts.data_version(wave) == after + 1


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_kept_counts_are_reused_on_unchanged_data_and_replaced_when_a_response_arrives(org, owner_client):
    wave = services.wave_create(organization=org, instrument=_instrument(org, items_per_dimension=3), name="K",
                                slug="kept")
    services.wave_open(wave=wave)
    cache.clear()
    first = counts.wave_counts(wave)
    with CaptureQueriesContext(connection) as ctx:
        counts.wave_counts(wave)
    assert len(ctx.captured_queries) == 1  # the version lookup only
    services.response_submit(wave=wave, side="staff", answers={"culture0": 5}, language="en", required=False)
    waiting = counts.wave_counts(wave)  # a new version, but the response waits for a release
    assert waiting.answers.empty and first.answers.empty
    for _ in range(4):
        services.response_submit(wave=wave, side="staff", answers={"culture0": 5}, language="en", required=False)
    releases.publish_due(wave)
    fresh = counts.wave_counts(wave)
    staff = fresh.answers[fresh.answers.side == "staff"]
    assert staff.n.sum() == 5 and staff.value.tolist() == [5]
