"""Seed 001 TODO 3: results are deleted 12 months after they were made."""

from __future__ import annotations

from django.utils import timezone

from accounts.tenancy.context import rls_bypass
from templates.models import ServiceResult

BATCH_SIZE = 500


def results_expire(*, batch_size: int = BATCH_SIZE, now=None) -> int:
    """Delete every expired result, a batch per transaction (short locks, steady
    progress), across all accounts. Returns how many were deleted."""
    now = now or timezone.now()
    deleted = 0
    while True:
        with rls_bypass("periodic expiry of service results"):
            ids = list(
                ServiceResult.objects.filter(expires_at__lte=now)
                .order_by("expires_at")
                .values_list("pk", flat=True)[:batch_size]
            )
            if ids:
                ServiceResult.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if len(ids) < batch_size:
            return deleted
