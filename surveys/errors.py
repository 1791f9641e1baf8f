"""Domain errors raised by Kagami services.

Each carries a machine-readable ``code`` and an HTTP ``status``; one handler
(backend/api/errors.py) turns them into ``{"detail": ..., "code": ...}`` and the
HTML views into friendly pages.
"""

from __future__ import annotations


class KagamiError(Exception):
    """Base of every domain error."""

    code = "error"
    status = 400
    default_detail = "The request could not be processed."

    def __init__(self, detail: str | None = None, *, code: str | None = None, field_errors: dict | None = None):
        self.detail = detail or self.default_detail
        if code:
            self.code = code
        self.field_errors = field_errors or {}
        super().__init__(self.detail)


class ValidationFailed(KagamiError):
    code = "invalid"
    status = 400
    default_detail = "Some values are not valid."


class NotFound(KagamiError):
    code = "not_found"
    status = 404
    default_detail = "Not found."


class PermissionDenied(KagamiError):
    code = "permission_denied"
    status = 403
    default_detail = "You do not have permission to perform this action."


class Conflict(KagamiError):
    code = "conflict"
    status = 409
    default_detail = "The request conflicts with the current state."


class AlreadyAnswered(Conflict):
    code = "already_answered"
    default_detail = "This invitation has already been used to answer the survey."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_detail = "This change of status is not allowed."


class InstrumentFrozen(Conflict):
    code = "instrument_frozen"
    default_detail = "This instrument version is used by a wave and cannot be edited; create a new version."


class WaveNotCollecting(KagamiError):
    code = "wave_closed"
    status = 410
    default_detail = "This survey is not accepting answers."


class LinkReplaced(KagamiError):
    """An invitation link an admin revoked by reissuing the invitation (surveys/invitation_links.py)."""

    code = "link_replaced"
    status = 410
    default_detail = "A newer e-mail replaced this link; please use the most recent invitation e-mail."


class ImportFailed(ValidationFailed):
    """An import file had errors; nothing was imported.

    ``errors`` is a list of ``{"row": int, "column": str, "message": str}``.
    """

    code = "import_failed"
    default_detail = "The file has errors; nothing was imported."

    def __init__(self, errors: list[dict], detail: str | None = None):
        super().__init__(detail)
        self.errors = errors


class PayloadTooLarge(KagamiError):
    """A request body over its limit (the API's, the public forms'): 413, refused before it is parsed."""

    code = "payload_too_large"
    status = 413
    default_detail = "The request body is too large."


class ImportTooLarge(ImportFailed):
    """An import file is over a size limit (bytes, rows): 413, and nothing was imported."""

    code = "payload_too_large"
    status = 413
    default_detail = "The file is too large to import."
