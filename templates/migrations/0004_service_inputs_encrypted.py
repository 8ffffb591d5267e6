# Service inputs are personal data: encrypted at rest (templates/models/fields.py).

from django.db import migrations

import templates.models.fields

FERNET_PREFIX = "gAAAAA"  # every Fernet token starts with its version byte 0x80, base64


def _rows(cursor):
    cursor.execute("SELECT set_config('app.rls_bypass', 'on', true)")
    cursor.execute("SELECT id, input_data FROM templates_serviceresult")
    return cursor.fetchall()


def encrypt_inputs(apps, schema_editor):
    from personas import crypto

    with schema_editor.connection.cursor() as cur:
        for pk, value in _rows(cur):
            if value is not None and not value.startswith(FERNET_PREFIX):
                cur.execute("UPDATE templates_serviceresult SET input_data = %s WHERE id = %s",
                            [crypto.encrypt(value), pk])


def decrypt_inputs(apps, schema_editor):
    from personas import crypto

    with schema_editor.connection.cursor() as cur:
        for pk, value in _rows(cur):
            if value is not None and value.startswith(FERNET_PREFIX):
                cur.execute("UPDATE templates_serviceresult SET input_data = %s WHERE id = %s",
                            [crypto.decrypt(value), pk])


class Migration(migrations.Migration):
    dependencies = [
        ("templates", "0003_component_library"),
    ]

    operations = [
        migrations.AlterField(
            model_name="serviceresult",
            name="input_data",
            field=templates.models.fields.EncryptedJSONField(
                blank=True, default=dict, help_text="The validated parameters, encrypted at rest."
            ),
        ),
        migrations.RunPython(encrypt_inputs, decrypt_inputs),
    ]
