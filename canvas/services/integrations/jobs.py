"""The builder's jobs on the shared processing queue (canvas.services.queue):
store "builder" is seed 002 `job_queue` (canvas.BuilderJob), job types
"publishing" (a publication or a lead) and "analysis" (a platform analysis).

Failures map onto the queue's retry rules: THROTTLED/TRANSIENT are retried with
backoff while attempts remain; AUTH fails the job at once but leaves the
publication queued (it is re-enqueued when the user reconnects); anything else
fails the job and the publication.
"""

from __future__ import annotations

from canvas.services import queue

from .base import IntegrationError

_done = False


def ensure_registered() -> None:
    global _done
    if _done:
        return
    try:
        queue.store_for("builder")
    except Exception:  # noqa: BLE001 - NotFound: nobody registered the builder store yet
        queue.register_store(queue.JobStore(
            name="builder", model_label="canvas.BuilderJob", data_field="payload", waiting=("pending", "retrying"),
            retry_status="retrying", reference_type="builder_job",
        ))  # fmt: skip
    queue.register_job_type("publishing", _publishing, store="builder", provider="integrations", feature="publishing")
    queue.register_job_type("analysis", _analysis, store="builder", provider=None, feature="platform_analysis",
                            estimate=_analysis_estimate)  # fmt: skip
    _done = True


def _publishing(ctx: queue.JobContext) -> queue.JobResult:
    from .service import lead_push, publish_run

    data = ctx.data
    try:
        if data.get("kind") == "lead":
            external_id = lead_push(account_id=ctx.job.account_id, integration_id=data["integration_id"],
                                    lead=data.get("lead") or {})  # fmt: skip
            return queue.JobResult(credits=0, output={"external_id": external_id})
        publication = publish_run(account_id=ctx.job.account_id, publication_id=data["publication_id"],
                                  path=data.get("path", ""))  # fmt: skip
    except IntegrationError as exc:
        raise queue.JobFailed(exc.message, retryable=exc.retryable) from exc
    if publication is None:
        return queue.JobResult(credits=0, output={"skipped": "publication deleted"})
    return queue.JobResult(credits=0, output={"external_id": publication.external_id,
                                              "external_url": publication.external_url})  # fmt: skip


def _analysis_estimate(data: dict):
    from django.conf import settings

    return settings.BUILDER_ANALYSIS_HOLD


def _analysis(ctx: queue.JobContext) -> queue.JobResult:
    from canvas.services.analyses import analysis_run

    return analysis_run(ctx)


ensure_registered()
