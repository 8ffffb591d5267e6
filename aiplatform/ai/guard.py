"""The emergency shut-off check on the hot path of every call.

`billing.services.controls.ai_call_guard` costs a transaction: the tenant
context and one indexed select, three round trips (1-2 ms on the embedded
PostgreSQL): the whole time-to-first-token budget of the gateway. So an account
that passed is remembered in this process for AI_GUARD_CACHE_SECONDS (2 s):

* a shut-off account is never remembered: every call asks again, so lifting
  the shut-off works at once;
* a shut-off engaged in this process (any CostControl save) forgets the
  account at once (post_save);
* one engaged by another process (the spend check in a Celery worker) stops
  calls here within AI_GUARD_CACHE_SECONDS. 0 checks the database every call.
"""

from __future__ import annotations

import time

from django.conf import settings

from accounts.models import Account
from billing.services.controls import ai_call_guard

_MAX_ENTRIES = 10_000
_passed: dict[object, float] = {}


def call_guard(*, account: Account) -> None:
    """ai_call_guard (403 ai_shutoff), skipped while the account's last pass is fresh."""
    now = time.monotonic()
    if _passed.get(account.pk, 0.0) > now:
        return
    ai_call_guard(account=account)
    ttl = settings.AI_GUARD_CACHE_SECONDS
    if ttl > 0:
        if len(_passed) >= _MAX_ENTRIES:
            for key in [k for k, until in _passed.items() if until <= now]:
                _passed.pop(key, None)
        _passed[account.pk] = now + ttl


def forget(account_id: object) -> None:
    _passed.pop(account_id, None)


def guard_clear() -> None:
    _passed.clear()


def on_cost_control_saved(sender: type, instance: object, **_: object) -> None:
    forget(getattr(instance, "account_id", None))
