"""The builder's job store on the shared processing queue: seed 002 `job_queue`
(canvas.BuilderJob) as store "builder", with the generation job types
registered here (publishing and analysis register theirs in
canvas.services.integrations.jobs). `canvas/jobs.py` imports this, so a worker
knows the store before it runs a job."""

from __future__ import annotations

from aiplatform.ai.errors import ProviderError
from canvas.services import queue

STORE_NAME = "builder"


def _store() -> queue.JobStore:
    try:
        return queue.store_for(STORE_NAME)
    except Exception:  # noqa: BLE001 - NotFound: first registration
        return queue.register_store(
            queue.JobStore(
                name=STORE_NAME, model_label="canvas.BuilderJob", data_field="payload",
                waiting=("pending", "retrying"), retry_status="retrying", reference_type="builder_job",
            )
        )  # fmt: skip


STORE = _store()


def _estimate(data: dict):
    from django.conf import settings

    return settings.BUILDER_GENERATION_HOLD


def _handler(ctx):
    from .generation import run_generation

    return run_generation(ctx)


def _failed(job, message: str) -> None:
    from .generation import job_failed

    job_failed(job, message)


for _name in ("generation", "component_regeneration"):
    queue.register_job_type(
        _name, _handler, store=STORE_NAME, provider="gateway", estimate=_estimate, feature="builder",
        retry_on=(ProviderError,), on_fail=_failed,
    )  # fmt: skip
