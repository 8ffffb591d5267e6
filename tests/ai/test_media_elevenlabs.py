"""The ElevenLabs adapter against the fake ElevenLabs on loopback: the request
shapes it sends (multipart clone, JSON text to speech with output_format), the
errors it maps (invalid key, quota, missing voice, text too long, 422) and the
429s it retries."""

from __future__ import annotations

import pytest

from aiplatform.ai.media.base import Sample, SpeechRequest, VoiceCloneRequest
from aiplatform.ai.media.elevenlabs import ElevenLabs, mp3_seconds
from aiplatform.ai.media.errors import (
    MediaBusy,
    MediaInputInvalid,
    MediaMisconfigured,
    MediaProviderError,
    MediaRejected,
    is_retryable,
)
from tests.support.fake_media import ELEVENLABS_KEY


@pytest.fixture
def provider(fake_media):
    return ElevenLabs()


def _clone(provider, **kwargs):
    request = VoiceCloneRequest(
        name="Alice narrator", samples=(Sample("one.mp3", b"ID3fake-audio-1", "audio/mpeg"),
                                        Sample("two.wav", b"RIFFfake-audio-2", "audio/wav")),
        description="Warm, fast", labels={"accent": "american"}, **kwargs,
    )  # fmt: skip
    return provider.voice_clone(request)


def test_clone_sends_the_multipart_form_of_the_sdk(provider, fake_media):
    # when
    result = _clone(provider, remove_background_noise=True)
    # then
    assert result.voice_id == "voice0001" and result.requires_verification is False
    (call,) = fake_media.calls("elevenlabs.clone")
    assert call.headers["xi-api-key"] == ELEVENLABS_KEY
    assert call.form["name"] == "Alice narrator"
    assert call.form["description"] == "Warm, fast"
    assert call.form["remove_background_noise"] == "true"
    assert call.form["labels"] == '{"accent": "american"}'
    assert [(f[0], f[1]) for f in call.form["files"]] == [("one.mp3", "audio/mpeg"), ("two.wav", "audio/wav")]


def test_speech_posts_json_with_the_output_format_and_writes_the_mp3(provider, fake_media, tmp_path):
    # given
    voice = _clone(provider).voice_id
    # when
    audio = provider.speech(SpeechRequest(voice_id=voice, text="Hello there.", workdir=tmp_path,
                                          voice_settings={"stability": 0.5, "similarity_boost": 0.75}))  # fmt: skip
    # then
    (call,) = fake_media.calls("elevenlabs.tts")
    assert call.path.endswith(f"/v1/text-to-speech/{voice}")
    assert call.query == {"output_format": "mp3_44100_128"}
    assert call.json == {"text": "Hello there.", "model_id": "eleven_multilingual_v2",
                         "voice_settings": {"stability": 0.5, "similarity_boost": 0.75}}  # fmt: skip
    assert audio.path.read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3") or audio.path.stat().st_size > 1000
    assert audio.characters == 12 and audio.content_type == "audio/mpeg"
    assert audio.duration_seconds == pytest.approx(2.0, abs=0.15)  # the fake's 2 s clip at 128 kbit/s


def test_a_wrong_key_says_which_setting_to_check(provider, fake_media, settings, tmp_path):
    # given
    settings.MEDIA_ELEVENLABS_API_KEY = "wrong"
    # when
    with pytest.raises(MediaMisconfigured) as caught:
        _clone(provider)
    # then
    assert "MEDIA_ELEVENLABS_API_KEY" in caught.value.message
    assert not is_retryable(caught.value)


def test_no_key_is_unavailable_before_any_request(fake_media, settings):
    settings.MEDIA_ELEVENLABS_API_KEY = ""
    with pytest.raises(MediaMisconfigured, match="MEDIA_ELEVENLABS_API_KEY"):
        _clone(ElevenLabs())
    assert fake_media.calls("elevenlabs.clone") == []


def test_quota_exceeded_is_not_retried_and_says_what_to_do(provider, fake_media, tmp_path):
    # given
    voice = _clone(provider).voice_id
    fake_media.fail("elevenlabs.tts", "quota_exceeded")
    # when
    with pytest.raises(MediaRejected) as caught:
        provider.speech(SpeechRequest(voice_id=voice, text="Hi.", workdir=tmp_path))
    # then
    assert caught.value.code == "provider_quota_exceeded"
    assert "MEDIA_VOICE_PROVIDER=offline" in caught.value.message
    assert not is_retryable(caught.value)
    assert len(fake_media.calls("elevenlabs.tts")) == 1


def test_a_voice_elevenlabs_no_longer_has(provider, fake_media, tmp_path):
    with pytest.raises(MediaRejected) as caught:
        provider.speech(SpeechRequest(voice_id="gone", text="Hi.", workdir=tmp_path))
    assert caught.value.code == "voice_not_found"
    assert "Create the voice model again" in caught.value.message


def test_text_over_the_model_limit_is_refused_before_any_request(provider, fake_media, tmp_path):
    with pytest.raises(MediaInputInvalid) as caught:
        provider.speech(SpeechRequest(voice_id="voice0001", text="a" * 10_001, workdir=tmp_path))
    assert caught.value.code == "text_too_long"
    assert fake_media.calls("elevenlabs.tts") == []


def test_the_servers_character_limit_is_mapped(provider, fake_media, tmp_path, settings):
    # given: a model whose limit we do not know, and a larger limit of our own
    settings.MEDIA_MAX_SCRIPT_CHARS = 50_000
    voice = _clone(provider).voice_id
    # when
    with pytest.raises(MediaRejected) as caught:
        provider.speech(SpeechRequest(voice_id=voice, text="a" * 10_001, workdir=tmp_path, model="eleven_v3"))
    # then
    assert caught.value.code == "text_too_long"


def test_validation_errors_name_the_field(provider, fake_media):
    with pytest.raises(MediaRejected, match="body.files: field required"):
        provider.voice_clone(VoiceCloneRequest(name="x", samples=(Sample("", b"", ""),)))


def test_too_many_concurrent_requests_is_retried(provider, fake_media, tmp_path, settings):
    # given
    settings.AI_RETRY_BACKOFF = 0.01
    voice = _clone(provider).voice_id
    fake_media.fail("elevenlabs.tts", "too_many_concurrent_requests", times=2)
    # when
    audio = provider.speech(SpeechRequest(voice_id=voice, text="Hi.", workdir=tmp_path))
    # then
    assert audio.path.exists()
    assert len(fake_media.calls("elevenlabs.tts")) == 3


def test_429_after_the_retries_is_busy_and_retryable(provider, fake_media, tmp_path, settings):
    # given
    settings.AI_MAX_RETRIES = 1
    voice = _clone(provider).voice_id
    fake_media.fail("elevenlabs.tts", "system_busy", times=2)
    # when
    with pytest.raises(MediaBusy) as caught:
        provider.speech(SpeechRequest(voice_id=voice, text="Hi.", workdir=tmp_path))
    # then
    assert "ElevenLabs is busy" in caught.value.message
    assert caught.value.status == 503 and is_retryable(caught.value)


def test_server_errors_are_retryable(provider, fake_media, settings):
    settings.AI_MAX_RETRIES = 0
    fake_media.fail("elevenlabs.clone", "server_error")
    with pytest.raises(MediaProviderError) as caught:
        _clone(provider)
    assert is_retryable(caught.value)


def test_mp3_length_from_the_output_format():
    assert mp3_seconds(16_000, "mp3_44100_128") == 1.0
    assert mp3_seconds(4_000, "mp3_22050_32") == 1.0
    assert mp3_seconds(4_000, "pcm_16000") == 0.0
