"""The page an invitee opens from their invitation e-mail: /accounts/join/<token>/.

Logged in: one POST accepts (the role is the invitation's; nothing posted can change it). Not
logged in: someone whose address already has an account is asked to log in first (the login page
comes back here); anyone else creates an account here, with the invited address and a password
that passes Django's validators, and is a member (and logged in) at once. An unknown link is a
404 page; an expired, withdrawn or used one a 410 page saying which. CSRF applies to every POST.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import login
from django.contrib.auth.forms import UserCreationForm
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.views import View

from surveys import member_invitations as mi
from surveys.models import Membership, MembershipInvitation

TEMPLATE = "surveys/join.html"


class JoinSignupForm(UserCreationForm):
    """Username and password (twice); the address is the invitation's, so the validators compare the
    password with it too."""

    def __init__(self, *args: Any, invitation: MembershipInvitation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.email = invitation.email
        for name in ("username", "password1", "password2"):
            self.fields[name].widget.attrs.pop("autofocus", None)
        self.fields["username"].widget.attrs["autofocus"] = True


def _page(request: HttpRequest, state: str, status: int = 200, **context: Any) -> HttpResponse:
    response = render(request, TEMPLATE, {"state": state, **context}, status=status)
    add_never_cache_headers(response)  # the page is the link's: never kept by a browser or proxy
    return response


class JoinView(View):
    http_method_names = ["get", "post"]

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation, refusal = self._lookup(request, token)
        if refusal is not None:
            return refusal
        return self._offer(request, invitation)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        invitation, refusal = self._lookup(request, token)
        if refusal is not None:
            return refusal
        if request.user.is_authenticated:
            try:
                mi.accept(invitation=invitation, user=request.user)
            except mi.AlreadyMember:
                return _page(request, "member", 409, invitation=invitation)
            except mi.InvitationUnusable as exc:
                return _page(request, exc.code, 410, invitation=invitation)
            return _page(request, "joined", invitation=invitation)
        if mi.account_exists(invitation=invitation):
            return self._offer(request, invitation)
        form = JoinSignupForm(request.POST, invitation=invitation)
        if not form.is_valid():
            return self._offer(request, invitation, form=form)
        try:
            user = mi.sign_up_and_accept(invitation=invitation, username=form.cleaned_data["username"],
                                         password=form.cleaned_data["password1"])
        except mi.InvitationUnusable as exc:
            return _page(request, exc.code, 410, invitation=invitation)
        except IntegrityError:  # the username was taken a moment ago
            form.add_error("username", forms.ValidationError(_("A user with that username already exists.")))
            return self._offer(request, invitation, form=form)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return _page(request, "joined", invitation=invitation)

    @staticmethod
    def _lookup(request: HttpRequest, token: str) -> tuple[Any, HttpResponse | None]:
        invitation = mi.find(token=token)
        if invitation is None:
            return None, _page(request, "invalid", 404)
        try:
            mi.check_usable(invitation)
        except mi.InvitationUnusable as exc:
            return None, _page(request, exc.code, 410, invitation=invitation)
        return invitation, None

    @staticmethod
    def _offer(request: HttpRequest, invitation: MembershipInvitation,
               form: JoinSignupForm | None = None) -> HttpResponse:
        if request.user.is_authenticated:
            if Membership.objects.filter(organization_id=invitation.organization_id, user=request.user).exists():
                return _page(request, "member", invitation=invitation)
            return _page(request, "accept", invitation=invitation)
        if mi.account_exists(invitation=invitation):
            return _page(request, "login", invitation=invitation)
        return _page(request, "signup", invitation=invitation, form=form or JoinSignupForm(invitation=invitation))
