"""An image service (issue 11, seed 001 `result_files`): `output_format: image` sends the
rendered prompt to the images API, stores each PNG through storages and shows it by a
member-only URL."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from accounts.tenancy.context import account_context
from templates.models import ServiceResult
from tests.templates.factories import service_with_template

pytestmark = pytest.mark.django_db

IMAGE_TEMPLATE = {
    "output_format": "image", "validation_schema": None, "system_prompt": "",
    "user_prompt_template": "A portrait of {{name}}, born {{birth_date}}, in a {{mood}} mood.",
}  # fmt: skip


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def _result(t) -> ServiceResult:
    with account_context(t.a.id):
        return ServiceResult.objects.get()


def test_an_image_service_stores_its_png_and_shows_it(funded, alice_api, client, chat_model, model_server, media,
                                                      on_commit):  # fmt: skip
    # given an image service on the loopback model
    service_with_template("portrait", cost="10", **IMAGE_TEMPLATE)
    # when alice runs it
    with on_commit(execute=True):
        response = alice_api.post(
            "/api/v1/services/portrait/run/", {"params": {"name": "Minji", "birth_date": "1990-04-01"}}, format="json"
        )
    assert response.status_code == 202
    # then the images API got the rendered prompt
    [received] = model_server.received
    assert received.path == "/v1/images/generations"
    assert received.body["prompt"] == "A portrait of Minji, born 1990-04-01, in a calm mood."
    assert received.body["response_format"] == "b64_json"
    # and the PNG is stored, recorded and charged once
    result = _result(funded)
    assert (result.status, result.credits_charged) == ("completed", Decimal("10.0000"))
    [path] = result.result_files
    assert path.startswith(f"service-results/{funded.a.id}/{result.pk}/") and path.endswith(".png")
    with default_storage.open(path, "rb") as handle:
        assert Image.open(io.BytesIO(handle.read())).size == (16, 16)
    # shown by member-only URLs in the API and on the page
    body = alice_api.get(f"/api/v1/results/{result.pk}/").json()
    assert body["result_files"] == [f"http://testserver/api/v1/results/{result.pk}/files/result/0/"]
    assert alice_api.get(body["result_files"][0])["Content-Type"] == "image/png"
    client.force_login(funded.alice)
    page = client.get(f"/services/results/{result.pk}/").content.decode()
    assert f'src="/services/results/{result.pk}/files/result/0/"' in page
    # another account gets 404
    other = type(alice_api)()
    other.force_login(funded.carol)
    assert other.get(f"/api/v1/results/{result.pk}/files/result/0/").status_code == 404


def test_the_offline_image_model_draws_a_png_that_says_so(funded, alice_api, media, on_commit):
    service_with_template("portrait", cost="10", ai_model="local-assistant", **IMAGE_TEMPLATE)
    with on_commit(execute=True):
        alice_api.post("/api/v1/services/portrait/run/", {"params": {"name": "Minji", "birth_date": "1990-04-01"}},
                       format="json")  # fmt: skip
    result = _result(funded)
    assert result.status == "completed" and result.credits_charged == Decimal("0")
    assert result.result_text.startswith("Made by the offline model")
    [path] = result.result_files
    with default_storage.open(path, "rb") as handle:
        assert Image.open(io.BytesIO(handle.read())).format == "PNG"
