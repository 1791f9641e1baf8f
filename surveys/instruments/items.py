"""One item of an instrument version at a time: add, edit, retire (the staff API's /instruments/{id}/items/).

The freezing rule of the whole version applies to each item: a version that a wave uses (or a built-in
one) is never changed, so these services raise InstrumentFrozen (409) exactly like ``instrument_update``;
the way forward is ``instrument_new_version``. Retiring keeps the item (its key, wordings and any answers
of past waves stay) but leaves it out of the questions of every wave of this version and of the gap
engine's item lists. As only an editable version (one no wave uses yet) can retire an item, no wave ever
loses a question it has already asked; a new version copies the item as retired.

Items arrive already validated one by one (``surveys.api.serializers.ItemPairWriteSerializer``); the rules
across items (unique key, known dimension, one headline) are checked here, under the instrument's lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from surveys import errors
from surveys.models import Dimension, Instrument, ItemPair
from surveys.services import instrument_ensure_editable
from surveys.services.touchpoints import touchpoint_keys

MAX_ITEMS_PER_INSTRUMENT = 200  # as many as a whole instrument may be created with (serializers.MAX_ITEMS)

# What a client may set on an item; the rest (id, scale_min/max, retired_at) is derived or has its own action.
ITEM_WRITABLE_FIELDS = ("key", "order", "dimension", "kind", "construct", "staff_text_ja", "staff_text_en",
                        "customer_text_ja", "customer_text_en", "scale_points", "allow_na", "reverse_keyed",
                        "topbox_levels", "is_headline", "touchpoint")


class LastItem(errors.Conflict):
    code = "last_item"
    default_detail = "This is the last item still asked; an instrument needs at least one. Add another first."


def item_list(*, instrument: Instrument) -> QuerySet[ItemPair]:
    """Every item of ``instrument``, retired ones included, in the instrument's order."""
    return ItemPair.objects.filter(instrument=instrument).select_related("dimension").order_by("order", "id")


def item_values(*, item: ItemPair) -> dict[str, Any]:
    """The writable values of ``item`` as a client would send them (dimension by key)."""
    values = {name: getattr(item, name) for name in ITEM_WRITABLE_FIELDS if name != "dimension"}
    values["dimension"] = item.dimension.key if item.dimension_id else None
    values["topbox_levels"] = list(item.topbox_levels or [])
    return values


def _lock_editable(instrument: Instrument) -> Instrument:
    locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
    instrument_ensure_editable(instrument=locked)
    return locked


def _check_against_siblings(*, instrument: Instrument, spec: Mapping[str, Any],
                            item: ItemPair | None = None) -> Dimension | None:
    siblings = ItemPair.objects.filter(instrument=instrument)
    if item is not None:
        siblings = siblings.exclude(pk=item.pk)
    problems: dict[str, list[str]] = {}
    if siblings.filter(key=spec["key"]).exists():
        problems["key"] = ["Another item of this instrument has this key."]
    dimension = None
    if spec.get("dimension"):
        dimension = Dimension.objects.filter(instrument=instrument, key=spec["dimension"]).first()
        if dimension is None:
            problems["dimension"] = ["No dimension of this instrument has this key."]
    touchpoint = spec.get("touchpoint") or ""
    if touchpoint and (item is None or item.touchpoint != touchpoint) and touchpoint not in touchpoint_keys(
            organization_id=instrument.organization_id):
        problems["touchpoint"] = ["No touchpoint of this organization has this key (GET "
                                  f"/api/v1/organizations/{instrument.organization_id}/touchpoints/)."]
    if spec.get("is_headline") and siblings.filter(is_headline=True, retired_at__isnull=True).exists():
        problems["is_headline"] = ["Only one item can be the headline; another item of this instrument is."]
    if problems:
        raise errors.ValidationFailed(field_errors=problems)
    return dimension


def _fields(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {name: spec[name] for name in ITEM_WRITABLE_FIELDS if name in spec and name != "dimension"}


def _save(item: ItemPair) -> ItemPair:
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        # Two requests racing for one key: the database decides.
        raise errors.ValidationFailed(field_errors={"key": ["Another item of this instrument has this key."]}) from None
    return item


@transaction.atomic
def item_add(*, instrument: Instrument, spec: Mapping[str, Any]) -> ItemPair:
    """Add one item to an editable version; without ``order`` it comes last.

    Raises InstrumentFrozen (409), ValidationFailed (400: key, dimension, is_headline) or
    Conflict ``too_many_items`` (409).
    """
    locked = _lock_editable(instrument)
    if ItemPair.objects.filter(instrument=locked).count() >= MAX_ITEMS_PER_INSTRUMENT:
        raise errors.Conflict(f"An instrument has at most {MAX_ITEMS_PER_INSTRUMENT} items.", code="too_many_items")
    dimension = _check_against_siblings(instrument=locked, spec=spec)
    fields = _fields(spec)
    if fields.get("order") is None:
        last = ItemPair.objects.filter(instrument=locked).aggregate(last=Max("order"))["last"]
        fields["order"] = 0 if last is None else last + 1
    return _save(ItemPair(instrument=locked, dimension=dimension, **fields))


@transaction.atomic
def item_update(*, item: ItemPair, spec: Mapping[str, Any]) -> ItemPair:
    """Set every writable field of ``item`` from ``spec`` (the item's current values merged with the
    change, validated as a whole). Raises InstrumentFrozen (409) or ValidationFailed (400)."""
    locked = _lock_editable(item.instrument)
    current = ItemPair.objects.select_for_update().get(pk=item.pk, instrument=locked)
    current.dimension = _check_against_siblings(instrument=locked, spec=spec, item=current)
    for name, value in _fields(spec).items():
        setattr(current, name, value)
    return _save(current)


@transaction.atomic
def item_retire(*, item: ItemPair) -> ItemPair:
    """Retire ``item`` of an editable version: kept, no longer asked. Retiring twice changes nothing.

    Raises InstrumentFrozen (409) for a version a wave uses, LastItem (409) for the last asked item.
    """
    locked = _lock_editable(item.instrument)
    current = ItemPair.objects.select_for_update().get(pk=item.pk, instrument=locked)
    if current.retired_at is not None:
        return current
    if not ItemPair.objects.filter(instrument=locked, retired_at__isnull=True).exclude(pk=current.pk).exists():
        raise LastItem()
    current.retired_at = timezone.now()
    current.save(update_fields=["retired_at"])
    return current
