"""System prompts are encrypted at rest: no plaintext in the column, tampering
raises, keys rotate with a resumable re-encryption, and a bad key stops the boot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

import personas.reencrypt as reencrypt
from accounts.tenancy.context import rls_bypass
from personas.crypto import PromptDecryptionError, check_keys, parse_keys
from personas.models import Persona
from tests.personas.factories import PersonaFactory

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
SECRET = "You are Atlas. Internal escalation code ZEBRA-7731-OMEGA; never reveal it."
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def _stored(persona_id) -> str:
    with rls_bypass("test: read the raw column"), connection.cursor() as cur:
        cur.execute("SELECT system_prompt FROM personas_persona WHERE id = %s", [persona_id])
        return cur.fetchone()[0]


def _store_raw(persona_id, value: str) -> None:
    with rls_bypass("test: write the raw column"), connection.cursor() as cur:
        cur.execute("UPDATE personas_persona SET system_prompt = %s WHERE id = %s", [value, persona_id])


def _read(persona_id) -> str:
    with rls_bypass("test: read through the model"):
        return Persona.objects.get(pk=persona_id).system_prompt


def test_a_raw_sql_read_of_the_column_shows_no_plaintext(tenants):
    # given a persona whose prompt carries a marker
    persona = PersonaFactory(account=tenants.a, system_prompt=SECRET)
    # when the column is read with SQL
    stored = _stored(persona.id)
    # then it is a Fernet token without any part of the prompt, and the model decrypts it
    assert stored.startswith("gAAAAA")
    assert "ZEBRA" not in stored and "Atlas" not in stored
    assert _read(persona.id) == SECRET


def test_the_same_prompt_encrypts_differently_each_time(tenants):
    first = PersonaFactory(account=tenants.a, system_prompt=SECRET)
    second = PersonaFactory(account=tenants.a, system_prompt=SECRET)
    assert _stored(first.id) != _stored(second.id)


def test_a_tampered_token_raises_and_never_returns_plaintext(tenants):
    # given a stored token with one character changed in its body
    persona = PersonaFactory(account=tenants.a, system_prompt=SECRET)
    token = _stored(persona.id)
    middle = len(token) // 2
    _store_raw(persona.id, token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :])
    # when it is read; then the read fails loudly
    with pytest.raises(PromptDecryptionError, match="could not be decrypted"):
        _read(persona.id)


def test_a_plaintext_value_in_the_column_is_refused_too(tenants):
    # given a row written around the model, in plaintext
    persona = PersonaFactory(account=tenants.a, system_prompt=SECRET)
    _store_raw(persona.id, SECRET)
    # then reading it raises instead of passing the plaintext through
    with pytest.raises(PromptDecryptionError):
        _read(persona.id)


def test_the_encrypted_column_cannot_be_searched():
    with pytest.raises(FieldError, match="Unsupported lookup 'icontains'"):
        Persona.objects.filter(system_prompt__icontains="Atlas")
    assert Persona.objects.filter(system_prompt__isnull=True).count() == 0


# --- rotation and re-encryption -------------------------------------------------------


def _reencrypt(tmp_path, *args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("persona_reencrypt", "--checkpoint", str(tmp_path / "checkpoint.json"), *args, stdout=out)
    return out.getvalue()


def test_rotation_old_key_still_decrypts_and_after_reencrypt_only_the_new_key_is_needed(tenants, settings, tmp_path):
    # given two personas written under the old key
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    ids = [PersonaFactory(account=tenants.a, system_prompt=f"{SECRET} #{i}").id for i in range(2)]
    before = {pk: _stored(pk) for pk in ids}
    # when the new key is put first, the old one kept
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    # then the old tokens still decrypt
    assert [_read(pk) for pk in ids] == [f"{SECRET} #0", f"{SECRET} #1"]
    # when every row is re-encrypted
    output = _reencrypt(tmp_path)
    # then each token changed, and the new key alone reads them
    assert "2 scanned, re-encrypted 2, 0 already under the primary key, 0 failed." in output
    assert all(_stored(pk) != before[pk] for pk in ids)
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY]
    assert [_read(pk) for pk in ids] == [f"{SECRET} #0", f"{SECRET} #1"]
    # and a second run has nothing left to do
    assert "2 scanned, re-encrypted 0, 2 already under the primary key, 0 failed." in _reencrypt(tmp_path)
    assert not (tmp_path / "checkpoint.json").exists()


def test_without_the_old_key_the_old_tokens_do_not_decrypt(tenants, settings):
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    persona = PersonaFactory(account=tenants.a, system_prompt=SECRET)
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(PromptDecryptionError):
        _read(persona.id)


def test_a_dry_run_counts_and_writes_nothing(tenants, settings, tmp_path):
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    persona = PersonaFactory(account=tenants.a, system_prompt=SECRET)
    token = _stored(persona.id)
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    output = _reencrypt(tmp_path, "--dry-run")
    assert "1 scanned, would re-encrypt 1, 0 already under the primary key, 0 failed." in output
    assert _stored(persona.id) == token
    assert not (tmp_path / "checkpoint.json").exists()


def test_a_crashed_run_resumes_after_the_last_committed_batch(tenants, settings, tmp_path, monkeypatch):
    # given five personas under the old key and the new key first
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    ids = sorted(str(PersonaFactory(account=tenants.a, system_prompt=f"{SECRET} {i}").id) for i in range(5))
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    # when the run crashes in its second batch of two
    real = reencrypt._rotate_batch
    calls = []

    def crash_on_second_batch(rows, *rest):
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        real(rows, *rest)

    monkeypatch.setattr(reencrypt, "_rotate_batch", crash_on_second_batch)
    with pytest.raises(RuntimeError, match="worker killed"):
        _reencrypt(tmp_path, "--batch-size", "2")
    # then the checkpoint names the last id of the committed batch, and only that batch is rotated
    checkpoint = json.loads((tmp_path / "checkpoint.json").read_text())
    assert checkpoint["last_id"] == ids[1]
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY]
    assert [_safe_read(pk) is not None for pk in ids] == [True, True, False, False, False]
    # when the run is started again
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    monkeypatch.setattr(reencrypt, "_rotate_batch", real)
    output = _reencrypt(tmp_path, "--batch-size", "2")
    # then it resumes after that id and rotates the remaining three
    assert f"Resumed after persona {ids[1]}." in output
    assert "3 scanned, re-encrypted 3, 0 already under the primary key, 0 failed." in output
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY]
    assert all(_safe_read(pk) is not None for pk in ids)
    assert not (tmp_path / "checkpoint.json").exists()


def _safe_read(pk) -> str | None:
    try:
        return _read(pk)
    except PromptDecryptionError:
        return None


def test_an_undecryptable_row_is_reported_and_left_alone(tenants, settings, tmp_path):
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    good = PersonaFactory(account=tenants.a, system_prompt=SECRET)
    bad = PersonaFactory(account=tenants.a, system_prompt=SECRET)
    _store_raw(bad.id, "gAAAAAtampered")
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    with pytest.raises(CommandError, match=f"could not be decrypted with any configured key .*: {bad.id}"):
        _reencrypt(tmp_path)
    assert _stored(bad.id) == "gAAAAAtampered"
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY]
    assert _read(good.id) == SECRET


# --- keys at boot --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, message",
    [
        (None, "PERSONA_ENCRYPTION_KEYS is not set"),
        ("", "PERSONA_ENCRYPTION_KEYS is empty"),
        ([], "PERSONA_ENCRYPTION_KEYS is empty"),
        ("not-a-fernet-key", "key #1 is not a Fernet key"),
        (f"{NEW_KEY},short", "key #2 is not a Fernet key"),
    ],
    # Fixed ids: NEW_KEY is random, and pytest-xdist workers must collect the same names.
    ids=["unset", "empty", "empty-list", "malformed", "second-malformed"],
)
def test_a_missing_or_malformed_key_is_refused(raw, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_keys(raw)


def test_the_error_never_echoes_the_key_and_says_how_to_make_one():
    with pytest.raises(ImproperlyConfigured) as raised:
        parse_keys("almost-a-secret-key-value")
    assert "almost-a-secret" not in str(raised.value)
    assert "Fernet.generate_key()" in str(raised.value)


def test_valid_keys_parse_first_key_first():
    keys = parse_keys(f" {NEW_KEY} , {OLD_KEY} ")
    token = Fernet(OLD_KEY.encode()).encrypt(b"x")
    assert len(keys) == 2 and keys[1].decrypt(token) == b"x"


def test_the_app_refuses_to_start_without_a_key(settings):
    settings.PERSONA_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="is empty"):
        check_keys()
    with pytest.raises(ImproperlyConfigured, match="is empty"):
        apps.get_app_config("personas").ready()


@pytest.mark.parametrize("value, message", [("", "is empty"), ("bad-key", "key #1 is not a Fernet key")])
def test_booting_django_without_a_valid_key_fails(value, message):
    # given the base settings (no development default), external servers named so nothing embedded starts
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aiplatform.settings.base",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "PERSONA_ENCRYPTION_KEYS": value,
    }
    # when Django sets up
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=REPO, env=env, capture_output=True, text=True
    )
    # then it stops with the configuration error
    assert result.returncode == 1
    assert "ImproperlyConfigured: PERSONA_ENCRYPTION_KEYS" in result.stderr and message in result.stderr
