"""The operators' back office: template versions side by side, activate, roll back,
new version; experiments with live numbers; results read-only."""

import pytest
from django.test import Client

from accounts.models import User
from templates.models import PromptExperiment, PromptTemplate
from tests.accounts.factories import UserFactory
from tests.templates.factories import PromptTemplateFactory, ServiceResultFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/templates/prompttemplate/"


@pytest.fixture
def operator(db):
    client = Client()
    client.force_login(UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True))
    return client


@pytest.fixture
def versions(chat_model):
    v1 = PromptTemplateFactory(service_type="horoscope", version="v1", is_active=True, system_prompt="Be kind.")
    v2 = PromptTemplateFactory(service_type="horoscope", version="v2", system_prompt="Be kind and <b>brief</b>.")
    return v1, v2


def _active():
    return list(
        PromptTemplate.objects.filter(service_type="horoscope", is_active=True).values_list("version", flat=True)
    )


def test_two_versions_side_by_side(operator, versions):
    v1, v2 = versions
    response = operator.post(CHANGELIST, {"action": "compare", "_selected_action": [str(v1.pk), str(v2.pk)]})
    assert (
        response.status_code == 302 and response["Location"] == f"/admin/templates/prompttemplate/{v1.pk}/diff/{v2.pk}/"
    )
    page = operator.get(response["Location"]).content.decode()
    assert "horoscope: v1 ↔ v2" in page
    assert 'class="diff"' in page and "&lt;b&gt;brief&lt;/b&gt;" in page and "<b>brief</b>" not in page


def test_activate_and_roll_back_actions(operator, versions):
    v1, v2 = versions
    operator.post(CHANGELIST, {"action": "activate", "_selected_action": [str(v2.pk)]})
    assert _active() == ["v2"]
    operator.post(CHANGELIST, {"action": "roll_back", "_selected_action": [str(v2.pk)]})
    assert _active() == ["v1"]


def test_new_version_action_opens_the_copy(operator, versions):
    v1, _ = versions
    response = operator.post(CHANGELIST, {"action": "new_version", "_selected_action": [str(v1.pk)]})
    copy = PromptTemplate.objects.get(service_type="horoscope", version="v3")
    assert response["Location"] == f"/admin/templates/prompttemplate/{copy.pk}/change/"
    assert (copy.system_prompt, copy.is_active) == ("Be kind.", False)


def test_an_active_version_cannot_be_edited_in_place(operator, versions):
    v1, _ = versions
    page = operator.get(f"/admin/templates/prompttemplate/{v1.pk}/change/").content.decode()
    assert 'name="system_prompt"' not in page and "Be kind." in page


def test_experiment_list_shows_live_numbers_and_the_verdict(operator, versions):
    v1, v2 = versions
    PromptExperiment.objects.create(
        name="Brevity", service_type="horoscope", template_a=v1, template_b=v2, status="running",
        version_a_count=120, version_b_count=118, version_a_ratings=100, version_a_satisfied=60,
        version_b_ratings=100, version_b_satisfied=45, version_a_avg_rating="4.10", version_b_avg_rating="3.70",
    )  # fmt: skip
    page = operator.get("/admin/templates/promptexperiment/").content.decode()
    assert "v1: 120 / 100 / 4.10" in page and "v2: 118 / 100 / 3.70" in page
    assert "0.0337" in page and "A wins (p = 0.0337)." in page


def test_results_are_read_only_and_hide_the_share_token(operator, tenants):
    result = ServiceResultFactory(account=tenants.a, user=tenants.alice, share_token="tok-" + "x" * 28, is_public=True)
    page = operator.get(f"/admin/templates/serviceresult/{result.pk}/change/").content.decode()
    assert "A bright week ahead." in page and "tok-xxxx" not in page
    assert 'name="_save"' not in page


def test_every_changelist_and_add_page_renders(operator, tenants, versions):
    ServiceResultFactory(account=tenants.a, user=tenants.alice)
    for url in ["serviceresult/", "service/", "service/add/", "prompttemplate/", "prompttemplate/add/",
                "promptexperiment/", "promptexperiment/add/"]:  # fmt: skip
        assert operator.get(f"/admin/templates/{url}").status_code == 200, url
    assert "Account A" in operator.get("/admin/templates/serviceresult/").content.decode()
