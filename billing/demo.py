"""A month of past activity for the demo accounts, so the wallet's balance chart and the
usage page's charts show real curves on the first visit.

The usage rows go through `usage_record` (the service every AI call uses) with the
clock set back to the moment each call is said to have happened. The ledger rows
cannot: the ledger stamps its rows with the database clock and is append-only. So
this module posts them with the ledger's own function (`billing_post` of
billing/sql/ledger_post.sql: the conditional wallet update and the ledger insert in one
call, audited by the same triggers), giving it the past moment as `p_created_at`. It is the one
writer of balances besides `billing.services.ledger`, is only ever called by the
demo command, and only for an account whose ledger is still empty: the past rows
then come first, and balance == sum(ledger) and each `balance_after` hold.

`manage.py seed_billing_history` runs it (idempotent: an account with any ledger
row is left alone).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from unittest import mock

from django.db import connection, transaction
from django.utils import timezone

from accounts.demo import DemoTenant
from accounts.tenancy.context import account_context
from aiplatform.ids import uuid7
from billing.models import CreditTransaction
from billing.services.ledger import Reference, wallet_for
from billing.services.usage import usage_record

DAYS = 30
REFERENCE_TYPE = "demo_history"

# (feature, model, provider, tokens in, tokens out, provider cost per call, credits per call)
CALLS = {
    "chat": ("local-assistant", "local", 900, 350, "0", "1.5"),
    "service": ("local-assistant", "local", 700, 800, "0", "4"),
    "embedding": ("all-MiniLM-L6-v2", "local", 2600, 0, "0", "0.2"),
}
# Calls a working day, by feature, at the start of the month; the volume grows ~60% over it.
DAILY = {"chat": 9, "service": 2, "embedding": 4}


@dataclass(frozen=True)
class Entry:
    when: datetime
    delta: Decimal
    type: str
    description: str
    feature: str = ""


_POST_AT_SQL = (
    "SELECT * FROM billing_post(%(id)s, %(account_id)s, %(delta)s, %(type)s, %(actor_id)s, %(reference_type)s, "
    "%(reference_id)s, %(description)s, p_counts_lifetime => %(counts_lifetime)s, p_created_at => %(created_at)s)"
)


def _post_at(*, account, actor, entry: Entry, ref: Reference) -> bool:
    """The ledger's own statement with the entry's past moment in place of the database clock."""
    params = {
        "id": uuid7(), "account_id": account.id, "delta": entry.delta, "type": entry.type,
        "actor_id": actor.pk if actor is not None else None, "reference_type": ref.type, "reference_id": ref.id,
        "description": entry.description, "counts_lifetime": entry.delta > 0, "created_at": entry.when,
    }  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(_POST_AT_SQL, params)
        return cur.fetchone() is not None


def history_plan(name: str, *, today=None) -> list[Entry]:
    """The month of `name`'s past activity, the same for the same name and day."""
    rng = random.Random(name)
    today = today or timezone.localdate()
    start = today - timedelta(days=DAYS)
    tz = timezone.get_current_timezone()
    entries = [Entry(timezone.make_aware(datetime.combine(start, time(8, 0)), tz), Decimal("600"), "grant",
                     "Monthly plan credits")]  # fmt: skip
    for offset in range(DAYS):
        day = start + timedelta(days=offset)
        weekend = day.weekday() >= 5
        growth = 1 + 0.6 * offset / DAYS
        if offset == 16:
            entries.append(Entry(timezone.make_aware(datetime.combine(day, time(9, 5)), tz), Decimal("300"),
                                 "bonus", "Top-up bonus for the team plan"))  # fmt: skip
        for feature, per_day in DAILY.items():
            calls = round(per_day * growth * (0.3 if weekend else 1) * rng.uniform(0.7, 1.3))
            for _ in range(calls):
                moment = time(rng.randint(9, 18), rng.randint(0, 59), rng.randint(0, 59))
                when = timezone.make_aware(datetime.combine(day, moment), tz)
                price = Decimal(CALLS[feature][5])
                entries.append(Entry(when, -price, "use", f"{feature} with {CALLS[feature][0]}", feature))
    entries.sort(key=lambda e: e.when)
    return entries


def history_seed(tenant: DemoTenant) -> int:
    """Post the month of history of a tenant whose ledger is empty; returns the rows written."""
    account = tenant.account
    wallet_for(account)
    with account_context(account.id):
        if CreditTransaction.objects.filter(account=account).exists():
            return 0
    written = 0
    with transaction.atomic(), account_context(account.id):
        for i, entry in enumerate(history_plan(account.name)):
            ref = Reference(REFERENCE_TYPE, str(i))
            if not _post_at(account=account, actor=tenant.user, entry=entry, ref=ref):
                continue  # the wallet could not afford it: the plan's balance stays >= 0 anyway
            written += 1
            if entry.feature:
                model, provider, tin, tout, cost, credits = CALLS[entry.feature]
                with mock.patch("django.utils.timezone.now", return_value=entry.when):
                    usage_record(
                        account=account, user=tenant.user, feature=entry.feature, model=model, provider=provider,
                        tokens_in=tin, tokens_out=tout, provider_cost=cost, credits=credits,
                        latency_ms=180 + (i * 37) % 900, reference=ref,
                    )  # fmt: skip
    return written
