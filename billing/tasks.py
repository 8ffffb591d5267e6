from __future__ import annotations

from celery import shared_task

from accounts.tenancy.tasks import tenant_task


@shared_task(queue="default")
def top_up_check(*, account_id: str) -> None:
    """Not a tenant_task: the service sets the account's context per step and
    commits each, so no transaction is open while the provider is charging."""
    from billing.services.top_ups import top_up_threshold_run

    top_up_threshold_run(account_id=account_id)


@shared_task(queue="default")
def top_ups_recurring() -> int:
    from billing.services.top_ups import top_ups_recurring_run

    return top_ups_recurring_run()


@shared_task(queue="default")
def reservations_expire() -> int:
    from billing.services.reservations import reservations_expire as run

    return run()


@shared_task(queue="default")
def idempotency_purge() -> int:
    from billing.services.ledger import idempotency_purge as run

    return run()


@tenant_task(queue="default")
def spend_check(*, account_id: str) -> None:
    from accounts.models import Account
    from billing.services.controls import spend_check as run

    account = Account.objects.filter(pk=account_id).first()
    if account is not None:
        run(account=account)


@shared_task(queue="default")
def subscriptions_renew() -> int:
    from billing.services.subscriptions import subscriptions_renew as run

    return run()
