"""Usage counters move with what was delivered, through billing.services.usage.count:
seed 002 `user_usage` (campaigns, storage; API calls by the API log) and seed 003
`account_usage_stats` (projects, content, scripts, voice, avatar). Each event
moves its counter exactly once; a failed job moves nothing."""

# ruff: noqa: F811 - the imported fixtures are parameters of the tests

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from accounts.tenancy.context import account_context
from aiplatform.errors import InvalidInput
from billing.models import AccountDailyUsage, UserMonthlyUsage
from billing.services.usage import count
from canvas.models import GeneratedScript
from canvas.services import queue as q
from canvas.services.builder.generation import generation_start
from canvas.services.content import piece_upload
from canvas.services.projects import project_create
from canvas.services.voice import Upload, voice_model_create
from tests.billing.factories import fund
from tests.canvas.builder.conftest import HERO, builder_model, components_answer, funded  # noqa: F401
from tests.canvas.builder.factories import CampaignFactory
from tests.canvas.factories import ContentPieceFactory, ProjectFactory
from tests.canvas.media_support import media_storage, photo_bytes, speech_wav  # noqa: F401

pytestmark = pytest.mark.django_db
DAY_COUNTS = (
    "projects_created",
    "content_pieces_added",
    "scripts_generated",
    "voice_generations",
    "avatar_generations",
)


def _day(account) -> dict:
    with account_context(account.id):
        row = AccountDailyUsage.objects.filter(account=account).values(*DAY_COUNTS, "storage_used_gb").first()
    return row or {}


def _month(account, user) -> dict:
    with account_context(account.id):
        row = (
            UserMonthlyUsage.objects.filter(account=account, user=user)
            .values("campaigns_generated", "storage_bytes_used", "api_calls_made")
            .first()
        )  # fmt: skip
    return row or {}


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def call(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return call


@pytest.fixture
def slots():
    client = q.redis_client()
    for key in client.scan_iter("aip:jobs:*"):
        client.delete(key)
    yield
    for key in client.scan_iter("aip:jobs:*"):
        client.delete(key)


# --- the function ---------------------------------------------------------------------------------


def test_count_adds_to_the_members_month_and_the_accounts_day(tenants):
    # when
    count(tenants.a, tenants.alice, campaigns_generated=1, storage_bytes_used=500, scripts_generated=2)
    count(tenants.a.id, tenants.alice.pk, campaigns_generated=1, storage_bytes_used=-200, projects_created=1)
    count(tenants.a, None, voice_generations=1)  # no member: the day still counts
    # then
    assert _month(tenants.a, tenants.alice) == {
        "campaigns_generated": 2,
        "storage_bytes_used": 300,
        "api_calls_made": 0,
    }
    expected = {"projects_created": 1, "content_pieces_added": 0, "scripts_generated": 2, "voice_generations": 1,
                "avatar_generations": 0, "storage_used_gb": Decimal("0")}  # fmt: skip
    assert _day(tenants.a) == expected
    assert _day(tenants.b) == {} and _month(tenants.b, tenants.carol) == {}


def test_storage_never_goes_below_zero_and_unknown_counters_are_refused(tenants):
    count(tenants.a, tenants.alice, storage_bytes_used=-10)
    assert _month(tenants.a, tenants.alice)["storage_bytes_used"] == 0
    with pytest.raises(InvalidInput):
        count(tenants.a, tenants.alice, generations=1)
    # the day records the measured storage (nothing stored), and no count moved
    assert _day(tenants.a) == {**dict.fromkeys(DAY_COUNTS, 0), "storage_used_gb": Decimal("0")}


def test_a_count_rolled_back_with_its_transaction_leaves_nothing(tenants):
    with pytest.raises(RuntimeError), transaction.atomic():
        count(tenants.a, tenants.alice, projects_created=1, campaigns_generated=1)
        raise RuntimeError("the job failed after counting")
    assert _day(tenants.a) == {} and _month(tenants.a, tenants.alice) == {}


# --- the events -----------------------------------------------------------------------------------


def test_creating_a_project_counts_one_project(tenants):
    with account_context(tenants.a.id):
        project_create(account=tenants.a, actor=tenants.alice_membership, title="Spring")
    assert _day(tenants.a)["projects_created"] == 1


def test_an_upload_counts_one_piece_and_its_bytes(tenants, media_storage):
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    data = photo_bytes((64, 64))
    with account_context(tenants.a.id):
        piece_upload(project=project, actor=tenants.alice_membership,
                     file=SimpleUploadedFile("face.png", data, content_type="image/png"))  # fmt: skip
    assert _day(tenants.a)["content_pieces_added"] == 1
    assert _month(tenants.a, tenants.alice)["storage_bytes_used"] == len(data)


def test_a_campaign_generation_counts_once_and_a_failed_one_not_at_all(funded, builder_model, model_server, run):
    # given a completed generation and a failed one
    model_server.reply(components_answer(HERO))
    run(generation_start, account=funded.a, actor=funded.bob_membership, campaign=CampaignFactory(account=funded.a),
        prompt="A page")  # fmt: skip
    model_server.reply("not json at all", times=2)
    run(generation_start, account=funded.a, actor=funded.bob_membership, campaign=CampaignFactory(account=funded.a),
        prompt="A page")  # fmt: skip
    # then only the completed one counts, for the member who asked
    assert _month(funded.a, funded.bob)["campaigns_generated"] == 1
    assert _month(funded.a, funded.alice) == {}


def test_a_script_counts_when_written_and_a_failed_one_not_at_all(
    api_client, tenants, chat_model, model_server, settings, django_capture_on_commit_callbacks
):
    settings.CANVAS_SCRIPT_MODEL = chat_model.name
    settings.CANVAS_SCRIPT_CREDITS = 3
    fund(tenants.a, "10")
    piece = ContentPieceFactory(project=ProjectFactory(account=tenants.a, created_by=tenants.alice), transcript="Hi.")
    api_client.force_login(tenants.alice)
    model_server.reply("not json at all", times=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(f"/api/v1/content-pieces/{piece.pk}/scripts/").status_code == 202
    with account_context(tenants.a.id):
        assert GeneratedScript.objects.get().generation_status == "failed"
    assert _day(tenants.a).get("scripts_generated", 0) == 0
    model_server.reply(json.dumps({"research_perspectives": [{"angle": "A", "insight": "B"}],
                                   "rewritten_script": "Hook. Body. CTA."}))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post(f"/api/v1/content-pieces/{piece.pk}/scripts/").status_code == 202
    assert _day(tenants.a)["scripts_generated"] == 1


@pytest.mark.usefixtures("slots")
def test_a_voice_clip_counts_one_voice_generation_and_its_bytes(
    client, tenants, media_storage, tmp_path, django_capture_on_commit_callbacks
):
    from canvas.models import GeneratedContent

    fund(tenants.a, "100")
    voice = voice_model_create(account=tenants.a, actor=tenants.alice_membership, name="Alice",
                               samples=[Upload("me.wav", speech_wav(tmp_path), "audio/wav")])  # fmt: skip
    client.force_login(tenants.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/generated-media/", {"content_type": "audio", "voice_model": str(voice.pk),
                               "text": "One clip, counted once."}, content_type="application/json")  # fmt: skip
    assert response.status_code == 202, response.content
    with account_context(tenants.a.id):
        clip = GeneratedContent.objects.get(pk=response.json()["id"])
    assert clip.generation_status == "completed"
    day = _day(tenants.a)
    assert (day["voice_generations"], day["avatar_generations"]) == (1, 0)
    assert _month(tenants.a, tenants.alice)["storage_bytes_used"] == clip.file_size_bytes


@pytest.mark.usefixtures("slots")
def test_a_voice_job_that_fails_at_the_end_counts_nothing(
    client, tenants, media_storage, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    # given the charge refused when the job finishes (the clip was made, then the job failed)
    from aiplatform.errors import InsufficientCredits

    def refuse(*args, **kwargs):
        raise InsufficientCredits("Not enough credits.")

    fund(tenants.a, "100")
    voice = voice_model_create(account=tenants.a, actor=tenants.alice_membership, name="Alice",
                               samples=[Upload("me.wav", speech_wav(tmp_path), "audio/wav")])  # fmt: skip
    monkeypatch.setattr(q, "_charge", refuse)
    client.force_login(tenants.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/generated-media/", {"content_type": "audio", "voice_model": str(voice.pk),
                               "text": "This job is not paid for."}, content_type="application/json")  # fmt: skip
    assert response.status_code == 202, response.content
    # then
    assert _day(tenants.a).get("voice_generations", 0) == 0
    assert _month(tenants.a, tenants.alice).get("storage_bytes_used", 0) == 0
