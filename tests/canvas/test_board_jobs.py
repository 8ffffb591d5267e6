"""A piece's jobs (analysis, script) are shown live on its project's board: each
status and progress change of the queue reaches the open boards as a `job` frame
after commit, and a (re)load of the board carries each piece's latest jobs."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from accounts.tenancy.context import account_context
from canvas.services import queue as q
from canvas.services.board import board_group, board_snapshot
from tests.billing.factories import fund
from tests.canvas.factories import ContentPieceFactory, ProjectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def job_types():
    q._discover()
    saved = dict(q._TYPES)
    yield q.register_job_type
    q._TYPES.clear()
    q._TYPES.update(saved)


def _listen(tenants, project, work) -> list[dict]:
    """The `job` frames the project's board group hears while `work()` runs."""

    async def scenario() -> list[dict]:
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add(board_group(tenants.a.id, project.pk), channel)
        await sync_to_async(work)()
        frames = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), 1)
            except TimeoutError:
                return frames
            assert message["type"] == "board.job"
            frames.append(message["frame"])

    return async_to_sync(scenario)()


def test_an_analysis_of_a_piece_shows_its_status_and_progress_on_the_board(
    tenants, job_types, django_capture_on_commit_callbacks
):
    # given a piece on a board and an analysis handler that reports half-way
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    piece = ContentPieceFactory(project=project)
    fund(tenants.a, "20")

    def handler(ctx):
        ctx.progress(50)
        return q.JobResult(credits="2", model="m", provider="p", output={"ok": True})

    job_types("content_analysis", handler, estimate=5)

    def run() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            q.job_enqueue(account=tenants.a, user=tenants.alice, job_type="content_analysis",
                          data={"content_piece_id": str(piece.pk)})  # fmt: skip

    # when the job runs
    frames = _listen(tenants, project, run)

    # then the board heard each step of it, for this piece
    steps = [(f["job"]["status"], f["job"]["progress"]) for f in frames]
    assert steps == [("queued", 0), ("processing", 0), ("processing", 50), ("completed", 100)]
    assert {(f["type"], f["job"]["piece"], f["job"]["job_type"]) for f in frames} == {
        ("job", str(piece.pk), "content_analysis")
    }

    # and a reload of the board carries the latest job of the piece
    with account_context(tenants.a.id):
        snapshot = board_snapshot(project=project, actor=tenants.alice_membership)
    assert [(j["piece"], j["status"]) for j in snapshot.jobs] == [(str(piece.pk), "completed")]


def test_a_job_without_a_piece_or_of_another_project_tells_no_board(
    tenants, job_types, django_capture_on_commit_callbacks
):
    # given two boards; a file job with no piece and an analysis of the other board's piece
    project, other = (ProjectFactory(account=tenants.a, created_by=tenants.alice) for _ in range(2))
    theirs = ContentPieceFactory(project=other)
    fund(tenants.a, "20")
    job_types("file_processing", lambda ctx: q.JobResult(credits="0"), estimate=1)
    job_types("content_analysis", lambda ctx: q.JobResult(credits="0"), estimate=1)

    def run() -> None:
        with django_capture_on_commit_callbacks(execute=True):
            q.job_enqueue(account=tenants.a, user=tenants.alice, job_type="file_processing", data={"n": 1})
            q.job_enqueue(account=tenants.a, user=tenants.alice, job_type="content_analysis",
                          data={"content_piece_id": str(theirs.pk)})  # fmt: skip

    # then the first board heard nothing
    assert _listen(tenants, project, run) == []
