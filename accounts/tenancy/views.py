"""Base for HTML views over tenant data (the counterpart of drf.TenantViewSet)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404, redirect

from accounts.models import Role


class TenantViewMixin(LoginRequiredMixin):
    required_role: Role = Role.VIEWER

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.account is None:
            messages.info(request, "You are not a member of any account yet.")
            return redirect("dashboard")
        if not request.account_role.at_least(self.required_role):
            raise PermissionDenied("Your role in this account does not allow this.")
        return super().dispatch(request, *args, **kwargs)

    @property
    def account(self):
        return self.request.account

    @property
    def membership(self):
        return self.request.membership

    def scoped(self, model: type[Model]) -> QuerySet:
        return model.objects.filter(account=self.request.account)

    def get_scoped_object(self, model: type[Model], **lookup) -> Model:
        """A foreign or missing id is a 404, never a 403."""
        return get_object_or_404(self.scoped(model), **lookup)
