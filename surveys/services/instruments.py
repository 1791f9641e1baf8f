"""Writes of instruments: create, clone, version, edit while no wave uses a version, freeze once one does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from surveys import errors
from surveys.models import Dimension, Instrument, ItemPair, Organization

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


def _create_contents(*, instrument: Instrument, dimensions: list[Mapping[str, Any]],
                     items: list[Mapping[str, Any]]) -> None:
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
