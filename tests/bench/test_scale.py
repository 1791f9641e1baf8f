"""Scale guards: no N+1 on the gap endpoint or the form submission; the kept counts follow the data."""

from __future__ import annotations

import random

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reports import selectors
from surveys import models as m
from surveys import services
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
    selectors.data_version(small)  # the once-per-process trigger check is not part of a request
    assert _gap_queries(owner_client, small) == _gap_queries(owner_client, large)


@pytest.mark.django_db
def test_a_form_submission_runs_as_many_queries_for_more_items(org):
    counts = []
    for per_dim, slug in ((2, "form-small"), (6, "form-large")):
        wave = _wave(org, slug, items_per_dimension=per_dim, n=0)
        data = {f"a_{item.key}": str(item.scale_max) for item in services.survey_items(wave=wave, side="customer")}
        client = Client()
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(f"/s/{wave.slug}/customer/", data | {"language": "en", "comment": ""})
        assert response.status_code == 302, response.content[:300]
        assert m.Answer.objects.filter(response__wave=wave).count() == len(data)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_data_version_moves_with_every_submission_and_account_change(org):
    wave = _wave(org, "version", items_per_dimension=2, n=2)
    before = selectors.data_version(wave)
    assert before is not None and before > 0
    services.response_submit(wave=wave, side="customer", answers={"culture0": 3}, language="en", required=False)
    after = selectors.data_version(wave)
    assert after == before + 2  # one statement for the response, one for its answers
    f.CustomerAccountFactory(organization=org)  # a new account changes no result
    assert selectors.data_version(wave) == after
    m.CustomerAccount.objects.filter(organization=org).update(status="churned")
    assert selectors.data_version(wave) == after + 1


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_kept_counts_are_reused_on_unchanged_data_and_replaced_when_a_response_arrives(org, owner_client):
    wave = services.wave_create(organization=org, instrument=_instrument(org, items_per_dimension=3), name="K",
                                slug="kept")
    services.wave_open(wave=wave)
    cache.clear()
    first = selectors.wave_counts(wave)
    with CaptureQueriesContext(connection) as ctx:
        selectors.wave_counts(wave)
    assert len(ctx.captured_queries) == 1  # the version lookup only
    services.response_submit(wave=wave, side="staff", answers={"culture0": 5}, language="en", required=False)
    fresh = selectors.wave_counts(wave)
    staff = fresh.answers[fresh.answers.side == "staff"]
    assert staff.n.sum() == 1 and staff.value.tolist() == [5]
    assert first.answers.empty
