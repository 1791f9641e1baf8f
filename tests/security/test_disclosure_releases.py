"""Releases (disclosure promise P4) under concurrency: publishing while posts arrive, and several publishers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from surveys import models as m
from surveys import releases, services
from tests.surveys.test_public_support import STAFF_ANSWERS, open_wave

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

ANSWERS = {k: (v if v == "na" else int(v)) for k, v in STAFF_ANSWERS.items()}


def _check_releases(wave: m.Wave) -> None:
    k = wave.anonymity_threshold
    made = list(m.Release.objects.filter(wave=wave, side="staff").order_by("number"))
    assert [r.number for r in made] == list(range(1, len(made) + 1))
    assert all(r.n_added >= k for r in made), [r.n_added for r in made]
    running = 0
    for r in made:  # every release still holds exactly what it published: none grew afterwards
        running += r.n_added
        assert r.n_total == running
        assert m.SurveyResponse.objects.filter(wave=wave, side="staff", release=r.number).count() == r.n_added
    pending = m.SurveyResponse.objects.filter(wave=wave, side="staff", release__isnull=True).count()
    assert pending < k


def test_publishing_while_posts_arrive_neither_deadlocks_nor_loses_a_response(org):
    """Found by the crash-safety test: FOR UPDATE on the wave deadlocked with the posts' foreign-key checks."""
    wave = open_wave(org, slug="race")
    errors: list[str] = []
    stop = threading.Event()
    posted = [0]
    lock = threading.Lock()

    def post() -> None:
        try:
            while not stop.is_set():
                services.response_submit(wave=wave, side="staff", answers=ANSWERS, language="en")
                with lock:
                    posted[0] += 1
        except Exception as exc:  # noqa: BLE001 — any error is the finding
            errors.append(repr(exc))
        finally:
            connection.close()

    def publish() -> None:
        try:
            for _ in range(40):
                releases.publish_due(wave)
        except Exception as exc:  # noqa: BLE001
            errors.append("publish: " + repr(exc))
        finally:
            connection.close()

    posters = [threading.Thread(target=post) for _ in range(4)]
    publishers = [threading.Thread(target=publish) for _ in range(2)]
    for t in posters + publishers:
        t.start()
    for t in publishers:
        t.join()
    stop.set()
    for t in posters:
        t.join()
    assert errors == []
    releases.publish_due(wave)
    assert m.SurveyResponse.objects.filter(wave=wave, side="staff").count() == posted[0] > 20
    assert m.Release.objects.filter(wave=wave).count() >= 2
    _check_releases(wave)
    published = m.Release.objects.filter(wave=wave, side="staff").aggregate(n=Sum("n_added"))["n"]
    assert published == m.SurveyResponse.objects.filter(wave=wave, side="staff", release__isnull=False).count()
