"""The account events websocket (`ws/account/`) through the real ASGI stack.

The full `aiplatform.asgi.application` runs (origin check, cookie + session +
auth middleware, router, consumer); sessions come from the real session engine
and events travel over the channels_redis pub/sub layer on the embedded Redis.
The ORM is used from async code, so the data must be committed: transactional.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client

from accounts.models import Role
from accounts.services.invitations import invitation_accept
from accounts.tenancy.middleware import SESSION_KEY
from aiplatform.asgi import application
from tests.accounts.factories import InvitationFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

PATH = "/ws/account/"
ORIGIN = (b"origin", b"http://testserver")
TIMEOUT = 5  # seconds; generous, each step normally takes milliseconds
QUIET = 0.5  # how long "nothing arrives" is watched for


@database_sync_to_async
def session_cookie(user, active_account_id=None) -> bytes:
    """Sign `user` in through Django's test client; return the `Cookie` header value."""
    client = Client()
    client.force_login(user)
    if active_account_id is not None:
        session = client.session
        session[SESSION_KEY] = str(active_account_id)
        session.save()
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def communicator(cookie: bytes | None = None) -> WebsocketCommunicator:
    headers = [ORIGIN] + ([(b"cookie", cookie)] if cookie else [])
    return WebsocketCommunicator(application, PATH, headers=headers)


async def open_socket(cookie: bytes) -> tuple[WebsocketCommunicator, dict]:
    """Connect and return the socket with its hello frame."""
    socket = communicator(cookie)
    connected, code = await socket.connect(timeout=TIMEOUT)
    assert (connected, code) == (True, None)
    return socket, await socket.receive_json_from(timeout=TIMEOUT)


@pytest.fixture
def dave_invited(tenants):
    """dave has an account on the platform and a pending invitation to A."""
    dave = UserFactory(email="dave@example.com")
    invitation = InvitationFactory(
        account=tenants.a, email="dave@example.com", role=Role.MEMBER, invited_by=tenants.alice
    )
    return dave, invitation


@database_sync_to_async
def accept(invitation, user, *, roll_back: bool = False):
    with transaction.atomic():
        membership = invitation_accept(invitation=invitation, user=user)
        transaction.set_rollback(roll_back)
    return membership


@pytest.mark.parametrize("cookie", [None, f"{settings.SESSION_COOKIE_NAME}=forged-session-key".encode()])
async def test_anonymous_connection_is_closed_with_4401(cookie):
    # given no session, or a session key the server never issued
    socket = communicator(cookie)

    # when
    connected, code = await socket.connect(timeout=TIMEOUT)

    # then
    assert (connected, code) == (False, 4401)


async def test_connection_without_origin_is_refused(tenants):
    # given a signed-in member whose browser sends no Origin (not a page of ours)
    cookie = await session_cookie(tenants.alice)
    socket = WebsocketCommunicator(application, PATH, headers=[(b"cookie", cookie)])

    # when
    connected, _ = await socket.connect(timeout=TIMEOUT)

    # then
    assert connected is False


async def test_member_receives_hello_with_the_active_account(tenants):
    # given bob, a plain member of account A
    cookie = await session_cookie(tenants.bob)

    # when
    socket, hello = await open_socket(cookie)

    # then
    assert hello == {"type": "hello", "account_id": str(tenants.a.id), "role": "member"}
    await socket.disconnect()


async def test_hello_follows_the_account_chosen_in_the_session(tenants):
    # given carol, owner of B, also a viewer of A, who switched to A
    await database_sync_to_async(MembershipFactory)(account=tenants.a, user=tenants.carol, role=Role.VIEWER)
    cookie = await session_cookie(tenants.carol, active_account_id=tenants.a.id)

    # when
    socket, hello = await open_socket(cookie)

    # then
    assert hello == {"type": "hello", "account_id": str(tenants.a.id), "role": "viewer"}
    await socket.disconnect()


async def test_session_naming_a_foreign_account_falls_back_to_the_users_own(tenants):
    # given alice's session points at B, where she is not a member
    cookie = await session_cookie(tenants.alice, active_account_id=tenants.b.id)

    # when
    socket, hello = await open_socket(cookie)

    # then she is joined to her own account, never B's group
    assert hello == {"type": "hello", "account_id": str(tenants.a.id), "role": "owner"}
    await socket.disconnect()


async def test_member_joined_reaches_that_accounts_members_only(tenants, dave_invited):
    # given bob listening on A, carol (owner of B) listening on B, and dave invited to A
    dave, invitation = dave_invited
    bob_socket, bob_hello = await open_socket(await session_cookie(tenants.bob))
    carol_socket, carol_hello = await open_socket(await session_cookie(tenants.carol))
    assert (bob_hello["account_id"], carol_hello["account_id"]) == (str(tenants.a.id), str(tenants.b.id))

    # when dave accepts
    await accept(invitation, dave)

    # then A's member hears it, B's owner hears nothing
    assert await bob_socket.receive_json_from(timeout=TIMEOUT) == {
        "type": "event",
        "event": "member_joined",
        "data": {"email": "dave@example.com", "role": "member"},
    }
    assert await carol_socket.receive_nothing(timeout=QUIET)
    assert await bob_socket.receive_nothing(timeout=QUIET)
    await bob_socket.disconnect()
    await carol_socket.disconnect()


async def test_rolled_back_acceptance_publishes_nothing(tenants, dave_invited):
    # given bob listening on A, and dave invited to A
    dave, invitation = dave_invited
    bob_socket, _ = await open_socket(await session_cookie(tenants.bob))

    # when dave's acceptance is rolled back by an enclosing transaction
    await accept(invitation, dave, roll_back=True)

    # then the event, scheduled on commit, is never sent
    assert await bob_socket.receive_nothing(timeout=QUIET)
    await bob_socket.disconnect()
