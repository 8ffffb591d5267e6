"""Channel tokens are encrypted at rest, and `channel_tokens_reencrypt` moves
them to a new primary key (resumable, dry run, undecryptable rows reported)."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.tenancy.context import rls_bypass
from channels_bot.models import ConnectedChannel
from tests.channels_bot.factories import ChannelFactory

pytestmark = pytest.mark.django_db

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def _stored(channel_id) -> tuple[str, str | None]:
    with rls_bypass("test: read the raw columns"), connection.cursor() as cur:
        cur.execute("SELECT access_token, refresh_token FROM channels_bot_connectedchannel WHERE id = %s", [channel_id])
        return cur.fetchone()


def _read(channel_id) -> tuple[str, str | None]:
    with rls_bypass("test: read through the model"):
        channel = ConnectedChannel.objects.get(pk=channel_id)
        return channel.access_token, channel.refresh_token


def _reencrypt(tmp_path, *args: str) -> str:
    out = StringIO()
    call_command("channel_tokens_reencrypt", "--checkpoint", str(tmp_path / "checkpoint.json"), *args, stdout=out)
    return out.getvalue()


def test_tokens_are_not_stored_in_plaintext(tenants):
    # given
    channel = ChannelFactory(account=tenants.a, access_token="EAAG-secret-page-token", refresh_token="R-secret")

    # when
    access, refresh = _stored(channel.pk)

    # then
    assert "secret" not in access and "secret" not in refresh
    assert access.startswith("gAAAAA")
    assert _read(channel.pk) == ("EAAG-secret-page-token", "R-secret")


def test_rotation_to_a_new_primary_key(tenants, settings, tmp_path):
    # given three channels under the old key, one of them with a refresh token
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    ids = [ChannelFactory(account=tenants.a, access_token=f"A{i}").pk for i in range(2)]
    ids.append(ChannelFactory(account=tenants.b, access_token="A2", refresh_token="R2").pk)
    before = {pk: _stored(pk) for pk in ids}
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]

    # when
    output = _reencrypt(tmp_path, "--batch-size", "2")

    # then every token (both accounts) changed and the new key alone reads them
    assert "3 channels scanned, re-encrypted 4 tokens, 0 already under the primary key, 0 failed." in output
    assert "batch 2: 3 channels scanned so far" in output
    assert all(_stored(pk)[0] != before[pk][0] for pk in ids)
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY]
    assert [_read(pk) for pk in ids] == [("A0", None), ("A1", None), ("A2", "R2")]
    assert "re-encrypted 0 tokens, 4 already under the primary key" in _reencrypt(tmp_path)
    assert not (tmp_path / "checkpoint.json").exists()


def test_a_dry_run_writes_nothing(tenants, settings, tmp_path):
    # given
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    channel = ChannelFactory(account=tenants.a, access_token="A", refresh_token="R")
    before = _stored(channel.pk)
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]

    # when
    output = _reencrypt(tmp_path, "--dry-run")

    # then
    assert "1 channels scanned, would re-encrypt 2 tokens" in output
    assert _stored(channel.pk) == before


def test_an_undecryptable_token_is_reported_and_left_alone(tenants, settings, tmp_path):
    # given one channel under a key that is no longer configured
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    lost = ChannelFactory(account=tenants.a, access_token="A")
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY]
    fine = ChannelFactory(account=tenants.a, access_token="B")
    before = _stored(lost.pk)

    # when / then
    with pytest.raises(CommandError) as caught:
        _reencrypt(tmp_path)
    assert f"{lost.pk} access_token" in str(caught.value)
    assert _stored(lost.pk) == before
    assert _read(fine.pk) == ("B", None)
