"""The knowledge API: units, document upload and status, controls, chunks,
search; roles, errors in the documented shape, pinned query counts."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.tenancy.context import account_context
from knowledge.models import DecisionUnit, Document
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.knowledge import files
from tests.knowledge.factories import DocumentFactory

pytestmark = pytest.mark.django_db

UNITS = "/api/v1/decision-units/"
DOCUMENTS = "/api/v1/documents/"
SEARCH = "/api/v1/knowledge/search/"


@pytest.fixture
def alice(api_client, kb):
    api_client.force_login(kb.tenants.alice)
    return api_client


def post_file(client, unit_id, name, content, capture):
    data = content.encode() if isinstance(content, str) else content
    with capture(execute=True):
        return client.post(DOCUMENTS, {"unit": str(unit_id), "file": SimpleUploadedFile(name, data)},
                           format="multipart")  # fmt: skip


def test_units_are_created_listed_changed_and_deleted(alice, kb):
    # when
    created = alice.post(UNITS, {"name": "Margin Low Strategy", "description": "What to do when margins fall."})
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("name", "status", "embedding_model", "vector_weight", "text_weight",
                                 "document_count", "chunk_count")} == {
        "name": "Margin Low Strategy", "status": "active", "embedding_model": "local-minilm", "vector_weight": 1.0,
        "text_weight": 1.0, "document_count": 0, "chunk_count": 0,
    }  # fmt: skip
    assert body["vector_collection_id"] == f"knowledge_chunk/{body['id']}/local-minilm"
    assert [u["name"] for u in alice.get(UNITS).json()["results"]] == ["Logistics playbook", "Margin Low Strategy"]
    changed = alice.patch(f"{UNITS}{body['id']}/", {"text_weight": 2.5}, format="json")
    assert (changed.status_code, changed.json()["text_weight"]) == (200, 2.5)
    assert alice.delete(f"{UNITS}{body['id']}/").status_code == 204
    with account_context(kb.tenants.a.id):
        assert list(DecisionUnit.objects.values_list("name", flat=True)) == ["Logistics playbook"]


def test_invalid_weights_are_a_validation_error(alice, kb):
    response = alice.patch(f"{UNITS}{kb.unit.pk}/", {"vector_weight": 0, "text_weight": 0}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Some fields are invalid.",
            "fields": {"vector_weight": ["At least one of the two weights must be above 0."]},
        }
    }


def test_a_member_cannot_delete_a_unit_and_a_viewer_cannot_create_one(api_client, kb):
    api_client.force_login(kb.tenants.bob)  # member
    assert api_client.delete(f"{UNITS}{kb.unit.pk}/").status_code == 403
    viewer = UserFactory()
    MembershipFactory(account=kb.tenants.a, user=viewer, role=Role.VIEWER)
    api_client.force_login(viewer)
    assert api_client.post(UNITS, {"name": "Nope"}).status_code == 403
    assert api_client.get(f"{UNITS}{kb.unit.pk}/").status_code == 200
    with account_context(kb.tenants.a.id):
        assert DecisionUnit.objects.count() == 1


def test_upload_returns_the_document_and_ingestion_finishes(alice, kb, django_capture_on_commit_callbacks):
    # when
    response = post_file(alice, kb.unit.pk, "handbook.pdf", files.pdf(), django_capture_on_commit_callbacks)
    # then the response shows it queued; reading it again shows it done
    assert response.status_code == 201, response.content
    assert {k: response.json()[k] for k in ("name", "kind", "mime_type", "status", "stage", "in_progress")} == {
        "name": "handbook.pdf", "kind": "pdf", "mime_type": "application/pdf", "status": "queued", "stage": "Queued",
        "in_progress": True,
    }  # fmt: skip
    document = alice.get(f"{DOCUMENTS}{response.json()['id']}/").json()
    assert {k: document[k] for k in ("status", "stage", "chunks_total", "chunks_embedded", "chunk_count", "error")} == {
        "status": "done", "stage": "Done", "chunks_total": 2, "chunks_embedded": 2, "chunk_count": 2, "error": ""
    }  # fmt: skip
    chunks = alice.get(f"{DOCUMENTS}{document['id']}/chunks/").json()
    assert [(c["position"], c["citation"]) for c in chunks["results"]] == [(0, "page 1"), (1, "page 2")]
    assert "embedding" not in chunks["results"][0]


def test_upload_errors_have_the_documented_shape(alice, kb, tenants, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    post_file(alice, kb.unit.pk, "handbook.pdf", files.pdf(), capture)
    duplicate = post_file(alice, kb.unit.pk, "again.pdf", files.pdf(), capture)
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "duplicate_document"
    assert duplicate.json()["error"]["message"] == "This file is already in the unit as 'handbook.pdf'."
    # a unit of another account is a 404, and nothing is stored there
    with account_context(tenants.b.id):
        from knowledge.services.units import unit_create

        b_unit = unit_create(account=tenants.b, actor=tenants.carol_membership, name="B unit")
    foreign = post_file(alice, b_unit.pk, "notes.txt", "hello", capture)
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (404, "not_found")
    with account_context(tenants.b.id):
        assert Document.objects.count() == 0


def test_storage_limit_is_a_409_with_the_limit(alice, kb, django_capture_on_commit_callbacks):
    from accounts.models import Account

    with account_context(kb.tenants.a.id):
        Account.objects.filter(pk=kb.tenants.a.pk).update(storage_limit_gb=0)
    response = post_file(alice, kb.unit.pk, "notes.txt", "hello", django_capture_on_commit_callbacks)
    assert response.status_code == 409
    assert response.json() == {"error": {
        "code": "plan_limit_reached",
        "message": "Your plan allows 0 GB of storage; 0 bytes are in use and this file needs 5 bytes. "
                   "Delete documents or upgrade the plan to upload it.",
        "limit": 0, "used": 0, "name": "storage_bytes"}}  # fmt: skip


def test_controls_and_delete(alice, kb, django_capture_on_commit_callbacks):
    done = post_file(alice, kb.unit.pk, "handbook.pdf", files.pdf(), django_capture_on_commit_callbacks).json()
    refused = alice.post(f"{DOCUMENTS}{done['id']}/pause/")
    assert (refused.status_code, refused.json()["error"]["message"]) == (
        409, "Only a queued or running document can be paused; this one is done."
    )  # fmt: skip
    bad = post_file(alice, kb.unit.pk, "bad.csv", files.BROKEN_CSV, django_capture_on_commit_callbacks).json()
    with django_capture_on_commit_callbacks(execute=True):
        retried = alice.post(f"{DOCUMENTS}{bad['id']}/retry/")
    assert (retried.status_code, retried.json()["status"]) == (200, "queued")
    assert alice.get(f"{DOCUMENTS}{bad['id']}/").json()["status"] == "error"  # the same file fails the same way
    with django_capture_on_commit_callbacks(execute=True):
        assert alice.delete(f"{DOCUMENTS}{done['id']}/").status_code == 204
    assert alice.get(f"{DOCUMENTS}{done['id']}/").status_code == 404


def test_the_document_list_costs_a_fixed_number_of_queries(alice, kb):
    # given documents in two units
    from tests.knowledge.factories import DecisionUnitFactory

    other = DecisionUnitFactory(account=kb.tenants.a)
    for i in range(3):
        DocumentFactory(unit=kb.unit, name=f"a{i}.txt")
    for i in range(4):
        DocumentFactory(unit=other, name=f"b{i}.txt")
    alice.get(DOCUMENTS)  # warm the session
    # when
    with CaptureQueriesContext(connection) as seven:
        everything = alice.get(DOCUMENTS)
    queries = [len(seven.captured_queries)]  # read now: the next request clears the log
    for i in range(3, 13):
        DocumentFactory(unit=kb.unit, name=f"a{i}.txt")
    with CaptureQueriesContext(connection) as seventeen:
        more = alice.get(DOCUMENTS)
    queries.append(len(seventeen.captured_queries))
    filtered = alice.get(DOCUMENTS, {"unit": str(other.pk)})
    # then
    assert (everything.json()["count"], more.json()["count"]) == (7, 17)
    assert queries == [9, 9]
    assert sorted(d["name"] for d in filtered.json()["results"]) == ["b0.txt", "b1.txt", "b2.txt", "b3.txt"]
    assert alice.get(DOCUMENTS, {"unit": "nope"}).status_code == 400


def test_search_returns_passages_with_citations(alice, kb, django_capture_on_commit_callbacks):
    post_file(alice, kb.unit.pk, "handbook.pdf", files.pdf(), django_capture_on_commit_callbacks)
    response = alice.post(SEARCH, {"query": "freight cost on long routes", "unit_ids": [str(kb.unit.pk)], "k": 1},
                          format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["query"], body["plans"], body["reranked"]) == ("freight cost on long routes",
                                                              {"local-minilm": "exact"}, False)  # fmt: skip
    [passage] = body["passages"]
    assert {k: passage[k] for k in ("document_name", "citation", "page", "vector_rank", "text_rank")} == {
        "document_name": "handbook.pdf", "citation": "handbook.pdf, page 2", "page": 2, "vector_rank": 1,
        "text_rank": 1,
    }  # fmt: skip


def test_search_in_a_foreign_unit_is_a_404(api_client, kb, tenants):
    api_client.force_login(tenants.carol)
    response = api_client.post(SEARCH, {"query": "freight", "unit_ids": [str(kb.unit.pk)]}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
