"""The processing queue: a job is a row mirrored from its Celery task; credits are
held at enqueue, settled on success and released on failure or cancel; provider
concurrency is enforced in Redis; a job whose worker died is repaired by the sweep."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from accounts.tenancy.context import account_context
from aiplatform.ai.errors import ProviderError
from billing.models import Reservation, UsageRecord, Wallet
from canvas.models import JobStatus, ProcessingJob
from canvas.services import queue as q
from tests.billing.factories import fund

D = Decimal


@pytest.fixture
def job_types():
    """Register test handlers under the seed's job types; restore the registry after."""
    q._discover()
    saved = dict(q._TYPES)
    yield q.register_job_type
    q._TYPES.clear()
    q._TYPES.update(saved)


@pytest.fixture
def slots():
    """Provider slots and heartbeats live in Redis: start each test with none."""
    client = q.redis_client()
    for key in client.scan_iter("aip:jobs:*"):
        client.delete(key)
    yield
    for key in client.scan_iter("aip:jobs:*"):
        client.delete(key)


def _wallet(account) -> tuple[Decimal, Decimal]:
    with account_context(account.id):
        w = Wallet.objects.get(account=account)
    return w.balance, w.reserved


def _job(job) -> ProcessingJob:
    with account_context(job.account_id):
        return ProcessingJob.objects.get(pk=job.pk)


def _holds(job) -> list[str]:
    with account_context(job.account_id):
        return list(
            Reservation.objects.filter(reference_type="processing_job", reference_id=str(job.pk)).values_list(
                "status", flat=True
            )
        )


def _enqueue(account, user, job_type="file_processing", **kwargs):
    return q.job_enqueue(account=account, user=user, job_type=job_type, data=kwargs.pop("data", {"n": 1}), **kwargs)


@pytest.mark.django_db
def test_job_holds_its_estimate_and_settles_the_actual_price(
    tenants, job_types, slots, django_capture_on_commit_callbacks
):
    seen = []

    def handler(ctx):
        seen.append((_wallet(ctx.account), ctx.data))
        ctx.progress(50)
        return q.JobResult(credits="3", model="test-model", provider="test", output={"ok": True})

    job_types("file_processing", handler, estimate=5)
    fund(tenants.a, "20")
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(tenants.a, tenants.alice)

    assert seen == [((D("20"), D("5")), {"n": 1})]  # held while running
    row = _job(job)
    assert row.status == JobStatus.COMPLETED and row.progress == 100 and row.attempts == 1
    assert row.estimated_credits == D("5") and row.actual_credits == D("3")
    assert row.job_data["result"] == {"ok": True} and row.task_id
    assert _wallet(tenants.a) == (D("17"), D("0"))
    assert _holds(job) == [Reservation.Status.SETTLED]
    with account_context(tenants.a.id):
        usage = UsageRecord.objects.get(reference_type="processing_job", reference_id=str(job.pk))
    assert (usage.feature, usage.credits, usage.model) == ("file_processing", D("3"), "test-model")


@pytest.mark.django_db
def test_enqueue_past_the_balance_is_402_and_stores_nothing(tenants, job_types, slots):
    from aiplatform.errors import InsufficientCredits

    job_types("file_processing", lambda ctx: None, estimate=50)
    fund(tenants.a, "10")
    with pytest.raises(InsufficientCredits):
        _enqueue(tenants.a, tenants.alice)
    with account_context(tenants.a.id):
        assert not ProcessingJob.objects.exists()
    assert _wallet(tenants.a) == (D("10"), D("0"))


@pytest.mark.django_db
def test_unknown_job_type_is_a_clear_error(tenants, slots):
    from aiplatform.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        _enqueue(tenants.a, tenants.alice, job_type="nonsense")
    assert err.value.fields == {"job_type": ["Unknown job type."]}


@pytest.mark.django_db
def test_provider_failure_retries_then_fails_with_the_credits_released(
    tenants, job_types, slots, django_capture_on_commit_callbacks
):
    calls = []

    def handler(ctx):
        calls.append(_wallet(ctx.account))
        raise ProviderError("upstream said 500")

    job_types("file_processing", handler, estimate=4, provider="flaky")
    fund(tenants.a, "10")
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(tenants.a, tenants.alice, max_attempts=2)
    row = _job(job)
    assert row.status == JobStatus.QUEUED and row.attempts == 1
    assert "Attempt 1 of 2 failed: upstream said 500" in row.error_message
    assert row.scheduled_at > timezone.now()  # backoff
    assert _holds(job) == [Reservation.Status.HELD]  # still held for the next attempt
    # Not due yet: a late task leaves it alone.
    assert q.job_execute(store="canvas", job_id=str(job.pk), account_id=str(job.account_id)) == "not_claimed"

    with account_context(tenants.a.id):
        ProcessingJob.objects.filter(pk=job.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert q.jobs_sweep()["sent"] == 1  # the sweep sends the due job again (eager: it runs)
    row = _job(job)
    assert row.status == JobStatus.FAILED and row.attempts == 2 and row.error_message == "upstream said 500"
    assert calls == [(D("10"), D("4"))] * 2
    assert _wallet(tenants.a) == (D("10"), D("0"))  # never charged for nothing
    assert _holds(job) == [Reservation.Status.RELEASED]


@pytest.mark.django_db
def test_a_handler_failure_with_a_message_fails_at_once(tenants, job_types, slots, django_capture_on_commit_callbacks):
    def handler(ctx):
        raise q.JobFailed("The file is not a video.")

    job_types("file_processing", handler, estimate=2)
    fund(tenants.a, "10")
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(tenants.a, tenants.alice)
    row = _job(job)
    assert (row.status, row.attempts, row.error_message) == (JobStatus.FAILED, 1, "The file is not a video.")
    assert _wallet(tenants.a) == (D("10"), D("0"))


@pytest.mark.django_db
def test_provider_concurrency_limit_holds_the_next_job_until_a_slot_frees(
    tenants, job_types, slots, settings, django_capture_on_commit_callbacks
):
    settings.CANVAS_PROVIDER_CONCURRENCY = {"elevenlabs": 1}
    order, inner = [], {}

    def handler(ctx):
        order.append(ctx.data["n"])
        if ctx.data["n"] == 1:
            # While job 1 holds the only slot, job 2's task finds the pool full.
            inner["second"] = q.job_execute(store="canvas", job_id=inner["id"], account_id=str(ctx.account.id))
            inner["second_row"] = _job(ctx.job.__class__(pk=inner["id"], account_id=ctx.account.id))
        return q.JobResult(credits=0)

    job_types("voice_generation", handler, provider="elevenlabs")
    first = _enqueue(tenants.a, tenants.alice, job_type="voice_generation", data={"n": 1})
    second = _enqueue(tenants.a, tenants.alice, job_type="voice_generation", data={"n": 2})
    inner["id"] = str(second.pk)
    assert q.job_position(_job(second)) == 2
    q.job_execute(store="canvas", job_id=str(first.pk), account_id=str(tenants.a.id))

    assert inner["second"] == "waiting_for_slot"
    assert inner["second_row"].status == JobStatus.QUEUED and inner["second_row"].attempts == 0
    # When job 1 finished, its slot went to job 2 (eager Celery runs it at once).
    assert order == [1, 2]
    assert _job(first).status == _job(second).status == JobStatus.COMPLETED
    assert q.slots_in_use(q.CANVAS, "elevenlabs") == 0


@pytest.mark.django_db
def test_queue_position_follows_priority_then_time(tenants, job_types, slots):
    job_types("script_generation", lambda ctx: None, provider="gateway")
    low = _enqueue(tenants.a, tenants.alice, job_type="script_generation")
    other = _enqueue(tenants.b, tenants.carol, job_type="script_generation")  # another account counts (as a number)
    high = _enqueue(tenants.a, tenants.alice, job_type="script_generation", priority=5)
    assert [q.job_position(_job(j)) for j in (high, low, other)] == [1, 2, 3]
    status = q.job_status(_job(low))
    assert status["position"] == 2 and status["can_cancel"] and not status["can_retry"]


@pytest.mark.django_db
def test_cancel_releases_the_hold_and_retry_holds_again(tenants, job_types, slots, django_capture_on_commit_callbacks):
    from aiplatform.errors import Conflict

    job_types("file_processing", lambda ctx: q.JobResult(credits=2), estimate=3)
    fund(tenants.a, "10")
    job = _enqueue(tenants.a, tenants.alice)  # not committed: no task ran
    assert _wallet(tenants.a) == (D("10"), D("3"))
    q.job_cancel(job=job, actor=tenants.alice)
    assert _job(job).status == JobStatus.CANCELLED
    assert _wallet(tenants.a) == (D("10"), D("0"))
    with pytest.raises(Conflict):
        q.job_cancel(job=job)
    # A late task of a cancelled job does nothing.
    assert q.job_execute(store="canvas", job_id=str(job.pk), account_id=str(tenants.a.id)) == "not_waiting"

    with django_capture_on_commit_callbacks(execute=True):
        q.job_retry(job=job, actor=tenants.alice)
    row = _job(job)
    assert row.status == JobStatus.COMPLETED and row.actual_credits == D("2") and row.attempts == 1
    assert _wallet(tenants.a) == (D("8"), D("0"))
    assert sorted(_holds(job)) == [Reservation.Status.RELEASED, Reservation.Status.SETTLED]
    with pytest.raises(Conflict):
        q.job_retry(job=job)


@pytest.mark.django_db
def test_cancel_while_running_drops_the_result_and_charges_nothing(
    tenants, job_types, slots, django_capture_on_commit_callbacks
):
    def handler(ctx):
        q.job_cancel(job=ctx.job)  # the user presses cancel meanwhile
        ctx.progress(40)  # the handler's next progress call stops it
        raise AssertionError("not reached")

    job_types("file_processing", handler, estimate=3)
    fund(tenants.a, "10")
    with django_capture_on_commit_callbacks(execute=True):
        job = _enqueue(tenants.a, tenants.alice)
    assert _job(job).status == JobStatus.CANCELLED
    assert _wallet(tenants.a) == (D("10"), D("0"))


# --- a worker killed mid-job -----------------------------------------------------------------------


def _blocking_handler(ctx):
    ctx.progress(10)
    time.sleep(60)  # killed long before this returns


def _run_in_child(job, *, heartbeat_seconds: int) -> int:
    """Run the job's task in a forked worker process; returns its pid."""
    connections.close_all()
    pid = os.fork()
    if pid == 0:  # the child: a worker
        try:
            from django.conf import settings

            settings.CANVAS_JOB_HEARTBEAT_SECONDS = heartbeat_seconds
            q._acquire_script.cache_clear()
            q.job_execute(store="canvas", job_id=str(job.pk), account_id=str(job.account_id))
        finally:
            os._exit(0)
    return pid


def _wait_for(predicate, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.django_db(transaction=True)
def test_killed_worker_is_repaired_by_the_sweep_and_its_credits_stay_right(
    tenants, job_types, slots, settings, monkeypatch
):
    sent = []  # the sweep's sends are recorded here, not run in this process
    monkeypatch.setattr(q, "_send", lambda store, job_id, account_id, eta=None: sent.append(job_id))
    settings.CANVAS_JOB_HEARTBEAT_SECONDS = 1  # dead after 3 s without a beat
    settings.CANVAS_PROVIDER_CONCURRENCY = {"heygen": 1}
    job_types("avatar_generation", _blocking_handler, estimate=6, provider="heygen")
    fund(tenants.a, "10")
    job = _enqueue(tenants.a, tenants.alice, job_type="avatar_generation", max_attempts=2)
    assert sent == [str(job.pk)]  # enqueue sends it on commit; the forked worker below runs it
    sent.clear()

    # Attempt 1: the worker is killed (SIGKILL) while the handler runs.
    pid = _run_in_child(job, heartbeat_seconds=1)
    assert _wait_for(lambda: _job(job).progress == 10)
    assert q.slots_in_use(q.CANVAS, "heygen") == 1
    assert q.jobs_sweep()["repaired"] == 0  # alive: its heartbeat beats
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert _job(job).status == JobStatus.PROCESSING  # what a dead worker leaves behind

    time.sleep(3.5)
    # Attempts remain: queued again and sent to a worker, the hold kept.
    assert q.jobs_sweep()["repaired"] == 1
    assert sent == [str(job.pk)]
    row = _job(job)
    assert (row.status, row.attempts) == (JobStatus.QUEUED, 1)
    assert "stopped with its worker" in row.error_message
    assert _wallet(tenants.a) == (D("10"), D("6"))
    assert q.slots_in_use(q.CANVAS, "heygen") == 0  # the dead worker's slot is free again

    # Attempt 2 (the last) is killed too: the job fails and the hold is released.
    pid = _run_in_child(job, heartbeat_seconds=1)
    assert _wait_for(lambda: _job(job).attempts == 2 and _job(job).progress == 10)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    time.sleep(3.5)
    assert q.jobs_sweep()["repaired"] == 1
    row = _job(job)
    assert row.status == JobStatus.FAILED and "worker running this job stopped" in row.error_message
    assert _wallet(tenants.a) == (D("10"), D("0"))  # held then released: never charged for nothing
    assert _holds(job) == [Reservation.Status.RELEASED]
