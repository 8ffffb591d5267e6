"""The service catalog's demo: a completed result per demo account, shared through a
live public link. Runs the normal path (`service_run`, then the worker's
`result_process`, here in-process); on the offline model the result is free and
labelled a demo. `manage.py seed_services_demo` runs it.

Idempotent: the run uses an idempotency key, so a second run finds the same result;
its share link is kept (a link that expired or was revoked is made live again).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.demo import SECOND_ACCOUNT, TEAM_ACCOUNT, DemoTenant, eager_tasks
from accounts.tenancy.context import account_context
from templates.models import ServiceResult
from templates.services.run import service_run
from templates.services.sharing import result_share

SHARE_DAYS = 30
DEMO_RUNS: dict[str, tuple[str, dict]] = {
    TEAM_ACCOUNT: ("story", {
        "genre": "comedy", "protagonist": "a delivery driver racing the 14:00 cut-off in Incheon",
        "setting": "the Acme Logistics warehouse", "length": "short", "audience": "adults", "language": "en",
    }),
    SECOND_ACCOUNT: ("chat", {"message": "Suggest three titles for an episode about Busan's fish market."}),
}  # fmt: skip


def seed_result(tenant: DemoTenant) -> ServiceResult | None:
    spec = DEMO_RUNS.get(tenant.account.name)
    if spec is None:
        return None
    code, params = spec
    with eager_tasks():
        result = service_run(account=tenant.account, user=tenant.user, service_code=code, params=params,
                             idempotency_key=f"demo-{code}")  # fmt: skip
    with account_context(tenant.account.id):
        result = ServiceResult.objects.select_related("service").get(pk=result.pk)
    if result.status != ServiceResult.Status.COMPLETED:
        return result
    expiring = result.share_expires_at is not None and result.share_expires_at < timezone.now() + timedelta(days=1)
    if not result.share_token or not result.is_public or expiring:
        result = result_share(result=result, actor=tenant.owner, expires_in=timedelta(days=SHARE_DAYS))
    return result
