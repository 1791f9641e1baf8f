"""A wave asking the experience modules, answered end to end: per-module dimension gaps in the gap API, the web
mirror and the PDF's text (issue 16, item 4)."""

from __future__ import annotations

import random
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from reports.context import build_report_context
from reports.pdf.render import render_pdf
from reports.services import gap_analysis
from surveys import models as m
from surveys import services
from surveys.instruments.loader import builtin_instrument
from surveys.instruments.modules import EXPERIENCE_MODULES
from tests.reports.conftest import pdf_text

XM = ["xm_sense", "xm_feel", "xm_think", "xm_act", "xm_relate"]


def answer_wave(wave: m.Wave, *, n: int, seed: int) -> None:
    """n staff (through invitations) and n customers answer every item they are asked; staff rate the
    experience modules two points above customers, the core one point."""
    rng = random.Random(seed)
    for side in (m.Side.STAFF, m.Side.CUSTOMER):
        items = services.survey_items(wave=wave, side=side)
        for _ in range(n):
            answers = {}
            for item in items:
                if item.is_outcome:
                    answers[item.key] = rng.choice(item.levels)
                    continue
                centre = 3.0 if side == m.Side.CUSTOMER else (5.0 if item.dimension and item.dimension.module
                                                               else 4.0)
                answers[item.key] = max(1, min(5, round(rng.gauss(centre, 0.6))))
            inv = services.invitation_create(wave=wave, side=side)
            services.response_submit(wave=wave, side=side, answers=answers, language="en", channel="invitation",
                                     invitation=inv.invitation)


@pytest.fixture
def xm_wave(org):
    wave = services.wave_create(organization=org, instrument=builtin_instrument(), name="XM wave", slug="xm-wave",
                                modules=[EXPERIENCE_MODULES])
    services.wave_open(wave=wave)
    answer_wave(wave, n=12, seed=5)
    return wave


def test_the_gap_api_gives_each_module_dimension_its_gap_labelled_with_its_module(xm_wave, owner):
    client = APIClient()
    client.force_authenticate(owner)
    for lang, label in (("en", "Experience modules"), ("ja", "経験価値モジュール")):
        response = client.get(f"/api/v1/waves/{xm_wave.pk}/gap/", {"lang": lang})
        assert response.status_code == 200, response.content
        dims = {d["key"]: d for d in response.json()["dimensions"]}
        assert [k for k, d in dims.items() if d["module"] == EXPERIENCE_MODULES] == XM
        assert all(d["module"] == "" and d["module_name"] == "" for k, d in dims.items() if k not in XM)
        for key in XM:
            d = dims[key]
            assert d["module_name"] == label
            assert d["report_status"] in ("ok", "ok_low_base") and d["n_staff"] == d["n_customer"] == 12
            assert d["gap"] > 1.0 and d["welch"]["ci_low"] is not None  # staff two points above customers
            assert len(d["item_keys"]) == 3


def test_the_overall_score_leaves_the_module_out(xm_wave):
    result = gap_analysis(wave=xm_wave, segments=False)
    overall_keys = set(result["overall"]["item_keys"])
    module_keys = {k for d in result["dimensions"] if d["module"] for k in d["item_keys"]}
    core_keys = {k for d in result["dimensions"] if not d["module"] for k in d["item_keys"]}
    assert overall_keys == core_keys and not overall_keys & module_keys


@pytest.mark.parametrize("lang,heading", [("en", "Experience modules"), ("ja", "経験価値モジュール")])
def test_the_mirror_page_groups_the_module_dimensions_under_their_heading(xm_wave, owner, lang, heading):
    client = Client()
    client.force_login(owner)
    response = client.get(f"/reports/waves/{xm_wave.pk}/", {"lang": lang})
    assert response.status_code == 200
    html = response.content.decode()
    group = re.search(r'<tr class="web-group" id="module-experience_modules"><th[^>]*>([^<]+)</th></tr>', html)
    assert group and group.group(1) == heading
    after = html[group.end():]
    for key in XM:
        assert f'id="dim-{key}"' in after  # every module dimension follows its heading
    assert 'id="dim-culture"' in html[:group.start()]


def test_the_pdf_text_has_the_module_heading_and_dimensions_in_both_languages(xm_wave):
    names = {"en": ["Experience modules", "Sense", "Feel", "Think", "Act", "Relate"],
             "ja": ["経験価値モジュール", "SENSE", "FEEL", "THINK", "ACT", "RELATE"]}
    for lang in ("en", "ja"):
        ctx = build_report_context(gap_analysis(wave=xm_wave, language=lang), language=lang, wave=xm_wave)
        text = re.sub(r"\s+", "", pdf_text(render_pdf(ctx).pdf))
        for name in names[lang]:
            assert re.sub(r"\s+", "", name) in text, (lang, name)
