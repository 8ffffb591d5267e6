"""Server-rendered pages: catalog in the reader's language, the generated form,
the result page with live status, sharing and rating controls, the history."""

import pytest
from django.test import Client

from accounts.tenancy.context import account_context
from templates.models import PromptTemplate, ServiceResult
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.templates.factories import VALID_READING, ServiceResultFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(funded):
    client = Client()
    client.force_login(funded.alice)
    return client


def test_catalog_speaks_the_users_language(funded, alice, chat_model):
    # given dream interpretation on a real model; the other seeded services stay on the offline one
    PromptTemplate.objects.filter(service_type="dream-interpretation").update(ai_model="test-model")
    english = alice.get("/services/").content.decode()
    assert "Dream interpretation" in english and "15 credits" in english
    assert english.count("Free · demo model, not a real reading") == 7
    funded.alice.locale = "ko"
    funded.alice.save()
    korean = alice.get("/services/").content.decode()
    assert "꿈 해몽" in korean and "Dream interpretation" not in korean
    assert "15 크레딧" in korean


def test_the_form_is_generated_from_the_parameters(alice, reading):
    page = alice.get("/services/weekly-reading/").content.decode()
    assert 'name="name"' in page and 'maxlength="40"' in page
    assert 'type="date" name="birth_date"' in page
    assert '<option value="calm" selected>calm</option>' in page
    assert "Costs 10 credits, charged only when your result is delivered." in page


def test_posting_the_form_runs_the_service_and_shows_the_result(funded, alice, reading, model_server, on_commit):
    model_server.reply(VALID_READING)
    with on_commit(execute=True):
        response = alice.post("/services/weekly-reading/", {"name": "Minji", "birth_date": "1990-04-01",
                                                             "mood": "curious", "idempotency_key": "k-1"})  # fmt: skip
    with account_context(funded.a.id):
        result = ServiceResult.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/services/results/{result.pk}/"
    assert result.input_data == {"name": "Minji", "birth_date": "1990-04-01", "mood": "curious"}
    page = alice.get(response["Location"]).content.decode()
    assert "A bright week ahead." in page and 'data-finished="true"' in page
    status = alice.get(f"/services/results/{result.pk}/status/").json()
    assert status == {"id": str(result.pk), "status": "completed", "status_label": "Completed", "finished": True,
                      "progress": "", "error": ""}  # fmt: skip
    # a double submit of the same form does not run it twice
    with on_commit(execute=True):
        alice.post("/services/weekly-reading/", {"name": "Minji", "birth_date": "1990-04-01", "mood": "curious",
                                                 "idempotency_key": "k-1"})  # fmt: skip
    with account_context(funded.a.id):
        assert ServiceResult.objects.count() == 1


def test_invalid_form_input_shows_field_errors_and_runs_nothing(funded, alice, reading, model_server):
    response = alice.post("/services/weekly-reading/", {"name": "", "birth_date": "someday", "mood": "calm"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_name_error" data-testid="error-name">This field is required.' in page
    assert 'data-testid="error-birth_date">Enter a date (YYYY-MM-DD).' in page
    assert page.count('class="errorlist"') == 2  # one rule book: no second message from Django's form fields
    assert model_server.requests == []


def test_a_pending_result_polls_and_says_what_is_happening(funded, alice, reading):
    result = ServiceResultFactory(account=funded.a, user=funded.alice, service=reading, status="pending",
                                  result_data=None)  # fmt: skip
    page = alice.get(f"/services/results/{result.pk}/").content.decode()
    assert 'data-finished="false"' in page and "Waiting for a worker to start…" in page
    assert f'data-status-url="/services/results/{result.pk}/status/"' in page


def test_a_failed_result_says_what_to_do(funded, alice, reading):
    result = ServiceResultFactory(
        account=funded.a,
        user=funded.alice,
        service=reading,
        status="failed",
        result_data=None,
        error="The AI provider could not be reached. Nothing was charged.",
    )
    page = alice.get(f"/services/results/{result.pk}/").content.decode()
    assert "The AI provider could not be reached. Nothing was charged." in page and "Try again" in page


def test_share_rate_and_unshare_from_the_result_page(funded, alice, reading):
    result = ServiceResultFactory(account=funded.a, user=funded.alice, service=reading)
    alice.post(f"/services/results/{result.pk}/share/", {"expires_in_days": "7", "max_views": "3"})
    page = alice.get(f"/services/results/{result.pk}/").content.decode()
    with account_context(funded.a.id):
        token = ServiceResult.objects.get(pk=result.pk).share_token
    assert f"http://testserver/services/share/{token}/" in page and "0 views / 3" in page
    alice.post(f"/services/results/{result.pk}/rate/", {"rating": "5", "feedback": "Lovely"})
    alice.post(f"/services/results/{result.pk}/unshare/")
    with account_context(funded.a.id):
        row = ServiceResult.objects.get(pk=result.pk)
    assert (row.rating, row.feedback, row.is_public, row.share_token) == (5, "Lovely", False, None)


def test_history_filters_and_paginates(funded, alice, reading):
    for status in ["completed"] * 26 + ["failed"]:
        ServiceResultFactory(account=funded.a, user=funded.alice, service=reading, status=status)
    ServiceResultFactory(account=funded.b, user=funded.carol, service=reading)
    page = alice.get("/services/history/").content.decode()
    assert "27 results" in page and "Page 1 of 2" in page
    failed = alice.get("/services/history/?status=failed").content.decode()
    assert "1 result" in failed and failed.count('data-status="failed"') == 1


def test_viewers_see_the_form_but_cannot_run(funded, reading):
    viewer = UserFactory()
    MembershipFactory(account=funded.a, user=viewer, role="viewer")
    client = Client()
    client.force_login(viewer)
    assert 'data-testid="run"' not in client.get("/services/weekly-reading/").content.decode()
    assert client.post("/services/weekly-reading/", {"name": "Jun", "birth_date": "1990-01-01"}).status_code == 403


def test_another_accounts_result_is_404(funded, alice, reading):
    foreign = ServiceResultFactory(account=funded.b, user=funded.carol, service=reading)
    for url in ["", "status/"]:
        assert alice.get(f"/services/results/{foreign.pk}/{url}").status_code == 404
    for url in ["share/", "unshare/", "rate/"]:
        assert alice.post(f"/services/results/{foreign.pk}/{url}", {"rating": "5"}).status_code == 404
    with account_context(funded.b.id):
        assert ServiceResult.objects.get(pk=foreign.pk).is_public is False


def test_korean_readers_get_korean_errors_and_status(funded, alice, reading):
    funded.alice.locale = "ko"
    funded.alice.save()
    page = alice.post("/services/weekly-reading/", {"name": "", "birth_date": "someday"}).content.decode()
    assert 'data-testid="error-name">이 필드는 필수 항목입니다.' in page
    assert 'data-testid="error-birth_date">날짜를 입력하세요 (YYYY-MM-DD).' in page
    failed = ServiceResultFactory(account=funded.a, user=funded.alice, service=reading, status="failed",
                                  result_data=None, error_code="provider_unavailable",
                                  error="The AI provider could not be reached. Nothing was charged; please try again "
                                  "in a few minutes.")  # fmt: skip
    status = alice.get(f"/services/results/{failed.pk}/status/").json()
    assert (status["status_label"], status["error"]) == (
        "실패", "AI 제공자에 연결할 수 없습니다. 크레딧은 차감되지 않았습니다. 몇 분 후에 다시 시도해 주세요."
    )  # fmt: skip
