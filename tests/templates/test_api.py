"""The REST API: catalog in the user's language, run (202, idempotent, 402, 404, 400),
results (filters, query count, rate, share), staff templates and experiments."""

from decimal import Decimal

import pytest

from accounts.models import User
from accounts.tenancy.context import account_context
from billing.models import CreditTransaction
from templates.models import PromptExperiment, PromptTemplate, ServiceResult
from tests.accounts.factories import UserFactory
from tests.templates.factories import VALID_READING, PromptTemplateFactory, ServiceResultFactory, service_with_template

pytestmark = pytest.mark.django_db

RUN = "/api/v1/services/weekly-reading/run/"
PARAMS = {"params": {"name": "Minji", "birth_date": "1990-04-01"}}


def _ledger(t):
    with account_context(t.a.id):
        return list(CreditTransaction.objects.filter(type="use").values_list("amount", flat=True))


def _results(t) -> int:
    with account_context(t.a.id):
        return ServiceResult.objects.count()


def test_catalog_lists_the_seeded_services_in_the_users_language(alice_api):
    english = alice_api.get("/api/v1/services/").json()
    assert [(s["code"], s["name"], s["credit_cost"]) for s in english] == [
        ("name-analysis", "Name analysis", "10.0000"),
        ("dream-interpretation", "Dream interpretation", "15.0000"),
        ("story", "Story generator", "20.0000"),
        ("chat", "AI chat", "5.0000"),
        ("face-reading", "Face reading", "25.0000"),
        ("saju", "Four Pillars (Saju)", "25.0000"),
        ("tarot", "Tarot reading", "20.0000"),
        ("tojeong", "Tojeong Bigyeol", "15.0000"),
    ]
    korean = alice_api.get("/api/v1/services/?lang=ko").json()
    assert [s["name"] for s in korean] == ["성명학 분석", "꿈 해몽", "이야기 생성", "AI 채팅", "관상 분석", "사주팔자",
                                           "타로 카드", "토정비결"]  # fmt: skip


def test_service_detail_describes_the_form(alice_api, reading):
    body = alice_api.get("/api/v1/services/weekly-reading/?lang=ko").json()
    assert (body["available"], body["output_format"], body["versions"]) == (True, "json", ["v1"])
    assert body["parameters"] == [
        {"name": "name", "type": "string", "required": True, "label": "이름", "help": "", "max_length": 40},
        {"name": "birth_date", "type": "date", "required": True, "label": "생년월일", "help": ""},
        {"name": "mood", "type": "string", "required": False, "label": "Mood", "help": "", "default": "calm",
         "choices": [{"value": "calm", "label": "calm"}, {"value": "curious", "label": "curious"}]},
    ]  # fmt: skip


def test_run_answers_202_and_the_result_completes(funded, alice_api, reading, model_server, on_commit):
    model_server.reply(VALID_READING)
    with on_commit(execute=True):
        response = alice_api.post(RUN, PARAMS, format="json")
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["service"], body["credits_charged"]) == (
        "pending", {"code": "weekly-reading", "name": "Reading weekly-reading"}, "0.0000"
    )  # fmt: skip
    done = alice_api.get(f"/api/v1/results/{body['id']}/").json()
    assert (done["status"], done["output"], done["credits_charged"]) == (
        "completed", {"summary": "A bright week ahead.", "lucky_number": 7}, "10.0000"
    )  # fmt: skip


def test_a_retry_with_the_same_key_returns_the_first_result_and_charges_once(
    funded, alice_api, reading, model_server, on_commit
):
    model_server.reply(VALID_READING, times=2)
    with on_commit(execute=True):
        first = alice_api.post(RUN, PARAMS, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    with on_commit(execute=True):
        again = alice_api.post(RUN, PARAMS, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"] and again.json()["status"] == "completed"
    assert _ledger(funded) == [Decimal("-10.0000")]
    assert len(model_server.requests) == 1 and _results(funded) == 1
    # the same key with other parameters is a conflict, and changes nothing
    other = alice_api.post(RUN, {"params": {"name": "Jun", "birth_date": "1990-04-01"}}, format="json",
                           HTTP_IDEMPOTENCY_KEY="run-1")  # fmt: skip
    assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_key_reused")
    assert _ledger(funded) == [Decimal("-10.0000")] and _results(funded) == 1


def test_insufficient_credits_is_402_and_the_model_is_not_called(funded, alice_api, chat_model, model_server):
    service_with_template("weekly-reading", cost="500")
    response = alice_api.post(RUN, PARAMS, format="json")
    assert response.status_code == 402
    assert response.json() == {"error": {
        "code": "insufficient_credits",
        "message": "Not enough credits: this costs 500.0000 and 100.0000 are available. Top up to continue.",
        "balance": "100.0000", "price": "500.0000",
    }}  # fmt: skip
    assert model_server.requests == [] and _results(funded) == 0


def test_unknown_or_switched_off_service_is_404(funded, alice_api, reading):
    assert alice_api.post("/api/v1/services/no-such/run/", PARAMS, format="json").status_code == 404
    reading.is_active = False
    reading.save()
    response = alice_api.post(RUN, PARAMS, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert _results(funded) == 0


def test_malformed_input_is_400_with_the_fields(funded, alice_api, reading, model_server):
    response = alice_api.post(RUN, {"params": {"birth_date": "yesterday", "shoe_size": 42}}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": {
        "code": "validation_error", "message": "Some parameters are invalid.",
        "fields": {"shoe_size": ["Unknown parameter."], "name": ["This field is required."],
                   "birth_date": ["Enter a date (YYYY-MM-DD)."]},
    }}  # fmt: skip
    missing = alice_api.post(RUN, {}, format="json")
    assert missing.json()["error"]["fields"] == {"params": ["This field is required."]}
    assert model_server.requests == [] and _results(funded) == 0 and _ledger(funded) == []


def test_pinning_an_unknown_version_is_400(funded, alice_api, reading):
    response = alice_api.post(RUN, {**PARAMS, "template_version": "v9"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "template_version": ["Unknown version. Versions of this service: v1."]
    }


def test_viewers_cannot_run(funded, api_client, reading):
    viewer = UserFactory()
    from tests.accounts.factories import MembershipFactory

    MembershipFactory(account=funded.a, user=viewer, role="viewer")
    api_client.force_login(viewer)
    assert api_client.post(RUN, PARAMS, format="json").status_code == 403


# --- results --------------------------------------------------------------------------------


def test_results_list_filters_and_runs_a_fixed_number_of_queries(funded, alice_api, reading, django_assert_num_queries):
    t = funded
    for status in ("completed", "completed", "failed", "pending"):
        ServiceResultFactory(account=t.a, user=t.alice, service=reading, status=status)
    ServiceResultFactory(account=t.a, user=t.bob, service=reading, status="completed", rating=4)
    ServiceResultFactory(account=t.b, user=t.carol, service=reading)  # another account's, never listed
    # user, savepoint, user context, membership+account, last-active touch, tenant context, count,
    # one page of results with service and user joined, the API log row, release: none per row
    # (one more the first time a model's registry entry is read: is the result a demo?)
    with django_assert_num_queries(11):
        body = alice_api.get("/api/v1/results/").json()
    assert body["count"] == 5
    statuses = alice_api.get("/api/v1/results/?status=failed&status=pending").json()["results"]
    assert sorted(r["status"] for r in statuses) == ["failed", "pending"]
    rated = alice_api.get("/api/v1/results/?rated=true").json()["results"]
    assert [(r["user"], r["rating"]) for r in rated] == [("bob@example.com", 4)]
    assert alice_api.get("/api/v1/results/?service=other").json()["count"] == 0


def test_result_rating_by_its_runner(funded, alice_api, api_client, reading):
    result = ServiceResultFactory(account=funded.a, user=funded.alice, service=reading)
    rated = alice_api.post(f"/api/v1/results/{result.pk}/rate/", {"rating": 4, "feedback": "Nice"}, format="json")
    assert (rated.status_code, rated.json()["rating"], rated.json()["feedback"]) == (200, 4, "Nice")
    bad = alice_api.post(f"/api/v1/results/{result.pk}/rate/", {"rating": 6}, format="json")
    assert bad.json()["error"]["fields"] == {"rating": ["Ensure this value is less than or equal to 5."]}
    api_client.force_login(funded.bob)
    other = api_client.post(f"/api/v1/results/{result.pk}/rate/", {"rating": 1}, format="json")
    assert (other.status_code, other.json()["error"]["message"]) == (
        403, "Only the person who ran this service can rate its result."
    )  # fmt: skip


def test_share_and_unshare_through_the_api(funded, alice_api, reading, api_client):
    result = ServiceResultFactory(account=funded.a, user=funded.alice, service=reading)
    shared = alice_api.post(f"/api/v1/results/{result.pk}/share/", {"max_views": 2}, format="json").json()
    token = shared["share_url"].rsplit("/", 2)[-2]
    assert shared["share_url"] == f"http://testserver/services/share/{token}/"
    assert (shared["is_public"], shared["max_views"]) == (True, 2)
    anonymous = api_client.get(f"/api/v1/shared-results/{token}/")
    assert anonymous.json() == {
        "service": {"code": "weekly-reading", "name": "Reading weekly-reading", "icon": "🔮"},
        "output_format": "json",
        "output": {"summary": "A bright week ahead.", "lucky_number": 7},
        "created_at": result.created_at.date().isoformat(),
    }
    unshared = alice_api.post(f"/api/v1/results/{result.pk}/unshare/").json()
    assert (unshared["is_public"], unshared["share_url"]) == (False, None)
    gone = api_client.get(f"/api/v1/shared-results/{token}/")
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "not_found")


def test_another_accounts_result_is_404_on_every_action(funded, alice_api, reading):
    foreign = ServiceResultFactory(account=funded.b, user=funded.carol, service=reading)
    for method, url in [("get", ""), ("post", "rate/"), ("post", "share/"), ("post", "unshare/")]:
        response = getattr(alice_api, method)(f"/api/v1/results/{foreign.pk}/{url}", {"rating": 5}, format="json")
        assert response.status_code == 404, url
    with account_context(funded.b.id):
        assert ServiceResult.objects.get(pk=foreign.pk).rating is None


# --- staff ----------------------------------------------------------------------------------


@pytest.fixture
def operator_api(api_client, db):
    operator = UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN)
    api_client.force_login(operator)
    return api_client


def test_tenants_do_not_see_the_operator_api(alice_api, reading):
    template = PromptTemplate.objects.get(service_type="weekly-reading")
    assert alice_api.get("/api/v1/prompt-templates/").status_code == 404
    assert alice_api.get(f"/api/v1/prompt-templates/{template.pk}/").status_code == 404
    assert alice_api.post(f"/api/v1/prompt-templates/{template.pk}/activate/").status_code == 404


def test_operators_version_and_activate_templates(operator_api, reading):
    v1 = PromptTemplate.objects.get(service_type="weekly-reading")
    created = operator_api.post(
        f"/api/v1/prompt-templates/{v1.pk}/new-version/", {"temperature": "0.30"}, format="json"
    )
    assert created.status_code == 201 and created.json()["version"] == "v2"
    v2 = created.json()["id"]
    edited = operator_api.patch(f"/api/v1/prompt-templates/{v2}/", {"system_prompt": "Kind words for {{name}}."},
                                format="json")  # fmt: skip
    assert edited.json()["system_prompt"] == "Kind words for {{name}}."
    assert operator_api.post(f"/api/v1/prompt-templates/{v2}/activate/").json()["is_active"] is True
    frozen = operator_api.patch(f"/api/v1/prompt-templates/{v2}/", {"system_prompt": "x"}, format="json")
    assert (frozen.status_code, frozen.json()["error"]["code"]) == (409, "template_frozen")
    back = operator_api.post("/api/v1/prompt-templates/rollback/", {"service_type": "weekly-reading"}, format="json")
    assert back.json()["version"] == "v1"
    active = operator_api.get("/api/v1/prompt-templates/?service_type=weekly-reading&is_active=true").json()
    assert [t["version"] for t in active["results"]] == ["v1"]


def test_operators_run_experiments(operator_api, reading):
    v1 = PromptTemplate.objects.get(service_type="weekly-reading")
    v2 = PromptTemplateFactory(service_type="weekly-reading", version="v2")
    created = operator_api.post("/api/v1/experiments/", {
        "name": "Warmer tone", "service_type": "weekly-reading", "template_a": str(v1.pk), "template_b": str(v2.pk),
        "traffic_split": 80,
    }, format="json")  # fmt: skip
    assert created.status_code == 201
    experiment = created.json()
    assert (experiment["status"], experiment["traffic_split"], experiment["evaluation"]["winner"]) == (
        "draft",
        80,
        None,
    )
    assert experiment["evaluation"]["rule"].startswith("Two-sided two-proportion z-test")
    started = operator_api.post(f"/api/v1/experiments/{experiment['id']}/start/").json()
    assert started["status"] == "running"
    refused = operator_api.post(f"/api/v1/experiments/{experiment['id']}/declare-winner/")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "no_winner_yet")
    PromptExperiment.objects.filter(pk=experiment["id"]).update(
        version_a_ratings=50, version_a_satisfied=45, version_b_ratings=50, version_b_satisfied=20
    )
    won = operator_api.post(f"/api/v1/experiments/{experiment['id']}/declare-winner/").json()
    assert (won["status"], won["winner"]) == ("completed", "A")
