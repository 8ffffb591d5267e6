"""Idempotency keys (Stripe semantics): a retried request with the same key gets
the first result back; the same key with other parameters is a conflict.

Keys are scoped to the account and kept IDEMPOTENCY_TTL_HOURS. The claim is
made in the caller's transaction, so a failed first attempt leaves no claim.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from django.db import connection
from django.utils.translation import gettext

from aiplatform.errors import Conflict, InvalidInput
from billing.models import IdempotencyRecord


def fingerprint(operation: str, **params) -> str:
    raw = json.dumps({"op": operation, **{k: str(v) for k, v in params.items()}}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def claim_key(account_id, key: str, digest: str) -> IdempotencyRecord | None:
    """Claim `key` for this transaction, or return the record of its first use.

    A concurrent request with the same key waits on the unique index until the
    first commits (then sees its record) or rolls back (then claims it itself).
    """
    if len(key) > 255 or not key.strip():
        raise InvalidInput(
            gettext("Idempotency key must be 1 to 255 characters."), fields={"idempotency_key": ["Invalid."]}
        )
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO billing_idempotencyrecord (id, account_id, key, fingerprint, created_at)"
            " VALUES (%s, %s, %s, %s, now()) ON CONFLICT (account_id, key) DO NOTHING RETURNING id",
            [uuid.uuid4(), account_id, key, digest],
        )
        if cur.fetchone():
            return None
    record = IdempotencyRecord.objects.select_related("transaction", "reservation", "payment").get(
        account_id=account_id, key=key
    )
    if record.fingerprint != digest:
        raise Conflict(
            gettext(
                "This idempotency key was already used with different parameters. Use a new key for a new request."
            ),
            code="idempotency_key_reused",
        )
    return record


def remember(account_id, key: str | None, **result) -> None:
    if key:
        IdempotencyRecord.objects.filter(account_id=account_id, key=key).update(**result)
