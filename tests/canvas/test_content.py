"""Content pieces by URL (supported platforms only) or by upload (probed with
ffmpeg: duration, size, thumbnail), within the plan's storage; bad input changes
nothing; annotations; storage expiry; the inbox."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.tenancy.context import account_context
from billing.models import AccountDailyUsage
from canvas.models import ContentAnnotation, ContentPiece
from canvas.services.content import content_expire
from tests.canvas.factories import CollaboratorFactory, ContentPieceFactory, ProjectFactory
from tests.support.media_files import make_media

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    return make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture
def storage(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def project(tenants, vera):
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice, title="Hooks")
    CollaboratorFactory(project=project, user=vera, permission_level="viewer")
    return project


def _pieces(account) -> list:
    with account_context(account.id):
        return list(ContentPiece.objects.filter(account=account))


def _stored(root: Path) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


def _upload(client, project, path: Path, **extra):
    with open(path, "rb") as fh:
        return client.post("/api/v1/content-pieces/", {"project": str(project.pk), "file": fh, **extra},
                           format="multipart")  # fmt: skip


@pytest.mark.parametrize(
    ("url", "platform", "content_type"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "youtube", "video"),
        ("youtu.be/dQw4w9WgXcQ", "youtube", "video"),
        ("https://www.tiktok.com/@chef/video/123", "tiktok", "video"),
        ("https://www.instagram.com/reel/Cabc/", "instagram", "video"),
        ("https://instagram.com/p/Cabc/", "instagram", "image"),
        ("https://www.linkedin.com/posts/someone_activity-1", "linkedin", "text"),
        ("https://x.com/someone/status/1", "twitter", "text"),
    ],
)
def test_a_post_is_added_by_url(api_client, tenants, project, url, platform, content_type):
    api_client.force_login(tenants.alice)
    response = api_client.post("/api/v1/content-pieces/", {"project": str(project.pk), "source_url": url, "x": 40})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["platform"], body["content_type"], body["position_x"]) == (platform, content_type, "40.00")
    assert body["source_url"].startswith("https://")


@pytest.mark.parametrize("url", ["https://vimeo.com/123", "ftp://youtube.com/x", "https://www.youtube.com/", "nope"])
def test_an_unsupported_url_is_a_clear_400_and_stores_nothing(api_client, tenants, project, url):
    api_client.force_login(tenants.alice)
    response = api_client.post("/api/v1/content-pieces/", {"project": str(project.pk), "source_url": url})
    assert response.status_code == 400
    assert "source_url" in response.json()["error"]["fields"]
    assert _pieces(tenants.a) == []


def test_an_uploaded_video_is_probed_with_a_thumbnail_and_counted(api_client, tenants, project, media, storage):
    api_client.force_login(tenants.alice)
    response = _upload(api_client, project, media["video.mp4"], title="Demo")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["platform"], body["content_type"], body["duration_seconds"]) == ("upload", "video", 3)
    assert body["file_size_bytes"] == media["video.mp4"].stat().st_size
    assert body["metadata"]["width"] == 320 and body["metadata"]["video_codec"] == "h264"
    assert body["thumbnail_url"].endswith("thumbnail.jpg") and body["original_file_url"].endswith("video.mp4")
    expires = timezone.datetime.fromisoformat(body["storage_expires_at"])
    assert timedelta(days=89) < expires - timezone.now() <= timedelta(days=90)
    names = sorted(p.name for p in _stored(storage))
    assert names == ["thumbnail.jpg", "video.mp4"]
    with account_context(tenants.a.id):
        assert AccountDailyUsage.objects.get(account=tenants.a).content_pieces_added == 1


@pytest.mark.parametrize(("name", "kind"), [("audio.mp3", "audio"), ("image.png", "image"), ("notes.txt", "text")])
def test_audio_images_and_text_upload_as_their_kind(api_client, tenants, project, media, storage, name, kind):
    api_client.force_login(tenants.alice)
    response = _upload(api_client, project, media[name])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["content_type"] == kind
    if kind == "audio":
        assert body["duration_seconds"] == 2 and body["thumbnail_url"] == ""
    if kind == "text":
        assert body["transcript"].startswith("Three hooks that work")


@pytest.mark.parametrize(("name", "words"), [("blob.bin", "not audio, video"), ("truncated.mp4", "not audio, video"),
                                             ("corrupt.mp4", "damaged")])  # fmt: skip
def test_not_media_or_a_corrupt_video_is_a_400_and_nothing_is_stored(
    api_client, tenants, project, media, storage, name, words
):
    api_client.force_login(tenants.alice)
    response = _upload(api_client, project, media[name])
    assert response.status_code == 400
    error = response.json()["error"]
    assert words in error["fields"]["file"][0]
    assert _pieces(tenants.a) == [] and _stored(storage) == []


def test_a_declared_type_that_does_not_match_is_refused(api_client, tenants, project, media, storage):
    api_client.force_login(tenants.alice)
    response = _upload(api_client, project, media["audio.mp3"], content_type="video")
    assert response.status_code == 400 and "content_type" in response.json()["error"]["fields"]
    assert _stored(storage) == []


def test_an_upload_past_the_plans_storage_is_a_409_and_stores_nothing(api_client, tenants, project, media, storage):
    from accounts.models import Account
    from accounts.tenancy.context import rls_bypass

    with rls_bypass("test: a plan with no storage"):
        Account.objects.filter(pk=tenants.a.pk).update(storage_limit_gb=0)
    api_client.force_login(tenants.alice)
    response = _upload(api_client, project, media["image.png"])
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "plan_limit_reached" and "does not fit" in error["message"]
    assert _pieces(tenants.a) == [] and _stored(storage) == []


def test_a_viewer_cannot_add_content(api_client, project, vera, media, storage, tenants):
    api_client.force_login(vera)
    assert _upload(api_client, project, media["image.png"]).status_code == 403
    response = api_client.post(
        "/api/v1/content-pieces/", {"project": str(project.pk), "source_url": "https://x.com/a/status/1"}
    )
    assert response.status_code == 403
    assert _pieces(tenants.a) == [] and _stored(storage) == []


def test_another_accounts_project_is_a_404(api_client, tenants, project):
    api_client.force_login(tenants.carol)
    response = api_client.post(
        "/api/v1/content-pieces/", {"project": str(project.pk), "source_url": "https://x.com/a/status/1"}
    )
    assert response.status_code == 404
    assert _pieces(tenants.a) == []


def test_expired_uploads_lose_their_file_and_keep_the_piece(api_client, tenants, project, media, storage):
    api_client.force_login(tenants.alice)
    piece_id = _upload(api_client, project, media["video.mp4"]).json()["id"]
    with account_context(tenants.a.id):
        ContentPiece.objects.filter(pk=piece_id).update(storage_expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.MonkeyPatch.context() as mp:
        from django.db import transaction

        mp.setattr(transaction, "on_commit", lambda fn, using=None, robust=False: fn())
        assert content_expire() == 1
    with account_context(tenants.a.id):
        piece = ContentPiece.objects.get(pk=piece_id)
    assert piece.original_file_path == "" and "expired_at" in piece.metadata
    assert [p.name for p in _stored(storage)] == []


def test_edit_annotate_and_delete_a_piece(api_client, tenants, project, vera):
    piece = ContentPieceFactory(project=project, uploaded_by=tenants.alice)
    api_client.force_login(tenants.alice)
    assert (
        api_client.patch(f"/api/v1/content-pieces/{piece.pk}/", {"title": "New", "is_remix": True}).json()["title"]
        == "New"
    )
    notes = "/api/v1/content-annotations/"
    note = api_client.post(
        notes, {"content_piece": str(piece.pk), "annotation_text": "Strong hook", "annotation_type": "highlight",
                "position_x": 3},
    )  # fmt: skip
    assert note.status_code == 201 and note.json()["annotation_type"] == "highlight"
    bad = api_client.post(notes, {"content_piece": str(piece.pk), "annotation_text": "x", "annotation_type": "doodle"})
    assert bad.status_code == 400
    listed = api_client.get(f"/api/v1/content-annotations/?content_piece={piece.pk}").json()
    assert [a["annotation_text"] for a in listed["results"]] == ["Strong hook"]
    api_client.force_login(vera)
    assert api_client.get(f"/api/v1/content-annotations/?content_piece={piece.pk}").status_code == 200
    assert (
        api_client.post(
            "/api/v1/content-annotations/", {"content_piece": str(piece.pk), "annotation_text": "hi"}
        ).status_code
        == 403
    )
    assert api_client.delete(f"/api/v1/content-pieces/{piece.pk}/").status_code == 403
    api_client.force_login(tenants.alice)
    assert api_client.delete(f"/api/v1/content-pieces/{piece.pk}/").status_code == 204
    assert api_client.get(f"/api/v1/content-pieces/{piece.pk}/").status_code == 404
    with account_context(tenants.a.id):
        assert ContentAnnotation.objects.filter(content_piece=piece).count() == 1  # a tombstone keeps its notes


def test_an_inbox_piece_is_placed_on_a_project(api_client, tenants, project):
    with account_context(tenants.a.id):
        piece = ContentPieceFactory(account=tenants.a, project=None, platform="youtube")
    api_client.force_login(tenants.bob)
    inbox = api_client.get("/api/v1/content-pieces/?inbox=true").json()
    assert [p["id"] for p in inbox["results"]] == [str(piece.pk)]
    api_client.force_login(tenants.alice)
    placed = api_client.post(
        f"/api/v1/content-pieces/{piece.pk}/place/", {"project": str(project.pk), "x": 10, "y": 20}
    )
    assert placed.status_code == 200 and placed.json()["project"] == str(project.pk)
    again = api_client.post(f"/api/v1/content-pieces/{piece.pk}/place/", {"project": str(project.pk)})
    assert again.status_code == 409
