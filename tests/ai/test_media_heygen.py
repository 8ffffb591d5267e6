"""The HeyGen adapter against the fake HeyGen on loopback: the talking-photo and
audio-asset uploads (raw bytes to the upload host), the v2 generate body, polling
until completed or failed, the download of the expiring URL, and its errors."""

from __future__ import annotations

import pytest

from aiplatform.ai.media.base import AvatarCreateRequest, Sample, VideoRequest, VideoState
from aiplatform.ai.media.errors import MediaBusy, MediaInputInvalid, MediaMisconfigured, MediaRejected, is_retryable
from aiplatform.ai.media.heygen import HeyGen
from tests.support.fake_media import HEYGEN_KEY

PHOTO = Sample("face.png", b"\x89PNG\r\n\x1a\nfake-photo", "image/png")


@pytest.fixture
def provider(fake_media):
    return HeyGen()


@pytest.fixture
def audio(tmp_path):
    path = tmp_path / "speech.mp3"
    path.write_bytes(b"ID3" + b"\x00" * 2000)
    return path


def _video(provider, audio, tmp_path, **kwargs):
    avatar = provider.avatar_create(AvatarCreateRequest(name="Alice", photo=PHOTO)).avatar_id
    return avatar, provider.video_start(
        VideoRequest(avatar_id=avatar, audio=audio, workdir=tmp_path, title="Hook", callback_id="job-1", **kwargs)
    )


def test_the_photo_is_uploaded_raw_to_the_upload_host(provider, fake_media):
    # when
    result = provider.avatar_create(AvatarCreateRequest(name="Alice", photo=PHOTO))
    # then
    assert result.avatar_id == "tp0001"
    (call,) = fake_media.calls("heygen.talking_photo")
    assert call.path == "/heygen-upload/v1/talking_photo"
    assert call.headers["x-api-key"] == HEYGEN_KEY and call.headers["content-type"] == "image/png"
    assert call.body == PHOTO.content


def test_a_video_uploads_our_audio_and_asks_for_the_talking_photo(provider, fake_media, audio, tmp_path):
    # when
    avatar, job = _video(provider, audio, tmp_path, width=1080, height=1920)
    # then
    assert job.status == VideoState.PENDING and job.video_id.startswith("vid")
    (upload,) = fake_media.calls("heygen.asset")
    assert upload.headers["content-type"] == "audio/mpeg" and upload.body == audio.read_bytes()
    (generate,) = fake_media.calls("heygen.generate")
    asset = next(iter(fake_media.assets))
    assert generate.json == {
        "video_inputs": [{"character": {"type": "talking_photo", "talking_photo_id": avatar},
                          "voice": {"type": "audio", "audio_asset_id": asset}}],
        "dimension": {"width": 1080, "height": 1920}, "test": False, "caption": False, "title": "Hook",
        "callback_id": "job-1",
    }  # fmt: skip


def test_polling_until_completed_then_the_download(provider, fake_media, audio, tmp_path):
    # given
    fake_media.render_polls = 2
    _, job = _video(provider, audio, tmp_path)
    # when
    states = [provider.video_status(job.video_id) for _ in range(3)]
    path = provider.video_download(states[-1], tmp_path)
    # then
    assert [s.status for s in states] == ["processing", "processing", "completed"]
    assert states[-1].duration_seconds == 2.0
    assert path.read_bytes()[4:8] == b"ftyp"  # an MP4
    assert "x-api-key" not in fake_media.calls("heygen.file")[0].headers  # a signed URL: no key sent along


def test_a_failed_render_says_why(provider, fake_media, audio, tmp_path):
    # given
    fake_media.render_failure = "No face detected in the photo"
    _, job = _video(provider, audio, tmp_path)
    # when
    provider.video_status(job.video_id)
    state = provider.video_status(job.video_id)
    # then
    assert state.status == VideoState.FAILED
    assert state.failure_message == "No face detected in the photo" and state.failure_code == "40119"


def test_invalid_parameter_is_rejected_with_heygens_message(provider, fake_media, audio, tmp_path):
    with pytest.raises(MediaRejected, match="talking_photo_id not found"):
        provider.video_start(VideoRequest(avatar_id="nope", audio=audio, workdir=tmp_path))


def test_a_wrong_key_names_the_setting(provider, fake_media, settings):
    settings.MEDIA_HEYGEN_API_KEY = "wrong"
    with pytest.raises(MediaMisconfigured, match="MEDIA_HEYGEN_API_KEY"):
        provider.avatar_create(AvatarCreateRequest(name="Alice", photo=PHOTO))


def test_insufficient_credit_is_not_retryable(provider, fake_media):
    fake_media.fail("heygen.talking_photo", "heygen_insufficient_credit")
    with pytest.raises(MediaRejected) as caught:
        provider.avatar_create(AvatarCreateRequest(name="Alice", photo=PHOTO))
    assert caught.value.code == "provider_quota_exceeded" and not is_retryable(caught.value)


def test_429_is_retried_then_busy(provider, fake_media, settings):
    # given: one 429 passes on retry
    fake_media.fail("heygen.talking_photo", "heygen_rate_limited")
    assert provider.avatar_create(AvatarCreateRequest(name="Alice", photo=PHOTO)).avatar_id
    # when: more than the retries
    settings.AI_MAX_RETRIES = 1
    fake_media.fail("heygen.talking_photo", "heygen_rate_limited", times=2)
    with pytest.raises(MediaBusy) as caught:
        provider.avatar_create(AvatarCreateRequest(name="Alice", photo=PHOTO))
    # then
    assert is_retryable(caught.value) and caught.value.extra["retry_after"] == 60


def test_only_jpeg_or_png_is_sent(provider, fake_media):
    with pytest.raises(MediaInputInvalid):
        provider.avatar_create(AvatarCreateRequest(name="Alice", photo=Sample("a.gif", b"GIF89a", "image/gif")))
    assert fake_media.calls("heygen.talking_photo") == []
