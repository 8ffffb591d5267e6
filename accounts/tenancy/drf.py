"""DRF base classes for tenant-scoped API views."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import permissions, viewsets
from rest_framework.views import APIView

from accounts.models import Role


class TenantRolePermission(permissions.BasePermission):
    """Requires an active account and the view's role for the action.

    Reads need `read_role` (viewer by default), writes `write_role` (member);
    `action_roles` overrides per action.
    """

    message = "Your role in this account does not allow this."

    def has_permission(self, request, view) -> bool:
        if request.user is None or not request.user.is_authenticated:
            return False
        role = getattr(request._request, "account_role", None)
        if role is None:
            self.message = "You have no active account. Create one or accept an invitation."
            return False
        return role.at_least(view.required_role())


class TenantViewSet(viewsets.GenericViewSet):
    """Base of every API view over tenant data.

    `get_queryset` is final: subclasses declare `queryset` and may narrow it in
    `scope_queryset`, but can never see rows of another account. A foreign id
    therefore answers 404.
    """

    permission_classes = [permissions.IsAuthenticated, TenantRolePermission]
    read_role: Role = Role.VIEWER
    write_role: Role = Role.MEMBER
    action_roles: dict[str, Role] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__} must not override get_queryset; use scope_queryset.")

    @property
    def account(self):
        return self.request._request.account

    @property
    def membership(self):
        return self.request._request.membership

    def required_role(self) -> Role:
        if self.action in self.action_roles:
            return self.action_roles[self.action]
        return self.read_role if self.request.method in permissions.SAFE_METHODS else self.write_role

    def get_queryset(self) -> QuerySet:
        if self.account is None:
            return self.queryset.none()
        return self.scope_queryset(self.queryset.all().filter(account=self.account))

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset


class SignedInUserOnly(permissions.BasePermission):
    """For acts of the person rather than of an account (their profile, creating
    accounts, accepting invitations, leaving): an API key, which acts for one
    account with a capped role, may read but not do these."""

    message = "API keys act within their account; this needs a signed-in user."

    def has_permission(self, request, view) -> bool:
        return request.auth is None or request.method in permissions.SAFE_METHODS


class ActiveAccountMixin:
    """The request's active account and role check, for API views that are not
    over a list of tenant rows: one tenant resource (a wallet, a plan), or
    platform rows that still need an active account (a directory). Reads need
    `read_role`, writes `write_role`."""

    permission_classes = [permissions.IsAuthenticated, TenantRolePermission]
    read_role: Role = Role.VIEWER
    write_role: Role = Role.MEMBER

    @property
    def account(self):
        return self.request._request.account

    @property
    def membership(self):
        return self.request._request.membership

    def required_role(self) -> Role:
        return self.read_role if self.request.method in permissions.SAFE_METHODS else self.write_role


class TenantAPIView(ActiveAccountMixin, APIView):
    """Base of API views over one tenant resource that is not a list (a wallet, a plan)."""
