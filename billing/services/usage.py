"""Usage metering: one record per AI call, and the seeds' aggregates kept current
in the same transaction (per user per month, per user per day per provider,
per account per day)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import Account
from accounts.tenancy.context import account_context
from aiplatform.errors import InvalidInput
from billing.models import AccountDailyUsage, UsageRecord

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
        0, 0, 0, now())
ON CONFLICT (account_id, stat_date) DO UPDATE SET
    total_credits_used = billing_accountdailyusage.total_credits_used + EXCLUDED.total_credits_used,
    ai_calls = billing_accountdailyusage.ai_calls + 1,
    generations = billing_accountdailyusage.generations + EXCLUDED.generations,
    tokens_used = billing_accountdailyusage.tokens_used + EXCLUDED.tokens_used,
    provider_cost = billing_accountdailyusage.provider_cost + EXCLUDED.provider_cost,
    updated_at = now()
"""


@dataclass
class RequestMeter:
    """Tokens and credits of the AI calls one API request made (for its api_usage_logs row)."""

    tokens: int = 0
    credits: Decimal = Decimal("0")


_REQUEST_METER: ContextVar[RequestMeter | None] = ContextVar("billing_request_meter", default=None)


def request_meter_start() -> RequestMeter:
    """Count the usage recorded from here on in this context (the API request being served)."""
    meter = RequestMeter()
    _REQUEST_METER.set(meter)
    return meter


def _meter_add(tokens: int, credits: Decimal) -> None:
    meter = _REQUEST_METER.get()
    if meter is not None:
        meter.tokens += tokens
        meter.credits += credits


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
        raise InvalidInput(gettext("Token counts and latency cannot be negative."))
    if status not in UsageRecord.Status.values:
        raise InvalidInput(gettext("Unknown usage status '%(status)s'.") % {"status": status})
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
    _meter_add(tokens_in + tokens_out, spent)
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
        _meter_add(0, credits)
        if credits > 0:
            from billing.tasks import spend_check

            account_id = str(account.id)
            transaction.on_commit(lambda: spend_check.delay(account_id=account_id))


# One statement: the api_usage_logs row and the member's monthly API call count.
_LOG_REQUEST = """
WITH log AS (
    INSERT INTO billing_apirequestlog
        (id, account_id, user_id, service_name, endpoint, request_type, tokens_used, credits_cost,
         response_time_ms, status_code, error_message, created_at)
    VALUES (gen_random_uuid(), %(account)s, %(user)s, %(service)s, %(endpoint)s, %(method)s, %(tokens)s,
            %(credits)s, %(ms)s, %(status)s, %(error)s, now())
    RETURNING 1
)
INSERT INTO billing_usermonthlyusage
    (id, account_id, user_id, month, ai_credits_used, provider_cost, generations, tokens_used, api_calls_made,
     campaigns_generated, storage_bytes_used)
SELECT gen_random_uuid(), %(account)s, %(user)s, %(month)s, 0, 0, 0, 0, 1, 0, 0
  FROM log WHERE %(user)s::uuid IS NOT NULL
ON CONFLICT (account_id, user_id, month) DO UPDATE SET api_calls_made = billing_usermonthlyusage.api_calls_made + 1
"""


def api_request_log(
    *, account: Account, user, endpoint: str, method: str, status_code: int, response_time_ms: int, service_name: str,
    tokens: int = 0, credits: Decimal | int = 0, error: str = "",
) -> None:  # fmt: skip
    """Seed 003 `api_usage_logs`: one row per API request, errors included, with the
    tokens and credits of the AI calls it made and the error it answered; the
    member's `api_calls_made` this month counts it. Call in the account's context
    (the API request's own, or `account_context`)."""
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    params = {
        "account": account.id, "user": user_id, "service": service_name[:100], "endpoint": endpoint[:255],
        "method": method[:10], "tokens": max(0, int(tokens)), "credits": Decimal(str(credits)),
        "ms": max(0, int(response_time_ms)), "status": status_code, "error": error[:2000],
        "month": timezone.now().date().replace(day=1),
    }  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(_LOG_REQUEST, params)


def usage_summary(account: Account, *, days: int = 30) -> dict:
    """Per day, per feature and per model over the last `days` days (for charts and the API)."""
    since = timezone.now() - timedelta(days=days)
    records = UsageRecord.objects.filter(account=account, created_at__gte=since)
    start = date.today() - timedelta(days=days - 1)
    per_day = {
        row["stat_date"]: row
        for row in AccountDailyUsage.objects.filter(account=account, stat_date__gte=start).values(
            "stat_date", "total_credits_used", "ai_calls", "tokens_used", "provider_cost", *ACCOUNT_DAY_COUNTS
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
                **{name: row.get(name, 0) for name in ACCOUNT_DAY_COUNTS},
            }
        )

    def grouped(field: str) -> list[dict]:
        return list(
            records.values(field)
            .annotate(credits=Sum("credits"), calls=Count("id"), cost=Sum("provider_cost"))
            .order_by("-credits", field)
        )

    # The days something was delivered (seed 003 `account_usage_stats` counts), newest first.
    activity = [day for day in reversed(daily) if any(day[name] for name in ACCOUNT_DAY_COUNTS)]
    return {
        "days": days, "daily": daily, "activity": activity,
        "by_feature": grouped("feature"), "by_model": grouped("model"),
    }  # fmt: skip


def spend_totals(account: Account, today: date | None = None) -> tuple[Decimal, Decimal]:
    """Credits used today and this month."""
    today = today or date.today()
    rows = AccountDailyUsage.objects.filter(account=account, stat_date__gte=today.replace(day=1))
    month = rows.aggregate(s=Sum("total_credits_used"))["s"] or Decimal("0")
    day = rows.filter(stat_date=today).aggregate(s=Sum("total_credits_used"))["s"] or Decimal("0")
    return day, month


# What `count` adds to: seed 002 `user_usage` (per member per month) and seed 003
# `account_usage_stats` (per account per day).
USER_MONTH_COUNTS = ("api_calls_made", "campaigns_generated", "storage_bytes_used")
ACCOUNT_DAY_COUNTS = (
    "projects_created", "content_pieces_added", "scripts_generated", "voice_generations", "avatar_generations",
)  # fmt: skip
_COUNT_USER_MONTH = f"""
INSERT INTO billing_usermonthlyusage
    (id, account_id, user_id, month, ai_credits_used, provider_cost, generations, tokens_used,
     {", ".join(USER_MONTH_COUNTS)})
VALUES (gen_random_uuid(), %(account)s, %(user)s, %(month)s, 0, 0, 0, 0,
        {", ".join(f"GREATEST(0, %({n})s)" for n in USER_MONTH_COUNTS)})
ON CONFLICT (account_id, user_id, month) DO UPDATE SET
    {", ".join(f"{n} = GREATEST(0, billing_usermonthlyusage.{n} + %({n})s)" for n in USER_MONTH_COUNTS)}
"""  # noqa: S608 - the column names are the constants above
_COUNT_ACCOUNT_DAY = f"""
INSERT INTO billing_accountdailyusage
    (id, account_id, stat_date, total_credits_used, ai_calls, generations, tokens_used, provider_cost,
     {", ".join(ACCOUNT_DAY_COUNTS)}, storage_used_gb, updated_at)
VALUES (gen_random_uuid(), %(account)s, %(day)s, 0, 0, 0, 0, 0, {", ".join(f"%({n})s" for n in ACCOUNT_DAY_COUNTS)},
        COALESCE(%(storage_gb)s, 0), now())
ON CONFLICT (account_id, stat_date) DO UPDATE SET
    {", ".join(f"{n} = billing_accountdailyusage.{n} + EXCLUDED.{n}" for n in ACCOUNT_DAY_COUNTS)},
    storage_used_gb = COALESCE(%(storage_gb)s, billing_accountdailyusage.storage_used_gb),
    updated_at = now()
"""  # noqa: S608 - the column names are the constants above


def count(account, user=None, **increments: int) -> None:
    """Count what a product delivered: the one way products move the usage counters.

    Member per month (seed 002 `user_usage`, needs `user`): `campaigns_generated`,
    `storage_bytes_used` (bytes stored; negative when files are removed), `api_calls_made`
    (the API log counts requests itself). Account per day (seed 003
    `account_usage_stats`): `projects_created`, `content_pieces_added`,
    `scripts_generated`, `voice_generations`, `avatar_generations`; a storage change
    also records the account's measured storage (`storage_used_gb`) for the day.

    Call it in the transaction that completes the thing counted (a job's finishing
    transaction, the creating one), so a failed or rolled-back job counts nothing.
    `account` is an Account or its id, `user` a user or its id; one atomic UPSERT per
    table (days and months are UTC, as `usage_record` counts them)."""
    unknown = set(increments) - set(USER_MONTH_COUNTS) - set(ACCOUNT_DAY_COUNTS)
    if unknown:
        raise InvalidInput(gettext("Unknown usage counters: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    values = {name: int(increments.get(name, 0)) for name in (*USER_MONTH_COUNTS, *ACCOUNT_DAY_COUNTS)}
    account_id = getattr(account, "pk", account)
    user_id = getattr(user, "pk", user)
    today = timezone.now().date()
    params = {"account": account_id, "user": user_id, "month": today.replace(day=1), "day": today, **values}
    with account_context(account_id), connection.cursor() as cur:
        if user_id is not None and any(values[n] for n in USER_MONTH_COUNTS):
            cur.execute(_COUNT_USER_MONTH, params)
        storage_gb = None
        if values["storage_bytes_used"]:
            from .limits import storage_used_gb

            tenant = account if isinstance(account, Account) else Account(pk=account_id)
            storage_gb = Decimal(str(storage_used_gb(tenant)))
        if storage_gb is not None or any(values[n] for n in ACCOUNT_DAY_COUNTS):
            cur.execute(_COUNT_ACCOUNT_DAY, {**params, "storage_gb": storage_gb})
