"""Writes of instruments: create, clone, version, edit while no wave uses a version, freeze once one does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from surveys import errors
from surveys.instruments.modules import MODULES, module_rows
from surveys.models import Dimension, Instrument, ItemPair, Organization
from surveys.services.touchpoints import touchpoint_keys

INSTRUMENT_TEXT_FIELDS = ("name_ja", "name_en", "description_ja", "description_en")


def _copy_instrument(*, source: Instrument, organization: Organization | None, key: str, version: int,
                     based_on: Instrument | None) -> Instrument:
    copy = Instrument.objects.create(
        organization=organization,
        key=key,
        version=version,
        name_ja=source.name_ja,
        name_en=source.name_en,
        description_ja=source.description_ja,
        description_en=source.description_en,
        is_builtin=False,
        based_on=based_on,
    )
    dims: dict[int, Dimension] = {}
    for dim in source.dimensions.all():
        old_id = dim.pk
        dim.pk = None
        dim.instrument = copy
        dim.save()
        dims[old_id] = dim
    for item in source.items.all():
        item.pk = None
        item.instrument = copy
        item.dimension = dims.get(item.dimension_id) if item.dimension_id else None
        item.save()
    return copy


@transaction.atomic
def instrument_clone(*, source: Instrument, organization: Organization, key: str | None = None) -> Instrument:
    """Copy an instrument (typically the built-in one) into an organization as version 1 of a new key.

    Raises ValidationFailed if the organization already has that key.
    """
    key = key or source.key
    if Instrument.objects.filter(organization=organization, key=key).exists():
        raise errors.ValidationFailed(
            f"This organization already has an instrument '{key}'.", field_errors={"key": ["Already in use."]}
        )
    return _copy_instrument(source=source, organization=organization, key=key, version=1, based_on=source)


@transaction.atomic
def instrument_adopt_builtin(*, source: Instrument, organization: Organization) -> Instrument:
    """The organization's copy of a built-in version that a wave runs on: an existing direct copy, else a new one.

    A new copy is version 1 of the built-in's key, or, when the organization already has that key (a
    copy of an earlier built-in version), its next version, so one key keeps every version of the
    questionnaire together (the trend reads waves by key).
    """
    existing = (Instrument.objects.filter(organization=organization, based_on=source)
                .order_by("version", "pk").first())
    if existing is not None:
        return existing
    latest = (Instrument.objects.select_for_update().filter(organization=organization, key=source.key)
              .order_by("-version").first())
    if latest is None:
        return instrument_clone(source=source, organization=organization)
    return _copy_instrument(source=source, organization=organization, key=source.key, version=latest.version + 1,
                            based_on=source)


@transaction.atomic
def instrument_new_version(*, instrument: Instrument) -> Instrument:
    """Create the next version of an organization's instrument, as an editable copy of ``instrument``."""
    if instrument.organization_id is None:
        raise errors.ValidationFailed("Built-in instruments are versioned by Kagami; clone it first.")
    latest = (
        Instrument.objects.select_for_update()
        .filter(organization_id=instrument.organization_id, key=instrument.key)
        .order_by("-version")
        .first()
    )
    return _copy_instrument(
        source=instrument,
        organization=instrument.organization,
        key=instrument.key,
        version=(latest.version if latest else instrument.version) + 1,
        based_on=instrument,
    )


def instrument_ensure_editable(*, instrument: Instrument) -> None:
    """Raise InstrumentFrozen if a wave uses this version (or it is built in)."""
    if instrument.is_builtin or instrument.organization_id is None:
        raise errors.InstrumentFrozen("The built-in instrument cannot be edited; clone it first.")
    if instrument.is_frozen or instrument.waves.exists():
        raise errors.InstrumentFrozen()


def instrument_freeze(*, instrument: Instrument) -> None:
    if instrument.frozen_at is None:
        Instrument.objects.filter(pk=instrument.pk, frozen_at__isnull=True).update(frozen_at=timezone.now())
        instrument.refresh_from_db(fields=["frozen_at"])


def _check_touchpoints(*, organization_id: int, items: list[Mapping[str, Any]]) -> None:
    """Every item's touchpoint is one of the organization's (ValidationFailed naming items[i].touchpoint)."""
    keys = touchpoint_keys(organization_id=organization_id)
    problems = [{"touchpoint": ["No touchpoint of this organization has this key."]}
                if item.get("touchpoint") and item["touchpoint"] not in keys else {} for item in items]
    if any(problems):
        raise errors.ValidationFailed(field_errors={"items": problems})


def _create_contents(*, instrument: Instrument, dimensions: list[Mapping[str, Any]],
                     items: list[Mapping[str, Any]]) -> None:
    _check_touchpoints(organization_id=instrument.organization_id, items=items)
    dims: dict[str, Dimension] = {}
    for index, spec in enumerate(dimensions):
        dim = Dimension.objects.create(
            instrument=instrument,
            key=spec["key"],
            order=spec.get("order", index),
            name_ja=spec["name_ja"],
            name_en=spec["name_en"],
            description_ja=spec.get("description_ja", ""),
            description_en=spec.get("description_en", ""),
            module=spec.get("module", ""),
        )
        dims[dim.key] = dim
    for index, spec in enumerate(items):
        values = dict(spec)
        dimension_key = values.pop("dimension", None)
        values.setdefault("order", index)
        ItemPair.objects.create(instrument=instrument, dimension=dims.get(dimension_key) if dimension_key else None,
                                **values)


@transaction.atomic
def instrument_create(*, organization: Organization, key: str, texts: Mapping[str, str],
                      dimensions: list[Mapping[str, Any]], items: list[Mapping[str, Any]]) -> Instrument:
    """Create version 1 of a custom instrument with its dimensions and items (already validated).

    Raises ValidationFailed when the organization already has that key.
    """
    if Instrument.objects.filter(organization=organization, key=key).exists():
        raise errors.ValidationFailed(
            field_errors={"key": ["This organization already has an instrument with this key."]}
        )
    instrument = Instrument.objects.create(organization=organization, key=key, version=1,
                                           **{k: texts.get(k, "") for k in INSTRUMENT_TEXT_FIELDS})
    _create_contents(instrument=instrument, dimensions=dimensions, items=items)
    return instrument


@transaction.atomic
def instrument_update(*, instrument: Instrument, texts: Mapping[str, str],
                      dimensions: list[Mapping[str, Any]] | None = None,
                      items: list[Mapping[str, Any]] | None = None) -> Instrument:
    """Change an editable instrument's texts and, when given, replace its dimensions and items.

    Raises InstrumentFrozen (409) when a wave uses this version or it is built in.
    """
    locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
    instrument_ensure_editable(instrument=locked)
    for name in INSTRUMENT_TEXT_FIELDS:
        if name in texts:
            setattr(locked, name, texts[name])
    locked.save(update_fields=list(INSTRUMENT_TEXT_FIELDS))
    if dimensions is not None and items is not None:
        # Nothing answers an unfrozen version, so its items can be replaced wholesale.
        locked.items.all().delete()
        locked.dimensions.all().delete()
        _create_contents(instrument=locked, dimensions=dimensions, items=items)
    return locked


MAX_ITEMS_PER_VERSION = 200  # as many as a whole instrument may be created with (api serializers.MAX_ITEMS)


def instrument_modules(*, instrument: Instrument) -> set[str]:
    """The module sets whose dimensions ``instrument`` has (empty for the core alone)."""
    return set(instrument.dimensions.exclude(module="").values_list("module", flat=True))


@transaction.atomic
def instrument_add_module(*, instrument: Instrument, module: str) -> Instrument:
    """Add an optional module set (surveys.instruments.modules) to an editable organisation version.

    Its dimensions come after the version's own, its items after the version's last item; nothing
    else changes. Raises ValidationFailed naming ``module`` for an unknown module, one already present,
    or a dimension or item key the version already uses; InstrumentFrozen (409, naming ``instrument``)
    for a built-in version or one a wave uses (waves of a frozen version never change: derive a new
    version first); Conflict ``too_many_items`` past the item limit.
    """
    if module not in MODULES:
        raise errors.ValidationFailed(field_errors={"module": [
            f"Unknown module; choose one of: {', '.join(sorted(MODULES))}."]})
    locked = Instrument.objects.select_for_update().get(pk=instrument.pk)
    try:
        instrument_ensure_editable(instrument=locked)
    except errors.InstrumentFrozen as exc:
        raise errors.InstrumentFrozen(exc.detail, field_errors={"instrument": [
            "A module is added to an editable organisation version only: clone the built-in instrument or "
            "create a new version (POST /instruments/{id}/versions/) and add it there."]}) from None
    if module in instrument_modules(instrument=locked):
        raise errors.ValidationFailed(field_errors={"module": ["This version already has this module."]})
    dimensions, items = module_rows(module)
    clashes = sorted(
        set(locked.dimensions.filter(key__in=[d["key"] for d in dimensions]).values_list("key", flat=True))
        | set(locked.items.filter(key__in=[i["key"] for i in items]).values_list("key", flat=True)))
    if clashes:
        raise errors.ValidationFailed(field_errors={"module": [
            f"This version already uses the module's keys: {', '.join(clashes)}."]})
    if locked.items.count() + len(items) > MAX_ITEMS_PER_VERSION:
        raise errors.Conflict(f"An instrument has at most {MAX_ITEMS_PER_VERSION} items.", code="too_many_items")
    last_dim = locked.dimensions.aggregate(last=Max("order"))["last"] or 0
    last_item = locked.items.aggregate(last=Max("order"))["last"] or 0
    dims: dict[str, Dimension] = {}
    for index, spec in enumerate(dimensions, start=1):
        dims[spec["key"]] = Dimension.objects.create(instrument=locked, order=last_dim + 10 * index, **spec)
    ItemPair.objects.bulk_create([
        ItemPair(instrument=locked, dimension=dims[spec["dimension"]], order=last_item + 10 * index,
                 **{name: value for name, value in spec.items() if name != "dimension"})
        for index, spec in enumerate(items, start=1)
    ])
    return locked
