"""The knowledge pages: units list, a unit with upload, live status, test
retrieval and settings, a document with its chunks, and the controls."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.tenancy.context import account_context
from knowledge.models import DecisionUnit, Document
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.knowledge import files
from tests.knowledge.factories import DocumentFactory

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_units_page_lists_units_and_creates_one(kb):
    client = client_of(kb.tenants.bob)
    page = client.get("/knowledge/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "Logistics playbook" in body and 'href="/knowledge/"' in body  # the nav link
    assert '<span data-testid="storage-used">0 bytes</span> of 200 GB' in body
    response = client.post("/knowledge/", {"name": "Margin Low Strategy", "description": "Low margins."}, follow=True)
    assert messages_of(response) == ["Created 'Margin Low Strategy'. Upload documents to fill it."]
    with account_context(kb.tenants.a.id):
        unit = DecisionUnit.objects.get(name="Margin Low Strategy")
    assert response.redirect_chain == [(f"/knowledge/units/{unit.pk}/", 302)]


def test_uploading_files_shows_each_outcome(kb, django_capture_on_commit_callbacks):
    # given
    client = client_of(kb.tenants.alice)
    uploads = [SimpleUploadedFile("handbook.pdf", files.pdf()), SimpleUploadedFile("slides.pptx", b"x"),
               SimpleUploadedFile("margins.csv", files.CSV.encode())]  # fmt: skip
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/knowledge/units/{kb.unit.pk}/upload/", {"files": uploads}, follow=True)
    # then
    assert messages_of(response) == [
        "handbook.pdf: uploaded, ingestion queued.",
        "slides.pptx: Files of type .pptx are not supported. Upload PDF, Word (.docx), CSV, Excel (.xlsx), text, "
        "Markdown and HTML files.",
        "margins.csv: uploaded, ingestion queued.",
    ]
    assert response.content.decode().count('data-status="queued"') == 2  # rendered before the worker ran
    body = client.get(f"/knowledge/units/{kb.unit.pk}/").content.decode()
    assert body.count('data-status="done"') == 2 and body.count('data-status="error"') == 1
    status = client.get(f"/knowledge/units/{kb.unit.pk}/status.json").json()
    assert status["unit"] == {"id": str(kb.unit.pk), "status": "active", "chunk_count": 3}
    assert sorted((d["name"], d["status"], d["stage"], d["in_progress"]) for d in status["documents"]) == [
        ("handbook.pdf", "done", "Done", False), ("margins.csv", "done", "Done", False),
        ("slides.pptx", "error", "Error", False),
    ]  # fmt: skip


def test_test_retrieval_shows_passages_with_citations(kb, django_capture_on_commit_callbacks):
    kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    body = client_of(kb.tenants.bob).get(f"/knowledge/units/{kb.unit.pk}/", {"q": "freight on long routes"})
    text = body.content.decode()
    assert body.context["retrieval"].passages[0].citation == "handbook.pdf, page 2"
    assert "<strong>handbook.pdf, page 2</strong>" in text
    assert "Freight consolidation. Combining partial loads" in text


def test_the_document_page_previews_chunks_and_the_file_downloads(kb, django_capture_on_commit_callbacks):
    document = kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    client = client_of(kb.tenants.bob)
    page = client.get(f"/knowledge/documents/{document.pk}/")
    assert [c.citation for c in page.context["page"]] == ["page 1", "page 2"]
    assert "Margin Low Strategy. When the gross margin" in page.content.decode()
    download = client.get(f"/knowledge/documents/{document.pk}/download/")
    assert download["Content-Disposition"] == 'attachment; filename="handbook.pdf"'
    assert hashlib.sha256(b"".join(download.streaming_content)).hexdigest() == document.sha256


def test_a_refused_control_is_a_message_and_delete_removes_the_document(kb, django_capture_on_commit_callbacks):
    document = kb.add("handbook.pdf", files.pdf(), capture=django_capture_on_commit_callbacks)
    client = client_of(kb.tenants.bob)
    paused = client.post(f"/knowledge/documents/{document.pk}/pause/", {"next": "https://evil.example/"}, follow=True)
    assert paused.redirect_chain == [(f"/knowledge/units/{kb.unit.pk}/", 302)]
    assert messages_of(paused) == ["Only a queued or running document can be paused; this one is done."]
    with django_capture_on_commit_callbacks(execute=True):
        deleted = client.post(f"/knowledge/documents/{document.pk}/delete/", follow=True)
    assert messages_of(deleted) == ["Deleted handbook.pdf."]
    with account_context(kb.tenants.a.id):
        assert Document.objects.filter(pk=document.pk).count() == 0


def test_settings_change_weights_and_only_admins_delete_units(kb):
    client = client_of(kb.tenants.bob)  # a member
    saved = client.post(f"/knowledge/units/{kb.unit.pk}/edit/", {"name": "Playbook", "vector_weight": "0.5",
                                                                  "text_weight": "2"}, follow=True)  # fmt: skip
    assert messages_of(saved) == ["Saved."]
    assert client.post(f"/knowledge/units/{kb.unit.pk}/delete/").status_code == 403
    with account_context(kb.tenants.a.id):
        unit = DecisionUnit.objects.get(pk=kb.unit.pk)
    assert (unit.name, unit.vector_weight, unit.text_weight) == ("Playbook", 0.5, 2.0)
    deleted = client_of(kb.tenants.alice).post(f"/knowledge/units/{kb.unit.pk}/delete/", follow=True)
    assert messages_of(deleted) == ["Deleted 'Playbook'."]


def test_a_viewer_sees_no_upload_form_and_cannot_upload(kb):
    viewer = UserFactory()
    MembershipFactory(account=kb.tenants.a, user=viewer, role=Role.VIEWER)
    client = client_of(viewer)
    page = client.get(f"/knowledge/units/{kb.unit.pk}/").content.decode()
    assert 'data-testid="upload-form"' not in page and 'data-testid="test-retrieval"' in page
    upload = client.post(f"/knowledge/units/{kb.unit.pk}/upload/", {"files": [SimpleUploadedFile("a.txt", b"a")]})
    assert upload.status_code == 403
    with account_context(kb.tenants.a.id):
        assert Document.objects.count() == 0


def test_the_unit_page_costs_a_fixed_number_of_queries(kb):
    client = client_of(kb.tenants.alice)
    for i in range(2):
        DocumentFactory(unit=kb.unit, name=f"a{i}.txt", uploaded_by=kb.tenants.alice)
    client.get(f"/knowledge/units/{kb.unit.pk}/")
    with CaptureQueriesContext(connection) as few:
        client.get(f"/knowledge/units/{kb.unit.pk}/")
    counts = [len(few.captured_queries)]
    for i in range(2, 12):
        DocumentFactory(unit=kb.unit, name=f"a{i}.txt", uploaded_by=kb.tenants.alice)
    with CaptureQueriesContext(connection) as many:
        page = client.get(f"/knowledge/units/{kb.unit.pk}/")
    counts.append(len(many.captured_queries))
    assert page.content.decode().count("<tr data-doc=") == 12
    assert counts == [11, 11]
