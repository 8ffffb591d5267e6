"""The eight services of seed 001 exist on a fresh install, with prices and
valid active templates, and each runs end to end on the offline model."""

from decimal import Decimal

import pytest

from accounts.tenancy.context import account_context
from aiplatform.errors import ServiceError
from billing.models import CreditTransaction, Reservation
from templates.models import PromptTemplate, Service, ServiceResult
from templates.serializers import ResultSerializer
from templates.services.definitions import template_definition_errors
from templates.services.offline import offline_model_check
from templates.services.run import service_run
from templates.services.validation import output_check

pytestmark = pytest.mark.django_db

SEED_001 = [
    ("fortune", "name-analysis", "성명학 분석", "10"),
    ("fortune", "dream-interpretation", "꿈 해몽", "15"),
    ("entertainment", "story", "이야기 생성", "20"),
    ("utility", "chat", "AI 채팅", "5"),
    ("fortune", "face-reading", "관상 분석", "25"),
    ("fortune", "saju", "사주팔자", "25"),
    ("fortune", "tarot", "타로 카드", "20"),
    ("fortune", "tojeong", "토정비결", "15"),
]

INPUTS = {
    "name-analysis": {"full_name": "김민지", "hanja": "金敏智", "language": "ko"},
    "dream-interpretation": {"dream": "I was flying over the sea and a white dragon followed me.", "language": "en"},
    "story": {"genre": "fairy-tale", "protagonist": "a shy baker who can hear plants", "language": "en"},
    "chat": {"message": "How do I keep basil alive indoors?"},
    "face-reading": {"face_shape": "oval", "eyes": "large, slightly upturned", "nose": "straight", "language": "en"},
    "saju": {"birth_date": "1990-04-01", "birth_time": "07:30", "gender": "female", "language": "ko"},
    "tarot": {"question": "What should I focus on at work?", "spread": "three-card", "language": "en"},
    "tojeong": {"birth_date": "1988-02-14", "year": 2026, "language": "ko"},
}


def test_the_catalog_of_seed_001_is_seeded():
    rows = list(
        Service.objects.order_by("sort_order").values_list("category", "service_type", "name_ko", "credit_cost")
    )
    assert rows == [(c, code, name, Decimal(cost)) for c, code, name, cost in SEED_001]


@pytest.mark.parametrize("code", [row[1] for row in SEED_001])
def test_each_service_has_one_valid_active_version_on_the_offline_model(code):
    template = PromptTemplate.objects.get(service_type=code, is_active=True)
    # face reading's v2 (issue 11) adds an optional photo to v1
    assert (template.version, template.ai_model) == ("v2" if code == "face-reading" else "v1", "local-assistant")
    assert template_definition_errors(template) == {}
    assert (template.validation_schema is not None) == (template.output_format == "json")


@pytest.mark.parametrize("code", [row[1] for row in SEED_001])
def test_each_service_runs_on_the_offline_model_free_and_labelled_a_demo(tenants, code, on_commit):
    from billing.services.subscriptions import subscription_for

    subscription_for(tenants.a)  # 100 free credits
    with on_commit(execute=True):
        result = service_run(account=tenants.a, user=tenants.alice, service_code=code, params=INPUTS[code])
    with account_context(tenants.a.id):
        result = ServiceResult.objects.get(pk=result.pk)
        charged = list(CreditTransaction.objects.filter(type="use").values_list("amount", flat=True))
        data = ResultSerializer(result).data
    # then the filler is delivered, valid, but sold for nothing and said to be a demo
    assert (result.status, result.error) == ("completed", "")
    assert charged == [] and result.credits_charged == Decimal("0") and result.reservation_id is None
    assert result.ai_model == "local-assistant"
    assert (data["demo"], data["demo_label"], data["credits_charged"]) == (
        True, "demo model, not a real reading", "0.0000",
    )  # fmt: skip
    assert output_check(result.prompt_template, result.result_text).ok
    assert "@example.com" not in result.result_text and "00000000-0000" not in result.result_text


def test_the_catalog_api_says_which_services_are_demos(tenants, client):
    client.force_login(tenants.alice)
    body = client.get("/api/v1/services/").json()
    rows = body["results"] if isinstance(body, dict) else body
    assert {(r["code"], r["demo"], r["price"], r["demo_label"]) for r in rows} == {
        (code, True, "0.0000", "demo model, not a real reading") for _, code, _, _ in SEED_001
    }
    page = client.get("/services/").content.decode()
    assert page.count("Free · demo model, not a real reading") == len(SEED_001)


def test_an_operator_can_make_offline_services_unavailable(tenants, settings):
    from billing.services.subscriptions import subscription_for

    settings.SERVICES_OFFLINE_MODEL = "unavailable"
    subscription_for(tenants.a)
    # when alice runs a paid service whose template is on the offline model
    with pytest.raises(ServiceError) as err:
        service_run(account=tenants.a, user=tenants.alice, service_code="saju", params=INPUTS["saju"])
    # then it is refused, and nothing was stored, held or charged
    assert (err.value.status, err.value.code) == (503, "service_unavailable")
    with account_context(tenants.a.id):
        assert ServiceResult.objects.count() == 0
        assert Reservation.objects.count() == 0


def test_the_deploy_check_warns_about_paid_services_and_platform_personas_on_the_offline_model(db):
    from tests.personas.factories import PlatformPersonaFactory

    PlatformPersonaFactory(name="Sage", model_config={"model": "local-assistant"})
    warnings = {w.id: w.msg for w in offline_model_check()}
    assert set(warnings) == {"templates.W001", "templates.W002"}
    assert all(code in warnings["templates.W001"] for _, code, _, _ in SEED_001)
    assert "given away free, labelled as a demo" in warnings["templates.W001"]
    assert "Sage" in warnings["templates.W002"]
