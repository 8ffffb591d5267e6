"""seed_media_demo gives Acme Logistics a voice, an avatar and one real clip of each
kind made by the offline engine through the queue; a second run changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.demo import TEAM_ACCOUNT, demo_tenant
from accounts.tenancy.context import account_context
from canvas.models import AvatarModel, GeneratedContent, VoiceModel
from tests.canvas.media_support import media_storage  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_storage")]


def _state(account):
    with account_context(account.id):
        return (
            list(VoiceModel.objects.filter(account=account).values_list("name", "training_status")),
            list(AvatarModel.objects.filter(account=account).values_list("name", "creation_status")),
            sorted(GeneratedContent.objects.filter(account=account).values_list("content_type", "generation_status")),
        )


def test_the_media_demo_is_real_and_idempotent():
    # given
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_billing_demo", stdout=StringIO())
    account = demo_tenant(TEAM_ACCOUNT).account
    # when
    first, second = StringIO(), StringIO()
    call_command("seed_media_demo", stdout=first)
    state = _state(account)
    call_command("seed_media_demo", stdout=second)
    # then
    assert "made voice, avatar, voice clip, avatar video" in first.getvalue()
    assert state == (
        [("Acme narrator", "completed")],
        [("Acme presenter", "completed")],
        [("audio", "completed"), ("video", "completed")],
    )
    assert second.getvalue().strip() == "Media demo already loaded."
    assert _state(account) == state
