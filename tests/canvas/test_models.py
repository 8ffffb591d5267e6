"""The canvas tables keep the seed's rules in the database: the seeded
categories, choices, one live connection per pair with exactly one node per
end, both ends on the connection's project, and tenant rows invisible without
their account's context."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.tenancy.context import account_context
from canvas.models import CanvasConnection, CanvasFolderItem, ContentAnalysis, CreatorCategory, ProcessingJob
from tests.canvas.factories import (
    AnalysisFactory,
    ChatInterfaceFactory,
    ConnectionFactory,
    ContentPieceFactory,
    CreatorFactory,
    FolderFactory,
    FolderItemFactory,
    ProcessingJobFactory,
    ProjectFactory,
    canvas_rows,
)

pytestmark = pytest.mark.django_db


def _refused(account, make) -> str:
    with account_context(account.id):
        with pytest.raises(IntegrityError) as raised, transaction.atomic():
            make()
    return str(raised.value)


def test_the_ten_seed_categories_exist_in_order():
    names = list(CreatorCategory.objects.filter(sort_order__lte=10).values_list("sort_order", "name"))
    assert names == [
        (1, "Business & Entrepreneurship"), (2, "Health & Fitness"), (3, "Personal Development"),
        (4, "Technology & AI"), (5, "Finance & Investing"), (6, "Lifestyle & Fashion"), (7, "Food & Cooking"),
        (8, "Entertainment"), (9, "Education & Learning"), (10, "Creative Arts"),
    ]  # fmt: skip


def test_a_creator_handle_is_unique_per_platform_whatever_the_case():
    CreatorFactory(platform="tiktok", username="CookWithMe")
    CreatorFactory(platform="youtube", username="cookwithme")  # another platform: fine
    with pytest.raises(IntegrityError, match="canvas_creator_handle"), transaction.atomic():
        CreatorFactory(platform="tiktok", username="cookwithme")


def test_a_connection_between_two_nodes_of_its_project_is_stored_with_the_seed_view(tenants):
    # given a piece and a chat node on one project
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    piece = ContentPieceFactory(project=project)
    chat = ChatInterfaceFactory(project=project)
    # when they are connected
    link = ConnectionFactory(project=project, source_content_piece=piece, target_chat_interface=chat)
    # then the seed's (type, id) view names them, with the seed's default style and version 1
    assert (link.source_type, link.source_id, link.target_type, link.target_id) == (
        "content_piece",
        piece.pk,
        "chat_interface",
        chat.pk,
    )
    assert (link.connection_style, link.version, link.deleted_at) == ({"color": "#6B7280", "width": 2}, 1, None)


def test_a_connection_end_on_another_project_is_refused_by_the_database(tenants):
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    elsewhere = ChatInterfaceFactory(project=ProjectFactory(account=tenants.a, created_by=tenants.alice))
    piece = ContentPieceFactory(project=project)
    message = _refused(
        tenants.a,
        lambda: CanvasConnection.objects.create(
            account=tenants.a, project=project, source_content_piece=piece, target_chat_interface=elsewhere
        ),
    )
    assert "canvas_connection_same_project" in message or "is not on project" in message
    with account_context(tenants.a.id):
        assert CanvasConnection.objects.count() == 0


def test_a_connection_end_of_another_account_is_refused_by_the_database(tenants):
    # given a folder of account B, whose id somehow reached account A
    foreign = FolderFactory(project=ProjectFactory(account=tenants.b, created_by=tenants.carol))
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    piece = ContentPieceFactory(project=project)
    # when A connects its piece to it, then the database refuses (B's row is invisible to A)
    message = _refused(
        tenants.a,
        lambda: CanvasConnection.objects.create(
            account=tenants.a, project=project, source_content_piece=piece, target_folder_id=foreign.pk
        ),
    )
    assert "is not on project" in message


@pytest.mark.parametrize(
    ("ends", "constraint"),
    [
        ({}, "canvas_connection_one_source"),
        ({"source": ("folder", "chat")}, "canvas_connection_one_source"),
        ({"source": ("folder",), "target": ()}, "canvas_connection_one_target"),
        ({"source": ("folder",), "target": ("folder",)}, "canvas_connection_no_loop_folder"),
    ],
)
def test_a_connection_has_exactly_one_node_at_each_end_and_no_loop(tenants, ends, constraint):
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    nodes = {"folder": FolderFactory(project=project), "chat": ChatInterfaceFactory(project=project)}
    field = {"folder": "folder", "chat": "chat_interface"}
    kwargs = {f"{end}_{field[k]}": nodes[k] for end in ("source", "target") for k in ends.get(end, ())}
    message = _refused(tenants.a, lambda: CanvasConnection.objects.create(account=tenants.a, project=project, **kwargs))
    assert constraint in message


def test_one_live_connection_per_ordered_pair(tenants):
    link = ConnectionFactory(project=ProjectFactory(account=tenants.a, created_by=tenants.alice))
    same = {
        "account": tenants.a, "project": link.project,
        "source_content_piece": link.source_content_piece, "target_chat_interface": link.target_chat_interface,
    }  # fmt: skip
    assert "canvas_connection_once" in _refused(tenants.a, lambda: CanvasConnection.objects.create(**same))
    # a deleted (tombstoned) connection does not block drawing it again
    with account_context(tenants.a.id):
        CanvasConnection.objects.filter(pk=link.pk).update(deleted_at="2026-01-01T00:00:00Z")
        again = CanvasConnection.objects.create(**same)
    assert again.pk != link.pk


def test_a_folder_item_must_be_a_piece_of_the_folders_project(tenants):
    folder = FolderFactory(project=ProjectFactory(account=tenants.a, created_by=tenants.alice))
    other_piece = ContentPieceFactory(project=ProjectFactory(account=tenants.a, created_by=tenants.alice))
    message = _refused(
        tenants.a,
        lambda: CanvasFolderItem.objects.create(account=tenants.a, folder=folder, content_piece=other_piece),
    )
    assert "is not on the project of folder" in message
    FolderItemFactory(folder=folder)  # a piece of the same project is fine


def test_scores_and_queue_counters_keep_their_ranges(tenants):
    piece = ContentPieceFactory(project=ProjectFactory(account=tenants.a, created_by=tenants.alice))
    assert "canvas_analysis_sentiment" in _refused(
        tenants.a,
        lambda: ContentAnalysis.objects.create(account=tenants.a, content_piece=piece, sentiment_score=Decimal("1.5")),
    )
    assert "canvas_job_attempts" in _refused(
        tenants.a,
        lambda: ProcessingJob.objects.create(
            account=tenants.a, job_type="voice_generation", job_data={}, attempts=4, max_attempts=3
        ),
    )
    assert "canvas_job_type" in _refused(
        tenants.a, lambda: ProcessingJob.objects.create(account=tenants.a, job_type="mining", job_data={})
    )
    job = ProcessingJobFactory(account=tenants.a)
    analysis = AnalysisFactory(content_piece=piece, sentiment_score=Decimal("-0.25"))
    assert (job.status, job.attempts, job.max_attempts, job.priority, analysis.analysis_status) == (
        "queued",
        0,
        3,
        0,
        "pending",
    )


def test_canvas_rows_are_invisible_without_their_accounts_context(tenants):
    # given one row in every canvas table of A
    canvas_rows(tenants.a, tenants.alice)
    # when reading with raw SQL and no tenant context, then no row is seen
    tables = [
        "canvas_project", "canvas_projectcollaborator", "canvas_canvasfolder", "canvas_canvasfolderitem",
        "canvas_chatinterface", "canvas_canvasconnection", "canvas_contentpiece", "canvas_contentannotation",
        "canvas_contentanalysis", "canvas_generatedscript", "canvas_voicemodel", "canvas_avatarmodel",
        "canvas_generatedcontent", "canvas_processing_queue", "canvas_accountfollowedcreator",
    ]  # fmt: skip
    with transaction.atomic(), connection.cursor() as cur:
        seen = {}
        for table in tables:
            cur.execute(f"SELECT count(*) FROM {table}")
            seen[table] = cur.fetchone()[0]
    assert seen == dict.fromkeys(tables, 0)
    with account_context(tenants.a.id), connection.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT count(*) FROM {table}")
            seen[table] = cur.fetchone()[0]
    assert seen == {**dict.fromkeys(tables, 1), "canvas_projectcollaborator": 2}  # the owner and one more
