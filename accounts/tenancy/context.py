"""The tenant context that PostgreSQL row-level security reads.

Policies compare each row's `account_id` with the transaction-local setting
`app.account_id` (see `rls.py`). The settings are set with `is_local = true`, so
they vanish at commit or rollback and a pooled connection can never carry one
request's tenant into the next. Every helper therefore opens (or joins) a
transaction.

`rls_bypass()` is the one escape hatch, for operator and platform paths (Django
admin, creating a tenant, looking up an API key or invitation token before the
tenant is known). Each use names its reason and is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from uuid import UUID

from django.db import connection, transaction

log = logging.getLogger("accounts.tenancy")

ACCOUNT_SETTING = "app.account_id"
USER_SETTING = "app.user_id"
BYPASS_SETTING = "app.rls_bypass"


def _get(name: str) -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting(%s, true)", [name])
        return cur.fetchone()[0] or ""


def _swap(name: str, value: str) -> str:
    """Set `name` for the rest of the transaction; return its previous value."""
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting(%s, true), set_config(%s, %s, true)", [name, name, value])
        return cur.fetchone()[0] or ""


@contextmanager
def _scoped(name: str, value: str) -> Iterator[None]:
    if not connection.in_atomic_block:
        # Outermost: the setting dies with this transaction, nothing to restore.
        with transaction.atomic():
            _swap(name, value)
            yield
        return
    # Nested: restore the caller's value after; on an exception the savepoint
    # rolls back, and the setting with it.
    with transaction.atomic():
        previous = _swap(name, value)
        yield
        if previous != value:  # the same tenant nested (the common case) has nothing to restore
            _swap(name, previous)


def account_context(account_id: UUID | str | None) -> AbstractContextManager[None]:
    """Run the block as tenant `account_id` (None: no tenant, tenant rows hidden)."""
    return _scoped(ACCOUNT_SETTING, str(account_id) if account_id else "")


def user_context(user_id: UUID | str | None) -> AbstractContextManager[None]:
    """Lets a user see their own memberships across accounts (account switcher)."""
    return _scoped(USER_SETTING, str(user_id) if user_id else "")


@contextmanager
def rls_bypass(reason: str) -> Iterator[None]:
    """Lift row-level security for the block. Operator and platform paths only."""
    log.info("rls bypass: %s", reason)
    with _scoped(BYPASS_SETTING, "on"):
        yield


def current_account_id() -> str:
    return _get(ACCOUNT_SETTING)
