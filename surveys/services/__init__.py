"""Writes of the surveys domain. Views, serializers, admin and commands call these, as ``services.<name>``.

Each service is keyword-only, typed, and raises ``surveys.errors`` exceptions,
which one handler maps to HTTP (backend/api/errors.py) and the HTML views to pages.

One module per thing written: ``instruments``, ``waves``, ``invitations``, ``responses``,
``organizations`` (members and customer accounts), ``touchpoints`` (the journey an organization
measures); ``segments`` is the one rule for segment values and ``audit`` the one writer of audit events.
Callers import the names below from ``surveys.services``.
"""

from surveys.services.audit import audit_record
from surveys.services.instruments import (
    INSTRUMENT_TEXT_FIELDS,
    instrument_add_module,
    instrument_clone,
    instrument_create,
    instrument_ensure_editable,
    instrument_freeze,
    instrument_modules,
    instrument_new_version,
    instrument_update,
)
from surveys.services.invitations import (
    STAFF_EMAIL_REQUIRED,
    IssuedInvitation,
    invitation_by_token,
    invitation_create,
    staff_invitations_by_email_only,
)
from surveys.services.organizations import (
    ACCOUNT_FIELDS,
    account_delete,
    account_save,
    membership_delete,
    membership_set_role,
)
from surveys.services.responses import (
    MAX_COMMENT_LENGTH,
    internal_submit,
    response_prepare,
    response_submit,
    survey_items,
    validate_answers,
)
from surveys.services.segments import clean_segments, segment_choice_problem
from surveys.services.touchpoints import (
    touchpoint_create,
    touchpoint_delete,
    touchpoint_keys,
    touchpoint_reorder,
    touchpoint_update,
)
from surveys.services.waves import (
    ANONYMITY_OVERRIDE_BELOW,
    ANONYMITY_OVERRIDE_REASON_MAX,
    WAVE_EDITABLE_FIELDS,
    wave_close,
    wave_create,
    wave_lock_for_edit,
    wave_open,
    wave_set_status,
    wave_threshold_reason,
    wave_update,
)

__all__ = [
    "ACCOUNT_FIELDS", "ANONYMITY_OVERRIDE_BELOW", "ANONYMITY_OVERRIDE_REASON_MAX", "INSTRUMENT_TEXT_FIELDS",
    "MAX_COMMENT_LENGTH", "STAFF_EMAIL_REQUIRED", "WAVE_EDITABLE_FIELDS", "IssuedInvitation", "account_delete",
    "account_save", "audit_record", "clean_segments", "instrument_add_module", "instrument_clone",
    "instrument_create", "instrument_ensure_editable", "instrument_freeze", "instrument_modules",
    "instrument_new_version", "instrument_update", "invitation_by_token", "invitation_create", "membership_delete",
    "membership_set_role", "internal_submit", "response_prepare", "response_submit", "segment_choice_problem",
    "staff_invitations_by_email_only",
    "survey_items", "touchpoint_create", "touchpoint_delete", "touchpoint_keys", "touchpoint_reorder",
    "touchpoint_update", "validate_answers", "wave_close", "wave_create", "wave_lock_for_edit", "wave_open",
    "wave_set_status", "wave_threshold_reason", "wave_update",
]
