"""Ingestion progress reaches the browser live: every stage and every embedded
batch is an event on the account websocket (`ws/account/`), through the real
ASGI stack and the channels_redis layer. Data is committed (transactional)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from accounts.tenancy.context import account_context
from knowledge.services.documents import document_upload
from knowledge.services.units import unit_create
from tests.accounts.test_account_events_consumer import TIMEOUT, open_socket, session_cookie
from tests.billing.factories import fund
from tests.knowledge import files
from tests.knowledge.factories import minilm_model, upload

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def upload_and_ingest(tenants):
    """Upload as alice; the ingestion enqueued on commit runs at once (eager)."""
    minilm_model()
    with account_context(tenants.a.id):
        fund(tenants.a, "10")
        unit = unit_create(
            account=tenants.a, actor=tenants.alice_membership, name="Playbook", embedding_model="local-minilm"
        )
    with account_context(tenants.a.id):
        document_upload(account=tenants.a, actor=tenants.alice_membership, unit=unit,
                        upload=upload("handbook.pdf", files.pdf()))  # fmt: skip
    return unit


async def test_each_stage_and_batch_is_pushed_to_the_accounts_socket(tenants):
    # given alice's open socket
    socket, hello = await open_socket(await session_cookie(tenants.alice))
    assert hello["type"] == "hello"
    # when a document is uploaded and ingested
    unit = await upload_and_ingest(tenants)
    # then its frames arrive in order, ending done
    stages, unit_statuses = [], []
    while not stages or stages[-1][0] != "done":
        frame = await socket.receive_json_from(timeout=TIMEOUT)
        if frame["event"] == "knowledge.document":
            stages.append((frame["data"]["status"], frame["data"]["stage"]))
        elif frame["event"] == "knowledge.unit":
            unit_statuses.append((frame["data"]["id"], frame["data"]["status"]))
    assert stages == [
        ("queued", "Queued"), ("parsing", "Parsing"), ("splitting", "Splitting"), ("embedding", "Embedding 0/2"),
        ("embedding", "Embedding 2/2"), ("indexing", "Indexing"), ("done", "Done"),
    ]  # fmt: skip
    frame = await socket.receive_json_from(timeout=TIMEOUT)
    unit_statuses.append((frame["data"]["id"], frame["data"]["status"]))
    assert unit_statuses == [(str(unit.pk), "processing"), (str(unit.pk), "active")]
    await socket.disconnect()
