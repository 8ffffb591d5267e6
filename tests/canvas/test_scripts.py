"""Scripts: research perspectives and a rewritten script in the brand voice of
the user's profile, with the prompt, model, status and cost recorded; editable
afterwards; counted in the daily stats."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from accounts.models import UserProfile
from accounts.tenancy.context import account_context
from billing.models import AccountDailyUsage, Wallet
from canvas.models import GeneratedScript
from tests.billing.factories import fund
from tests.canvas.factories import ContentPieceFactory, ProjectFactory

pytestmark = pytest.mark.django_db
D = Decimal

ANSWER = {
    "research_perspectives": [
        {"angle": "Time saving", "insight": "Busy parents search for 10-minute dinners."},
        {"angle": "Budget", "insight": "Pasta costs under a dollar a serving."},
    ],
    "rewritten_script": "Hook: Dinner in 5 minutes? Watch.\nBody: ...\nCTA: Follow for more.",
}


@pytest.fixture
def piece(tenants, chat_model, settings):
    settings.CANVAS_SCRIPT_MODEL = "test-model"
    settings.CANVAS_SCRIPT_CREDITS = 3
    UserProfile.objects.update_or_create(
        user=tenants.alice,
        defaults={"brand_name": "Mina Eats", "brand_description": "Fast home cooking",
                  "target_audience": "busy parents", "content_style_preferences": {"tone": "playful"}},
    )  # fmt: skip
    project = ProjectFactory(account=tenants.a, created_by=tenants.alice)
    return ContentPieceFactory(project=project, transcript="Here is how I cook pasta in five minutes.")


def test_a_script_is_written_in_the_brand_voice_and_recorded(
    api_client, tenants, piece, model_server, django_capture_on_commit_callbacks
):
    fund(tenants.a, "10")
    model_server.reply(json.dumps(ANSWER))
    api_client.force_login(tenants.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(f"/api/v1/content-pieces/{piece.pk}/scripts/", {"instructions": "Keep it short"})
    assert response.status_code == 202, response.json()
    with account_context(tenants.a.id):
        script = GeneratedScript.objects.get(content_piece=piece)
        stats = AccountDailyUsage.objects.get(account=tenants.a)
        wallet = Wallet.objects.get(account=tenants.a)
    assert script.generation_status == "completed" and script.generation_cost_credits == D("3")
    assert script.research_perspectives[0]["angle"] == "Time saving"
    assert script.rewritten_script.startswith("Hook: Dinner in 5 minutes?")
    assert script.original_script == "Here is how I cook pasta in five minutes."
    for words in ("Mina Eats", "busy parents", "tone: playful", "Keep it short", "pasta in five minutes"):
        assert words in script.generation_prompt
    assert script.ai_model_used and script.generated_at is not None
    assert stats.scripts_generated == 1
    assert (wallet.balance, wallet.reserved) == (D("7"), D("0"))
    sent = json.dumps(model_server.requests[0]["messages"])
    assert "Mina Eats" in sent

    edited = api_client.patch(f"/api/v1/generated-scripts/{script.pk}/", {"rewritten_script": "My own take."},
                              format="json")  # fmt: skip
    assert edited.status_code == 200 and edited.json()["rewritten_script"] == "My own take."
    listed = api_client.get(f"/api/v1/generated-scripts/?content_piece={piece.pk}").json()
    assert [s["id"] for s in listed["results"]] == [str(script.pk)]


def test_a_script_still_being_written_cannot_be_edited(api_client, tenants, piece):
    fund(tenants.a, "10")
    api_client.force_login(tenants.alice)
    assert api_client.post(f"/api/v1/content-pieces/{piece.pk}/scripts/").status_code == 202  # not run: no commit
    with account_context(tenants.a.id):
        script = GeneratedScript.objects.get(content_piece=piece)
    response = api_client.patch(f"/api/v1/generated-scripts/{script.pk}/", {"rewritten_script": "x"}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "in_progress"


def test_too_long_instructions_are_a_400(api_client, tenants, piece):
    fund(tenants.a, "10")
    api_client.force_login(tenants.alice)
    response = api_client.post(f"/api/v1/content-pieces/{piece.pk}/scripts/", {"instructions": "x" * 3000})
    assert response.status_code == 400
    with account_context(tenants.a.id):
        assert not GeneratedScript.objects.exists()
