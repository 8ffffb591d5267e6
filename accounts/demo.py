"""What every app's demo command shares: the demo accounts and their people.

`manage.py seed_demo` creates them; the products' demo commands (knowledge,
personas, chats, services, billing history, ...) add their rows to the same two
tenants, each idempotently, and `manage.py seed_everything` runs them in order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context, rls_bypass

TEAM_ACCOUNT = "Acme Logistics"  # where the demo owner lands
SECOND_ACCOUNT = "Globex Media"  # the other tenant, with data of its own


@dataclass(frozen=True)
class DemoTenant:
    account: Account
    owner: Membership  # the acting membership of the account's owner

    @property
    def user(self):
        return self.owner.user


def demo_tenant(name: str) -> DemoTenant | None:
    """The demo account called `name` and its owner's membership; None before seed_demo ran."""
    with rls_bypass("demo data: find a demo account by name"):
        account = Account.objects.filter(name=name, is_personal=False).order_by("created_at").first()
    if account is None:
        return None
    with account_context(account.id):
        owner = (
            Membership.objects.filter(account=account, role=Role.OWNER)
            .select_related("user", "account")
            .order_by("created_at")
            .first()
        )
    return DemoTenant(account, owner) if owner else None


def demo_tenants() -> list[DemoTenant]:
    return [t for t in (demo_tenant(TEAM_ACCOUNT), demo_tenant(SECOND_ACCOUNT)) if t is not None]


@contextmanager
def eager_tasks() -> Iterator[None]:
    """Run the Celery tasks enqueued inside the block in this process, as the tests do.

    The demo is loaded before the worker starts, and a chat about a document needs
    the document indexed first: the same tasks run, only here and now."""
    from aiplatform.celery import app

    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = before
