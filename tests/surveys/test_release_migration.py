"""Migration surveys.0005 publishes what a database held before releases existed (it was all shown then)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from surveys import models as m
from surveys import services
from tests.surveys.test_public_support import STAFF_ANSWERS, open_wave

pytestmark = pytest.mark.django_db

migration = importlib.import_module("surveys.migrations.0005_publish_existing_responses")
ANSWERS = {k: (v if v == "na" else int(v)) for k, v in STAFF_ANSWERS.items()}


def test_existing_responses_become_release_one_unless_a_side_is_under_its_threshold(org):
    big, small = open_wave(org, slug="big"), open_wave(org, slug="small")
    for wave, n in ((big, 7), (small, 3)):
        for _ in range(n):
            services.response_submit(wave=wave, side="staff", answers=ANSWERS, language="en")
    migration.publish_existing(apps, None)
    assert set(m.SurveyResponse.objects.filter(wave=big).values_list("release", flat=True)) == {1}
    (release,) = m.Release.objects.filter(wave=big)
    assert (release.side, release.number, release.n_added, release.n_total) == ("staff", 1, 7, 7)
    assert set(m.SurveyResponse.objects.filter(wave=small).values_list("release", flat=True)) == {None}
    assert not m.Release.objects.filter(wave=small).exists()
    migration.publish_existing(apps, None)  # running it again changes nothing
    assert m.Release.objects.filter(wave=big).count() == 1
