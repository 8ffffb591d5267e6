"""Retry and cancel actions of a job queue's admin, through the queue's services
(so credits are held and released as for a user). One base admin for both job tables:
the canvas studio's processing queue and the web builder's job queue."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.tenancy.context import account_context
from aiplatform.errors import ServiceError


class JobAdmin(admin.ModelAdmin):
    """`job_store`: the queue store the admin's model is ("canvas" or "builder")."""

    job_store = "canvas"
    actions = ["retry_jobs", "cancel_jobs"]

    def has_add_permission(self, request):
        return False

    def _each(self, request, queryset, service, done_message: str) -> None:
        done, refused = 0, []
        for job in queryset.select_related("account"):
            try:
                with account_context(job.account_id):
                    service(job=job, actor=request.user, store=self.job_store)
            except ServiceError as exc:
                refused.append(f"{job.pk}: {exc.message}")
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)
        for line in refused[:10]:
            self.message_user(request, line, messages.WARNING)

    @admin.action(description=gettext_lazy("Retry the selected jobs (failed or cancelled; holds credits again)"))
    def retry_jobs(self, request, queryset):
        from canvas.services.queue import job_retry

        self._each(request, queryset, job_retry, _("Queued %(count)s job(s) again."))

    @admin.action(description=gettext_lazy("Cancel the selected jobs (waiting or running; releases their credits)"))
    def cancel_jobs(self, request, queryset):
        from canvas.services.queue import job_cancel

        self._each(request, queryset, job_cancel, _("Cancelled %(count)s job(s)."))
