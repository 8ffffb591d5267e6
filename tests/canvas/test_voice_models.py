"""Voice models through the API: cloned from sample audio by the offline engine
(or ElevenLabs on the fake), versioned by name, limited by the plan's
voice_model_limit with a clear error, bad samples refused with nothing stored."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tenancy.context import account_context
from canvas.models import VoiceModel
from tests.canvas.media_support import media_storage, sample_upload  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_storage")]
URL = "/api/v1/voice-models/"


def _storage() -> Path:
    return Path(settings.MEDIA_ROOT)


def _voices(account):
    with account_context(account.id):
        return list(VoiceModel.objects.filter(account=account).order_by("name", "version_number"))


def _set_limit(account, limit):
    account.voice_model_limit = limit
    with account_context(account.id):
        account.save(update_fields=["voice_model_limit"])


def test_a_member_clones_a_voice_from_a_sample(client, tenants, tmp_path):
    # given
    client.force_login(tenants.bob)
    # when
    response = client.post(URL, {"name": "Bob narrator", "samples": [sample_upload(tmp_path)]})
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["training_status"] == "completed" and body["provider"] == "offline" and body["version_number"] == 1
    assert Decimal(body["quality_score"]) > 0 and body["is_active"] is True
    (voice,) = _voices(tenants.a)
    assert voice.provider_voice_id.startswith("en-us+f3:p") and voice.user == tenants.bob
    assert (_storage() / voice.sample_audio_path).exists()


def test_the_same_name_makes_the_next_version_and_retires_the_old(client, tenants, tmp_path):
    # given
    client.force_login(tenants.alice)
    client.post(URL, {"name": "Narrator", "samples": [sample_upload(tmp_path)]})
    _set_limit(tenants.a, 1)
    # when: a second version fits in the one slot
    response = client.post(URL, {"name": "Narrator", "samples": [sample_upload(tmp_path)]})
    # then
    assert response.status_code == 201 and response.json()["version_number"] == 2
    assert [(v.version_number, v.is_active) for v in _voices(tenants.a)] == [(1, False), (2, True)]


def test_past_the_voice_model_limit_is_a_clear_409_and_nothing_stored(client, tenants, tmp_path):
    # given
    _set_limit(tenants.a, 1)
    client.force_login(tenants.alice)
    assert client.post(URL, {"name": "One", "samples": [sample_upload(tmp_path)]}).status_code == 201
    # when
    response = client.post(URL, {"name": "Two", "samples": [sample_upload(tmp_path)]})
    # then
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "plan_limit_reached"
    assert "Your plan allows 1 voice models; 1 are in use" in error["message"]
    assert [v.name for v in _voices(tenants.a)] == ["One"]
    assert len(list((_storage() / "canvas" / "voices" / str(tenants.a.pk)).iterdir())) == 1


def test_turning_a_voice_back_on_counts_toward_the_limit(client, tenants, tmp_path):
    # given: two voices, one turned off, and a limit of one
    client.force_login(tenants.alice)
    first = client.post(URL, {"name": "One", "samples": [sample_upload(tmp_path)]}).json()
    client.post(URL, {"name": "Two", "samples": [sample_upload(tmp_path)]})
    assert (
        client.patch(f"{URL}{first['id']}/", {"is_active": False}, content_type="application/json").status_code == 200
    )
    _set_limit(tenants.a, 1)
    # when
    response = client.patch(f"{URL}{first['id']}/", {"is_active": True}, content_type="application/json")
    # then
    assert response.status_code == 409 and response.json()["error"]["code"] == "plan_limit_reached"
    assert {v.name: v.is_active for v in _voices(tenants.a)} == {"One": False, "Two": True}


def test_a_sample_that_is_not_audio_is_refused_and_nothing_stays(client, tenants):
    # given
    client.force_login(tenants.alice)
    fake = SimpleUploadedFile("me.mp3", b"this is not audio at all", content_type="audio/mpeg")
    # when
    response = client.post(URL, {"name": "Broken", "samples": [fake]})
    # then
    assert response.status_code == 400
    assert "is not audio we can read" in response.json()["error"]["message"]
    assert _voices(tenants.a) == []
    assert not list(_storage().rglob("sample-*"))


def test_a_text_file_is_not_a_sample(client, tenants):
    client.force_login(tenants.alice)
    response = client.post(URL, {"name": "x", "samples": [SimpleUploadedFile("notes.txt", b"hello")]})
    assert response.status_code == 400 and response.json()["error"]["fields"]["samples"] == ["Unsupported file type."]


def test_a_viewer_cannot_create_voices(client, tenants, vera, tmp_path):
    client.force_login(vera)
    response = client.post(URL, {"name": "x", "samples": [sample_upload(tmp_path)]})
    assert response.status_code == 403
    assert _voices(tenants.a) == []


def test_elevenlabs_clone_through_the_fake(client, tenants, fake_media, settings, tmp_path):
    # given
    settings.MEDIA_VOICE_PROVIDER = "elevenlabs"
    client.force_login(tenants.alice)
    # when
    response = client.post(URL, {"name": "Alice", "samples": [sample_upload(tmp_path)], "description": "warm"})
    # then
    assert response.status_code == 201, response.content
    assert response.json()["elevenlabs_voice_id"] == "voice0001" and response.json()["provider"] == "elevenlabs"
    (call,) = fake_media.calls("elevenlabs.clone")
    assert call.form["name"] == "Alice v1" and call.form["description"] == "warm"


def test_an_elevenlabs_outage_stores_nothing_and_says_so(client, tenants, fake_media, settings, tmp_path):
    # given
    settings.MEDIA_VOICE_PROVIDER = "elevenlabs"
    settings.AI_MAX_RETRIES = 0
    fake_media.fail("elevenlabs.clone", "server_error")
    client.force_login(tenants.alice)
    # when
    response = client.post(URL, {"name": "Alice", "samples": [sample_upload(tmp_path)]})
    # then
    assert response.status_code == 502
    assert response.json()["error"]["message"].startswith("ElevenLabs failed (HTTP 500")
    assert _voices(tenants.a) == []
    assert not list((_storage() / "canvas" / "voices").rglob("sample-*"))


def test_a_stored_voice_can_be_trained_again(client, tenants, tmp_path):
    # given
    client.force_login(tenants.alice)
    voice = client.post(URL, {"name": "Alice", "samples": [sample_upload(tmp_path)]}).json()
    # when
    again = client.post(f"{URL}{voice['id']}/train/")
    # then
    assert again.status_code == 200 and again.json()["training_status"] == "completed"


def test_another_accounts_voice_is_404(client, tenants, tmp_path):
    client.force_login(tenants.carol)
    voice = client.post(URL, {"name": "Carol", "samples": [sample_upload(tmp_path)]}).json()
    client.force_login(tenants.alice)
    assert client.get(f"{URL}{voice['id']}/").status_code == 404
    assert client.delete(f"{URL}{voice['id']}/").status_code == 404
    assert len(_voices(tenants.b)) == 1
