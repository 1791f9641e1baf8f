"""Comparing two waves that should hold the same data (a bulk load against the form path): their whole gap
analysis as plain JSON, and the paths at which two such results differ."""

from __future__ import annotations

import json

from reports import services as report_services
from surveys import models as m


def gap_of(wave: m.Wave) -> dict:
    result = report_services.gap_analysis(wave=wave, staff_filter={}, customer_filter={}, compare_wave=None,
                                          weighted=True, segments=True, language="en")
    return json.loads(json.dumps(result, sort_keys=True, default=str))


def differences(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str) for d in differences(a.get(k), b.get(k), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]
