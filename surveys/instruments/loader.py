"""Install the built-in instrument into the database, once.

Works with the live models and with a migration's historical models: pass the
migration's ``apps`` (anything with ``get_model``) and nothing else is imported.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from surveys.instruments import builtin, internal, journey


def _models(apps: Any | None) -> tuple[Any, Any, Any]:
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    return (
        apps.get_model("surveys", "Instrument"),
        apps.get_model("surveys", "Dimension"),
        apps.get_model("surveys", "ItemPair"),
    )


def _data(version: int, key: str = builtin.BUILTIN_KEY) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The instrument's data and its item rows: v1 (:mod:`builtin`) or v2 (:mod:`journey`, with touchpoints),
    or the internal-services instrument (:mod:`internal`)."""
    if key == internal.INTERNAL_KEY and version == internal.INTERNAL_VERSION:
        return internal.INSTRUMENT_INTERNAL, internal.item_rows_internal()
    if key != builtin.BUILTIN_KEY:
        raise ValueError(f"no built-in instrument {key}")
    if version == builtin.BUILTIN_VERSION:
        return builtin.INSTRUMENT, builtin.item_rows()
    if version == journey.BUILTIN_V2:
        return journey.INSTRUMENT_V2, journey.item_rows_v2()
    raise ValueError(f"no built-in version {version}")


def builtin_install(*, apps: Any | None = None, using: str = "default",
                    version: int = builtin.BUILTIN_VERSION, key: str = builtin.BUILTIN_KEY) -> tuple[Any, bool]:
    """Create ``kagami-core`` of ``version`` (1, or 2 with touchpoints) unless it exists; return (instrument, created).

    Idempotent: an existing built-in instrument of that key and version is left
    exactly as it is (waves run on organization copies, so it never changes).
    v1's rows carry no touchpoint, so migration 0002's historical models (which
    have no such field) can install it.
    """
    instrument_model, dimension_model, item_model = _models(apps)
    data, rows = _data(version, key)
    with transaction.atomic(using=using):
        existing = (
            instrument_model.objects.using(using)
            .filter(organization__isnull=True, key=data["key"], version=data["version"])
            .first()
        )
        if existing is not None:
            return existing, False
        instrument = instrument_model.objects.using(using).create(
            organization=None,
            key=data["key"],
            version=data["version"],
            name_en=data["name_en"],
            name_ja=data["name_ja"],
            description_en=data["description_en"],
            description_ja=data["description_ja"],
            is_builtin=True,
        )
        dimensions: dict[str, Any] = {}
        for order, dim in enumerate(data["dimensions"], start=1):
            dimensions[dim["key"]] = dimension_model.objects.using(using).create(
                instrument=instrument,
                key=dim["key"],
                order=order * 10,
                name_en=dim["name_en"],
                name_ja=dim["name_ja"],
                description_en=dim["description_en"],
                description_ja=dim["description_ja"],
            )
        items = []
        for row in rows:
            fields = dict(row)
            dim_key = fields.pop("dimension")
            items.append(item_model(instrument=instrument, dimension=dimensions.get(dim_key), **fields))
        item_model.objects.using(using).bulk_create(items)
    return instrument, True


def builtin_instrument(version: int = builtin.BUILTIN_VERSION) -> Any:
    """The built-in instrument of ``version`` (live model; v1 unless asked), installing it if a test flush or
    reset removed it."""
    instrument, _ = builtin_install(version=version)
    return instrument


def internal_instrument() -> Any:
    """The built-in internal-services instrument (live model), installing it if a test flush removed it."""
    instrument, _ = builtin_install(version=internal.INTERNAL_VERSION, key=internal.INTERNAL_KEY)
    return instrument
