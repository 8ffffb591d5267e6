"""Two people on one board in Chromium: alice drags a folder and connects it to a
chat node; bob, in another browser context, sees the folder move, the connection
appear and alice's cursor, and a reload shows what was saved. A move made on an
old version is refused and rolled back with a message; a viewer cannot move.

The project's ASGI application runs under uvicorn in a thread (the `asgi_server`
fixture of the chat streaming test), so the board's websocket is the real one.
No ORM while the browser is open: see `chromium()`.
"""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from playwright.sync_api import expect

from accounts.models import Role
from accounts.tenancy.context import account_context
from canvas.models import CanvasConnection, CanvasFolder, CanvasFolderItem, ContentPiece, ProjectPermission
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.browser.chromium import chromium
from tests.browser.test_chat_streaming import asgi_server  # noqa: F401  (the live ASGI server fixture)
from tests.canvas.factories import (
    ChatInterfaceFactory,
    CollaboratorFactory,
    ContentPieceFactory,
    FolderFactory,
    ProjectFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TIMEOUT_MS = 10_000
TRANSLATE = re.compile(r"translate\(\s*(-?[\d.]+)px,\s*(-?[\d.]+)px\)")


def _cookie(settings, user, url) -> dict:
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }


def _position(node) -> tuple[float, float]:
    match = TRANSLATE.search(node.get_attribute("style") or "")
    assert match, node.get_attribute("style")
    return float(match.group(1)), float(match.group(2))


def test_a_move_and_a_connection_by_one_user_appear_on_the_other_board(asgi_server, tenants, settings):  # noqa: F811
    # given alice (owner) and bob (editor) on project P: a folder at (80, 80), a chat node at (560, 60)
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice, title="Launch board",
                             canvas_data={"viewport": {"x": 0, "y": 0, "zoom": 1}})  # fmt: skip
    CollaboratorFactory(project=project, user=tenants.bob, permission_level=ProjectPermission.EDITOR)
    folder = FolderFactory(project=project, name="Hooks", position_x=80, position_y=80, width=240, height=160)
    chat = ChatInterfaceFactory(project=project, name="Ideas", position_x=560, position_y=60, width=300, height=320)
    cookies = [_cookie(settings, user, asgi_server) for user in (tenants.alice, tenants.bob)]
    url = f"{asgi_server}/canvas/projects/{project.pk}/"
    folder_id, chat_id = f"folder:{folder.pk}", f"chat_interface:{chat.pk}"
    alice_name, bob_name = tenants.alice.full_name, tenants.bob.full_name

    with chromium() as browser:
        pages = []
        for cookie in cookies:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(TIMEOUT_MS)
            context.add_cookies([cookie])
            page = context.new_page()
            page.goto(url)
            expect(page.get_by_test_id("board-status")).to_have_attribute("data-state", "live")
            pages.append(page)
        alice, bob = pages
        expect(alice.get_by_test_id("board-people")).to_contain_text(bob_name)
        alice_folder = alice.get_by_test_id(f"rf__node-{folder_id}")
        bob_folder = bob.get_by_test_id(f"rf__node-{folder_id}")
        assert _position(bob_folder) == (80.0, 80.0)

        # when alice drags the folder by its title bar, 200 px right and 150 px down
        head = alice_folder.locator(".board-node-head").bounding_box()
        x, y = head["x"] + 60, head["y"] + head["height"] / 2
        alice.mouse.move(x, y)
        alice.mouse.down()
        alice.mouse.move(x + 100, y + 75, steps=5)
        alice.mouse.move(x + 200, y + 150, steps=5)
        alice.mouse.up()

        # then bob's folder moves to where alice dropped it
        moved = _position(alice_folder)
        assert moved != (80.0, 80.0)
        expect(bob_folder).to_have_attribute("style", re.compile(rf"translate\({moved[0]:g}px,\s*{moved[1]:g}px\)"))
        # and he sees alice's cursor
        expect(bob.get_by_test_id("cursor")).to_contain_text(alice_name)

        # when alice pulls the folder's right dot onto the chat node's left dot
        source = alice_folder.locator(".react-flow__handle.source").bounding_box()
        target = alice.get_by_test_id(f"rf__node-{chat_id}").locator(".react-flow__handle.target").bounding_box()
        alice.mouse.move(source["x"] + source["width"] / 2, source["y"] + source["height"] / 2)
        alice.mouse.down()
        alice.mouse.move(target["x"] - 40, target["y"], steps=5)
        alice.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2, steps=5)
        alice.mouse.up()

        # then the connection appears on both boards
        expect(alice.locator(".react-flow__edge")).to_have_count(1)
        expect(bob.locator(".react-flow__edge")).to_have_count(1)

        # and a reload shows what was saved
        bob.reload()
        expect(bob.get_by_test_id("board-status")).to_have_attribute("data-state", "live")
        expect(bob.locator(".react-flow__edge")).to_have_count(1)
        expect(bob_folder).to_have_attribute("style", re.compile(rf"translate\({moved[0]:g}px,\s*{moved[1]:g}px\)"))

    # and the database has the move (version 2) and the connection from the folder to the chat
    with account_context(tenants.a.id):
        stored = CanvasFolder.objects.get(pk=folder.pk)
        connection = CanvasConnection.objects.get(project=project)
    assert (float(stored.position_x), float(stored.position_y), stored.version) == (moved[0], moved[1], 2)
    assert (connection.source_folder_id, connection.target_chat_interface_id) == (folder.pk, chat.pk)
    assert connection.deleted_at is None


def _in_thread(fn) -> None:
    """Run ORM work while the browser is open (Playwright's loop holds this thread)."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]


def test_a_stale_move_is_rolled_back_with_a_message_and_a_viewer_cannot_move(asgi_server, tenants, settings):  # noqa: F811
    # given alice (owner) and vera (viewer) on a board with one folder at (80, 80)
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    vera = UserFactory(email="vera@example.com")
    MembershipFactory(account=tenants.a, user=vera, role=Role.VIEWER)
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice,
                             canvas_data={"viewport": {"x": 0, "y": 0, "zoom": 1}})  # fmt: skip
    CollaboratorFactory(project=project, user=vera, permission_level=ProjectPermission.VIEWER)
    folder = FolderFactory(project=project, name="Hooks", position_x=80, position_y=80, width=240, height=160)
    url = f"{asgi_server}/canvas/projects/{project.pk}/"
    node_id = f"rf__node-folder:{folder.pk}"
    cookies = [_cookie(settings, user, asgi_server) for user in (tenants.alice, vera)]

    with chromium() as browser:
        pages = []
        for cookie in cookies:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(TIMEOUT_MS)
            context.add_cookies([cookie])
            page = context.new_page()
            page.goto(url)
            expect(page.get_by_test_id("board-status")).to_have_attribute("data-state", "live")
            pages.append(page)
        alice, viewer = pages

        # then vera's board is read-only: no toolbar, and a drag moves nothing
        expect(viewer.get_by_test_id("read-only")).to_be_visible()
        expect(viewer.get_by_test_id("add-folder")).to_have_count(0)
        head = viewer.get_by_test_id(node_id).locator(".board-node-head").bounding_box()
        viewer.mouse.move(head["x"] + 60, head["y"] + 10)
        viewer.mouse.down()
        viewer.mouse.move(head["x"] + 260, head["y"] + 210, steps=8)
        viewer.mouse.up()
        assert _position(viewer.get_by_test_id(node_id)) == (80.0, 80.0)

        # given someone else's change that alice's board has not heard of (version 2 at 400, 400)
        def behind_her_back() -> None:
            with account_context(tenants.a.id):
                CanvasFolder.objects.filter(pk=folder.pk).update(position_x=400, position_y=400, version=2)

        _in_thread(behind_her_back)

        # when alice drags the folder (her board still has version 1)
        head = alice.get_by_test_id(node_id).locator(".board-node-head").bounding_box()
        alice.mouse.move(head["x"] + 60, head["y"] + 10)
        alice.mouse.down()
        alice.mouse.move(head["x"] + 160, head["y"] + 60, steps=8)
        alice.mouse.up()

        # then the server refuses it, and her board shows the saved row and says why
        expect(alice.get_by_test_id("board-alert")).to_contain_text("This node changed (now version 2)")
        expect(alice.get_by_test_id(node_id)).to_have_attribute("style", re.compile(r"translate\(400px,\s*400px\)"))

    # and nothing was changed by the refused move or the viewer
    with account_context(tenants.a.id):
        stored = CanvasFolder.objects.get(pk=folder.pk)
    assert (float(stored.position_x), float(stored.position_y), stored.version) == (400.0, 400.0, 2)


def _drag(page, node, dx: float, dy: float) -> None:
    head = node.locator(".board-node-head").bounding_box()
    x, y = head["x"] + 30, head["y"] + head["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=5)
    page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()


def test_a_piece_dropped_on_a_folder_is_filed_in_it_for_everyone(asgi_server, tenants, settings):  # noqa: F811
    # given alice and bob on a board: an empty folder at (60, 60) 400x300, a piece at (700, 120)
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice, title="Filing board",
                             canvas_data={"viewport": {"x": 0, "y": 0, "zoom": 1}})  # fmt: skip
    CollaboratorFactory(project=project, user=tenants.bob, permission_level=ProjectPermission.EDITOR)
    folder = FolderFactory(project=project, name="Hooks", position_x=60, position_y=60, width=400, height=300)
    piece = ContentPieceFactory(project=project, title="Dock reel", position_x=700, position_y=120)
    cookies = [_cookie(settings, user, asgi_server) for user in (tenants.alice, tenants.bob)]
    url = f"{asgi_server}/canvas/projects/{project.pk}/"

    with chromium() as browser:
        pages = []
        for cookie in cookies:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(TIMEOUT_MS)
            context.add_cookies([cookie])
            page = context.new_page()
            page.goto(url)
            expect(page.get_by_test_id("board-status")).to_have_attribute("data-state", "live")
            pages.append(page)
        alice, bob = pages
        alice_piece = alice.get_by_test_id(f"rf__node-content_piece:{piece.pk}")
        bob_folder = bob.get_by_test_id(f"rf__node-folder:{folder.pk}")
        expect(bob_folder).not_to_contain_text("1 pieces")

        # when alice drops the piece onto the middle of the folder
        _drag(alice, alice_piece, -500, 80)

        # then both boards count it in the folder, and a reload still does
        expect(alice.get_by_test_id(f"rf__node-folder:{folder.pk}")).to_contain_text("1 pieces")
        expect(bob_folder).to_contain_text("1 pieces")
        bob.reload()
        expect(bob.get_by_test_id("board-status")).to_have_attribute("data-state", "live")
        expect(bob_folder).to_contain_text("1 pieces")

        # when alice drags it back out, far right
        _drag(alice, alice_piece, 700, 0)

        # then the folder is empty again on bob's board
        expect(bob_folder).not_to_contain_text("1 pieces")

    # and the database filed it and took it out again (move, file, move, unfile: version 5)
    with account_context(tenants.a.id):
        stored = ContentPiece.objects.get(pk=piece.pk)
        filed = CanvasFolderItem.objects.filter(content_piece=piece).count()
    assert (stored.version, filed) == (5, 0)
