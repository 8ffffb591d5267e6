"""Two members following at once cannot both take the plan's last creator slot
(real threads, real connections)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from accounts.models import Account, Membership
from accounts.tenancy.context import account_context
from aiplatform.errors import LimitReached
from canvas.models import AccountFollowedCreator
from canvas.services.creators import creator_follow
from tests.accounts.factories import tenant_setup
from tests.canvas.factories import CreatorFactory, FollowFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_follows_respect_the_creator_limit():
    # given account A allows 2 creators and follows 1
    t = tenant_setup()
    with account_context(t.a.id):
        Account.objects.filter(pk=t.a.pk).update(creator_limit=2)
    FollowFactory(account=t.a, creator=CreatorFactory())
    first, second = CreatorFactory(username="first"), CreatorFactory(username="second")
    first_in = threading.Event()
    outcomes: dict[str, str] = {}

    def follow(name, creator, user_id, hold: bool):
        try:
            if not hold:
                first_in.wait(timeout=10)
            with account_context(t.a.id):  # one transaction: the follow commits when the block ends
                account = Account.objects.get(pk=t.a.pk)
                actor = Membership.objects.select_related("user").get(account=account, user_id=user_id)
                creator_follow(account=account, actor=actor, creator=creator)
                if hold:
                    first_in.set()
                    time.sleep(1)  # the other follow starts while this one is not committed yet
            outcomes[name] = "followed"
        except LimitReached:
            outcomes[name] = "limit"
        finally:
            connection.close()

    # when alice follows (not committed yet) and bob follows another creator meanwhile
    threads = [
        threading.Thread(target=follow, args=("alice", first, t.alice.pk, True)),
        threading.Thread(target=follow, args=("bob", second, t.bob.pk, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then exactly one fits, and the account follows 2
    assert outcomes == {"alice": "followed", "bob": "limit"}
    with account_context(t.a.id):
        assert AccountFollowedCreator.objects.filter(account=t.a, is_active=True).count() == 2
