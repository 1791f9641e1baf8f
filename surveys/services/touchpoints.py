"""Writes of an organization's touchpoints: create, rename, reorder, delete.

The one decision point for the defaults: an organization's list is the default journey
(``surveys.instruments.journey.DEFAULT_TOUCHPOINTS``) until its first edit, and every write here first
stores that list (``_stored``) under a lock of the organization, so reads never write
(``surveys.selectors.touchpoint_list``) and an edit starts from what the admin saw.

Rules, so nobody has to guess:

* A touchpoint's key is what items carry (``ItemPair.touchpoint``): it never changes; rename instead.
* Delete is refused (409 ``touchpoint_in_use``) while an item of an editable version of the
  organization (one no wave uses yet) carries the key: the admin is still building that version and
  the key would dangle. Items of frozen versions keep their key; their results then show the default
  name (or the key). The last touchpoint cannot be deleted (409 ``last_touchpoint``): an empty list
  would read as "never edited", the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from surveys import errors, selectors
from surveys.models import ItemPair, Organization, Touchpoint

MAX_TOUCHPOINTS = 40
TOUCHPOINT_WRITABLE_FIELDS = ("name_ja", "name_en")


def _stored(organization: Organization) -> list[Touchpoint]:
    """The organization's stored list, locked; the defaults are stored first if it has none."""
    Organization.objects.select_for_update().get(pk=organization.pk)
    stored = list(Touchpoint.objects.filter(organization=organization).order_by("order", "id"))
    if stored:
        return stored
    defaults = selectors.touchpoint_list(organization_id=organization.pk)
    Touchpoint.objects.bulk_create(defaults)
    return list(Touchpoint.objects.filter(organization=organization).order_by("order", "id"))


def _get(stored: list[Touchpoint], key: str) -> Touchpoint:
    found = next((t for t in stored if t.key == key), None)
    if found is None:
        raise errors.NotFound("No touchpoint of this organization has this key.")
    return found


@transaction.atomic
def touchpoint_create(*, organization: Organization, key: str, name_ja: str, name_en: str,
                      after: str | None = None) -> Touchpoint:
    """Add a touchpoint, last or right after the touchpoint ``after``. Raises ValidationFailed naming
    ``key`` (taken) or ``after`` (unknown), Conflict ``too_many_touchpoints``."""
    stored = _stored(organization)
    if any(t.key == key for t in stored):
        raise errors.ValidationFailed(field_errors={"key": ["This organization already has a touchpoint with "
                                                            "this key."]})
    if len(stored) >= MAX_TOUCHPOINTS:
        raise errors.Conflict(f"An organization has at most {MAX_TOUCHPOINTS} touchpoints.",
                              code="too_many_touchpoints")
    if after is not None and not any(t.key == after for t in stored):
        raise errors.ValidationFailed(field_errors={"after": ["No touchpoint of this organization has this key."]})
    created = Touchpoint(organization=organization, key=key, name_ja=name_ja, name_en=name_en)
    try:
        with transaction.atomic():
            if after is None:
                created.order = (Touchpoint.objects.filter(organization=organization)
                                 .aggregate(last=Max("order"))["last"] or 0) + 10
                created.save()
            else:
                keys = [t.key for t in stored]
                keys.insert(keys.index(after) + 1, key)
                created.save()
                _renumber(organization, keys)
    except IntegrityError:
        raise errors.ValidationFailed(field_errors={"key": ["This organization already has a touchpoint with "
                                                            "this key."]}) from None
    created.refresh_from_db()
    return created


@transaction.atomic
def touchpoint_update(*, organization: Organization, key: str, changes: Mapping[str, Any]) -> Touchpoint:
    """Rename a touchpoint (``name_ja``, ``name_en``). Raises NotFound for an unknown key."""
    touchpoint = _get(_stored(organization), key)
    fields = [name for name in TOUCHPOINT_WRITABLE_FIELDS if name in changes]
    for name in fields:
        setattr(touchpoint, name, changes[name])
    if fields:
        touchpoint.save(update_fields=fields)
    return touchpoint


def _renumber(organization: Organization, keys: Sequence[str]) -> None:
    by_key = {t.key: t for t in Touchpoint.objects.filter(organization=organization)}
    for index, key in enumerate(keys, start=1):
        by_key[key].order = index * 10
    Touchpoint.objects.bulk_update(list(by_key.values()), ["order"])


@transaction.atomic
def touchpoint_reorder(*, organization: Organization, keys: Sequence[str]) -> list[Touchpoint]:
    """Put the touchpoints in the order of ``keys``, which must name each of them exactly once
    (ValidationFailed naming ``keys`` otherwise)."""
    stored = _stored(organization)
    current = [t.key for t in stored]
    if len(keys) != len(set(keys)) or set(keys) != set(current):
        missing = sorted(set(current) - set(keys))
        unknown = sorted(set(keys) - set(current))
        detail = "Name every touchpoint of the organization exactly once."
        if missing:
            detail += f" Missing: {', '.join(missing)}."
        if unknown:
            detail += f" Unknown: {', '.join(str(k)[:40] for k in unknown)}."
        raise errors.ValidationFailed(field_errors={"keys": [detail]})
    _renumber(organization, keys)
    return list(Touchpoint.objects.filter(organization=organization).order_by("order", "id"))


@transaction.atomic
def touchpoint_delete(*, organization: Organization, key: str) -> None:
    """Delete a touchpoint (see the module's rules). Raises NotFound, Conflict ``touchpoint_in_use`` or
    ``last_touchpoint``."""
    stored = _stored(organization)
    touchpoint = _get(stored, key)
    users = (ItemPair.objects.filter(instrument__organization=organization, instrument__frozen_at__isnull=True,
                                     instrument__waves__isnull=True, touchpoint=key, retired_at__isnull=True)
             .values_list("instrument__key", "instrument__version", "key").order_by("instrument__key", "key"))
    in_use = list(users[:3])
    if in_use:
        named = ", ".join(f"{item} ({instrument} v{version})" for instrument, version, item in in_use)
        raise errors.Conflict(f"Items of an editable version carry this touchpoint: {named}. Change their "
                              "touchpoint first.", code="touchpoint_in_use")
    if len(stored) == 1:
        raise errors.Conflict("This is the organization's last touchpoint; add another first.",
                              code="last_touchpoint")
    touchpoint.delete()


def touchpoint_keys(*, organization_id: int) -> set[str]:
    """The keys an item of this organization may carry: its list (the defaults until first edited)."""
    return {t.key for t in selectors.touchpoint_list(organization_id=organization_id)}
