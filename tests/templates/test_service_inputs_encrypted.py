"""Service inputs (names, birth dates and times) are personal data, encrypted at
rest with the platform's MultiFernet: no plaintext in the column, the ORM, API and
pages read them, a tampered value raises, and keys rotate with
`service_inputs_reencrypt` (resumable, like persona_reencrypt)."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.tenancy.context import account_context, rls_bypass
from personas.crypto import PromptDecryptionError
from templates.models import ServiceResult
from tests.templates.factories import ServiceResultFactory

pytestmark = pytest.mark.django_db

INPUTS = {"name": "김민지 Minji Kim", "birth_date": "1990-04-01", "birth_time": "07:45"}
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def _stored(pk) -> str:
    with rls_bypass("test: the stored token"), connection.cursor() as cur:
        cur.execute("SELECT input_data FROM templates_serviceresult WHERE id = %s", [pk])
        return cur.fetchone()[0]


def _read(result) -> dict:
    with account_context(result.account_id):
        return ServiceResult.objects.get(pk=result.pk).input_data


def _result(tenants) -> ServiceResult:
    with account_context(tenants.a.id):
        return ServiceResultFactory(account=tenants.a, user=tenants.alice, input_data=INPUTS)


def _reencrypt(tmp_path, *args) -> str:
    out = StringIO()
    call_command("service_inputs_reencrypt", "--checkpoint", str(tmp_path / "checkpoint.json"), *args, stdout=out)
    return out.getvalue()


def test_the_column_holds_no_plaintext_and_the_orm_reads_the_inputs(tenants):
    # when a result is stored with personal inputs
    result = _result(tenants)

    # then the column holds a Fernet token with none of them in it
    stored = _stored(result.pk)
    assert stored.startswith("gAAAAA")
    for value in ("Minji", "김민지", "1990-04-01", "07:45", "birth_date"):
        assert value not in stored
    # and the ORM (and so the API and pages) reads the inputs back
    assert _read(result) == INPUTS
    with account_context(tenants.a.id):
        assert list(ServiceResult.objects.filter(pk=result.pk).values_list("input_data", flat=True)) == [INPUTS]


def test_the_api_returns_the_inputs_as_json(tenants, alice_api):
    result = _result(tenants)
    body = alice_api.get(f"/api/v1/results/{result.pk}/").json()
    assert body["input_data"] == INPUTS


def test_a_tampered_token_raises_instead_of_returning_anything(tenants):
    # given a stored token with one character changed
    result = _result(tenants)
    token = _stored(result.pk)
    forged = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    with rls_bypass("test: tamper"), connection.cursor() as cur:
        cur.execute("UPDATE templates_serviceresult SET input_data = %s WHERE id = %s", [forged, result.pk])

    # when it is read, then decryption fails loudly
    with pytest.raises(PromptDecryptionError):
        _read(result)


def test_keys_rotate_with_the_reencryption_command(tenants, settings, tmp_path):
    # given two results written under the old key
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    results = [_result(tenants), _result(tenants)]
    before = {r.pk: _stored(r.pk) for r in results}

    # when the new key is put first and the inputs re-encrypted
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    dry = _reencrypt(tmp_path, "--dry-run")
    output = _reencrypt(tmp_path)

    # then every token changed, and the new key alone reads them
    assert "2 results scanned, would re-encrypt 2, 0 already under the primary key, 0 failed." in dry
    assert "2 results scanned, re-encrypted 2, 0 already under the primary key, 0 failed." in output
    assert all(_stored(r.pk) != before[r.pk] for r in results)
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY]
    assert [_read(r) for r in results] == [INPUTS, INPUTS]
    # and a second run has nothing left to do, and leaves no checkpoint
    assert "2 results scanned, re-encrypted 0, 2 already under the primary key, 0 failed." in _reencrypt(tmp_path)
    assert not (tmp_path / "checkpoint.json").exists()


def test_a_token_no_key_opens_is_reported_and_left_alone(tenants, settings, tmp_path):
    # given a result under a key that is then removed
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    result = _result(tenants)
    token = _stored(result.pk)
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY]

    # when the command runs, then it names the result and writes nothing
    with pytest.raises(CommandError) as err:
        _reencrypt(tmp_path)
    assert str(result.pk) in str(err.value)
    assert _stored(result.pk) == token


def test_the_migration_encrypts_inputs_stored_in_plaintext_before_it(tenants):
    # given a row whose inputs are still plaintext JSON (written before migration 0004)
    import importlib
    import json

    migration = importlib.import_module("templates.migrations.0004_service_inputs_encrypted")
    result = _result(tenants)
    with rls_bypass("test: a legacy row"), connection.cursor() as cur:
        cur.execute("UPDATE templates_serviceresult SET input_data = %s WHERE id = %s", [json.dumps(INPUTS), result.pk])

    # when the migration's data step runs (twice: it is idempotent)
    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.encrypt_inputs(None, editor)
    migration.encrypt_inputs(None, editor)

    # then the row is a token that reads back as the inputs
    assert _stored(result.pk).startswith("gAAAAA")
    assert _read(result) == INPUTS


def _stored_files(pk) -> list[str]:
    with rls_bypass("test: the stored tokens"), connection.cursor() as cur:
        cur.execute("SELECT input_files FROM templates_serviceresult WHERE id = %s", [pk])
        return cur.fetchone()[0]


def test_the_photo_paths_rotate_with_the_inputs(tenants, settings, tmp_path):
    # given a result with two photo paths under the old key
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    paths = ["service-inputs/a/1.png", "service-inputs/a/2.png"]
    with account_context(tenants.a.id):
        result = ServiceResultFactory(account=tenants.a, user=tenants.alice, input_data=INPUTS, input_files=paths)
    before = _stored_files(result.pk)

    # when the new key is put first and the command runs
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    output = _reencrypt(tmp_path)

    # then the input and both paths were re-encrypted, and the new key alone reads them
    assert "1 results scanned, re-encrypted 3, 0 already under the primary key, 0 failed." in output
    after = _stored_files(result.pk)
    assert len(after) == 2 and not set(after) & set(before)
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY]
    with account_context(tenants.a.id):
        assert ServiceResult.objects.get(pk=result.pk).input_files == paths


def test_a_photo_path_no_key_opens_leaves_the_whole_array_alone(tenants, settings, tmp_path):
    from personas import crypto

    # given one path under a key that is then removed, and one under the new key
    settings.PERSONA_ENCRYPTION_KEYS = [OLD_KEY]
    lost = crypto.encrypt("service-inputs/a/lost.png")
    settings.PERSONA_ENCRYPTION_KEYS = [NEW_KEY]
    with account_context(tenants.a.id):
        result = ServiceResultFactory(account=tenants.a, user=tenants.alice, input_data=INPUTS)
    with rls_bypass("test: a path under a removed key"), connection.cursor() as cur:
        cur.execute(
            "UPDATE templates_serviceresult SET input_files = %s WHERE id = %s",
            [[crypto.encrypt("service-inputs/a/ok.png"), lost], result.pk],
        )
    before = _stored_files(result.pk)

    # when the command runs, then it names the result's column and writes nothing to it
    with pytest.raises(CommandError) as err:
        _reencrypt(tmp_path)
    assert f"{result.pk} input_files" in str(err.value)
    assert _stored_files(result.pk) == before
