"""Reads of the surveys domain: querysets scoped to the organizations a user belongs to.

Visibility is decided here, once: the API's ``get_queryset`` methods call these,
so an object of an organization the user does not belong to is simply absent
(404), never forbidden (403). What every form post reads of a frozen instrument
(its items, see ``instrument_items``) is kept in process memory here.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet

from surveys import internal, microdata, releases
from surveys.instruments.journey import DEFAULT_TOUCHPOINTS
from surveys.models import (
    Answer,
    AuditEvent,
    CustomerAccount,
    Instrument,
    Invitation,
    ItemPair,
    Membership,
    Organization,
    Role,
    Side,
    SurveyResponse,
    Touchpoint,
    Wave,
)

ALL_ROLES: frozenset[str] = frozenset(Role.values)
T = TypeVar("T")


def user_roles(*, user: Any) -> dict[int, str]:
    """Organization id → the user's role there (empty for anonymous users)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    return dict(Membership.objects.filter(user=user).values_list("organization_id", "role"))


def org_ids_with_role(*, roles_by_org: dict[int, str], roles: Iterable[str] = ALL_ROLES) -> list[int]:
    allowed = set(roles)
    return sorted(org_id for org_id, role in roles_by_org.items() if role in allowed)


def organization_list(*, org_ids: Iterable[int]) -> QuerySet[Organization]:
    return Organization.objects.filter(pk__in=list(org_ids)).order_by("name", "pk")


def membership_list(*, org_ids: Iterable[int]) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organization_id__in=list(org_ids))
        .select_related("user", "organization")
        .order_by("organization_id", "user__username", "pk")
    )


def instrument_list(*, org_ids: Iterable[int], include_builtin: bool = True) -> QuerySet[Instrument]:
    """The built-in instruments (organization=None) and those of ``org_ids``."""
    scope = Q(organization_id__in=list(org_ids))
    if include_builtin:
        scope |= Q(organization__isnull=True)
    return Instrument.objects.filter(scope).order_by("organization_id", "key", "version", "pk")


def instrument_detail_queryset(*, org_ids: Iterable[int]) -> QuerySet[Instrument]:
    return instrument_list(org_ids=org_ids).prefetch_related("dimensions", "items__dimension")


# --------------------------------------------------------------------------- frozen instruments, in memory

# A frozen instrument version (one a wave uses) never changes: services, the API and the admin refuse
# to edit it. What every form post derives from it (its items, the form's questions and labels) is
# therefore kept per process, keyed by (database, id, frozen_at): a version that is not frozen is never
# kept, and a version frozen again after an unfreeze has another key. Saving or deleting an instrument,
# dimension or item through the ORM in this process drops its entry too (tests, shell), so nothing
# stale is served even where the rule was bypassed here; a raw UPDATE from elsewhere is not seen.
# Why it pays: without it every form request reads the items again (one query; the built-in instrument
# has 26 items with their dimensions), and a GET also rebuilds every question's wording and choices.
# A customer form post costs 4.5 ms of CPU with it, 7.7 ms without; a form GET 20 ms with, 26 ms without
# (bench/caches.py, 2026-12-07: PostgreSQL 15 and Redis, 2 shared AMD EPYC cores at load average ~7).
FROZEN_INSTRUMENTS_KEPT = 128
_frozen: OrderedDict[tuple, dict[Hashable, Any]] = OrderedDict()
_frozen_lock = threading.Lock()


def frozen_instrument_memo(*, instrument: Instrument, name: Hashable, build: Callable[[], T]) -> T:
    """``build()``, computed once per process for a frozen ``instrument`` (every time for an editable one).

    ``build`` must return something nobody mutates: it is shared by every request of the process.
    """
    if instrument.frozen_at is None or instrument.pk is None:
        return build()
    key = (instrument._state.db, instrument.pk, instrument.frozen_at)
    with _frozen_lock:
        entry = _frozen.get(key)
        if entry is not None:
            _frozen.move_to_end(key)
            if name in entry:
                return entry[name]
    value = build()  # outside the lock: it may query; two threads may build the same value, both correct
    with _frozen_lock:
        entry = _frozen.setdefault(key, {})
        _frozen.move_to_end(key)
        entry.setdefault(name, value)
        while len(_frozen) > FROZEN_INSTRUMENTS_KEPT:
            _frozen.popitem(last=False)
        return entry[name]


def frozen_instruments_forget(*, instrument_id: int | None = None) -> None:
    """Drop what is kept for one instrument (every instrument when ``instrument_id`` is None)."""
    with _frozen_lock:
        for key in [k for k in _frozen if instrument_id is None or k[1] == instrument_id]:
            del _frozen[key]


def frozen_instrument_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    """Signal receiver (connected in SurveysConfig.ready): an instrument, dimension or item was saved or deleted."""
    frozen_instruments_forget(instrument_id=instance.pk if sender is Instrument else instance.instrument_id)


def _questionnaire_order(item: ItemPair) -> tuple:
    # Outcome items (no dimension) last, whatever the database does with NULL.
    dim = item.dimension
    return (dim is None, dim.order if dim is not None else 0, item.order, item.pk)


def instrument_items(*, instrument: Instrument) -> tuple[ItemPair, ...]:
    """Every asked item of ``instrument`` with its dimension, in questionnaire order (dimensions, then
    outcomes). Retired items are left out: they are retired only while no wave uses the version.

    Kept in memory for a frozen instrument: the items are shared, never to be changed by a caller.
    """
    def build() -> tuple[ItemPair, ...]:
        items = ItemPair.objects.db_manager(instrument._state.db).filter(
            instrument_id=instrument.pk, retired_at__isnull=True).select_related("dimension")
        return tuple(sorted(items, key=_questionnaire_order))

    return frozen_instrument_memo(instrument=instrument, name="items", build=build)


def wave_list(*, org_ids: Iterable[int]) -> QuerySet[Wave]:
    return Wave.objects.filter(organization_id__in=list(org_ids)).select_related("instrument", "organization")


def invitation_list(*, wave: Wave) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(wave=wave)
        .select_related("customer_account", "use")
        .order_by("side", "pk")
    )


def invitation_lookup(*, org_ids: Iterable[int]) -> QuerySet[Invitation]:
    return Invitation.objects.filter(wave__organization_id__in=list(org_ids)).select_related(
        "wave", "wave__organization", "customer_account"
    )


def invitations_unanswered(*, wave: Wave, side: str | None = None) -> QuerySet[Invitation]:
    qs = Invitation.objects.filter(wave=wave, use__isnull=True).select_related("wave", "wave__organization")
    if side:
        qs = qs.filter(side=side)
    return qs.order_by("pk")


def response_list(*, wave: Wave, side: str | None = None) -> QuerySet[SurveyResponse]:
    """A wave's published responses with their answers, by side and random id (never by day: order hints at nothing).

    Publishes what is due first (surveys.releases); responses waiting for a release are not listed.
    """
    releases.publish_due(wave)
    qs = microdata.published_responses(wave, side).select_related("customer_account")
    answers = Answer.objects.select_related("item").order_by("item__order", "item_id")
    return qs.prefetch_related(Prefetch("answers", queryset=answers))


def account_list(*, org_ids: Iterable[int]) -> QuerySet[CustomerAccount]:
    return CustomerAccount.objects.filter(organization_id__in=list(org_ids)).order_by("organization_id", "external_id")


def anonymous_link_urls(*, wave: Wave) -> dict[str, str]:
    base = settings.KAGAMI_PUBLIC_URL
    return {side: f"{base}/s/{wave.slug}/{side}/" for side in Side.values}


def invitation_url(*, token: str) -> str:
    return f"{settings.KAGAMI_PUBLIC_URL}/r/{token}/"


def wave_counts(*, wave: Wave) -> dict[str, dict[str, Any]]:
    """Per side: published responses, invitations, and the response rate — values that change only per release.

    Counts of waiting responses or of used staff invitations would change the moment one colleague answers
    (disclosure promise P4, and P1 for staff); for staff the rate is published responses per invitation.
    Customers (not promised P1) keep their answered invitations.
    """
    releases.publish_due(wave)
    responses = dict(
        SurveyResponse.objects.filter(wave=wave, release__isnull=False).values("side").annotate(n=Count("pk"))
        .values_list("side", "n")
    )
    invited = {
        row["side"]: row
        for row in Invitation.objects.filter(wave=wave)
        .values("side")
        .annotate(n=Count("pk"), answered=Count("use"))
    }
    counts: dict[str, dict[str, Any]] = {}
    for side in Side.values:
        n = invited.get(side, {}).get("n", 0)
        published = responses.get(side, 0)
        if internal.protected_side(wave, side):
            answered = None
            rate = round(min(1.0, published / n), 4) if n else None
        else:
            answered = invited.get(side, {}).get("answered", 0)
            rate = round(answered / n, 4) if n else None
        counts[side] = {
            "responses": published,
            "invitations": n,
            "answered_invitations": answered,
            # None rather than 0 when nobody was invited: there is no rate to report.
            "response_rate": rate,
        }
    return counts


def audit_event_list(*, org_ids: Iterable[int]) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(organization_id__in=list(org_ids)).select_related("wave").order_by(
        "-created_at", "-id"
    )


def touchpoint_list(*, organization_id: int) -> list[Touchpoint]:
    """The organization's touchpoints in journey order; the defaults (unsaved) until it first edits them.

    Never writes: ``surveys.services.touchpoints`` stores the defaults on the first edit.
    """
    stored = list(Touchpoint.objects.filter(organization_id=organization_id).order_by("order", "id"))
    if stored:
        return stored
    return [Touchpoint(organization_id=organization_id, order=index * 10, **spec)
            for index, spec in enumerate(DEFAULT_TOUCHPOINTS, start=1)]


def touchpoint_catalogue(*, organization_id: int, keys: Iterable[str]) -> list[Touchpoint]:
    """The touchpoints named by ``keys`` (the keys items carry), in the organization's journey order.

    A key missing from the organization's list (deleted after a frozen version used it) keeps its default
    name, after the organization's own, in default order; a key neither knows is named by itself, last.
    """
    wanted = [k for k in dict.fromkeys(keys) if k]
    listed = {t.key: t for t in touchpoint_list(organization_id=organization_id)}
    defaults = {spec["key"]: (index, spec) for index, spec in enumerate(DEFAULT_TOUCHPOINTS)}
    first = [t for t in listed.values() if t.key in wanted]
    fallback = sorted((k for k in wanted if k not in listed and k in defaults), key=lambda k: defaults[k][0])
    unknown = sorted(k for k in wanted if k not in listed and k not in defaults)
    out = list(first)
    out += [Touchpoint(organization_id=organization_id, **defaults[k][1]) for k in fallback]
    out += [Touchpoint(organization_id=organization_id, key=k, name_ja=k, name_en=k) for k in unknown]
    for position, touchpoint in enumerate(out):
        touchpoint.order = position
    return out
