"""Uploaded bytes count toward the plan's storage limit (`Account.storage_limit_gb`)."""

from __future__ import annotations

from django.db import connection
from django.db.models import Sum
from django.utils.translation import gettext

from accounts.models import Account
from aiplatform.errors import LimitReached
from knowledge.models import Document

GB = 1024**3
_LOCK_CLASS = 0x4B53  # advisory lock namespace: "KS", knowledge storage


def human_bytes(n: int) -> str:
    """1536 -> "1.5 KB" (binary units, as the plan's GB are)."""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def storage_used_bytes(account: Account) -> int:
    """Bytes of every stored file of the account (rejected uploads store nothing)."""
    used = Document.objects.filter(account=account).exclude(file="").aggregate(n=Sum("size"))["n"]
    return int(used or 0)


def storage_check(*, account: Account, adding: int) -> None:
    """LimitReached (409) when `adding` more bytes would exceed the plan.

    Serialises concurrent uploads of one account until the caller's transaction
    ends, so two uploads cannot both squeeze under the limit."""
    with connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_CLASS, str(account.pk)])
    used = storage_used_bytes(account)
    limit = account.storage_limit_gb * GB
    if used + adding > limit:
        raise LimitReached(
            gettext(
                "Your plan allows %(limit)s GB of storage; %(used)s are in use and "
                "this file needs %(adding)s. Delete documents or upgrade the plan to upload it."
            )
            % {"limit": account.storage_limit_gb, "used": human_bytes(used), "adding": human_bytes(adding)},
            extra={"limit": limit, "used": used, "name": "storage_bytes"},
        )
