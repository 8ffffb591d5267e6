"""Resolves the active account of every request and runs the rest of the request
inside one transaction that carries it to PostgreSQL (row-level security).

The account comes from, in order: a Bearer API key; the account chosen in the
session (if the user is still a member); the user's first account.
"""

from __future__ import annotations

import copy

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Role, User
from accounts.selectors import api_key_by_raw, membership_for_user
from accounts.services.api_keys import api_key_touch
from accounts.tenancy.context import ACCOUNT_SETTING, BYPASS_SETTING, USER_SETTING

SESSION_KEY = "active_account_id"
LAST_ACTIVE_EVERY = 300  # seconds between `last_active_at` writes per user


def _bearer(request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


def _set_request_context(user_id, account_id, bypass: bool) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT set_config(%s, %s, true), set_config(%s, %s, true), set_config(%s, %s, true)",
            [
                USER_SETTING,
                str(user_id or ""),
                ACCOUNT_SETTING,
                str(account_id or ""),
                BYPASS_SETTING,
                "on" if bypass else "",
            ],
        )


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix = None

    def _is_operator_path(self, request) -> bool:
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        return request.path.startswith(self._admin_prefix) and request.user.is_authenticated and request.user.is_staff

    def __call__(self, request):
        request.account = None
        request.membership = None
        request.account_role = None
        request.api_key = None
        request.api_key_error = None
        with transaction.atomic():
            bypass = self._is_operator_path(request)
            self._resolve(request)
            user_id = request.user.pk if request.user.is_authenticated else None
            account_id = request.account.pk if request.account else None
            # Operators in the Django admin work across tenants, visibly: see rls_bypass.
            _set_request_context(user_id, account_id, bypass)
            response = self.get_response(request)
            if response.status_code >= 500:
                transaction.set_rollback(True)
        return response

    def _resolve(self, request) -> None:
        raw_key = _bearer(request)
        if raw_key is not None:
            self._resolve_api_key(request, raw_key)
            return
        user = request.user
        if not user.is_authenticated:
            return
        _set_request_context(user.pk, None, False)
        membership = membership_for_user(user, request.session.get(SESSION_KEY))
        if membership:
            request.membership = membership
            request.account = membership.account
            request.account_role = membership.role_enum
        self._touch_user(user)

    def _resolve_api_key(self, request, raw_key: str) -> None:
        key = api_key_by_raw(raw_key) if raw_key.startswith(f"{settings.API_KEY_PREFIX}_") else None
        if key is None:
            request.api_key_error = gettext("Invalid or revoked API key.")
            return
        # The key acts for its creator, never with more than the creator has now.
        _set_request_context(key.created_by_id, key.account_id, False)
        membership = membership_for_user(key.created_by, key.account_id)
        if membership is None or membership.account_id != key.account_id or not key.created_by.is_active:
            request.api_key_error = gettext("This API key's owner is no longer a member of its account.")
            return
        role = min(Role(key.role), membership.role_enum, key=lambda r: r.rank)
        if role != membership.role_enum:
            # Services judge the actor by its membership's role, so the actor handed
            # to them carries the key's cap. This copy is never saved.
            membership = copy.copy(membership)
            membership.role = role
        # A program speaks its key owner's language, as the owner's pages do
        # (accounts.locale.UserLocaleMiddleware), which ran before the key was known.
        if key.created_by.locale:
            translation.activate(key.created_by.locale)
            request.LANGUAGE_CODE = translation.get_language()
        request.api_key = key
        request.account = key.account
        request.membership = membership
        request.account_role = role
        api_key_touch(key)

    def _touch_user(self, user) -> None:
        if cache.add(f"last-active:{user.pk}", 1, timeout=LAST_ACTIVE_EVERY):
            User.objects.filter(pk=user.pk).update(last_active_at=timezone.now())
