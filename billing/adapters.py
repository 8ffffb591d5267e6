"""The sign-up adapters (settings ACCOUNT_ADAPTER, SOCIALACCOUNT_ADAPTER): accounts'
onboarding plus the welcome credits, in one transaction. They live here because
`accounts` imports no other app (ARCHITECTURE.md, layers)."""

from __future__ import annotations

from django.db import transaction

from accounts import adapters
from accounts.models import Account, Membership, Role, User
from accounts.tenancy.context import account_context, user_context

from .services.welcome import welcome_credits_grant


def _welcome(user: User) -> None:
    with user_context(user.pk):
        account_id = (
            Membership.objects.filter(user=user, account__is_personal=True, role=Role.OWNER)
            .order_by("created_at").values_list("account_id", flat=True).first()
        )  # fmt: skip
    if account_id is None:
        return
    with account_context(account_id):
        account = Account.objects.get(pk=account_id)
        welcome_credits_grant(account=account, user=user)


class AccountAdapter(adapters.AccountAdapter):
    def save_user(self, request, user, form, commit=True):
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=commit)
            if commit:
                _welcome(user)
        return user


class SocialAccountAdapter(adapters.SocialAccountAdapter):
    def save_user(self, request, sociallogin, form=None):
        with transaction.atomic():
            user = super().save_user(request, sociallogin, form)
            _welcome(user)
        return user
