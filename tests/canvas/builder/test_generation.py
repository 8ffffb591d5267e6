"""AI generation: components streamed, stored sanitised and published as they
arrive; one corrective retry on an invalid answer; credits held then settled
(or released on failure); limits and the shut-off refuse with nothing written;
regenerating one component makes a new version; feedback."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from accounts.actors import system_actor
from accounts.tenancy.context import account_context
from aiplatform.errors import InsufficientCredits, LimitReached, ServiceError
from billing.models import Reservation
from billing.services.controls import shutoff_engage
from canvas.models import AIGeneration, BuilderJob, Campaign, CampaignComponent, CampaignStatus, GenerationStatus
from canvas.services.builder import frames
from canvas.services.builder.generation import component_regenerate, generation_feedback, generation_start
from tests.billing.factories import wallet
from tests.canvas.builder.conftest import FORM, HERO, components_answer
from tests.canvas.builder.factories import CampaignFactory, ComponentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and run what it sends on commit (the job's eager Celery task)."""

    def call(fn, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return call


def _frames(generation_id) -> list[dict]:
    client = frames._client()
    return [json.loads(f[b"f"]) for _, f in client.xrange(frames.key(generation_id))]


def _state(account):
    with account_context(account.id):
        return (
            list(Campaign.objects.filter(account=account).values_list("status", flat=True)),
            AIGeneration.objects.filter(account=account).count(),
            CampaignComponent.objects.filter(account=account).count(),
            BuilderJob.objects.filter(account=account).count(),
        )


def test_a_generation_streams_components_stores_them_sanitised_and_settles_credits(
    funded, builder_model, model_server, run
):
    campaign = CampaignFactory(account=funded.a)
    hostile = dict(HERO, html='<section><h1>Run</h1><img src=x onerror="alert(1)"><script>alert(2)</script></section>')
    model_server.reply(components_answer(hostile, FORM))
    before = wallet(funded.a).balance

    generation = run(generation_start, account=funded.a, actor=funded.bob_membership, campaign=campaign,
                                  prompt="A page for a running shoe", reference_images=["https://example.com/a.png"])  # fmt: skip  # noqa: E501

    with account_context(funded.a.id):
        generation.refresh_from_db()
        campaign.refresh_from_db()
        components = list(CampaignComponent.objects.filter(campaign=campaign).order_by("sort_order"))
        job = BuilderJob.objects.get(account=funded.a)
        hold = Reservation.objects.get(reference_type="builder_job", reference_id=str(job.pk))
    assert generation.status == GenerationStatus.COMPLETED, generation.error_message
    assert campaign.status == CampaignStatus.READY
    assert [(c.name, c.component_type, c.sort_order) for c in components] == [
        ("Hero", "hero_section", 0), ("Sign-up", "form", 1)]  # fmt: skip
    assert components[0].code == '<section><h1>Run</h1><img src="x"></section>'
    assert (generation.iterations, generation.model_used) == (1, "test-model")
    assert generation.prompt_tokens > 0 and generation.completion_tokens > 0 and generation.cost > 0
    assert generation.credits_charged > 0 and generation.generation_time_seconds is not None
    assert generation.result_data["component_ids"] == [str(c.pk) for c in components]
    assert job.status == "completed" and hold.status == Reservation.Status.SETTLED
    assert wallet(funded.a).balance == before - generation.credits_charged
    published = _frames(generation.pk)
    assert [f["type"] for f in published] == ["component", "component", "done"]
    assert published[0]["html"] == components[0].code  # the editor gets the sanitised code
    sent = model_server.requests[-1]
    assert "https://example.com/a.png" in json.dumps(sent)


def test_an_invalid_answer_gets_one_corrective_retry(funded, builder_model, model_server, run):
    campaign = CampaignFactory(account=funded.a)
    model_server.reply('{"components": [{"name": "Hero", "component_type": "banner", "html": "<p>x</p>"}]}')
    model_server.reply(components_answer(HERO))
    generation = run(
        generation_start, account=funded.a, actor=funded.bob_membership, campaign=campaign, prompt="A page"
    )
    with account_context(funded.a.id):
        generation.refresh_from_db()
        names = list(CampaignComponent.objects.filter(campaign=campaign).values_list("name", flat=True))
    assert generation.status == GenerationStatus.COMPLETED and generation.iterations == 2
    assert names == ["Hero"]
    retry_request = json.dumps(model_server.requests[-1])
    assert "does not match the schema" in retry_request and "banner" in retry_request


def test_an_answer_invalid_twice_fails_charges_nothing_and_keeps_no_components(
    funded, builder_model, model_server, run
):
    campaign = CampaignFactory(account=funded.a)
    model_server.reply("not json at all", times=2)
    before = wallet(funded.a).balance
    generation = run(
        generation_start, account=funded.a, actor=funded.bob_membership, campaign=campaign, prompt="A page"
    )
    with account_context(funded.a.id):
        generation.refresh_from_db()
        campaign.refresh_from_db()
        assert not CampaignComponent.objects.filter(campaign=campaign).exists()
        hold = Reservation.objects.get(reference_type="builder_job")
    assert generation.status == GenerationStatus.FAILED and "Nothing was charged" in generation.error_message
    assert generation.iterations == 2 and generation.credits_charged == 0
    assert campaign.status == CampaignStatus.DRAFT
    assert hold.status == Reservation.Status.RELEASED
    assert wallet(funded.a).balance == before
    assert _frames(generation.pk)[-1]["type"] == "error"


def test_a_provider_error_fails_the_generation_and_releases_the_hold(funded, builder_model, model_server, run):
    campaign = CampaignFactory(account=funded.a)
    model_server.fail(400, times=3)
    before = wallet(funded.a).balance
    generation = run(
        generation_start, account=funded.a, actor=funded.bob_membership, campaign=campaign, prompt="A page"
    )
    with account_context(funded.a.id):
        generation.refresh_from_db()
    assert generation.status == GenerationStatus.FAILED and generation.error_message
    assert wallet(funded.a).balance == before


def test_too_few_credits_is_a_402_with_nothing_written(tenants, builder_model, model_server, run):
    campaign = CampaignFactory(account=tenants.a)
    before = _state(tenants.a)
    with pytest.raises(InsufficientCredits):
        generation_start(account=tenants.a, actor=tenants.bob_membership, campaign=campaign, prompt="A page")
    assert _state(tenants.a) == before
    assert model_server.requests == []


def test_the_shutoff_and_the_monthly_generations_refuse_clearly(funded, builder_model, model_server, run):
    from billing.models import Plan

    campaign = CampaignFactory(account=funded.a)
    shutoff_engage(account=funded.a, actor=system_actor("test"), reason="test")
    before = _state(funded.a)
    with pytest.raises(ServiceError) as caught:
        generation_start(account=funded.a, actor=funded.bob_membership, campaign=campaign, prompt="A page")
    assert caught.value.status == 403
    assert _state(funded.a) == before
    from billing.services.controls import shutoff_lift

    shutoff_lift(account=funded.a, actor=funded.alice_membership)
    Plan.objects.filter(code="free").update(monthly_generations=0)
    with pytest.raises(LimitReached) as caught:
        generation_start(account=funded.a, actor=funded.bob_membership, campaign=campaign, prompt="A page")
    assert caught.value.extra["name"] == "monthly_generations"
    assert _state(funded.a) == before


def test_api_generate_answers_202_and_a_foreign_campaign_404(api_client, funded, builder_model, model_server, run):
    mine = CampaignFactory(account=funded.a)
    theirs = CampaignFactory(account=funded.b)
    model_server.reply(components_answer(HERO))
    api_client.force_login(funded.bob)
    response = run(
        api_client.post, path=f"/api/v1/campaigns/{mine.pk}/generate/", data={"prompt": "A page"}, format="json"
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "processing"
    assert run(api_client.get, path=f"/api/v1/campaign-generations/{body['id']}/").json()["status"] == "completed"
    assert True and body["events_url"].endswith(f"/generations/{body['id']}/events/")
    assert (
        api_client.post(f"/api/v1/campaigns/{theirs.pk}/generate/", {"prompt": "x"}, format="json").status_code == 404
    )
    assert api_client.post(f"/api/v1/campaigns/{mine.pk}/generate/", {"prompt": ""}, format="json").status_code == 400


def test_regenerating_a_component_makes_a_new_current_version(funded, builder_model, model_server, run):
    campaign = CampaignFactory(account=funded.a, status=CampaignStatus.READY)
    parent = ComponentFactory(campaign=campaign, name="Hero", sort_order=0)
    model_server.reply(json.dumps(dict(HERO, name="Short hero", html="<section><h1>Run.</h1></section>")))
    generation = run(component_regenerate, account=funded.a, actor=funded.bob_membership, component=parent,
                                      instruction="make the hero shorter")  # fmt: skip
    with account_context(funded.a.id):
        generation.refresh_from_db()
        parent.refresh_from_db()
        new = CampaignComponent.objects.get(parent_component=parent)
    assert generation.status == GenerationStatus.COMPLETED
    assert (new.version, new.is_current, parent.is_current, new.name) == (2, True, False, "Short hero")
    assert "make the hero shorter" in json.dumps(model_server.requests[-1])

    generation_feedback(generation=generation, actor=funded.bob_membership, rating=2, feedback="too short",
                        accepted=False)  # fmt: skip
    with account_context(funded.a.id):
        generation.refresh_from_db()
        parent.refresh_from_db()
        new.refresh_from_db()
    assert (generation.user_rating, generation.user_feedback, generation.accepted) == (2, "too short", False)
    assert (parent.is_current, new.is_current) == (True, False)  # rejected: the parent is back in the page


def test_feedback_rejects_a_rating_out_of_range(funded):
    generation = AIGeneration(account=funded.a, status=GenerationStatus.COMPLETED)
    with pytest.raises(ServiceError):
        generation_feedback(generation=generation, actor=funded.bob_membership, rating=6)


def test_generation_costs_are_recorded_in_decimal(funded, builder_model, model_server, run):
    campaign = CampaignFactory(account=funded.a)
    model_server.reply(components_answer(HERO))
    generation = run(
        generation_start, account=funded.a, actor=funded.bob_membership, campaign=campaign, prompt="A page"
    )
    with account_context(funded.a.id):
        generation.refresh_from_db()
    assert isinstance(generation.cost, Decimal) and generation.cost == generation.cost.quantize(Decimal("0.000001"))


def test_a_generation_whose_job_cannot_be_charged_at_the_end_fails_with_it(
    funded, builder_model, model_server, run, monkeypatch
):
    # given the charge refused when the job finishes (the wallet emptied meanwhile)
    from canvas.services import queue as q

    def refuse(*args, **kwargs):
        raise InsufficientCredits("Not enough credits.")

    monkeypatch.setattr(q, "_charge", refuse)
    campaign = CampaignFactory(account=funded.a)
    model_server.reply(components_answer(HERO, FORM))
    # when
    generation = run(
        generation_start, account=funded.a, actor=funded.bob_membership, campaign=campaign, prompt="A page"
    )
    # then the generation is failed with its job, in the job's transaction, and shows no components
    with account_context(funded.a.id):
        generation.refresh_from_db()
        campaign.refresh_from_db()
        job = BuilderJob.objects.get(account=funded.a)
        left = CampaignComponent.objects.filter(campaign=campaign).count()
    assert job.status == "failed" and job.error_message == q.ERRORS["credits_ran_out"]
    assert generation.status == GenerationStatus.FAILED and "no longer had enough credits" in generation.error_message
    assert generation.credits_charged == 0 and generation.iterations == 1 and generation.prompt_tokens > 0
    assert (left, campaign.status) == (0, CampaignStatus.DRAFT)
    assert [f["type"] for f in _frames(generation.pk)] == ["component", "component", "error"]


def test_a_regeneration_whose_job_cannot_be_charged_puts_the_parent_back(
    funded, builder_model, model_server, run, monkeypatch
):
    from canvas.services import queue as q

    monkeypatch.setattr(q, "_charge", lambda *a, **k: (_ for _ in ()).throw(InsufficientCredits("short")))
    campaign = CampaignFactory(account=funded.a, status=CampaignStatus.READY)
    parent = ComponentFactory(campaign=campaign, name="Hero", sort_order=0)
    model_server.reply(json.dumps(dict(HERO, name="Short hero")))
    generation = run(component_regenerate, account=funded.a, actor=funded.bob_membership, component=parent,
                     instruction="shorter")  # fmt: skip
    with account_context(funded.a.id):
        generation.refresh_from_db()
        parent.refresh_from_db()
        versions = CampaignComponent.objects.filter(campaign=campaign).count()
    assert generation.status == GenerationStatus.FAILED
    assert (parent.is_current, versions) == (True, 1)


def test_a_generation_whose_job_is_cancelled_is_cancelled_in_the_same_transaction(funded, builder_model):
    from canvas.services.queue import job_cancel

    campaign = CampaignFactory(account=funded.a)
    generation = generation_start(account=funded.a, actor=funded.bob_membership, campaign=campaign, prompt="A page")
    with account_context(funded.a.id):
        job = BuilderJob.objects.get(account=funded.a)
    job_cancel(job=job, store="builder")
    with account_context(funded.a.id):
        generation.refresh_from_db()
        campaign.refresh_from_db()
    assert generation.status == GenerationStatus.CANCELLED and campaign.status == CampaignStatus.DRAFT
