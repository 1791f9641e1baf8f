"""Synthetic waves of any size for the benchmarks: numpy-generated (fixed seed), loaded through surveys.bulk.

``bench_wave(n, seed)`` creates organization "bench-<n>" with one wave of the
built-in instrument and ``n`` responses (20 % staff, 80 % customers; about
25 answers each), segments on every configured field, 2,000 customer
accounts (some churned) and post-stratification weights — the shape of a
large B2C wave, so every part of the gap analysis has work to do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from surveys import services
from surveys.bulk import ResponseColumns, responses_bulk_load
from surveys.demo import CUSTOMER_SEGMENT_FIELDS, PLANS, REGIONS, STAFF_ROLES, STAFF_SEGMENT_FIELDS, TENURES, TIERS
from surveys.instruments.loader import builtin_instrument
from surveys.models import CustomerAccount, Organization, Side, Wave
from surveys.releases import publish_due

DEPARTMENTS = ["Sales", "Customer Success", "Support", "Engineering", "Marketing"]
CHUNK = 50_000  # responses generated at a time (the random stream depends on it: changing it changes the data)
COPY_BATCH = 10_000  # responses per COPY: the loader cuts each generated chunk (surveys.bulk._batches says why)
ACCOUNTS = 2_000


def bench_wave(n: int, *, seed: int = 7, progress=None, slug: str = "") -> tuple[Wave, float]:
    """Create (or return) the bench wave of ``n`` responses, and the load time in seconds (0 if it existed)."""
    slug = slug or f"bench-{n}"
    existing = Wave.objects.filter(slug=slug).first()
    if existing is not None:
        return existing, 0.0
    org = Organization.objects.create(name=f"Bench {n}", slug=slug, display_name_en="Bench Co",
                                      display_name_ja="ベンチ株式会社")
    rng = np.random.default_rng([seed, n])  # one stream per size: waves never share response ids
    statuses = rng.choice(["active", "renewed", "churned"], size=ACCOUNTS, p=[0.5, 0.35, 0.15])
    tiers = rng.choice(TIERS, size=ACCOUNTS, p=[0.1, 0.3, 0.6])
    CustomerAccount.objects.bulk_create([
        CustomerAccount(organization=org, external_id=f"B-{i:05d}", tier=tiers[i], status=statuses[i],
                        touch_model={"Enterprise": "high", "Mid-market": "low", "SMB": "tech"}[tiers[i]])
        for i in range(ACCOUNTS)
    ])
    accounts = list(CustomerAccount.objects.filter(organization=org).order_by("external_id").values_list("id", "tier"))
    wave = services.wave_create(organization=org, instrument=builtin_instrument(), name=f"Bench {n}", slug=slug,
                                staff_segment_fields=STAFF_SEGMENT_FIELDS,
                                customer_segment_fields=CUSTOMER_SEGMENT_FIELDS)
    services.wave_open(wave=wave)
    started = time.perf_counter()
    responses_bulk_load(_rows(wave, n, rng, accounts), batch_size=COPY_BATCH, progress=progress,
                        rebuild_indexes=n >= 100_000)
    return wave, time.perf_counter() - started


def add_release(wave: Wave, n: int, *, seed: int = 11) -> tuple[float, float]:
    """Load ``n`` more responses into ``wave`` (the default, live-wave COPY) and publish them: a new release.

    Returns the seconds of the load and of the release.
    """
    rng = np.random.default_rng([seed, n, wave.pk])  # a stream of its own: new response ids
    accounts = list(CustomerAccount.objects.filter(organization=wave.organization).order_by("external_id")
                    .values_list("id", "tier"))
    started = time.perf_counter()
    responses_bulk_load(_rows(wave, n, rng, accounts), batch_size=COPY_BATCH)
    loaded = time.perf_counter()
    publish_due(wave)
    return loaded - started, time.perf_counter() - loaded


def _rows(wave: Wave, n: int, rng: np.random.Generator, accounts: list[tuple[int, str]]) -> Iterator[ResponseColumns]:
    """The wave's responses, CHUNK at a time, as columns (no Python object per response: the loader's own rate
    is what the benchmark measures, with this generator's numpy work included)."""
    items = {side: list(services.survey_items(wave=wave, side=side)) for side in (Side.STAFF, Side.CUSTOMER)}
    account_ids = np.array([a for a, _ in accounts])
    account_tiers = np.array([t for _, t in accounts])
    tier_weights = {"Enterprise": 0.6, "Mid-market": 0.9, "SMB": 1.2}
    day = np.datetime64("2026-11-20", "D")
    width = max(len(side_items) for side_items in items.values())
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        staff = rng.random(size) < 0.2
        halo = rng.normal(0, 0.5, size)
        ids = np.frombuffer(rng.bytes(16 * size), dtype=np.uint8).reshape(size, 16).copy()
        ids[:, 6] = (ids[:, 6] & 0x0F) | 0x40  # what uuid.UUID(bytes=…, version=4) makes of them
        ids[:, 8] = (ids[:, 8] & 0x3F) | 0x80
        dept = rng.choice(DEPARTMENTS, size=size, p=[0.3, 0.25, 0.25, 0.15, 0.05])
        role = rng.choice(STAFF_ROLES, size=size, p=[0.05, 0.25, 0.7])
        tenure = rng.choice(TENURES, size=size)
        acct = rng.integers(0, len(accounts), size=size)
        linked = rng.random(size) < 0.6
        tier_free = rng.choice(TIERS, size=size, p=[0.2, 0.35, 0.45])
        touch = rng.choice(["high", "low", "tech"], size=size)
        plan = rng.choice(PLANS, size=size)
        region = rng.choice(REGIONS, size=size, p=[0.45, 0.2, 0.12, 0.08, 0.15])
        item_ids = np.zeros((size, width), dtype=np.int64)
        values = np.zeros((size, width), dtype=np.int64)
        for side, side_items in items.items():
            center = 3.9 if side == Side.STAFF else 3.1
            latent = center + halo[:, None] + rng.normal(0, 0.7, (size, len(side_items)))
            out = np.empty((size, len(side_items)), dtype=np.int64)
            for k, item in enumerate(side_items):
                lo, hi = item.scale_min, item.scale_max
                scaled = lo + (latent[:, k] - 1) / 4 * (hi - lo) if item.is_outcome else latent[:, k]
                level = np.clip(np.floor(scaled + 0.5), lo, hi).astype(np.int64)
                out[:, k] = (hi + lo - level) if item.reverse_keyed else level
            na = (rng.random((size, len(side_items))) < 0.03) & np.array([i.allow_na for i in side_items])
            out[na] = -1  # packing.NA
            rows = staff if side == Side.STAFF else ~staff
            item_ids[rows, :len(side_items)] = [i.pk for i in side_items]
            values[rows, :len(side_items)] = out[rows]
        tier = np.where(linked, account_tiers[acct], tier_free)
        # "invitation": segments from the roster, so the disclosure layer releases segment groups and the
        # benchmark measures the whole gap (heatmaps included), as real waves have it.
        staff_segments = {"department": dept, "role": role, "tenure": tenure}
        customer_segments = {"tier": tier, "touch_model": touch, "plan": plan, "region": region}
        segments, codes = _segment_codes(staff, staff_segments, customer_segments)
        yield ResponseColumns(
            wave_id=wave.pk, ids=ids, side=np.where(staff, Side.STAFF, Side.CUSTOMER), items=item_ids, values=values,
            segments=segments, segment_codes=codes, submitted_on=np.full(size, day), channel="invitation",
            weight=np.where(staff, np.nan, np.vectorize(tier_weights.get, otypes=[float])(tier)),
            customer_account_id=np.where(~staff & linked, account_ids[acct], 0),
        )


def _segment_codes(staff: np.ndarray, *by_side: dict[str, np.ndarray]) -> tuple[list[dict], np.ndarray]:
    """The distinct segment dicts of a chunk (staff rows from the first fields, the others from the second) and
    each row's index into them: one dict per combination present, not per response."""
    combined = np.zeros(len(staff), dtype=np.int64)
    labels = []
    for fields in by_side:
        code = np.zeros(len(staff), dtype=np.int64)
        names = []
        for key, column in fields.items():
            distinct, inverse = np.unique(column, return_inverse=True)
            code = code * len(distinct) + inverse
            names.append((key, distinct))
        labels.append(names)
        combined = np.where(staff, code, combined) if not labels[1:] else np.where(staff, combined, code)
    keyed = combined * 2 + ~staff  # which side's fields: the codes of the two sides overlap
    present, codes = np.unique(keyed, return_inverse=True)
    segments = []
    for key in present.tolist():
        names = labels[key % 2]
        code, parts = key // 2, []
        for field_name, distinct in reversed(names):
            parts.append((field_name, str(distinct[code % len(distinct)])))
            code //= len(distinct)
        segments.append(dict(reversed(parts)))
    return segments, codes
