"""Speech and avatar video through the processing queue: the API queues a job
that holds credits; the job makes a real MP3 / MP4 (offline engine, or
ElevenLabs + HeyGen on the fake), stores it with an expiry and settles the hold;
a provider failure leaves the job retryable (or failed) with nothing charged."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.tenancy.context import account_context
from aiplatform.ai.media.registry import speech_credits
from aiplatform.media.ffmpeg import probe
from billing.models import Reservation, UsageRecord, Wallet
from canvas.models import GeneratedContent, ProcessingJob
from canvas.services import queue as q
from canvas.services.avatar import avatar_model_create
from canvas.services.media import generated_media_expire, heygen_webhook_received
from canvas.services.voice import Upload, voice_model_create
from tests.billing.factories import fund
from tests.canvas.media_support import media_storage, photo_bytes, speech_wav  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_storage", "slots")]
URL = "/api/v1/generated-media/"
TEXT = "Three habits that changed my mornings. One: water first. Two: no phone. Three: ten minutes outside."


@pytest.fixture
def slots():
    client = q.redis_client()
    for key in client.scan_iter("aip:jobs:*"):
        client.delete(key)
    yield
    for key in client.scan_iter("aip:jobs:*"):
        client.delete(key)


@pytest.fixture
def voice(tenants, tmp_path):
    fund(tenants.a, "100")
    return voice_model_create(account=tenants.a, actor=tenants.alice_membership, name="Alice",
                              samples=[Upload("me.wav", speech_wav(tmp_path), "audio/wav")])  # fmt: skip


@pytest.fixture
def avatar(tenants):
    return avatar_model_create(account=tenants.a, actor=tenants.alice_membership, name="Alice",
                               photos=[Upload("face.png", photo_bytes(), "image/png")])  # fmt: skip


def _content(pk) -> GeneratedContent:
    with account_context(_account_of(pk)):
        return GeneratedContent.objects.get(pk=pk)


def _account_of(pk):
    from accounts.tenancy.context import rls_bypass

    with rls_bypass("test: whose content"):
        return GeneratedContent.objects.values_list("account_id", flat=True).get(pk=pk)


def _job(content) -> ProcessingJob:
    with account_context(content.account_id):
        return ProcessingJob.objects.get(pk=content.metadata["job_id"])


def _wallet(account):
    with account_context(account.id):
        wallet = Wallet.objects.get(account=account)
    return wallet.balance, wallet.reserved


def _holds(job):
    with account_context(job.account_id):
        return list(Reservation.objects.filter(reference_id=str(job.pk)).values_list("status", flat=True))


def _post(client, capture, **body):
    with capture(execute=True):
        return client.post(URL, body, content_type="application/json")


def test_speech_is_a_real_mp3_made_by_a_job_that_settles_its_hold(
    client, tenants, voice, django_capture_on_commit_callbacks
):
    # given
    client.force_login(tenants.alice)
    price = speech_credits(len(TEXT))
    # when
    response = _post(client, django_capture_on_commit_callbacks, content_type="audio", voice_model=str(voice.pk),
                     text=TEXT)  # fmt: skip
    # then: queued at once, with its job
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["generation_status"] == "pending" and body["job"]["status"] == "queued"
    assert body["job"]["estimated_credits"] == str(price)
    content = _content(body["id"])
    job = _job(content)
    # and the job made the file
    assert content.generation_status == "completed" and job.status == "completed"
    path = Path(settings.MEDIA_ROOT) / content.file_path
    found = probe(path)
    assert found.audio.codec == "mp3"
    assert found.duration_seconds == pytest.approx(content.metadata["duration_exact"], abs=0.15)
    assert content.duration_seconds == round(content.metadata["duration_exact"])
    assert content.file_size_bytes == path.stat().st_size
    assert content.storage_expires_at > timezone.now() + timedelta(days=settings.MEDIA_FILE_TTL_DAYS - 1)
    # and the credits: held, then settled at the price, recorded on the gateway's usage record
    assert job.actual_credits == price and content.generation_cost_credits == price
    assert _wallet(tenants.a) == (Decimal("100") - price, Decimal("0"))
    assert _holds(job) == ["settled"]
    with account_context(tenants.a.id):
        record = UsageRecord.objects.get(feature="speech", reference_id=str(job.pk))
    assert record.credits == price and record.provider == "offline" and record.status == "ok"


def test_the_live_view_and_the_file(client, tenants, voice, django_capture_on_commit_callbacks):
    # given
    client.force_login(tenants.bob)
    made = _post(client, django_capture_on_commit_callbacks, content_type="audio", voice_model=str(voice.pk),
                 text="Short one.").json()  # fmt: skip
    # when
    detail = client.get(f"{URL}{made['id']}/").json()
    file = client.get(f"{URL}{made['id']}/file/")
    # then
    assert detail["generation_status"] == "completed" and detail["job"]["status"] == "completed"
    assert detail["job"]["progress"] == 100 and detail["file"].endswith(f"/api/v1/generated-media/{made['id']}/file/")
    assert file.status_code == 200 and file["Content-Type"] == "audio/mpeg"
    assert b"".join(file.streaming_content)[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    client.force_login(tenants.carol)
    assert client.get(f"{URL}{made['id']}/file/").status_code == 404
    assert client.get(f"{URL}{made['id']}/").status_code == 404


def test_an_avatar_video_is_an_mp4_of_the_photo_saying_the_script(
    client, tenants, voice, avatar, django_capture_on_commit_callbacks
):
    # given
    client.force_login(tenants.alice)
    # when
    response = _post(client, django_capture_on_commit_callbacks, content_type="video", voice_model=str(voice.pk),
                     avatar_model=str(avatar.pk), text=TEXT)  # fmt: skip
    # then
    assert response.status_code == 202, response.content
    content = _content(response.json()["id"])
    assert content.generation_status == "completed", content.error_message
    found = probe(Path(settings.MEDIA_ROOT) / content.file_path)
    assert found.video.codec == "h264" and found.audio.codec == "aac"
    assert found.duration_seconds == pytest.approx(content.metadata["duration_exact"], abs=0.3)
    job = _job(content)
    assert job.status == "completed" and _holds(job) == ["settled"]
    with account_context(tenants.a.id):
        features = sorted(UsageRecord.objects.filter(reference_id=str(job.pk)).values_list("feature", flat=True))
    assert features == ["avatar", "speech"]


def test_elevenlabs_and_heygen_through_the_fakes(
    client, tenants, fake_media, settings, tmp_path, django_capture_on_commit_callbacks
):
    # given: a voice and an avatar made by the hosted providers
    settings.MEDIA_VOICE_PROVIDER, settings.MEDIA_AVATAR_PROVIDER = "elevenlabs", "heygen"
    fund(tenants.a, "100")
    voice = voice_model_create(account=tenants.a, actor=tenants.alice_membership, name="Alice",
                               samples=[Upload("me.wav", speech_wav(tmp_path), "audio/wav")])  # fmt: skip
    avatar = avatar_model_create(account=tenants.a, actor=tenants.alice_membership, name="Alice",
                                 photos=[Upload("face.png", photo_bytes(), "image/png")])  # fmt: skip
    fake_media.render_polls = 2
    client.force_login(tenants.alice)
    # when
    response = _post(client, django_capture_on_commit_callbacks, content_type="video", voice_model=str(voice.pk),
                     avatar_model=str(avatar.pk), text=TEXT)  # fmt: skip
    # then
    content = _content(response.json()["id"])
    assert content.generation_status == "completed", content.error_message
    assert voice.elevenlabs_voice_id and avatar.heygen_avatar_id == "tp0002"
    (tts,) = fake_media.calls("elevenlabs.tts")
    assert tts.json["text"] == TEXT
    (generate,) = fake_media.calls("heygen.generate")
    assert generate.json["callback_id"] == content.metadata["job_id"]
    assert len(fake_media.calls("heygen.status")) == 3
    assert probe(Path(settings.MEDIA_ROOT) / content.file_path).video.codec == "h264"
    with account_context(tenants.a.id):
        avatar_record = UsageRecord.objects.get(feature="avatar", reference_id=content.metadata["job_id"])
    assert avatar_record.provider == "heygen" and avatar_record.provider_cost == Decimal("0.495000")


def test_a_provider_refusal_fails_the_job_and_releases_the_credits(
    client, tenants, fake_media, settings, tmp_path, django_capture_on_commit_callbacks
):
    # given
    settings.MEDIA_VOICE_PROVIDER = "elevenlabs"
    fund(tenants.a, "100")
    voice = voice_model_create(account=tenants.a, actor=tenants.alice_membership, name="Alice",
                               samples=[Upload("me.wav", speech_wav(tmp_path), "audio/wav")])  # fmt: skip
    fake_media.fail("elevenlabs.tts", "quota_exceeded")
    client.force_login(tenants.alice)
    # when
    response = _post(client, django_capture_on_commit_callbacks, content_type="audio", voice_model=str(voice.pk),
                     text=TEXT)  # fmt: skip
    # then
    content = _content(response.json()["id"])
    job = _job(content)
    assert job.status == "failed" and "quota is used up" in job.error_message
    assert content.generation_status == "failed" and "quota is used up" in content.error_message
    assert _holds(job) == ["released"] and _wallet(tenants.a) == (Decimal("100"), Decimal("0"))
    # and the user can retry it from the UI once fixed
    with django_capture_on_commit_callbacks(execute=True):
        retried = client.post(f"/api/v1/jobs/{job.pk}/retry/")
    assert retried.status_code == 200
    assert _content(content.pk).generation_status == "completed"


def test_a_clip_whose_job_cannot_be_charged_at_the_end_is_failed_not_completed(
    client, tenants, voice, monkeypatch, django_capture_on_commit_callbacks
):
    # given the charge refused when the job finishes (its hold gone, the wallet short)
    from aiplatform.errors import InsufficientCredits

    def refuse(*args, **kwargs):
        raise InsufficientCredits("Not enough credits.")

    monkeypatch.setattr(q, "_charge", refuse)
    client.force_login(tenants.alice)
    # when
    response = _post(client, django_capture_on_commit_callbacks, content_type="audio", voice_model=str(voice.pk),
                     text=TEXT)  # fmt: skip
    # then the clip is not shown as made (its completion was in the job's finishing transaction)
    content = _content(response.json()["id"])
    job = _job(content)
    assert job.status == "failed" and job.error_message == q.ERRORS["credits_ran_out"]
    assert content.generation_status == "failed" and "no longer had enough credits" in content.error_message
    assert content.generation_cost_credits == 0
    assert _holds(job) == ["released"]


def test_a_busy_provider_leaves_the_job_queued_for_a_retry_with_its_hold(
    client, tenants, fake_media, settings, tmp_path, django_capture_on_commit_callbacks
):
    # given
    settings.MEDIA_VOICE_PROVIDER = "elevenlabs"
    settings.AI_MAX_RETRIES = 0
    fund(tenants.a, "100")
    voice = voice_model_create(account=tenants.a, actor=tenants.alice_membership, name="Alice",
                               samples=[Upload("me.wav", speech_wav(tmp_path), "audio/wav")])  # fmt: skip
    fake_media.fail("elevenlabs.tts", "too_many_concurrent_requests")
    client.force_login(tenants.alice)
    # when
    response = _post(client, django_capture_on_commit_callbacks, content_type="audio", voice_model=str(voice.pk),
                     text=TEXT)  # fmt: skip
    # then
    content = _content(response.json()["id"])
    job = _job(content)
    assert job.status == "queued" and job.attempts == 1 and job.scheduled_at > timezone.now()
    assert "more requests at once than our plan allows" in job.error_message
    assert content.generation_status == "pending"
    assert _holds(job) == ["held"]
    # and cancelling it releases the hold
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 200
    assert _holds(job) == ["released"] and _wallet(tenants.a) == (Decimal("100"), Decimal("0"))


def test_without_enough_credits_nothing_is_written(client, tenants, tmp_path, django_capture_on_commit_callbacks):
    # given: a voice, and a wallet of almost nothing
    fund(tenants.a, "0.0001")
    voice = voice_model_create(account=tenants.a, actor=tenants.alice_membership, name="Alice",
                               samples=[Upload("me.wav", speech_wav(tmp_path), "audio/wav")])  # fmt: skip
    client.force_login(tenants.alice)
    # when
    response = _post(client, django_capture_on_commit_callbacks, content_type="audio", voice_model=str(voice.pk),
                     text=TEXT)  # fmt: skip
    # then
    assert response.status_code == 402 and response.json()["error"]["code"] == "insufficient_credits"
    with account_context(tenants.a.id):
        assert not GeneratedContent.objects.exists() and not ProcessingJob.objects.exists()


def test_bad_requests_say_what_is_wrong(client, tenants, vera, voice, django_capture_on_commit_callbacks):
    client.force_login(tenants.alice)
    video_without_avatar = _post(client, django_capture_on_commit_callbacks, content_type="video",
                                 voice_model=str(voice.pk), text="Hi")  # fmt: skip
    assert video_without_avatar.status_code == 400
    assert video_without_avatar.json()["error"]["fields"]["avatar_model"] == ["A video needs an avatar model."]
    empty = _post(client, django_capture_on_commit_callbacks, content_type="audio", voice_model=str(voice.pk), text=" ")
    assert empty.status_code == 400
    client.force_login(tenants.carol)
    foreign = _post(client, django_capture_on_commit_callbacks, content_type="audio", voice_model=str(voice.pk),
                    text="Hi")  # fmt: skip
    assert foreign.status_code == 404
    client.force_login(vera)
    viewer = _post(client, django_capture_on_commit_callbacks, content_type="audio", voice_model=str(voice.pk),
                   text="Hi")  # fmt: skip
    assert viewer.status_code == 403
    with account_context(tenants.a.id):
        assert not GeneratedContent.objects.exists()


def test_expired_files_are_deleted_and_the_row_stays(client, tenants, voice, django_capture_on_commit_callbacks):
    # given
    client.force_login(tenants.alice)
    made = _post(client, django_capture_on_commit_callbacks, content_type="audio", voice_model=str(voice.pk),
                 text="Short one.").json()  # fmt: skip
    content = _content(made["id"])
    path = Path(settings.MEDIA_ROOT) / content.file_path
    # when
    assert generated_media_expire(now=timezone.now()) == 0
    expired = generated_media_expire(now=content.storage_expires_at + timedelta(seconds=1))
    # then
    assert expired == 1 and not path.exists()
    content = _content(made["id"])
    assert content.file_path == "" and content.generation_status == "completed" and "expired_at" in content.metadata
    assert client.get(f"{URL}{made['id']}/file/").status_code == 404


def test_heygens_webhook_only_wakes_the_poller(client):
    delivery = {"event_type": "avatar_video.success", "event_data": {"video_id": "vid0009", "url": "https://x"}}
    response = client.post("/api/v1/media/heygen-webhook/", delivery, content_type="application/json")
    assert response.status_code == 200 and response.json() == {"received": True}
    assert q.redis_client().exists("aip:media:heygen:done:vid0009")
    assert heygen_webhook_received({"event_type": "x"}) is False
