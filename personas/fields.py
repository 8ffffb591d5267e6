"""A text column stored encrypted (see crypto.py)."""

from __future__ import annotations

from django.db import models

from . import crypto


class EncryptedTextField(models.TextField):
    """Plaintext in Python, a Fernet token in the database.

    Tokens are randomised (a fresh IV each time), so the column cannot be
    searched or compared in SQL: only `isnull` is allowed as a lookup, and any
    other lookup is a FieldError rather than a query that silently matches nothing.
    A value that does not decrypt raises `crypto.PromptDecryptionError` on read.
    """

    description = "Text encrypted at rest (Fernet)"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)
