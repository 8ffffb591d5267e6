"""The processing queue: every long job is a row, run by a Celery task that
mirrors into it (ADR 0009, "Processing queue").

The row is the one source of truth for a job's status; the Celery task is only
the vehicle. The mechanism is generic over the row model (`JobStore`): the
canvas studio's `ProcessingJob` (seed 003 `processing_queue`) is the store
"canvas"; the web builder registers its seed 002 `job_queue` model as another
store and reuses everything here (registry, concurrency, credits, sweep, API).

Life of a job:

    job_enqueue      -> row (queued) + credit hold of the type's estimate, one
                        transaction; the task is sent on commit
    job_execute      -> provider slot (Redis, per-provider concurrency) ->
    (the task)          claim queued -> processing (attempts + 1) -> heartbeat
                        -> handler(ctx) outside any transaction ->
                        completed: settle the hold with the actual credits and
                        record usage, in one transaction;
                        retryable error with attempts left: back to queued
                        (scheduled later, hold kept);
                        otherwise failed: hold released, error kept
    job_cancel       -> cancelled, hold released (a running handler sees it at
                        its next `ctx.progress()` and its result is dropped)
    job_retry        -> a failed or cancelled job queued again with a new hold
    jobs_sweep       -> (beat) processing rows whose heartbeat stopped (the
                        worker died) go back to queued while attempts remain,
                        else fail with the hold released; due queued rows are
                        sent again

Handlers register with `register_job_type(name, handler, provider=...,
estimate=...)`; they receive a `JobContext` and return a `JobResult` (or None).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any

import redis
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext, gettext_noop

from accounts.models import Account
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform import redis_clients
from aiplatform.ai.errors import ProviderError
from aiplatform.errors import Conflict, InsufficientCredits, InvalidInput, NotFound, ServiceError
from billing.models import Reservation
from billing.services.ledger import Reference, wallet_debit
from billing.services.reservations import reservation_hold, reservation_release, reservation_settle
from billing.services.usage import usage_charge_add, usage_record

log = logging.getLogger("canvas.queue")

__all__ = [
    "JobStore", "JobTypeSpec", "JobContext", "JobResult", "JobFailed", "JobCancelled",
    "register_store", "register_job_type", "job_type", "store_for",
    "job_enqueue", "job_execute", "job_cancel", "job_retry", "job_status", "job_position", "jobs_sweep",
]  # fmt: skip


# --- stores: which table the jobs are rows of -------------------------------------------------


@dataclass(frozen=True)
class JobStore:
    """A table of jobs. The fields named here must exist; `progress`, `task_id`,
    `priority`, `user`, `estimated_credits`, `actual_credits` are used when the
    model has them. `waiting` are the statuses of a job that waits to run; the
    first is written when a job is (re)queued unless `retry_status` says
    otherwise for automatic retries. A store without a cancelled status cancels
    to `failed` with the message "Cancelled"."""

    name: str
    model_label: str
    data_field: str = "job_data"
    waiting: tuple[str, ...] = ("queued",)
    retry_status: str = "queued"
    processing: str = "processing"
    completed: str = "completed"
    failed: str = "failed"
    cancelled: str | None = "cancelled"
    reference_type: str = "processing_job"
    # Dotted path of a function(store, job) told of every change of a job's status or
    # progress, in the transaction that made it (e.g. to tell open boards after commit).
    announce: str = ""

    @cached_property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)

    @cached_property
    def _fields(self) -> frozenset[str]:
        return frozenset(f.name for f in self.model._meta.get_fields())

    def has(self, name: str) -> bool:
        return name in self._fields

    @cached_property
    def _announce(self) -> Callable[[JobStore, Any], None] | None:
        return import_string(self.announce) if self.announce else None

    def changed(self, job) -> None:
        if self._announce is not None:
            self._announce(self, job)

    @property
    def queued(self) -> str:
        return self.waiting[0]

    @property
    def finished(self) -> tuple[str, ...]:
        return tuple(s for s in (self.completed, self.failed, self.cancelled) if s)


_STORES: dict[str, JobStore] = {}


def register_store(store: JobStore) -> JobStore:
    _STORES[store.name] = store
    return store


CANVAS = register_store(
    JobStore(name="canvas", model_label="canvas.ProcessingJob", announce="canvas.services.board.board_job_changed")
)


def store_for(name: str) -> JobStore:
    try:
        return _STORES[name]
    except KeyError:
        raise NotFound(gettext("There is no job store '%(name)s'.") % {"name": name}) from None


# --- job types ---------------------------------------------------------------------------------


@dataclass
class JobResult:
    """What a handler returns. `credits`: the actual price (None: the estimate).
    `usage_record_id`: the billing usage record the handler's gateway call wrote
    (the charge is added to it); without one the queue records one usage row for
    the job (feature = the type's `feature`). `output` is kept in the job's data
    under "result"."""

    credits: Decimal | int | str | None = None
    usage_record_id: Any = None
    model: str = ""
    provider: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    provider_cost: Decimal | int | str = 0
    output: dict | None = None
    # Runs inside the transaction that completes the job (in the job's account context),
    # after the charge, with the amount charged: the handler's own row is finished with
    # the job, or not at all (credits ran out: the job fails and `on_fail` runs instead).
    finish: Callable[[Decimal], None] | None = None


class JobFailed(ServiceError):
    """A handler's failure with a message for the user. `retryable`: another
    attempt may succeed (the queue retries while attempts remain)."""

    code = "job_failed"

    def __init__(self, message: str, *, retryable: bool = False, **kwargs):
        super().__init__(message, **kwargs)
        self.retryable = retryable


class JobCancelled(Exception):
    """Raised by `ctx.progress()` when the job was cancelled meanwhile."""


Estimate = Callable[[dict], Any] | Decimal | int | str


@dataclass(frozen=True)
class JobTypeSpec:
    name: str
    handler: Callable[[JobContext], JobResult | None]
    store: str = "canvas"
    provider: str | None = None
    estimate: Estimate = 0
    feature: str = ""
    retry_on: tuple[type[BaseException], ...] = (ProviderError,)
    queue: str = "default"
    on_complete: Callable[[Any, Decimal, JobResult], None] | None = None
    on_fail: Callable[[Any, str], None] | None = None

    def estimate_for(self, data: dict) -> Decimal:
        value = self.estimate(data) if callable(self.estimate) else self.estimate
        return Decimal(str(value or 0))


_TYPES: dict[tuple[str, str], JobTypeSpec] = {}


def register_job_type(
    name: str,
    handler: Callable[[JobContext], JobResult | None],
    *,
    provider: str | None = None,
    estimate: Estimate = 0,
    store: str = "canvas",
    feature: str = "",
    retry_on: tuple[type[BaseException], ...] = (ProviderError,),
    queue: str = "default",
    on_complete: Callable[[Any, Decimal, JobResult], None] | None = None,
    on_fail: Callable[[Any, str], None] | None = None,
) -> JobTypeSpec:
    """Register (or replace) the handler of a job type in a store. `provider`
    names the concurrency pool (CANVAS_PROVIDER_CONCURRENCY); `estimate` is the
    credits held at enqueue (a number, or a function of the job's data);
    `feature` names the job in billing's usage records. Hooks run inside the
    transaction that finishes the job: `on_complete(row, charged, result)` after
    the charge (store the cost on your own row), `on_fail(row, message)` when the
    job fails or is cancelled (also by the sweep), so your row never stays
    "processing"."""
    spec = JobTypeSpec(
        name=name, handler=handler, store=store, provider=provider, estimate=estimate,
        feature=feature or name, retry_on=retry_on, queue=queue, on_complete=on_complete, on_fail=on_fail,
    )  # fmt: skip
    _TYPES[(store, name)] = spec
    return spec


_discovered = False


def _discover() -> None:
    """Import every installed app's `jobs` module once (where job types register)."""
    global _discovered
    if not _discovered:
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")
        _discovered = True


def job_type(name: str, *, store: str = "canvas") -> JobTypeSpec:
    _discover()
    spec = _TYPES.get((store, name))
    if spec is None:
        raise InvalidInput(
            gettext("'%(name)s' is not a job type that can run here.") % {"name": name},
            fields={"job_type": ["Unknown job type."]},
        )
    return spec


lookup_job_type = job_type  # for functions whose `job_type` argument shadows it


def _types_of_provider(store: str, provider: str | None) -> list[str]:
    _discover()
    return [spec.name for (s, _), spec in _TYPES.items() if s == store and spec.provider == provider]


# --- Redis: provider slots, heartbeats, dispatch marks -------------------------------------------


def redis_client() -> redis.Redis:
    """The process's cache client (aiplatform/redis_clients.py): slots, heartbeats, marks."""
    return redis_clients.client("cache")


# Returns 1 when the member holds a slot (already or now), 0 when the pool is full.
_ACQUIRE = """
local now, stale, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - stale)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= limit then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], stale + 1)
return 1
"""


@lru_cache(maxsize=4)
def _acquire_script(client: redis.Redis):
    """The slot script, registered once per client (not per call)."""
    return client.register_script(_ACQUIRE)


def _stale_seconds() -> int:
    return settings.CANVAS_JOB_HEARTBEAT_SECONDS * 3


def provider_limit(provider: str) -> int:
    return settings.CANVAS_PROVIDER_CONCURRENCY.get(provider, settings.CANVAS_DEFAULT_PROVIDER_CONCURRENCY)


def _slot_key(store: str, provider: str) -> str:
    return f"aip:jobs:slots:{store}:{provider}"


def _member(store: JobStore, job_id) -> str:
    return f"{store.name}:{job_id}"


def _hb_key(store: JobStore, job_id) -> str:
    return f"aip:jobs:hb:{store.name}:{job_id}"


def _sent_key(store: JobStore, job_id) -> str:
    return f"aip:jobs:sent:{store.name}:{job_id}"


def slot_acquire(store: JobStore, provider: str | None, job_id) -> bool:
    if not provider:
        return True
    got = _acquire_script(redis_client())(
        keys=[_slot_key(store.name, provider)],
        args=[time.time(), _stale_seconds(), provider_limit(provider), _member(store, job_id)],
    )
    return bool(got)


def slot_release(store: JobStore, provider: str | None, job_id) -> None:
    if provider:
        redis_client().zrem(_slot_key(store.name, provider), _member(store, job_id))


def slots_in_use(store: JobStore, provider: str) -> int:
    key = _slot_key(store.name, provider)
    client = redis_client()
    client.zremrangebyscore(key, "-inf", time.time() - _stale_seconds())
    return client.zcard(key)


class _Heartbeat:
    """Refreshes the job's heartbeat key (and its provider slot) while the handler runs."""

    def __init__(self, store: JobStore, provider: str | None, job_id):
        self.store, self.provider, self.job_id = store, provider, job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-heartbeat-{job_id}", daemon=True)

    def beat(self) -> None:
        client = redis_client()
        client.set(_hb_key(self.store, self.job_id), "1", ex=_stale_seconds())
        if self.provider:
            client.zadd(_slot_key(self.store.name, self.provider), {_member(self.store, self.job_id): time.time()})

    def _run(self) -> None:
        while not self._stop.wait(settings.CANVAS_JOB_HEARTBEAT_SECONDS):
            try:
                self.beat()
            except redis.RedisError:  # a blip: the next beat tries again
                log.warning("job %s: heartbeat failed", self.job_id)

    def __enter__(self):
        self.beat()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        redis_client().delete(_hb_key(self.store, self.job_id))


def heartbeat_alive(store: JobStore, job_id) -> bool:
    return bool(redis_client().exists(_hb_key(store, job_id)))


# --- the handler's view of its job --------------------------------------------------------------


@dataclass
class JobContext:
    job: models.Model
    spec: JobTypeSpec
    store: JobStore
    _last_progress: int = field(default=-1, repr=False)

    @property
    def data(self) -> dict:
        return getattr(self.job, self.store.data_field) or {}

    @property
    def account(self) -> Account:
        return self.job.account

    @property
    def user(self):
        return getattr(self.job, "user", None) if self.store.has("user") else None

    @property
    def reference(self) -> Reference:
        return Reference(self.store.reference_type, str(self.job.pk))

    def progress(self, percent: int) -> None:
        """Show progress (0-100) live; raises JobCancelled when the job was cancelled."""
        percent = max(0, min(100, int(percent)))
        values = {"updated_at": timezone.now()} if self.store.has("updated_at") else {}
        if self.store.has("progress"):
            values["progress"] = percent
        with account_context(self.job.account_id):
            changed = (
                self.store.model.objects.filter(pk=self.job.pk, status=self.store.processing).update(**values)
                if values
                else self.store.model.objects.filter(pk=self.job.pk, status=self.store.processing).count()
            )
        if not changed:
            raise JobCancelled()
        self._last_progress = percent
        if self.store.has("progress"):
            self.job.progress = percent
            self.store.changed(self.job)

    def cancelled(self) -> bool:
        with account_context(self.job.account_id):
            status = self.store.model.objects.filter(pk=self.job.pk).values_list("status", flat=True).first()
        return status != self.store.processing


# --- enqueue -------------------------------------------------------------------------------------


def _hold_ttl() -> timedelta:
    return timedelta(minutes=settings.CANVAS_JOB_HOLD_TTL_MINUTES)


def _hold(store: JobStore, job, amount: Decimal, actor) -> Reservation | None:
    if amount <= 0:
        return None
    return reservation_hold(
        account=job.account, amount=amount, actor=actor, ttl=_hold_ttl(),
        reference=Reference(store.reference_type, str(job.pk)),
    )  # fmt: skip


def _open_hold(store: JobStore, job) -> Reservation | None:
    return (
        Reservation.objects.filter(
            account_id=job.account_id,
            status=Reservation.Status.HELD,
            reference_type=store.reference_type,
            reference_id=str(job.pk),
        )  # fmt: skip
        .order_by("-created_at")
        .first()
    )


def _release_hold(store: JobStore, job) -> None:
    hold = _open_hold(store, job)
    if hold is not None:
        try:
            reservation_release(account=job.account, reservation_id=hold.pk)
        except Conflict:
            pass  # closed meanwhile (expiry sweep)


def job_enqueue(
    *,
    account: Account,
    job_type: str,
    data: dict,
    user=None,
    priority: int = 0,
    max_attempts: int = 3,
    scheduled_at=None,
    store: str = "canvas",
    **row_fields,
):
    """Create the job row and hold its estimated credits (402 and nothing stored
    when the account cannot cover them); the task is sent when the caller's
    transaction commits. Extra `row_fields` go to the row (builder stores)."""
    job_store = store_for(store)
    spec = job_type_spec = lookup_job_type(job_type, store=store)
    if not isinstance(data, dict):
        raise InvalidInput(gettext("Job data must be an object."), fields={"job_data": ["Must be a JSON object."]})
    if max_attempts < 1:
        raise InvalidInput(gettext("max_attempts must be at least 1."), fields={"max_attempts": ["At least 1."]})
    estimate = job_type_spec.estimate_for(data)
    values = {
        "account": account, "job_type": spec.name, job_store.data_field: data, "status": job_store.queued,
        "max_attempts": max_attempts, "scheduled_at": scheduled_at or timezone.now(), **row_fields,
    }  # fmt: skip
    if job_store.has("priority"):
        values["priority"] = priority
    if job_store.has("user"):
        values["user"] = user
    if job_store.has("estimated_credits"):
        values["estimated_credits"] = estimate
    with account_context(account.id):
        job = job_store.model.objects.create(**values)
        _hold(job_store, job, estimate, user)
        _send_on_commit(job_store, job)
        job_store.changed(job)
    return job


def _send_on_commit(store: JobStore, job) -> None:
    job_id, account_id = str(job.pk), str(job.account_id)
    due = job.scheduled_at if job.scheduled_at and job.scheduled_at > timezone.now() else None
    transaction.on_commit(lambda: _send(store, job_id, account_id, eta=due))


def _send(store: JobStore, job_id: str, account_id: str, *, eta=None) -> None:
    from canvas.tasks import job_run

    redis_client().set(_sent_key(store, job_id), "1", ex=max(120, _stale_seconds() * 4))
    job_run.apply_async(kwargs={"store": store.name, "job_id": job_id, "account_id": account_id}, eta=eta)


# --- the worker's side ---------------------------------------------------------------------------


def _related(store: JobStore) -> tuple[str, ...]:
    return ("account", "user") if store.has("user") else ("account",)


def _claim(store: JobStore, job, task_id: str):
    """queued -> processing (attempts + 1) of `job` as just read (with its account and
    user): one conditional UPDATE that also requires the attempts read, so the row in
    hand is the claimed one. None when the job is not waiting, has no attempts left or
    changed meanwhile."""
    now = timezone.now()
    values: dict[str, Any] = {"status": store.processing, "attempts": job.attempts + 1, "started_at": now}
    for name, value in (("task_id", task_id or ""), ("progress", 0), ("updated_at", now)):
        if store.has(name):
            values[name] = value
    claimed = store.model.objects.filter(
        pk=job.pk, status__in=store.waiting, attempts=job.attempts, attempts__lt=F("max_attempts"),
        scheduled_at__lte=now,
    ).update(**values)  # fmt: skip
    if not claimed:
        return None
    for name, value in values.items():
        setattr(job, name, value)
    store.changed(job)
    return job


def _take(store: JobStore, job, task_id: str) -> tuple[str, JobTypeSpec | None, Any]:
    """(outcome, spec, claimed job) for `job` as read in the caller's transaction: its
    provider slot taken and the row claimed, or why not. A failed claim gives the slot back."""
    if job is None:
        return "missing", None, None
    if job.status not in store.waiting:
        return "not_waiting", None, None
    try:
        spec = job_type(job.job_type, store=store.name)
    except InvalidInput:
        return "unknown_type", None, None
    if not slot_acquire(store, spec.provider, job.pk):
        return "waiting_for_slot", spec, None  # stays queued; the next finished job of this provider sends it
    try:
        claimed = _claim(store, job, task_id)
    except BaseException:
        slot_release(store, spec.provider, job.pk)
        raise
    return ("claimed" if claimed is not None else "not_claimed"), spec, claimed


def job_execute(*, store: str, job_id: str, account_id: str, task_id: str = "") -> str:
    """Run one job (the task's body). Safe to run twice or late: a job that is not
    waiting any more is left alone. Returns what happened (for logs and tests)."""
    job_store = store_for(store)
    redis_client().delete(_sent_key(job_store, job_id))
    rows = job_store.model.objects.select_related(*_related(job_store)).filter(pk=job_id)
    outcome, spec = "", None
    try:
        # One transaction reads the job (with its account and user) and claims it.
        with account_context(account_id):
            job = rows.first()
            dead = job is not None and job.status == job_store.processing and not heartbeat_alive(job_store, job_id)
            if not dead:
                outcome, spec, job = _take(job_store, job, task_id)
        if dead:
            # Redelivered after its worker died (acks_late): repair first, then run if requeued.
            _repair(job_store, job_id, account_id)
            with account_context(account_id):
                outcome, spec, job = _take(job_store, rows.first(), task_id)
        if outcome == "unknown_type":
            with account_context(account_id):
                job = rows.get()
            _finish_failed(job_store, job, gettext_noop("This kind of job cannot run here any more."), claimed=False)
            return outcome
        if outcome != "claimed":
            return outcome
        with _Heartbeat(job_store, spec.provider, job_id):
            return _run_handler(job_store, spec, job)
    finally:
        if outcome in ("claimed", "not_claimed"):  # the slot was ours
            slot_release(job_store, spec.provider, job_id)
            _send_next(job_store, spec.provider)


ERRORS = {
    "internal_error": gettext_noop("Something went wrong on our side. Nothing was charged; retry the job."),
    "credits_ran_out": gettext_noop(
        "Your account no longer had enough credits when the job finished. Nothing was charged; top up and "
        "retry the job."
    ),
    "worker_lost": gettext_noop(
        "The worker running this job stopped before it finished. Nothing was charged; retry the job."
    ),
}


def _run_handler(store: JobStore, spec: JobTypeSpec, job) -> str:
    ctx = JobContext(job=job, spec=spec, store=store)
    try:
        result = spec.handler(ctx) or JobResult()
    except JobCancelled:
        return "cancelled"
    except JobFailed as exc:
        return _after_error(store, job, exc.message, retryable=exc.retryable)
    except spec.retry_on as exc:
        message = getattr(exc, "message", str(exc)) or exc.__class__.__name__
        return _after_error(store, job, message, retryable=True)
    except ServiceError as exc:
        return _after_error(store, job, exc.message, retryable=False)
    except Exception:
        log.exception("job %s (%s) failed unexpectedly", job.pk, spec.name)
        return _after_error(store, job, ERRORS["internal_error"], retryable=False)
    return _finish_completed(store, spec, job, result)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=settings.CANVAS_JOB_RETRY_BACKOFF_SECONDS * 2 ** max(0, attempts - 1))


def _after_error(store: JobStore, job, message: str, *, retryable: bool) -> str:
    with account_context(job.account_id):
        row = store.model.objects.select_for_update().filter(pk=job.pk).first()
        if row is None or row.status != store.processing:
            return "cancelled"
        if retryable and row.attempts < row.max_attempts:
            row.status = store.retry_status
            row.scheduled_at = timezone.now() + _backoff(row.attempts)
            row.error_message = f"Attempt {row.attempts} of {row.max_attempts} failed: {message} It is retried."
            _save(store, row, ["status", "scheduled_at", "error_message"], progress=0)
            log.info("job %s: attempt %s failed, retry at %s", row.pk, row.attempts, row.scheduled_at)
            return "retry_scheduled"
    _finish_failed(store, job, message)
    return "failed"


def _save(store: JobStore, row, fields: list[str], *, progress: int | None = None) -> None:
    if progress is not None and store.has("progress"):
        row.progress = progress
        fields = [*fields, "progress"]
    if store.has("updated_at"):
        fields = [*fields, "updated_at"]
    row.save(update_fields=fields)
    store.changed(row)


def _finish_failed(store: JobStore, job, message: str, *, claimed: bool = True) -> None:
    """Failed: the hold is released (nothing charged) and the reason kept, in one transaction."""
    with account_context(job.account_id):
        row = store.model.objects.select_for_update().filter(pk=job.pk).first()
        allowed = (store.processing,) if claimed else (*store.waiting, store.processing)
        if row is None or row.status not in allowed:
            return
        _release_hold(store, row)
        row.status = store.failed
        row.error_message = message
        row.completed_at = timezone.now()
        _save(store, row, ["status", "error_message", "completed_at"])
        _hook_fail(store, row, message)
    log.info("job %s failed: %s", job.pk, message)


def _hook_fail(store: JobStore, row, message: str) -> None:
    spec = _TYPES.get((store.name, row.job_type))
    if spec is not None and spec.on_fail is not None:
        spec.on_fail(row, message)


def _charge(store: JobStore, job, price: Decimal, description: str):
    """Settle the hold with the price; if it was released meanwhile, debit directly
    (InsufficientCredits when the wallet cannot pay). Returns the amount charged."""
    hold = _open_hold(store, job)
    if hold is not None:
        tx = reservation_settle(account=job.account, reservation_id=hold.pk, actual=price, description=description)
        return -tx.amount if tx is not None else Decimal("0")
    if price <= 0:
        return Decimal("0")
    tx = wallet_debit(
        account=job.account, amount=price, actor=getattr(job, "user", None), description=description,
        reference=Reference(store.reference_type, str(job.pk)),
    )  # fmt: skip
    return -tx.amount


def _finish_completed(store: JobStore, spec: JobTypeSpec, job, result: JobResult) -> str:
    """Completed: charge, record usage, store the outcome, in one transaction."""
    with account_context(job.account_id):
        rows = store.model.objects.select_for_update(of=("self",)).select_related(*_related(store))
        row = rows.filter(pk=job.pk).first()
        if row is None or row.status != store.processing:
            return "cancelled"  # cancelled while running: its hold was released, nothing is charged
        estimate = getattr(row, "estimated_credits", Decimal("0")) or Decimal("0")
        price = Decimal(str(result.credits)) if result.credits is not None else estimate
        try:
            with transaction.atomic():
                charged = _charge(store, row, price, f"{spec.name} job {row.pk}")
                user = getattr(row, "user", None) if store.has("user") else None
                if result.usage_record_id is not None:
                    usage_charge_add(account=row.account, record_id=result.usage_record_id, credits=charged)
                else:
                    usage_record(
                        account=row.account, user=user, feature=spec.feature, model=result.model or spec.name,
                        provider=result.provider or spec.provider or "canvas", tokens_in=result.tokens_in,
                        tokens_out=result.tokens_out, provider_cost=result.provider_cost, credits=charged,
                        reference=Reference(store.reference_type, str(row.pk)), generation=True,
                    )  # fmt: skip
                if result.finish is not None:
                    result.finish(charged)
                if spec.on_complete is not None:
                    spec.on_complete(row, charged, result)
        except InsufficientCredits:
            charged = None
        if charged is not None:
            row.status = store.completed
            row.completed_at = timezone.now()
            row.error_message = ""
            fields = ["status", "completed_at", "error_message"]
            if store.has("actual_credits"):
                row.actual_credits = charged
                fields.append("actual_credits")
            if result.output is not None:
                data = dict(getattr(row, store.data_field) or {})
                data["result"] = result.output
                setattr(row, store.data_field, data)
                fields.append(store.data_field)
            _save(store, row, fields, progress=100)
            return "completed"
    _finish_failed(store, job, ERRORS["credits_ran_out"])
    return "failed"


def _send_next(store: JobStore, provider: str | None, *, limit: int | None = None) -> int:
    """A slot of `provider` freed: send the waiting jobs that come next (by priority, then time)."""
    if not provider:
        return 0
    free = provider_limit(provider) - slots_in_use(store, provider)
    if free <= 0:
        return 0
    types = _types_of_provider(store.name, provider)
    with rls_bypass("processing queue: the next jobs of a provider, across accounts"):
        order = ["-priority", "scheduled_at"] if store.has("priority") else ["scheduled_at"]
        due = list(
            store.model.objects.filter(
                status__in=store.waiting,
                job_type__in=types,
                scheduled_at__lte=timezone.now(),
                attempts__lt=F("max_attempts"),
            )  # fmt: skip
            .order_by(*order, "pk")
            .values_list("pk", "account_id")[: limit or free]
        )
    for job_id, account_id in due:
        _send(store, str(job_id), str(account_id))
    return len(due)


# --- cancel, retry -------------------------------------------------------------------------------


def _locked(store: JobStore, job):
    row = store.model.objects.select_for_update().filter(pk=job.pk, account_id=job.account_id).first()
    if row is None:
        raise NotFound(gettext("No such job in this account."))
    return row


def job_cancel(*, job, actor=None, store: str = "canvas"):
    """Cancel a waiting or running job: its hold is released (nothing charged)."""
    job_store = store_for(store)
    with account_context(job.account_id):
        row = _locked(job_store, job)
        if row.status not in (*job_store.waiting, job_store.processing):
            raise Conflict(
                gettext("This job is already %(status)s; only a waiting or running job can be cancelled.")
                % {"status": row.status},
                code="job_finished",
            )
        running = row.status == job_store.processing
        _release_hold(job_store, row)
        row.status = job_store.cancelled or job_store.failed
        row.error_message = gettext_noop("Cancelled.")
        row.completed_at = timezone.now()
        _save(job_store, row, ["status", "error_message", "completed_at"])
        _hook_fail(job_store, row, row.error_message)
    if running and job_store.has("task_id") and row.task_id:
        task_id = row.task_id
        transaction.on_commit(lambda: _revoke(task_id))
    return row


def _revoke(task_id: str) -> None:
    from aiplatform.celery import app

    try:
        app.control.revoke(task_id)
    except Exception:  # the broker is down: the handler still sees the cancel at its next progress
        log.warning("could not revoke task %s", task_id)


def job_retry(*, job, actor=None, store: str = "canvas"):
    """Queue a failed or cancelled job again, with all its attempts and a new hold
    (402 and nothing changes when the account cannot cover the estimate)."""
    job_store = store_for(store)
    with account_context(job.account_id):
        row = _locked(job_store, job)
        if row.status not in (job_store.failed, job_store.cancelled):
            raise Conflict(
                gettext("This job is %(status)s; only a failed or cancelled job can be retried.")
                % {"status": row.status},
                code="job_not_retryable",
            )
        spec = job_type(row.job_type, store=store)
        estimate = spec.estimate_for(getattr(row, job_store.data_field) or {})
        row.status = job_store.queued
        row.attempts = 0
        row.error_message = ""
        row.started_at = row.completed_at = None
        row.scheduled_at = timezone.now()
        fields = ["status", "attempts", "error_message", "started_at", "completed_at", "scheduled_at"]
        if job_store.has("estimated_credits"):
            row.estimated_credits, fields = estimate, [*fields, "estimated_credits"]
        if job_store.has("actual_credits"):
            row.actual_credits, fields = Decimal("0"), [*fields, "actual_credits"]
        _save(job_store, row, fields, progress=0)
        _hold(job_store, row, estimate, actor)
        _send_on_commit(job_store, row)
    return row


# --- status --------------------------------------------------------------------------------------


def job_position(job, *, store: str = "canvas") -> int | None:
    """1 for the next job to run among those waiting for the same provider (all
    accounts: only a count crosses tenants), None when the job is not waiting."""
    job_store = store_for(store)
    if job.status not in job_store.waiting:
        return None
    try:
        spec = job_type(job.job_type, store=store)
    except InvalidInput:
        return None
    types = _types_of_provider(store, spec.provider)
    earlier = Q(scheduled_at__lt=job.scheduled_at) | Q(scheduled_at=job.scheduled_at, pk__lt=job.pk)
    if job_store.has("priority"):
        earlier = Q(priority__gt=job.priority) | (Q(priority=job.priority) & earlier)
    with rls_bypass("processing queue: queue position (a count only)"):
        ahead = job_store.model.objects.filter(earlier, status__in=job_store.waiting, job_type__in=types).count()
    return ahead + 1


def job_status(job, *, store: str = "canvas") -> dict:
    """The live view of a job (the JSON the pages poll)."""
    job_store = store_for(store)
    finished = job.status in job_store.finished
    return {
        "id": str(job.pk),
        "job_type": job.job_type,
        "status": job.status,
        "progress": getattr(job, "progress", 100 if finished else 0),
        "position": job_position(job, store=store),
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "error_message": job.error_message,
        "estimated_credits": str(getattr(job, "estimated_credits", "0")),
        "actual_credits": str(getattr(job, "actual_credits", "0")),
        "scheduled_at": job.scheduled_at.isoformat() if job.scheduled_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "completed_at": job.completed_at.isoformat() if job.completed_at else None,
        "can_cancel": job.status in (*job_store.waiting, job_store.processing),
        "can_retry": job.status in (job_store.failed, job_store.cancelled),
    }


# --- the sweep -----------------------------------------------------------------------------------


def _repair(store: JobStore, job_id, account_id) -> str:
    """A processing job whose worker died: queued again while attempts remain, else failed."""
    with account_context(account_id):
        row = store.model.objects.select_for_update().select_related("account").filter(pk=job_id).first()
        if row is None or row.status != store.processing or heartbeat_alive(store, job_id):
            return "alive"
        try:
            provider = job_type(row.job_type, store=store.name).provider
        except InvalidInput:
            provider = None
        slot_release(store, provider, job_id)
        if row.attempts < row.max_attempts:
            row.status = store.retry_status
            row.scheduled_at = timezone.now()
            row.error_message = f"Attempt {row.attempts} of {row.max_attempts} stopped with its worker; it is retried."
            _save(store, row, ["status", "scheduled_at", "error_message"], progress=0)
            _send_on_commit(store, row)
            log.warning("job %s: worker lost, requeued", job_id)
            return "requeued"
    _finish_failed(store, row, ERRORS["worker_lost"])
    log.warning("job %s: worker lost on its last attempt, failed", job_id)
    return "failed"


def jobs_sweep(*, store: str = "canvas") -> dict:
    """Repair jobs whose worker died and send due jobs that no task carries (beat)."""
    job_store = store_for(store)
    grace = timezone.now() - timedelta(seconds=_stale_seconds())
    with rls_bypass("processing queue sweep: dead workers and due jobs, across accounts"):
        running = list(
            job_store.model.objects.filter(status=job_store.processing, started_at__lt=grace).values_list(
                "pk", "account_id"
            )
        )
        due = list(
            job_store.model.objects.filter(
                status__in=job_store.waiting, scheduled_at__lte=timezone.now(), attempts__lt=F("max_attempts")
            ).values_list("pk", "account_id")[:500]
        )
        exhausted = list(
            job_store.model.objects.filter(status__in=job_store.waiting, attempts__gte=F("max_attempts")).values_list(
                "pk", "account_id"
            )[:500]
        )
    counts = {"repaired": 0, "sent": 0, "exhausted": 0}
    for job_id, account_id in running:
        if not heartbeat_alive(job_store, job_id) and _repair(job_store, job_id, account_id) != "alive":
            counts["repaired"] += 1
    client = redis_client()
    for job_id, account_id in due:
        if not client.exists(_sent_key(job_store, job_id)):
            _send(job_store, str(job_id), str(account_id))
            counts["sent"] += 1
    for job_id, account_id in exhausted:
        with account_context(account_id):
            job = job_store.model.objects.select_related("account").filter(pk=job_id).first()
        if job is not None:
            _finish_failed(job_store, job, ERRORS["internal_error"], claimed=False)
            counts["exhausted"] += 1
    return counts


def new_task_id() -> str:
    return str(uuid.uuid4())
