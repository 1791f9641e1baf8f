"""The one writer of audit events: who did what, when, to which wave."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from surveys.models import AuditEvent, Wave


def audit_record(*, organization_id: int, user: Any, action: str, wave: Wave | None = None,
                 details: Mapping[str, Any] | None = None) -> AuditEvent:
    """Write one audit event (who, when, which wave and filter). Never raises on a missing user."""
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return AuditEvent.objects.create(
        organization_id=organization_id,
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        action=action,
        wave=wave,
        details=dict(details or {}),
    )
