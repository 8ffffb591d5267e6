"""One way to put a row in every tenant table, per account. A tenant model
without an entry here fails `test_every_tenant_model_can_be_seeded`, so a new
app adds its factories when it adds tables."""

from __future__ import annotations

from collections.abc import Callable

from accounts.models import Account, ApiKey, Invitation, Membership, Role
from billing import models as billing
from tests.accounts.factories import ApiKeyFactory, InvitationFactory, MembershipFactory, UserFactory
from tests.billing import factories as bf


def _billing_rows(account: Account, owner) -> None:
    bf.fund(account, "50")  # wallet, ledger row, audit rows
    bf.spend(account, "1", idempotency_key=f"seed-{account.id}")  # idempotency record
    bf.SubscriptionFactory(account=account)
    bf.PaymentFactory(account=account)
    bf.PaymentCustomerFactory(account=account)
    bf.TopUpRuleFactory(account=account)
    bf.ReservationFactory(account=account)
    bf.UsageRecordFactory(account=account)
    bf.UserMonthlyUsageFactory(account=account, user=owner)
    bf.DailyProviderCostFactory(account=account)
    bf.AccountDailyUsageFactory(account=account)
    bf.ApiRequestLogFactory(account=account)
    bf.CostControlFactory(account=account)


SEEDERS: dict[type, Callable[[Account, object], None]] = {
    Account: lambda account, owner: None,  # exists already
    Membership: lambda account, owner: MembershipFactory(account=account, user=UserFactory(), role=Role.VIEWER),
    Invitation: lambda account, owner: InvitationFactory(account=account),
    ApiKey: lambda account, owner: ApiKeyFactory(account=account, created_by=owner),
    billing.Wallet: _billing_rows,
    **{
        model: (lambda account, owner: None)  # filled by _billing_rows
        for model in (
            billing.CreditTransaction,
            billing.Reservation,
            billing.IdempotencyRecord,
            billing.AuditLog,
            billing.Subscription,
            billing.Payment,
            billing.PaymentCustomer,
            billing.TopUpRule,
            billing.UsageRecord,
            billing.UserMonthlyUsage,
            billing.DailyProviderCost,
            billing.AccountDailyUsage,
            billing.ApiRequestLog,
            billing.CostControl,
        )
    },  # fmt: skip
}


def seed_every_tenant_table(account: Account, owner) -> None:
    for seeder in SEEDERS.values():
        seeder(account, owner)
