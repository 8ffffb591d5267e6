"""Requests alternating between accounts on one reused connection, some of
them failing mid-request, never see a row of another account.

Runs with real commits (transactional) so each request is its own database
transaction, as in production; the connection is kept between requests."""

import itertools

import pytest
from django.db import connection
from django.test import Client

from accounts.services.api_keys import api_key_create
from accounts.tenancy.context import account_context

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def keyed_tenants(tenants):
    keys = {}
    for account, membership in ((tenants.a, tenants.alice_membership), (tenants.b, tenants.carol_membership)):
        with account_context(account.id):
            _, raw = api_key_create(account=account, actor=membership, name="leak test")
        keys[account.id] = raw
    return tenants, keys


def test_alternating_and_failing_requests_never_see_foreign_rows(keyed_tenants, settings):
    tenants, keys = keyed_tenants
    settings.ROOT_URLCONF = "tests.tenancy.leak_urls"
    client = Client(raise_request_exception=False)
    sessions = {
        tenants.a.id: Client(raise_request_exception=False),
        tenants.b.id: Client(raise_request_exception=False),
    }
    sessions[tenants.a.id].force_login(tenants.alice)
    sessions[tenants.b.id].force_login(tenants.carol)
    backend_pids = set()
    outcomes = {"ok": 0, "failed": 0}

    for i, account_id in zip(range(120), itertools.cycle([tenants.a.id, tenants.b.id, tenants.b.id, tenants.a.id])):
        mode = ["", "raise", "sql", ""][i % 4]
        by_key = i % 3 == 0
        caller = client if by_key else sessions[account_id]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {keys[account_id]}"} if by_key else {}
        # when: a tenant page, then a request that reads and may fail
        members = caller.get("/api/v1/members/", **headers)
        assert members.status_code == 200
        ids = {m["user"]["email"] for m in members.json()["results"]}
        own = {tenants.alice.email, tenants.bob.email} if account_id == tenants.a.id else {tenants.carol.email}
        assert ids == own, f"request {i} for {account_id} saw {ids}"
        response = caller.get(f"/__leak__/?mode={mode}", **headers)
        if mode:
            assert response.status_code == 500
            outcomes["failed"] += 1
        else:
            assert response.json() == {"accounts": [str(account_id)]}
            outcomes["ok"] += 1
        backend_pids.add(connection.connection.info.backend_pid if connection.connection else None)
        # then: between requests the reused connection carries no tenant at all
        with connection.cursor() as cur:
            cur.execute("SELECT current_setting('app.account_id', true), count(*) FROM accounts_membership")
            setting, visible = cur.fetchone()
        assert (setting or "", visible) == ("", 0), f"context leaked after request {i}"

    assert outcomes == {"ok": 60, "failed": 60}
    assert len(backend_pids) == 1  # one physical connection served every request
