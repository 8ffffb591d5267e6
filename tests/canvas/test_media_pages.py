"""The voice & avatar studio page and the admin's player: members manage voices
and avatars and generate clips with a player; viewers only look and listen;
files are streamed to the account's members and to operators, nobody else."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tenancy.context import account_context
from canvas.models import AvatarModel, GeneratedContent, VoiceModel
from tests.billing.factories import fund
from tests.canvas.media_support import media_storage, photo_upload, sample_upload  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_storage")]


def _one(model, account):
    with account_context(account.id):
        return model.objects.get(account=account)


def test_a_member_clones_makes_an_avatar_and_generates_a_clip_with_a_player(
    client, tenants, tmp_path, django_capture_on_commit_callbacks
):
    # given
    fund(tenants.a, "50")
    client.force_login(tenants.bob)
    # when
    client.post("/canvas/media/voices/new/", {"name": "Bob", "samples": [sample_upload(tmp_path)]})
    client.post("/canvas/media/avatars/new/", {"name": "Bob", "photos": [photo_upload()]})
    voice, avatar = _one(VoiceModel, tenants.a), _one(AvatarModel, tenants.a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/canvas/media/generate/", {"voice_model": voice.pk, "avatar_model": avatar.pk, "text": "Hi there."}
        )
    page = client.get("/canvas/media/")
    # then
    clip = _one(GeneratedContent, tenants.a)
    assert clip.generation_status == "completed" and clip.content_type == "video"
    html = page.content.decode()
    assert page.status_code == 200
    assert f'data-testid="player-{clip.pk}"' in html and f"/canvas/media/clips/{clip.pk}/file/" in html
    assert f"/canvas/media/avatars/{avatar.pk}/photo/" in html
    video = client.get(f"/canvas/media/clips/{clip.pk}/file/")
    assert video.status_code == 200 and video["Content-Type"] == "video/mp4"
    photo = client.get(f"/canvas/media/avatars/{avatar.pk}/photo/")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"


def test_a_failed_upload_says_why_on_the_page(client, tenants):
    client.force_login(tenants.alice)
    response = client.post("/canvas/media/voices/new/", {"name": "X", "samples": [SimpleUploadedFile("a.mp3", b"no")]},
                           follow=True)  # fmt: skip
    assert "is not audio we can read" in response.content.decode()
    with account_context(tenants.a.id):
        assert not VoiceModel.objects.exists()


def test_a_viewer_sees_no_forms_and_cannot_post(client, tenants, vera, tmp_path):
    client.force_login(vera)
    html = client.get("/canvas/media/").content.decode()
    assert 'data-testid="voice-new"' not in html and 'data-testid="generate"' not in html
    assert (
        client.post("/canvas/media/voices/new/", {"name": "V", "samples": [sample_upload(tmp_path)]}).status_code == 403
    )


def test_an_outsider_gets_404_for_files_and_photos(client, tenants, tmp_path):
    client.force_login(tenants.alice)
    client.post("/canvas/media/avatars/new/", {"name": "A", "photos": [photo_upload()]})
    avatar = _one(AvatarModel, tenants.a)
    client.force_login(tenants.carol)
    assert client.get(f"/canvas/media/avatars/{avatar.pk}/photo/").status_code == 404
    assert client.post(f"/canvas/media/avatars/{avatar.pk}/active/", {"is_active": "0"}).status_code == 404


def test_the_admin_plays_generated_media(client, tenants, tmp_path, django_capture_on_commit_callbacks):
    # given
    from accounts.models import User
    from tests.accounts.factories import UserFactory

    fund(tenants.a, "50")
    client.force_login(tenants.alice)
    client.post("/canvas/media/voices/new/", {"name": "A", "samples": [sample_upload(tmp_path)]})
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/canvas/media/generate/", {"voice_model": _one(VoiceModel, tenants.a).pk, "text": "Hello."})
    clip = _one(GeneratedContent, tenants.a)
    operator = UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True)
    client.force_login(operator)
    # when
    change = client.get(f"/admin/canvas/generatedcontent/{clip.pk}/change/")
    file = client.get(f"/admin/canvas/generatedcontent/{clip.pk}/file/")
    # then
    assert change.status_code == 200
    assert (
        f'<audio controls preload="none" src="/admin/canvas/generatedcontent/{clip.pk}/file/">'
        in change.content.decode()
    )
    assert file.status_code == 200 and file["Content-Type"] == "audio/mpeg"
    assert client.get("/admin/canvas/generatedcontent/").status_code == 200
    assert client.get("/admin/canvas/voicemodel/").status_code == 200
    assert client.get("/admin/canvas/avatarmodel/").status_code == 200
