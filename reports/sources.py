"""What the gap engine analyses — count tables, the items and dimensions they count, thresholds, segment fields,
a description — and the source of a wave; a file's is :mod:`reports.file_source`.

The engine (:func:`reports.services.gap_analysis_of`) reads nothing else, so a wave and a file exported from
another tool go through the same disclosure, statistics, families and classification. A source's items and
dimensions are :class:`~surveys.models.ItemPair` and :class:`~surveys.models.Dimension` instances; a file's are
unsaved (their ``pk`` numbers the file's columns), so analysing a file reads no database.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from reports import selectors
from reports.counts import WaveCounts, department_counts, wave_counts
from surveys import internal, releases
from surveys import selectors as survey_selectors
from surveys.models import Dimension, ItemKind, ItemPair, Language, Side, Touchpoint, Wave

if TYPE_CHECKING:
    import pandas as pd

SIDES = (Side.STAFF, Side.CUSTOMER)


@dataclass(frozen=True, eq=False)
class GapSource:
    """One thing to analyse: its count tables and everything the engine needs to read them.

    ``meta`` is the result's ``"wave"`` entry per language (``"en"``, ``"ja"``); ``release`` the release
    shown per side and ``response_rates`` (called with the released respondent-count table) exist for a
    wave only: a source without them gives ``{}`` and ``None`` in the result, never invented numbers.
    """

    counts: WaveCounts
    items: Sequence[ItemPair]  # asked items in report order, Likert and outcome
    dimensions: Sequence[Dimension]  # in report order
    dimension_items: Mapping[int, Sequence[ItemPair]]  # dimension pk → its Likert items, in report order
    thresholds: Mapping[str, int]  # side → k (staff: the anonymity threshold)
    fields: Mapping[str, Sequence[dict]]  # side → segment field definitions, as Wave.segment_fields gives them
    meta: Mapping[str, dict]
    company: Mapping[str, str] = field(default_factory=dict)  # language → the name that replaces {company}
    release: Mapping[str, dict] = field(default_factory=dict)
    response_rates: Callable[[pd.DataFrame], dict] | None = None
    # The touchpoints the items carry, in the organization's journey order, named (a file has none).
    touchpoints: Sequence[Touchpoint] = ()
    touchpoint_items: Mapping[str, Sequence[ItemPair]] = field(default_factory=dict)  # key → its Likert items

    def k(self, side: str) -> int:
        """The side's threshold: no number of the side is shown over fewer respondents."""
        return int(self.thresholds[side])

    def segment_fields(self, side: str) -> list[dict]:
        """The side's segment fields (the same call as :meth:`surveys.models.Wave.segment_fields`)."""
        return list(self.fields.get(side, []))

    def described(self, language: str) -> dict[str, Any]:
        """The result's ``"wave"`` entry (a copy: a result is the caller's to change)."""
        return copy.deepcopy(self.meta[_language(language)])

    def company_name(self, language: str) -> str:
        return self.company.get(_language(language), "")


def _language(language: str) -> str:
    # As Organization.company_name and Dimension.name read it: Japanese, or else English.
    return Language.JA if language == Language.JA else Language.EN


def _wave_meta(wave: Wave, language: str, department: str | None = None) -> dict:
    inst = wave.instrument
    return {
        "kind": wave.kind,
        "department": ({"key": department, "label": internal.department_label(wave, department, language)}
                       if department else None),
        "id": wave.pk, "name": wave.name, "slug": wave.slug, "status": wave.status,
        "opens_on": wave.opens_on.isoformat() if wave.opens_on else None,
        "closes_on": wave.closes_on.isoformat() if wave.closes_on else None,
        "organization": {"id": wave.organization_id, "name": wave.organization.name,
                         "company_name": wave.organization.company_name(language)},
        "instrument": {"key": inst.key, "version": inst.version,
                       "name": inst.name_ja if language == Language.JA else inst.name_en},
    }


def wave_source(wave: Wave, department: str | None = None) -> GapSource:
    """The wave's source: what is due published first, then its published responses' count tables.

    An internal wave is only ever analysed per serving department (surveys/internal.py): ``department`` is
    required there (ValidationFailed otherwise) and refused for an external wave. Its source counts only the
    rows about that department, at most one per person, and has no response rates (invitations are not
    per department).
    """
    department = internal.check_department(wave, department)
    release = releases.publish_due(wave, department)
    # Read once per data version and kept (reports.counts.wave_counts): only the statistics run per request.
    counts = wave_counts(wave) if department is None else department_counts(wave, department)
    items = list(wave.instrument.items.filter(retired_at__isnull=True)  # retired: never asked in this wave
                 .select_related("dimension").order_by("dimension__order", "order", "id"))
    dimensions = list(wave.instrument.dimensions.order_by("order", "id"))
    likert = [i for i in items if i.kind == ItemKind.LIKERT]
    languages = (Language.EN, Language.JA)
    by_touchpoint: dict[str, list[ItemPair]] = {}
    for item in sorted(likert, key=lambda i: (i.order, i.pk)):  # questionnaire order, whatever the dimension
        if item.touchpoint:
            by_touchpoint.setdefault(item.touchpoint, []).append(item)
    return GapSource(
        counts=counts,
        items=items,
        dimensions=dimensions,
        dimension_items={d.pk: [i for i in likert if i.dimension_id == d.pk] for d in dimensions},
        thresholds={side: releases.threshold(wave, side) for side in SIDES},
        fields={side: wave.segment_fields(side) for side in SIDES},
        meta={language: _wave_meta(wave, language, department) for language in languages},
        company={language: wave.organization.company_name(language) for language in languages},
        release={side: info.as_dict() for side, info in release.items()},
        response_rates=partial(_response_rates, wave) if department is None else None,
        touchpoints=survey_selectors.touchpoint_catalogue(organization_id=wave.organization_id,
                                                          keys=list(by_touchpoint)),
        touchpoint_items=by_touchpoint,
    )


def _response_rates(wave: Wave, responses: pd.DataFrame) -> dict:
    return selectors.response_rates(wave, responses=responses)
