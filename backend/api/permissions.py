"""Who may do what in the staff API.

Visibility comes first and lives in ``get_queryset`` (selectors): an object of an
organization the user does not belong to is 404. Roles then decide between
allowed and 403 for members: admin manages, analyst reads, executive reads
organizations, waves and instruments only.
"""

from __future__ import annotations

from typing import Any

from rest_framework import permissions

from surveys.models import Role

ADMIN: frozenset[str] = frozenset({Role.ADMIN})
READERS: frozenset[str] = frozenset({Role.ADMIN, Role.ANALYST})
EVERYONE: frozenset[str] = frozenset(Role.values)


def required_roles(view: Any, request: Any) -> frozenset[str]:
    """The roles an action needs: ``action_roles[action]``, else read_roles for safe methods, else write_roles."""
    action_roles = getattr(view, "action_roles", {}) or {}
    action = getattr(view, "action", None)
    if action in action_roles:
        return action_roles[action]
    if request.method in permissions.SAFE_METHODS:
        return getattr(view, "read_roles", EVERYONE)
    return getattr(view, "write_roles", ADMIN)


class OrganizationRole(permissions.BasePermission):
    """Authenticated, and holding a role the action needs in some organization (then in the object's).

    ``view.roles`` maps organization id → the user's role (selectors.user_roles).
    ``view.object_organization_id(obj)`` names the organization that owns an object
    (None for the built-in instruments, which nobody administers).
    """

    message = "Your role does not allow this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if getattr(view, "kwargs", None):
            # A URL naming an object (pk, wave_pk): visibility decides first (another organization's
            # object is 404, never 403), then the role in the object's organization
            # (has_object_permission, or WaveNestedMixin.wave).
            return True
        return self._role_anywhere(request, view)

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        org_id = view.object_organization_id(obj)
        if org_id is None:
            # Built-in objects: anyone may read; writes need the role somewhere and reach the
            # service, which refuses with 409.
            return self._role_anywhere(request, view)
        return view.roles.get(org_id) in required_roles(view, request)

    @staticmethod
    def _role_anywhere(request: Any, view: Any) -> bool:
        needed = required_roles(view, request)
        return any(role in needed for role in view.roles.values())
