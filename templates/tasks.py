"""Celery tasks of the service catalog.

`service_result_process` is not a tenant_task: that would hold one transaction
(and its locks) open while the model answers. The service sets the account's
context for each short step itself, from the id given by the code that
enqueued it.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(queue="default")
def service_result_process(*, result_id: str, account_id: str) -> None:
    from templates.services.run import result_process

    result_process(result_id=result_id, account_id=account_id)


@shared_task(queue="default")
def results_expire() -> int:
    from templates.services.expiry import results_expire as run

    return run()
