"""Welcome credits (seed 001 `users.credits DEFAULT 1000`): a new user's personal
account starts with WELCOME_CREDITS, granted once per user, ever."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.models import Account, User
from accounts.tenancy.context import rls_bypass
from billing.models import CreditTransaction

from .ledger import Reference, wallet_credit

REFERENCE_TYPE = "welcome"


@transaction.atomic
def welcome_credits_grant(*, account: Account, user: User) -> CreditTransaction | None:
    """Credit the sign-up's personal account with WELCOME_CREDITS (a `bonus`).

    Called by the sign-up adapters in the transaction that onboards the user. A
    user is welcomed once: a second call, for this or any other account, grants
    nothing (the grant is found by its reference across accounts; the idempotency
    key also makes a concurrent second call wait for the first and return it)."""
    amount = settings.WELCOME_CREDITS
    if amount <= 0:
        return None
    reference = Reference(REFERENCE_TYPE, str(user.pk))
    with rls_bypass("welcome credits: once per user across accounts"):
        given = CreditTransaction.objects.filter(
            type=CreditTransaction.Type.BONUS, reference_type=reference.type, reference_id=reference.id
        ).first()
    if given is not None:
        return None if given.account_id != account.id else given
    return wallet_credit(
        account=account, amount=amount, type=CreditTransaction.Type.BONUS, actor=user, reference=reference,
        description="Welcome credits", idempotency_key=f"welcome:{user.pk}",
    )  # fmt: skip
