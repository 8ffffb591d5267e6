"""A post added to a board by URL is described by its platform's oEmbed endpoint
(title when the user gave none, thumbnail, author) and is ready either way; a
platform with no public endpoint is not asked. The endpoints are a fake on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.tenancy.context import account_context
from canvas.models import ContentPiece
from canvas.services.content import piece_add_url
from tests.canvas.factories import ProjectFactory

pytestmark = pytest.mark.django_db

VIDEO = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


@pytest.fixture
def oembed(settings):
    """A loopback oEmbed provider: known URLs answer JSON, the rest 404."""
    asked: list[dict] = []
    answers = {VIDEO: {"type": "video", "title": "Pasta in 5 minutes", "author_name": "Chef Mina",
                       "author_url": "https://www.youtube.com/@chefmina", "provider_name": "YouTube",
                       "thumbnail_url": "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg",
                       "html": "<iframe src=x></iframe>"}}  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            asked.append(query)
            body = answers.get(query.get("url", ""))
            data = json.dumps(body or {"error": "not found"}).encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.CANVAS_OEMBED_YOUTUBE_URL = f"{base}/youtube"
    settings.CANVAS_OEMBED_X_URL = f"{base}/x"
    yield asked
    server.shutdown()
    server.server_close()


@pytest.fixture
def project(tenants):
    return ProjectFactory(account=tenants.a, created_by=tenants.alice)


def _add(tenants, project, capture, url, title=""):
    with capture(execute=True):
        piece = piece_add_url(project=project, actor=tenants.alice_membership, url=url, title=title)
    with account_context(tenants.a.id):
        return ContentPiece.objects.get(pk=piece.pk)


def test_a_youtube_post_gets_its_title_thumbnail_and_author(tenants, project, oembed,
                                                           django_capture_on_commit_callbacks):  # fmt: skip
    piece = _add(tenants, project, django_capture_on_commit_callbacks, VIDEO)
    assert oembed == [{"url": VIDEO, "format": "json"}]
    assert (piece.title, piece.processing_status) == ("Pasta in 5 minutes", "completed")
    assert piece.thumbnail_url == "https://i.ytimg.com/vi/dQw4w9WgXcQ/hqdefault.jpg"
    assert piece.metadata["oembed"]["author_name"] == "Chef Mina" and "html" not in piece.metadata["oembed"]
    assert piece.version == 2  # open boards redraw it


def test_the_users_title_is_kept(tenants, project, oembed, django_capture_on_commit_callbacks):
    piece = _add(tenants, project, django_capture_on_commit_callbacks, VIDEO, title="My pick")
    assert piece.title == "My pick" and piece.thumbnail_url.startswith("https://i.ytimg.com/")


def test_a_post_the_platform_does_not_describe_is_ready_with_the_reason(
    tenants, project, oembed, client, django_capture_on_commit_callbacks
):
    piece = _add(tenants, project, django_capture_on_commit_callbacks, "https://x.com/someone/status/1234567890")
    assert piece.processing_status == "completed" and piece.title == ""
    assert "HTTP 404" in piece.metadata["oembed_error"]
    client.force_login(tenants.alice)
    assert 'data-testid="piece-oembed-error"' in client.get(f"/canvas/content/{piece.pk}/").content.decode()


def test_an_unreachable_platform_leaves_the_piece_ready(tenants, project, settings,
                                                       django_capture_on_commit_callbacks):  # fmt: skip
    settings.CANVAS_OEMBED_YOUTUBE_URL = "http://127.0.0.1:9/oembed"  # nothing listens on the discard port
    piece = _add(tenants, project, django_capture_on_commit_callbacks, VIDEO)
    assert piece.processing_status == "completed" and "could not be reached" in piece.metadata["oembed_error"]


def test_a_platform_without_a_public_endpoint_is_not_asked(tenants, project, oembed,
                                                          django_capture_on_commit_callbacks):  # fmt: skip
    piece = _add(tenants, project, django_capture_on_commit_callbacks, "https://www.instagram.com/p/Cabc123/")
    assert oembed == [] and piece.processing_status == "completed" and "oembed" not in piece.metadata
