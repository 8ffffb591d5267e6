"""Public links: unguessable tokens, expiry, view caps, revocation, and an allowlist of what shows."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, NotFound
from templates.models import ServiceResult
from templates.services.sharing import ShareGone, result_share, result_unshare, shared_result_open
from tests.templates.factories import ServiceResultFactory, service_with_template

pytestmark = pytest.mark.django_db

PROMPT_MARKER = "You are a fortune teller"


@pytest.fixture
def result(tenants, chat_model):
    service = service_with_template("weekly-reading")
    return ServiceResultFactory(
        account=tenants.a,
        user=tenants.alice,
        service=service,
        input_data={"name": "Minji Kim", "birth_date": "1990-04-01"},
    )


def _views(t, result) -> int:
    with account_context(t.a.id):
        return ServiceResult.objects.get(pk=result.pk).view_count


def test_a_share_token_is_long_random_and_not_the_id(tenants, result):
    shared = result_share(result=result, actor=tenants.alice_membership)
    token = shared.share_token
    assert len(token) == 32 and str(result.pk) not in token and str(result.pk.hex) not in token  # 24 bytes = 192 bits
    other = ServiceResultFactory(account=tenants.a, user=tenants.alice, service=result.service)
    assert result_share(result=other, actor=tenants.alice_membership).share_token != token


def test_the_public_page_shows_the_answer_and_nothing_private(tenants, result):
    token = result_share(result=result, actor=tenants.alice_membership).share_token
    # when someone without an account opens the link
    response = Client().get(f"/services/share/{token}/")
    # then the answer is there, and no prompt, input, template, model or account
    body = response.content.decode()
    assert response.status_code == 200
    assert "A bright week ahead." in body and "Reading weekly-reading" in body
    for private in (
        "Minji Kim",
        "1990-04-01",
        PROMPT_MARKER,
        "Account A",
        "alice@example.com",
        "test-model",
        "v1",
        str(result.pk),
    ):
        assert private not in body, private
    assert _views(tenants, result) == 1


def test_revoked_links_are_404_forever(tenants, result):
    old = result_share(result=result, actor=tenants.alice_membership).share_token
    result_unshare(result=result, actor=tenants.alice_membership)
    assert Client().get(f"/services/share/{old}/").status_code == 404
    # sharing again makes a new link; the old one stays dead
    new = result_share(result=result, actor=tenants.alice_membership).share_token
    assert new != old
    page = Client().get(f"/services/share/{old}/")
    assert page.status_code == 404 and "does not exist or was turned off" in page.content.decode()
    assert Client().get(f"/services/share/{new}/").status_code == 200


def test_an_expired_link_is_410(tenants, result):
    token = result_share(result=result, actor=tenants.alice_membership, expires_in=timedelta(days=1)).share_token
    with account_context(tenants.a.id):
        ServiceResult.objects.filter(pk=result.pk).update(share_expires_at=timezone.now() - timedelta(seconds=1))
    page = Client().get(f"/services/share/{token}/")
    assert page.status_code == 410 and "This shared link has expired." in page.content.decode()
    api = Client().get(f"/api/v1/shared-results/{token}/")
    assert (api.status_code, api.json()["error"]["code"]) == (410, "share_expired")
    assert _views(tenants, result) == 0


def test_the_view_cap_is_counted_atomically_and_enforced(tenants, result):
    token = result_share(result=result, actor=tenants.alice_membership, max_views=2).share_token
    assert [Client().get(f"/services/share/{token}/").status_code for _ in range(3)] == [200, 200, 410]
    with pytest.raises(ShareGone) as err:
        shared_result_open(token)
    assert err.value.message == "This shared link has reached its view limit. Ask its owner for a new one."
    assert _views(tenants, result) == 2


def test_a_link_never_outlives_its_result(tenants, result):
    shared = result_share(result=result, actor=tenants.alice_membership, expires_in=timedelta(days=365))
    assert shared.share_expires_at == shared.expires_at


def test_only_the_runner_or_an_admin_shares_and_only_completed_results(tenants, result):
    with pytest.raises(Forbidden):
        result_share(result=result, actor=tenants.bob_membership)  # bob is a member, not the runner
    with pytest.raises(NotFound):
        result_share(result=result, actor=tenants.carol_membership)  # another account
    pending = ServiceResultFactory(account=tenants.a, user=tenants.alice, service=result.service, status="pending")
    with pytest.raises(Conflict):
        result_share(result=pending, actor=tenants.alice_membership)


@pytest.mark.parametrize("token", ["short", "x" * 65, "../../etc", "a b c d e f g h i j k l m n o"])
def test_malformed_tokens_are_404(token):
    with pytest.raises(NotFound):
        shared_result_open(token)
