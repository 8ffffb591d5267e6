"""Alice asks a persona in Chromium, watches the answer stream (rendered as
Markdown) in two tabs, and stops it.

Websockets need an ASGI server, so instead of pytest-django's WSGI live server
the project's ASGI application runs under uvicorn in a thread of this process
(it reads the same test database), with the loopback model server as the
provider. No ORM while the browser is open: see `chromium()`.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from decimal import Decimal

import pytest
import uvicorn
from django.db import connection
from django.test import Client
from playwright.sync_api import expect

from accounts.tenancy.context import account_context
from chats.models import Message
from tests.billing.factories import fund
from tests.browser.chromium import chromium
from tests.chats.factories import ChatSessionFactory
from tests.personas.factories import PersonaFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 10_000
QUESTION = "Plan lane 4 for next week"
ANSWER = "**Plan** for lane 4: " + " ".join(f"step{i}" for i in range(1, 200))


@pytest.fixture
def asgi_server():
    """The project's ASGI app (HTTP + websockets) under uvicorn, on a free port."""
    from aiplatform.asgi import application

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, log_level="warning", lifespan="off", ws="websockets-sansio"))
    started = threading.Event()

    def run() -> None:
        async def serve() -> None:
            serving = asyncio.ensure_future(server.serve(sockets=[sock]))
            while not server.started and not serving.done():
                await asyncio.sleep(0.01)
            started.set()
            await serving

        asyncio.run(serve())

    thread = threading.Thread(target=run, name="asgi-test-server", daemon=True)
    thread.start()
    assert started.wait(10), "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    # The server's threads may leave a database connection behind (an executor thread
    # ends with its context); the test database cannot be dropped while one is open.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def test_an_answer_streams_in_two_tabs_and_stops(asgi_server, tenants, chat_model, model_server, settings):
    # given alice, 100 credits, a persona on the loopback model (a word every 40 ms), and a chat
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    fund(tenants.a, "100")
    persona = PersonaFactory(account=tenants.a, created_by=tenants.alice, name="Ada", role_title="Freight analyst",
                             model_config={"model": "test-model", "max_tokens": 400})  # fmt: skip
    chat = ChatSessionFactory(account=tenants.a, user=tenants.alice, persona=persona)
    model_server.reply(ANSWER)
    model_server.slow(token_delay=0.04)
    client = Client()
    client.force_login(tenants.alice)
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
              "url": asgi_server}  # fmt: skip
    url = f"{asgi_server}/chats/{chat.pk}/"

    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        context.add_cookies([cookie])
        page, other_tab = context.new_page(), context.new_page()
        page.goto(url)
        other_tab.goto(url)
        expect(other_tab.get_by_test_id("chat-status")).to_have_text("")
        expect(page.get_by_test_id("chat-alert")).to_be_hidden()

        # when she asks
        page.locator("#chat-input").fill(QUESTION)
        page.get_by_role("button", name="Send").click()

        # then her message shows, and the answer streams in as Markdown, word after word
        messages = page.get_by_test_id("chat-messages")
        expect(messages.locator(".chat-msg.from-user .chat-body")).to_have_text(QUESTION)
        answer = messages.locator(".chat-msg.from-bot")
        expect(answer).to_have_attribute("data-status", "streaming")
        expect(answer.locator("strong")).to_have_text("Plan")
        expect(answer.locator(".chat-body")).to_contain_text("step3")
        seen = int(re.findall(r"step(\d+)", answer.locator(".chat-body").inner_text())[-1])
        expect(answer.locator(".chat-body")).to_contain_text(f"step{seen + 3}")
        # and the other tab sees the same answer growing
        other_answer = other_tab.get_by_test_id("chat-messages").locator(".chat-msg.from-bot")
        expect(other_answer.locator(".chat-body")).to_contain_text(f"step{seen + 5}")

        # when she stops it
        page.get_by_role("button", name="Stop").click()

        # then the answer ends stopped, keeps what was written, and shows its cost, in both tabs
        expect(answer).to_have_attribute("data-status", "stopped")
        expect(other_answer).to_have_attribute("data-status", "stopped")
        cost = answer.locator(".chat-cost").inner_text()
        shown = answer.locator(".chat-body").inner_text()
        expect(other_answer.locator(".chat-body")).to_have_text(shown)
        expect(page.get_by_role("button", name="Stop")).to_be_hidden()
        expect(page.get_by_test_id("chat-title")).to_have_text(QUESTION)

    # and what is stored is the stopped answer the page showed, charged as shown
    with account_context(tenants.a.id):
        stored = Message.objects.get(session=chat, sender="bot")
    assert stored.status == "stopped"
    assert stored.content.replace("**", "").strip() == shown.strip()
    assert "step199" not in stored.content
    assert stored.credits_charged > Decimal("0")
    assert cost == f"Stopped · {stored.credits_charged:.4f} credits · {stored.tokens_in + stored.tokens_out} tokens"
