"""Usage metering: one record per AI call, and the seeds' aggregates kept current
in the same transaction (per user per month, per user per day per provider,
per account per day)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from accounts.models import Account
from accounts.tenancy.context import account_context
from aiplatform.errors import InvalidInput
from billing.models import AccountDailyUsage, ApiRequestLog, UsageRecord

from .ledger import NO_REFERENCE, Reference

_UPSERT_USER_MONTH = """
INSERT INTO billing_usermonthlyusage
    (id, account_id, user_id, month, ai_credits_used, provider_cost, generations, tokens_used, api_calls_made,
     campaigns_generated, storage_bytes_used)
VALUES (gen_random_uuid(), %(account)s, %(user)s, %(month)s, %(credits)s, %(cost)s, %(generations)s, %(tokens)s,
        0, 0, 0)
ON CONFLICT (account_id, user_id, month) DO UPDATE SET
    ai_credits_used = billing_usermonthlyusage.ai_credits_used + EXCLUDED.ai_credits_used,
    provider_cost = billing_usermonthlyusage.provider_cost + EXCLUDED.provider_cost,
    generations = billing_usermonthlyusage.generations + EXCLUDED.generations,
    tokens_used = billing_usermonthlyusage.tokens_used + EXCLUDED.tokens_used
"""
_UPSERT_PROVIDER_DAY = """
INSERT INTO billing_dailyprovidercost
    (id, account_id, user_id, date, provider, cost, generations_count, tokens_used)
VALUES (gen_random_uuid(), %(account)s, %(user)s, %(day)s, %(provider)s, %(cost)s, %(generations)s, %(tokens)s)
ON CONFLICT ON CONSTRAINT billing_daily_cost_unique DO UPDATE SET
    cost = billing_dailyprovidercost.cost + EXCLUDED.cost,
    generations_count = billing_dailyprovidercost.generations_count + EXCLUDED.generations_count,
    tokens_used = billing_dailyprovidercost.tokens_used + EXCLUDED.tokens_used
"""
_UPSERT_ACCOUNT_DAY = """
INSERT INTO billing_accountdailyusage
    (id, account_id, stat_date, total_credits_used, ai_calls, generations, tokens_used, provider_cost,
     projects_created, content_pieces_added, scripts_generated, voice_generations, avatar_generations,
     storage_used_gb, updated_at)
VALUES (gen_random_uuid(), %(account)s, %(day)s, %(credits)s, 1, %(generations)s, %(tokens)s, %(cost)s, 0, 0, 0,
        %(voice)s, %(avatar)s, 0, now())
ON CONFLICT (account_id, stat_date) DO UPDATE SET
    total_credits_used = billing_accountdailyusage.total_credits_used + EXCLUDED.total_credits_used,
    ai_calls = billing_accountdailyusage.ai_calls + 1,
    generations = billing_accountdailyusage.generations + EXCLUDED.generations,
    tokens_used = billing_accountdailyusage.tokens_used + EXCLUDED.tokens_used,
    provider_cost = billing_accountdailyusage.provider_cost + EXCLUDED.provider_cost,
    voice_generations = billing_accountdailyusage.voice_generations + EXCLUDED.voice_generations,
    avatar_generations = billing_accountdailyusage.avatar_generations + EXCLUDED.avatar_generations,
    updated_at = now()
"""


def usage_record(
    *,
    account: Account,
    feature: str,
    model: str,
    provider: str,
    user=None,
    tokens_in: int = 0,
    tokens_out: int = 0,
    provider_cost: Decimal | str | int = 0,
    credits: Decimal | str | int = 0,
    latency_ms: int = 0,
    status: str = UsageRecord.Status.OK,
    error: str = "",
    reference: Reference = NO_REFERENCE,
    generation: bool = False,
) -> UsageRecord:
    """Record one AI call. The gateway calls this after every call, charged or not.

    `credits` is what the ledger charged for the call (0 when it failed, was refused
    or blocked); `provider_cost` what it cost us. A caller that charges after the call
    (a service run settles when its output is valid) records 0 here and adds the
    charge with `usage_charge_add` in the transaction that charges.

    `generation`: a generation a user asked for (the gateway's `generation=True`);
    it counts towards the plan's monthly generations unless the call failed or was
    blocked. Embeddings and internal calls are not generations."""
    if min(tokens_in, tokens_out, latency_ms) < 0:
        raise InvalidInput("Token counts and latency cannot be negative.")
    if status not in UsageRecord.Status.values:
        raise InvalidInput(f"Unknown usage status '{status}'.")
    cost, spent = Decimal(str(provider_cost)), Decimal(str(credits))
    now = timezone.now()
    params = {
        "account": account.id,
        "user": user.pk if user is not None else None,
        "month": now.date().replace(day=1),
        "day": now.date(),
        "provider": provider,
        "credits": spent,
        "cost": cost,
        "tokens": tokens_in + tokens_out,
        "generations": 1 if generation and status in (UsageRecord.Status.OK, UsageRecord.Status.CANCELLED) else 0,
        "voice": 1 if feature == "speech" else 0,
        "avatar": 1 if feature == "avatar" else 0,
    }
    with account_context(account.id), transaction.atomic():
        record = UsageRecord.objects.create(
            account=account, user=user, feature=feature, model=model, provider=provider, tokens_in=tokens_in,
            tokens_out=tokens_out, provider_cost=cost, credits=spent, latency_ms=latency_ms, status=status,
            error=error, reference_type=reference.type, reference_id=str(reference.id), generation=generation,
        )  # fmt: skip
        with connection.cursor() as cur:
            if user is not None:
                cur.execute(_UPSERT_USER_MONTH, params)
            cur.execute(_UPSERT_PROVIDER_DAY, params)
            cur.execute(_UPSERT_ACCOUNT_DAY, params)
        if spent > 0:
            from billing.tasks import spend_check

            account_id = str(account.id)
            transaction.on_commit(lambda: spend_check.delay(account_id=account_id))
    return record


_ADD_CHARGE = """
WITH record AS (
    UPDATE billing_usagerecord SET credits = credits + %(credits)s
     WHERE id = %(record)s AND account_id = %(account)s
    RETURNING user_id, (created_at AT TIME ZONE 'UTC')::date AS day
), month AS (
    UPDATE billing_usermonthlyusage m SET ai_credits_used = m.ai_credits_used + %(credits)s
      FROM record
     WHERE m.account_id = %(account)s AND m.user_id = record.user_id
       AND m.month = date_trunc('month', record.day)::date
)
UPDATE billing_accountdailyusage d SET total_credits_used = d.total_credits_used + %(credits)s, updated_at = now()
  FROM record
 WHERE d.account_id = %(account)s AND d.stat_date = record.day
RETURNING 1
"""


def usage_charge_add(*, account: Account, record_id, credits: Decimal) -> None:
    """The ledger charged `credits` for the call of `record_id` after it was recorded:
    the record and its aggregates carry them from now on. Call it in the transaction
    that charges, so both commit or neither."""
    credits = Decimal(str(credits))
    if credits == 0 or record_id is None:
        return
    with account_context(account.id), transaction.atomic(), connection.cursor() as cur:
        # Days are UTC days, as usage_record counts them (timezone.now().date()).
        cur.execute(_ADD_CHARGE, {"credits": credits, "record": record_id, "account": account.id})
        if credits > 0:
            from billing.tasks import spend_check

            account_id = str(account.id)
            transaction.on_commit(lambda: spend_check.delay(account_id=account_id))


def api_request_log(
    *, account: Account, user, endpoint: str, method: str, status_code: int, response_time_ms: int, service_name: str
) -> None:
    ApiRequestLog.objects.create(
        account=account, user=user if user is not None and user.is_authenticated else None,
        service_name=service_name[:100], endpoint=endpoint[:255], request_type=method[:10],
        status_code=status_code, response_time_ms=response_time_ms,
    )  # fmt: skip


def usage_summary(account: Account, *, days: int = 30) -> dict:
    """Per day, per feature and per model over the last `days` days (for charts and the API)."""
    since = timezone.now() - timedelta(days=days)
    records = UsageRecord.objects.filter(account=account, created_at__gte=since)
    start = date.today() - timedelta(days=days - 1)
    per_day = {
        row["stat_date"]: row
        for row in AccountDailyUsage.objects.filter(account=account, stat_date__gte=start).values(
            "stat_date", "total_credits_used", "ai_calls", "tokens_used", "provider_cost"
        )
    }
    daily = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        row = per_day.get(day, {})
        daily.append(
            {
                "date": day,
                "credits": row.get("total_credits_used", Decimal("0")),
                "calls": row.get("ai_calls", 0),
                "tokens": row.get("tokens_used", 0),
                "cost": row.get("provider_cost", Decimal("0")),
            }
        )

    def grouped(field: str) -> list[dict]:
        return list(
            records.values(field)
            .annotate(credits=Sum("credits"), calls=Count("id"), cost=Sum("provider_cost"))
            .order_by("-credits", field)
        )

    return {"days": days, "daily": daily, "by_feature": grouped("feature"), "by_model": grouped("model")}


def spend_totals(account: Account, today: date | None = None) -> tuple[Decimal, Decimal]:
    """Credits used today and this month."""
    today = today or date.today()
    rows = AccountDailyUsage.objects.filter(account=account, stat_date__gte=today.replace(day=1))
    month = rows.aggregate(s=Sum("total_credits_used"))["s"] or Decimal("0")
    day = rows.filter(stat_date=today).aggregate(s=Sum("total_credits_used"))["s"] or Decimal("0")
    return day, month
