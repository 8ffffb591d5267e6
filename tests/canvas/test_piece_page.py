"""/canvas/content/<id>/: one piece's page. Editors of its project analyse it, write a
script from it and edit the script, and annotate it; viewers read the same page
without the forms and their posts change nothing; another account's piece is a 404."""

from __future__ import annotations

import json

import pytest

from accounts.tenancy.context import account_context
from canvas.models import ContentAnalysis, ContentAnnotation, GeneratedScript
from tests.billing.factories import fund
from tests.canvas.factories import CollaboratorFactory, ContentPieceFactory, ProjectFactory
from tests.canvas.test_analysis import ANSWER

pytestmark = pytest.mark.django_db

SCRIPT = {"research_perspectives": [{"angle": "Speed", "insight": "Busy people cook in 5 minutes."}],
          "rewritten_script": "Hook: pasta in five minutes? Watch."}  # fmt: skip


@pytest.fixture
def piece(tenants, vera, chat_model, settings):
    settings.CANVAS_ANALYSIS_MODEL = "test-model"
    settings.CANVAS_SCRIPT_MODEL = "test-model"
    settings.CANVAS_ANALYSIS_CREDITS = 2
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    CollaboratorFactory(project=project, user=vera, permission_level="viewer")
    return ContentPieceFactory(project=project, title="5-minute pasta",
                               transcript="Ever wondered how to cook pasta fast?")  # fmt: skip


def _url(piece) -> str:
    return f"/canvas/content/{piece.pk}/"


def test_an_editor_analyses_the_piece_and_reads_the_result_on_its_page(
    client, tenants, piece, model_server, django_capture_on_commit_callbacks
):
    fund(tenants.a, "10")
    model_server.reply(json.dumps(ANSWER))
    client.force_login(tenants.alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_url(piece), {"action": "analyse"}).status_code == 302
    response = client.get(_url(piece))
    html = response.content.decode()
    assert response.status_code == 200 and "Analysis queued" in html
    assert "Opens on a question in the first second." in html and "#cooking" not in html  # stored without '#'
    with account_context(tenants.a.id):
        assert ContentAnalysis.objects.get(content_piece=piece).analysis_status == "completed"


def test_an_editor_writes_a_script_and_edits_it(client, tenants, piece, model_server,
                                                django_capture_on_commit_callbacks):  # fmt: skip
    fund(tenants.a, "20")
    model_server.reply(json.dumps(SCRIPT))
    client.force_login(tenants.alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url(piece), {"action": "script", "instructions": "30 seconds"})
    with account_context(tenants.a.id):
        script = GeneratedScript.objects.get(content_piece=piece)
    assert script.generation_status == "completed"
    html = client.get(_url(piece)).content.decode()
    assert "Busy people cook in 5 minutes." in html and "pasta in five minutes" in html
    client.post(_url(piece), {"action": "script_save", "script": str(script.pk), "rewritten_script": "My own cut."})
    with account_context(tenants.a.id):
        assert GeneratedScript.objects.get(pk=script.pk).rewritten_script == "My own cut."


def test_an_editor_adds_and_deletes_an_annotation(client, tenants, piece):
    client.force_login(tenants.alice)
    client.post(_url(piece), {"action": "annotate", "annotation_type": "highlight", "annotation_text": "Great hook"})
    with account_context(tenants.a.id):
        note = ContentAnnotation.objects.get(content_piece=piece)
    assert (note.annotation_type, note.annotation_text) == ("highlight", "Great hook")
    assert "Great hook" in client.get(_url(piece)).content.decode()
    client.post(_url(piece), {"action": "annotation_delete", "annotation": str(note.pk)})
    with account_context(tenants.a.id):
        assert not ContentAnnotation.objects.filter(content_piece=piece).exists()
    # an empty note is refused with the reason, nothing stored
    response = client.post(_url(piece), {"action": "annotate", "annotation_text": "  "}, follow=True)
    assert [m.level_tag for m in response.context["messages"]][-1] == "error"
    with account_context(tenants.a.id):
        assert not ContentAnnotation.objects.filter(content_piece=piece).exists()


def test_a_viewer_reads_the_page_without_forms_and_cannot_post(client, tenants, vera, piece):
    client.force_login(vera)
    html = client.get(_url(piece)).content.decode()
    assert "5-minute pasta" in html
    assert 'data-testid="analyse"' not in html and 'data-testid="annotate"' not in html
    response = client.post(_url(piece), {"action": "annotate", "annotation_text": "mine"}, follow=True)
    assert response.status_code == 200 and [m.level_tag for m in response.context["messages"]] == ["error"]
    with account_context(tenants.a.id):
        assert not ContentAnnotation.objects.filter(content_piece=piece).exists()


def test_another_accounts_piece_and_a_bad_action_are_404(client, tenants, piece):
    theirs = ContentPieceFactory(project=ProjectFactory(account=tenants.b, created_by=tenants.carol))
    client.force_login(tenants.alice)
    assert client.get(_url(theirs)).status_code == 404
    assert client.post(_url(theirs), {"action": "annotate", "annotation_text": "x"}).status_code == 404
    assert client.post(_url(piece), {"action": "explode"}).status_code == 404
    assert client.post(_url(piece), {"action": "annotation_delete", "annotation": "not-an-id"}).status_code == 404


def test_the_board_links_each_piece_to_its_page(client, tenants, piece):
    client.force_login(tenants.alice)
    html = client.get(f"/canvas/projects/{piece.project_id}/").content.decode()
    assert '"piece_url": "/canvas/content/00000000-0000-0000-0000-000000000000/"' in html
