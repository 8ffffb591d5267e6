"""Content analysis jobs: the gateway's JSON answer is validated against the
schema with one corrective retry; credits are held at the request and settled
(or released) when the job ends; the status is live on the job."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from billing.models import UsageRecord, Wallet
from canvas.models import ContentAnalysis, JobStatus, ProcessingJob
from tests.billing.factories import fund
from tests.canvas.factories import CollaboratorFactory, ContentPieceFactory, ProjectFactory

pytestmark = pytest.mark.django_db
D = Decimal

ANSWER = {
    "hook_analysis": "Opens on a question in the first second.",
    "body_analysis": "Three quick steps keep the pace.",
    "cta_analysis": "Asks to follow for part two.",
    "content_style_analysis": "Fast cuts, on-screen captions.",
    "hashtags": ["#cooking", "quickrecipes", "#cooking"],
    "mentions": ["@chefmina"],
    "trending_elements": {"formats": ["POV"], "topics": ["meal prep"], "sounds": []},
    "engagement_score": 72.5,
    "sentiment_score": 0.6,
}


@pytest.fixture
def piece(tenants, vera, chat_model, settings):
    settings.CANVAS_ANALYSIS_MODEL = "test-model"
    settings.CANVAS_ANALYSIS_CREDITS = 2
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    CollaboratorFactory(project=project, user=vera, permission_level="viewer")
    return ContentPieceFactory(
        project=project, title="5-minute pasta", transcript="Ever wondered how to cook pasta fast?"
    )


def _wallet(account):
    with account_context(account.id):
        w = Wallet.objects.get(account=account)
    return w.balance, w.reserved


def _analysis(piece) -> ContentAnalysis:
    with account_context(piece.account_id):
        return ContentAnalysis.objects.filter(content_piece=piece).get()


def _job(job_id) -> ProcessingJob:
    return ProcessingJob.objects.get(pk=job_id)


def _start(api_client, piece, capture):
    with capture(execute=True):
        response = api_client.post(f"/api/v1/content-pieces/{piece.pk}/analyses/")
    return response


def test_an_analysis_is_stored_and_charged_once(
    api_client, tenants, piece, model_server, django_capture_on_commit_callbacks
):
    fund(tenants.a, "10")
    model_server.reply(json.dumps(ANSWER))
    api_client.force_login(tenants.alice)
    response = _start(api_client, piece, django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.json()
    assert response.json()["estimated_credits"] == "2.0000"
    analysis = _analysis(piece)
    assert analysis.analysis_status == "completed" and analysis.ai_model_used == "loopback-1" or analysis.ai_model_used
    assert analysis.hashtags == ["cooking", "quickrecipes"] and analysis.mentions == ["chefmina"]
    assert (analysis.engagement_score, analysis.sentiment_score) == (D("72.50"), D("0.60"))
    assert analysis.trending_elements["formats"] == ["POV"] and analysis.analysis_cost_credits == D("2")
    assert _wallet(tenants.a) == (D("8"), D("0"))
    with account_context(tenants.a.id):
        job = _job(response.json()["job"])
        usage = UsageRecord.objects.get(reference_type="processing_job", reference_id=str(job.pk))
    assert (job.status, job.actual_credits, job.progress) == (JobStatus.COMPLETED, D("2"), 100)
    assert (usage.feature, usage.credits, usage.generation) == ("content_analysis", D("2"), True)
    # The prompt carried the piece, and asked for the schema.
    sent = model_server.requests[0]
    assert "Ever wondered how to cook pasta fast?" in json.dumps(sent["messages"])
    listed = api_client.get(f"/api/v1/content-pieces/{piece.pk}/analyses/").json()
    assert [a["analysis_status"] for a in listed] == ["completed"]


def test_an_invalid_answer_gets_one_corrective_retry(
    api_client, tenants, piece, model_server, django_capture_on_commit_callbacks
):
    fund(tenants.a, "10")
    model_server.reply('{"hook_analysis": "only this"}')
    model_server.reply("```json\n" + json.dumps(ANSWER) + "\n```")
    api_client.force_login(tenants.alice)
    job_id = _start(api_client, piece, django_capture_on_commit_callbacks).json()["job"]
    assert _analysis(piece).analysis_status == "completed"
    assert len(model_server.requests) == 2
    correction = model_server.requests[1]["messages"][-1]["content"]
    assert "could not be used" in correction and "required property" in correction
    with account_context(tenants.a.id):
        assert _job(job_id).job_data["result"]["attempts"] == 2
    assert _wallet(tenants.a) == (D("8"), D("0"))  # charged once


def test_an_answer_that_stays_invalid_fails_and_charges_nothing(
    api_client, tenants, piece, model_server, django_capture_on_commit_callbacks
):
    fund(tenants.a, "10")
    model_server.reply("not json at all", times=2)
    api_client.force_login(tenants.alice)
    job_id = _start(api_client, piece, django_capture_on_commit_callbacks).json()["job"]
    assert _analysis(piece).analysis_status == "failed"
    with account_context(tenants.a.id):
        job = _job(job_id)
    assert job.status == JobStatus.FAILED and "expected form" in job.error_message
    assert _wallet(tenants.a) == (D("10"), D("0"))
    detail = api_client.get(f"/api/v1/jobs/{job_id}/").json()
    assert detail["can_retry"] and detail["actual_credits"] == "0.0000"


def test_a_provider_failure_keeps_the_job_retryable_and_cancel_releases_the_credits(
    api_client, tenants, piece, model_server, django_capture_on_commit_callbacks
):
    fund(tenants.a, "10")
    model_server.fail(500, times=20)
    api_client.force_login(tenants.alice)
    job_id = _start(api_client, piece, django_capture_on_commit_callbacks).json()["job"]
    with account_context(tenants.a.id):
        job = _job(job_id)
    assert job.status == JobStatus.QUEUED and job.attempts == 1 and "retried" in job.error_message
    assert _wallet(tenants.a) == (D("10"), D("2"))  # held for the next attempt
    assert api_client.post(f"/api/v1/jobs/{job_id}/cancel/").status_code == 200
    assert _wallet(tenants.a) == (D("10"), D("0"))
    assert _analysis(piece).analysis_status == "failed"


def test_short_credits_is_a_402_and_nothing_is_queued(api_client, tenants, piece):
    fund(tenants.a, "1")
    api_client.force_login(tenants.alice)
    response = api_client.post(f"/api/v1/content-pieces/{piece.pk}/analyses/")
    assert response.status_code == 402
    with account_context(tenants.a.id):
        assert not ContentAnalysis.objects.exists() and not ProcessingJob.objects.exists()


def test_a_viewer_cannot_start_an_analysis(api_client, tenants, piece, vera):
    fund(tenants.a, "10")
    api_client.force_login(vera)
    assert api_client.post(f"/api/v1/content-pieces/{piece.pk}/analyses/").status_code == 403
    assert api_client.get(f"/api/v1/content-pieces/{piece.pk}/analyses/").status_code == 200
    api_client.force_login(tenants.carol)
    assert api_client.post(f"/api/v1/content-pieces/{piece.pk}/analyses/").status_code == 404
