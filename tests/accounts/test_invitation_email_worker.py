"""`accounts.tasks.invitation_send` in a real Celery worker.

The project's app runs an embedded worker (a thread of this process) against
the embedded Redis broker, with eager execution switched off for these tests
only. The worker reads the database over its own connection, so the data is
committed (transactional_db), and it mails into the same locmem outbox.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

import pytest
from celery import signals
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from accounts.models import Role
from accounts.models.access import token_digest
from accounts.services.invitations import invitation_create
from accounts.tasks import invitation_send
from accounts.tenancy.context import account_context
from aiplatform import celery_app
from tests.accounts.factories import InvitationFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 15  # seconds; a task normally completes in well under one


@dataclass(frozen=True)
class Finished:
    task_name: str
    state: str
    retval: object
    in_main_thread: bool


class TaskWatcher:
    """Collects `task_postrun` reports, which the worker sends after each task."""

    def __init__(self) -> None:
        self._done: dict[str, Finished] = {}
        self._cond = threading.Condition()

    def __call__(self, sender=None, task_id=None, state=None, retval=None, **kwargs) -> None:
        finished = Finished(sender.name, state, retval, threading.current_thread() is threading.main_thread())
        with self._cond:
            self._done[task_id] = finished
            self._cond.notify_all()

    def wait(self, task_id: str) -> Finished:
        with self._cond:
            assert self._cond.wait_for(lambda: task_id in self._done, TIMEOUT), f"task {task_id} did not finish"
            return self._done[task_id]

    def wait_for_name(self, task_name: str) -> Finished:
        def found():
            return next((f for f in self._done.values() if f.task_name == task_name), None)

        with self._cond:
            assert self._cond.wait_for(found, TIMEOUT), f"no {task_name} finished"
            return found()


@pytest.fixture
def worker():
    """A real worker on the project's app and broker; eager mode off for this test."""
    app = celery_app
    overrides = {"task_always_eager": False, "worker_hijack_root_logger": False}
    saved = {key: app.conf[key] for key in overrides}
    app.conf.update(overrides)
    # Left over by an interrupted run, a message would be run by this worker.
    app.control.purge()
    watcher = TaskWatcher()
    signals.task_postrun.connect(watcher, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
            yield watcher
    finally:
        signals.task_postrun.disconnect(watcher)
        app.conf.update(saved)


def invite(account, inviter, email: str) -> tuple[object, str]:
    raw = secrets.token_urlsafe(32)
    invitation = InvitationFactory(
        account=account, email=email, role=Role.MEMBER, token_hash=token_digest(raw), invited_by=inviter
    )
    return invitation, raw


def accept_url(raw: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/invitations/{raw}/"


def test_worker_sends_the_invitation_in_the_accounts_context(tenants, worker, mailoutbox):
    # given a pending invitation of A, whose row only A's context can see
    tenants.alice.full_name = "Alice Example"
    tenants.alice.save(update_fields=["full_name"])
    invitation, raw = invite(tenants.a, tenants.alice, "newbie@example.com")

    # when
    result = invitation_send.delay(account_id=str(tenants.a.id), invitation_id=str(invitation.id), token=raw)
    finished = worker.wait(result.id)

    # then the worker thread, not this one, ran it and sent exactly one mail
    assert finished == Finished("accounts.tasks.invitation_send", "SUCCESS", None, in_main_thread=False)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.subject == "[aiplatform] You are invited to Account A"
    assert mail.to == ["newbie@example.com"]
    assert mail.from_email == settings.DEFAULT_FROM_EMAIL
    assert 'Alice Example invited you to join "Account A" on aiplatform as member.' in mail.body
    assert f"Accept the invitation: {accept_url(raw)}\n" in mail.body


def test_worker_given_another_tenants_account_id_sends_nothing(tenants, worker, mailoutbox):
    # given a usable invitation of A
    invitation, raw = invite(tenants.a, tenants.alice, "newbie@example.com")

    # when the task is sent with B's id: row-level security hides A's invitation
    result = invitation_send.delay(account_id=str(tenants.b.id), invitation_id=str(invitation.id), token=raw)
    finished = worker.wait(result.id)

    # then it returns quietly and mails nobody
    assert finished == Finished("accounts.tasks.invitation_send", "SUCCESS", None, in_main_thread=False)
    assert mailoutbox == []


def test_invitation_create_enqueues_the_mail_after_commit(tenants, worker, mailoutbox):
    # given alice, owner of A

    # when she invites through the service (in A's context, as a request runs it),
    # which enqueues the mail on commit
    with account_context(tenants.a.id):
        _, raw = invitation_create(account=tenants.a, actor=tenants.alice_membership, email="Newbie@Example.com")
    finished = worker.wait_for_name("accounts.tasks.invitation_send")

    # then the worker already saw the committed invitation and mailed its link
    assert (finished.state, finished.in_main_thread) == ("SUCCESS", False)
    assert [(m.to, m.subject) for m in mailoutbox] == [
        (["newbie@example.com"], "[aiplatform] You are invited to Account A")
    ]
    assert accept_url(raw) in mailoutbox[0].body
