"""A retired item (issue 13, item 7) is not part of a new wave: the gap engine's item lists, dimension
scores and reliability are those of the instrument without it."""

from __future__ import annotations

from reports.counts import wave_counts_compute
from reports.services import gap_analysis
from surveys import models as m
from surveys import releases, services
from tests.gap.conftest import fill_wave


def _run(org, instrument, slug: str) -> dict:
    wave = services.wave_create(organization=org, instrument=instrument, name=slug, slug=slug)
    services.wave_open(wave=wave)
    fill_wave(wave, seed=11, n_staff=24, n_customer=30)
    releases.publish_due(wave)
    return wave, gap_analysis(wave=wave, segments=False)


def _strip(entries: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k not in ("id",)} for e in entries]


def test_a_retired_item_leaves_the_gap_as_if_it_never_was(org, owner_client):
    original = m.Instrument.objects.get(organization=org, key="gap-test", version=1)  # tests/gap/conftest.py
    plain = services.instrument_new_version(instrument=original)
    with_retired = services.instrument_new_version(instrument=original)
    url = f"/api/v1/instruments/{with_retired.pk}/items/"
    added = owner_client.post(url, {"key": "c4", "dimension": "culture", "staff_text_en": "Retired soon.",
                                    "staff_text_ja": "まもなく廃止。", "customer_text_en": "Retired soon.",
                                    "customer_text_ja": "まもなく廃止。"}, format="json")
    assert added.status_code == 201, added.data
    assert owner_client.post(f"{url}{added.data['id']}/retire/").status_code == 200

    _, expected = _run(org, plain, "plain")
    wave, result = _run(org, with_retired, "retired")

    assert "c4" not in [i["key"] for i in result["items"]]
    culture = next(d for d in result["dimensions"] if d["key"] == "culture")
    assert culture["item_keys"] == ["c1", "c2", "c3"]
    assert _strip(result["items"]) == _strip(expected["items"])
    assert _strip(result["dimensions"]) == _strip(expected["dimensions"])
    assert result["overall"] == expected["overall"]
    # The count reader (one pass on PostgreSQL, GROUP BY elsewhere) leaves it out of the reliability sums.
    pairs = {pair for table in wave_counts_compute(wave).moments.values() for pair in table}
    assert pairs and not any(added.data["id"] in pair for pair in pairs)
