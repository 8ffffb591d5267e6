"""A JSON value encrypted at rest: service inputs are personal data (names, birth
dates and times, photo paths), kept like seed 000 asks for user PII.

The column holds one MultiFernet token (`personas.crypto`, keys in
PERSONA_ENCRYPTION_KEYS) of the value's JSON. The ORM reads and writes the value
(a dict); the database and its backups only ever see the token. Rotation:
`manage.py service_inputs_reencrypt` after putting a new key first.
"""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from personas import crypto


class EncryptedJSONField(models.TextField):
    description = "JSON encrypted at rest (MultiFernet)"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return json.loads(crypto.decrypt(value))

    def to_python(self, value):
        if value is None or isinstance(value, dict | list):
            return value
        return json.loads(value)

    def get_prep_value(self, value):
        if value is None:
            return None
        return crypto.encrypt(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder, ensure_ascii=False)


class EncryptedTextField(models.TextField):
    """Text encrypted at rest (one MultiFernet token), e.g. the storage path of a
    photo a user sent: the path names the account and the result."""

    description = "Text encrypted at rest (MultiFernet)"

    def from_db_value(self, value, expression, connection):
        return None if value is None else crypto.decrypt(value)

    def get_prep_value(self, value):
        return None if value is None else crypto.encrypt(str(value))
