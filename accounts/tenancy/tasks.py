"""Celery tasks that work on one tenant's data.

The task receives the account id from the code that enqueued it (never from a
client) and runs its body inside that account's context, in one transaction.
"""

from __future__ import annotations

import functools

from celery import shared_task

from accounts.tenancy.context import account_context


def tenant_task(*task_args, **task_kwargs):
    """`@tenant_task(queue=...)` on `def task(*, account_id, ...)`."""

    def decorator(func):
        @functools.wraps(func)
        def run(*args, account_id: str, **kwargs):
            with account_context(account_id):
                return func(*args, account_id=account_id, **kwargs)

        return shared_task(*task_args, **task_kwargs)(run)

    return decorator
