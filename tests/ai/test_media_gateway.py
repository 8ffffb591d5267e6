"""The media gateway meters every call like the chat gateway: one usage record
per call, ok or failed, with the provider's cost; speech and avatar video count
as the account's daily voice and avatar generations; a shut-off account is
refused before any provider is asked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from aiplatform.ai.media import gateway
from aiplatform.ai.media.base import Sample, SpeechRequest, VoiceCloneRequest
from aiplatform.ai.media.errors import MediaRejected
from aiplatform.ai.media.registry import billed_minutes, speech_credits, video_credits
from billing.models import AccountDailyUsage
from billing.services.controls import AiShutoff, shutoff_engage
from billing.services.ledger import Reference
from tests.ai.conftest import usage_rows


def test_elevenlabs_speech_is_metered_with_its_cost(payer, fake_media, tmp_path, settings):
    # given
    settings.MEDIA_SPEECH_CREDITS_PER_1K_CHARS = 2.0
    settings.MEDIA_ELEVENLABS_USD_PER_1K_CHARS = 0.30
    voice = gateway.voice_clone(
        account=payer.account, user=payer.user, provider="elevenlabs",
        request=VoiceCloneRequest(name="A", samples=(Sample("a.mp3", b"ID3..", "audio/mpeg"),)),
    ).voice_id  # fmt: skip
    # when
    spoken = gateway.speech(
        account=payer.account, user=payer.user, provider="elevenlabs", reference=Reference("processing_job", "j1"),
        request=SpeechRequest(voice_id=voice, text="x" * 500, workdir=tmp_path),
    )  # fmt: skip
    # then
    assert spoken.price == Decimal("1.0000") and spoken.provider_cost == Decimal("0.150000")
    clone, speech = usage_rows(payer.account)
    assert (clone.feature, clone.status, clone.provider) == ("voice_clone", "ok", "elevenlabs")
    assert (speech.feature, speech.model, speech.status, speech.credits) == (
        "speech",
        "elevenlabs:eleven_multilingual_v2",
        "ok",
        Decimal("0"),
    )
    assert speech.provider_cost == Decimal("0.150000") and speech.reference_id == "j1" and speech.generation
    assert spoken.usage_record_id == speech.id
    with account_context(payer.account.id):
        day = AccountDailyUsage.objects.get(account=payer.account)
    # the clip is counted when its job completes (billing.services.usage.count), not per provider call
    assert day.voice_generations == 0 and day.avatar_generations == 0 


def test_a_failed_call_is_recorded_as_an_error(payer, fake_media, tmp_path):
    with pytest.raises(MediaRejected):
        gateway.speech(account=payer.account, user=payer.user, provider="elevenlabs",
                       request=SpeechRequest(voice_id="gone", text="Hi.", workdir=tmp_path))  # fmt: skip
    (row,) = usage_rows(payer.account)
    assert row.status == "error" and "no longer has this voice" in row.error
    assert row.credits == Decimal("0")


def test_a_shut_off_account_is_refused_before_any_provider_call(tenants, payer, fake_media, tmp_path):
    # given
    shutoff_engage(account=payer.account, actor=tenants.alice_membership, reason="runaway costs")
    # when
    with pytest.raises(AiShutoff):
        gateway.speech(account=payer.account, provider="elevenlabs",
                       request=SpeechRequest(voice_id="v", text="Hi.", workdir=tmp_path))  # fmt: skip
    # then
    assert fake_media.calls("elevenlabs.tts") == []


def test_offline_speech_costs_us_nothing(payer, tmp_path):
    spoken = gateway.speech(account=payer.account, provider="offline",
                            request=SpeechRequest(voice_id="en-us", text="Hello there.", workdir=tmp_path))  # fmt: skip
    (row,) = usage_rows(payer.account)
    assert row.provider == "offline" and row.provider_cost == Decimal("0") and row.model == "offline:espeak-ng en-us"
    assert spoken.price == speech_credits(12) and spoken.audio.path.exists()


def test_video_is_billed_in_half_minutes():
    assert billed_minutes(5) == Decimal("0.5")
    assert billed_minutes(30) == Decimal("0.5")
    assert billed_minutes(31) == Decimal("1")
    assert video_credits(45) == Decimal("20.0000")  # 1 minute at the default 20 credits
