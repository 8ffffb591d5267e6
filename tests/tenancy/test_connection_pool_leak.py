"""Requests alternating between accounts on one reused connection, some of
them failing mid-request, never see a row of another account.

Runs with real commits (transactional) so each request is its own database
transaction, as in production. The first test keeps one connection between
requests (Django's test client); the others go through psycopg's pool the way
the ASGI server does: each request's sync code in a thread of its own that takes
a connection from the pool and gives it back at the end of the request, and a
pool one connection wide, so the next request (or the test) gets that same
physical connection."""

import asyncio
import itertools
import threading
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.core.handlers.asgi import ASGIHandler
from django.db import connection, connections
from django.test import Client

from accounts.services.api_keys import api_key_create
from accounts.tenancy.context import account_context
from accounts.tenancy.roles import as_owner

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


@pytest.fixture
def pooled():
    """psycopg's pool (production's settings), one connection wide; the suite's
    usual settings (no pool) again afterwards."""
    options = connection.settings_dict.setdefault("OPTIONS", {})
    saved = options.get("pool")
    connection.close()
    connection.close_pool()
    options["pool"] = {"min_size": 1, "max_size": 1, "timeout": 5}
    try:
        yield connection.pool
    finally:
        connection.close()
        connection.close_pool()
        if saved is None:
            del options["pool"]
        else:
            options["pool"] = saved


def asgi_get(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """One GET through Django's ASGI handler, as uvicorn calls it: request_started and
    request_finished fire, so the request's thread returns its connection to the pool."""
    parts = urlsplit(url)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": parts.path, "raw_path": parts.path.encode(), "query_string": parts.query.encode(), "root_path": "",
        "headers": [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in headers.items())],
        "client": ("127.0.0.1", 40000), "server": ("testserver", 80),
    }  # fmt: skip
    sent: list[dict] = []

    async def run() -> None:
        incoming = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive() -> dict:
            if incoming:
                return incoming.pop()
            await asyncio.Event().wait()  # the client never hangs up

        async def send(message: dict) -> None:
            sent.append(message)

        await ASGIHandler()(scope, receive, send)

    asyncio.run(run())
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def _pooled_connection_state() -> tuple[int, str, str, int]:
    """(backend pid, app.account_id, app.rls_bypass, memberships visible) of the connection
    the pool hands this thread now, given back afterwards."""
    try:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_backend_pid(), current_setting('app.account_id', true), "
                "current_setting('app.rls_bypass', true), (SELECT count(*) FROM accounts_membership)"
            )
            pid, account, bypass, visible = cur.fetchone()
        return pid, account or "", bypass or "", visible
    finally:
        connection.close()


def test_a_pooled_connection_handed_to_the_next_request_carries_no_tenant(keyed_tenants, settings, pooled):
    # given: accounts A and B, callers by API key and by session, one pooled connection
    tenants, keys = keyed_tenants
    settings.ROOT_URLCONF = "tests.tenancy.leak_urls"
    cookies = {}
    for account_id, user in ((tenants.a.id, tenants.alice), (tenants.b.id, tenants.carol)):
        browser = Client()
        browser.force_login(user)
        cookies[account_id] = (
            f"{django_settings.SESSION_COOKIE_NAME}={browser.cookies[django_settings.SESSION_COOKIE_NAME].value}"
        )
        connection.close()
    first_pid, *_ = _pooled_connection_state()
    stats_before = pooled.get_stats()
    outcomes = {"ok": 0, "failed": 0}

    for i, account_id in zip(range(24), itertools.cycle([tenants.a.id, tenants.b.id, tenants.b.id, tenants.a.id])):
        mode = ["", "raise", "sql", ""][i % 4]
        headers = {"authorization": f"Bearer {keys[account_id]}"} if i % 3 == 0 else {"cookie": cookies[account_id]}
        # when: a request of one tenant reads its rows (and may fail) in a thread of its own
        status, body = asgi_get(f"/__leak__/?mode={mode}", headers)
        if mode:
            assert status == 500
            outcomes["failed"] += 1
        else:
            assert (status, body) == (200, b'{"accounts": ["%s"]}' % str(account_id).encode())
            outcomes["ok"] += 1
        # then: the connection it gave back, the only one, carries no tenant and shows no row
        assert _pooled_connection_state() == (first_pid, "", "", 0), f"context leaked after request {i}"

    stats = pooled.get_stats()
    assert outcomes == {"ok": 12, "failed": 12}
    assert (stats_before["connections_num"], stats["connections_num"]) == (1, 1)  # one physical connection, ever
    assert stats["requests_num"] - stats_before["requests_num"] == 48  # every request and check took it from the pool
    assert (stats["pool_size"], stats["pool_available"]) == (1, 1)  # and gave it back


def test_a_connection_given_back_inside_a_transaction_is_rolled_back_by_the_pool(tenants, pooled):
    # given: a thread that set tenant A's context, and its connection is given back mid-transaction
    holder: dict[str, int] = {}

    def abandon() -> None:
        try:
            with account_context(tenants.a.id):  # its transaction is never committed nor rolled back here
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_backend_pid(), count(*) FROM accounts_membership")
                    holder["pid"], holder["seen"] = cur.fetchone()
                connection.close()  # given back mid-transaction, as by a thread that dies mid-request
        finally:
            connections.close_all()

    # when
    thread = threading.Thread(target=abandon)
    thread.start()
    thread.join(10)

    # then: it saw A's two members; the next holder of that connection sees nothing
    assert holder["seen"] == 2
    assert _pooled_connection_state() == (holder["pid"], "", "", 0)


def test_as_owner_switches_role_through_the_pool_and_back(transactional_db, pooled):
    # given: the pool made for the app role
    app_pool = connection.pool
    with connection.cursor() as cur:
        cur.execute("SELECT current_user")
        before = cur.fetchone()[0]

    # when
    with as_owner(connection):
        with connection.cursor() as cur:
            cur.execute("SELECT current_user")
            inside = cur.fetchone()[0]
        owner_pool = connection.pool
    with connection.cursor() as cur:
        cur.execute("SELECT current_user")
        after = cur.fetchone()[0]

    # then: the owner inside (a pool of its own), the app role again after (a new app pool)
    assert (before, inside, after) == (
        django_settings.DATABASE_APP_USER, django_settings.DATABASE_OWNER["USER"], django_settings.DATABASE_APP_USER,
    )  # fmt: skip
    assert app_pool.closed and owner_pool.closed
    assert connection.pool is not app_pool and connection.pool is not owner_pool
