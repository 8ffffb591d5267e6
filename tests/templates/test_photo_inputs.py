"""A service that reads a photo (issue 11, seed 001 `input_files`): the upload is checked
by its bytes, stored through storages (path encrypted at rest, never shown), sent to a
vision model as an image part; refused files charge and store nothing."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from accounts.tenancy.context import account_context
from billing.models import Wallet
from templates.models import PromptTemplate, ServiceResult
from templates.services.definitions import template_definition_errors
from tests.templates.factories import service_with_template

pytestmark = pytest.mark.django_db

RUN = "/api/v1/services/photo-reading/run/"
PHOTO_PARAMETERS = [
    {"name": "photo", "type": "image", "required": True, "label": {"en": "Photo", "ko": "사진"}},
    {"name": "name", "type": "string", "required": True, "max_length": 40},
]
ANSWER = '{"summary": "A calm face.", "lucky_number": 3}'


def _png(size=(8, 6), color=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def _jpeg_with_location() -> bytes:
    image = Image.new("RGB", (10, 10), (250, 200, 0))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (37.0, 33.0, 0.0)}  # GPS info: where the photo was taken
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def vision_model(chat_model):
    chat_model.accepts_images = True
    chat_model.save()
    return chat_model


@pytest.fixture
def photo_service(vision_model):
    return service_with_template(
        "photo-reading", cost="10", parameters=PHOTO_PARAMETERS,
        system_prompt="You read faces.", user_prompt_template="Read the face of {{name}}.",
    )  # fmt: skip


def _stored(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def _wallet(t) -> tuple[Decimal, Decimal]:
    with account_context(t.a.id):
        wallet = Wallet.objects.get(account=t.a)
    return wallet.balance, wallet.reserved


def _results(t) -> list[ServiceResult]:
    with account_context(t.a.id):
        return list(ServiceResult.objects.all())


def _post(client, photo: bytes, name="face.png", params=None, content_type="image/png"):
    upload = SimpleUploadedFile(name, photo, content_type=content_type)
    body = {"params": json.dumps(params or {"name": "Minji"}), "photo": upload}
    return client.post(RUN, body, format="multipart")


def test_a_photo_upload_reaches_the_vision_model_as_an_image_part(
    funded, alice_api, photo_service, model_server, media, on_commit
):
    # given a funded account and a vision model that answers valid JSON
    model_server.reply(ANSWER)
    photo = _png()
    # when alice sends her photo with the API (multipart)
    with on_commit(execute=True):
        response = _post(alice_api, photo)
    # then the model got the prompt and the photo as one image part of the user message
    assert response.status_code == 202, response.content
    [request] = model_server.requests
    user = request["messages"][-1]
    assert user["role"] == "user"
    assert user["content"][0] == {"type": "text", "text": "Read the face of Minji."}
    assert user["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    [image] = model_server.images_received()
    assert image.media_type == "image/png"
    assert Image.open(io.BytesIO(image.data)).size == (8, 6)
    # and the run completed and was charged its price once
    [result] = _results(funded)
    assert (result.status, result.credits_charged) == ("completed", Decimal("10.0000"))
    # the photo is in storage, its path recorded on the result
    [path] = result.input_files
    assert path.startswith(f"service-inputs/{funded.a.id}/{result.id}/") and path.endswith(".png")
    assert default_storage.exists(path)
    # the API shows a member-only download URL, never the storage path
    body = alice_api.get(f"/api/v1/results/{result.pk}/").json()
    assert body["input_files"] == [f"http://testserver/api/v1/results/{result.pk}/files/input/0/"]
    assert path not in json.dumps(body)
    download = alice_api.get(body["input_files"][0])
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert download["Cache-Control"] == "private, no-store"
    assert Image.open(io.BytesIO(b"".join(download.streaming_content))).size == (8, 6)


def test_the_page_form_takes_the_photo(funded, client, photo_service, model_server, media, on_commit):
    # given alice on the service page
    client.force_login(funded.alice)
    page = client.get("/services/photo-reading/")
    assert b'enctype="multipart/form-data"' in page.content and b'type="file"' in page.content
    model_server.reply(ANSWER)
    # when she submits the form with her photo
    upload = SimpleUploadedFile("me.png", _png(), content_type="image/png")
    with on_commit(execute=True):
        response = client.post("/services/photo-reading/", {"name": "Minji", "photo": upload})
    # then the run got the photo, and the result page shows it by its member-only URL
    [result] = _results(funded)
    assert response.status_code == 302 and response["Location"] == f"/services/results/{result.pk}/"
    assert len(model_server.images_received()) == 1
    shown = client.get(f"/services/results/{result.pk}/").content.decode()
    assert f"/services/results/{result.pk}/files/input/0/" in shown
    assert result.input_files[0] not in shown
    assert client.get(f"/services/results/{result.pk}/files/input/0/").status_code == 200


def test_a_photos_metadata_is_dropped_before_it_is_stored(funded, alice_api, photo_service, model_server, media,
                                                          on_commit):  # fmt: skip
    model_server.reply(ANSWER)
    with on_commit(execute=True):
        assert _post(alice_api, _jpeg_with_location(), name="me.jpg", content_type="image/jpeg").status_code == 202
    [result] = _results(funded)
    with default_storage.open(result.input_files[0], "rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
    assert stored.format == "JPEG"
    assert dict(stored.getexif()) == {}
    assert model_server.images_received()[0].media_type == "image/jpeg"


def test_the_photo_path_is_encrypted_at_rest(funded, alice_api, photo_service, model_server, media, on_commit):
    model_server.reply(ANSWER)
    with on_commit(execute=True):
        _post(alice_api, _png())
    [result] = _results(funded)
    with account_context(funded.a.id), connection.cursor() as cursor:
        cursor.execute("SELECT input_files FROM templates_serviceresult WHERE id = %s", [result.pk])
        [stored] = cursor.fetchone()[0]
    assert stored.startswith("gAAAAA") and "service-inputs" not in stored


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (b"%PDF-1.4 not a photo at all", "face.png", "image/png"),  # the name and type lie
        (b"GIF89a" + b"\x00" * 40, "face.gif", "image/gif"),
        (_png()[:40], "cut.png", "image/png"),  # a truncated PNG
    ],
)
def test_a_non_image_file_gets_a_clear_error_and_nothing_is_charged_or_stored(
    funded, alice_api, photo_service, model_server, media, content, name, content_type
):
    # given alice's wallet before
    before = _wallet(funded)
    # when she sends a file that is not a JPEG, PNG or WebP image
    response = _post(alice_api, content, name=name, content_type=content_type)
    # then a 400 says so, on the photo field
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"]["photo"] == ["This file is not a JPEG, PNG or WebP image. Nothing was charged."]
    # and nothing was held, charged, stored or asked of the model
    assert _wallet(funded) == before
    assert _results(funded) == [] and _stored(media) == [] and model_server.requests == []


def test_an_oversized_photo_gets_a_413_and_nothing_is_charged_or_stored(
    funded, alice_api, photo_service, model_server, media, settings
):
    settings.SERVICES_MAX_IMAGE_MB = 0.001  # about 1 kB
    before = _wallet(funded)
    response = _post(alice_api, _png(size=(300, 300), color=None) + b"\x00" * 2000)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "file_too_large"
    assert "photos up to 0.001 MB can be used. Nothing was charged." in error["message"]
    assert _wallet(funded) == before
    assert _results(funded) == [] and _stored(media) == [] and model_server.requests == []


def test_a_required_photo_that_is_missing_is_a_field_error(funded, alice_api, photo_service, model_server, media):
    response = alice_api.post(RUN, {"params": {"name": "Minji"}}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"photo": ["This field is required."]}
    assert _results(funded) == [] and _stored(media) == []


def test_the_offline_model_refuses_to_read_a_photo(funded, alice_api, media, on_commit, model_server):
    # given the photo service on the offline model (the embedded default)
    service_with_template(
        "photo-reading", cost="10", parameters=PHOTO_PARAMETERS, ai_model="local-assistant",
        system_prompt="You read faces.", user_prompt_template="Read the face of {{name}}.",
    )  # fmt: skip
    before = _wallet(funded)
    # when alice sends her photo
    with on_commit(execute=True):
        response = _post(alice_api, _png())
    # then the offline model says plainly that it cannot see it: no reading is made up
    assert response.status_code == 202
    [result] = _results(funded)
    assert result.status == "completed"
    assert result.result_data["summary"].startswith("This is the offline model. It cannot see images")
    # and, as every offline run of a paid service, it is free and labelled as the demo model
    assert result.credits_charged == Decimal("0") and _wallet(funded) == before
    body = alice_api.get(f"/api/v1/results/{result.pk}/").json()
    assert (body["demo"], body["demo_label"]) == (True, "demo model, not a real reading")
    assert model_server.requests == []


def test_a_foreign_accounts_result_files_answer_404(funded, alice_api, photo_service, model_server, media, on_commit,
                                                    api_client, client):  # fmt: skip
    # given alice's result with her photo
    model_server.reply(ANSWER)
    with on_commit(execute=True):
        _post(alice_api, _png())
    [result] = _results(funded)
    # when carol (another account) asks for it by the API and by the page
    other = type(api_client)()
    other.force_login(funded.carol)
    client.force_login(funded.carol)
    # then both answer 404, as for any foreign object
    assert other.get(f"/api/v1/results/{result.pk}/files/input/0/").status_code == 404
    assert client.get(f"/services/results/{result.pk}/files/input/0/").status_code == 404
    # and bob, a member of alice's account, gets it
    bob = type(api_client)()
    bob.force_login(funded.bob)
    assert bob.get(f"/api/v1/results/{result.pk}/files/input/0/").status_code == 200
    assert bob.get(f"/api/v1/results/{result.pk}/files/input/1/").status_code == 404


def test_a_photo_parameter_needs_a_vision_model(chat_model):
    template = PromptTemplate(service_type="x", version="v1", ai_model="test-model", parameters=PHOTO_PARAMETERS,
                              user_prompt_template="Read {{name}}.", output_format="text", max_tokens=400)  # fmt: skip
    assert template_definition_errors(template) == {
        "ai_model": ["test-model does not read images; a photo parameter needs a vision model."]
    }
    template.user_prompt_template = "Read {{photo}}."
    template.ai_model = "local-assistant"
    assert template_definition_errors(template) == {
        "user_prompt_template": ["{{photo}}: a photo is sent to the model beside the prompt, not written into it."]
    }


def test_face_reading_takes_a_photo_from_v2(alice_api):
    # the seeded service's active version has an optional photo parameter
    active = PromptTemplate.objects.get(service_type="face-reading", is_active=True)
    assert active.version == "v2"
    assert active.parameters[0]["name"] == "photo" and active.parameters[0]["type"] == "image"
    assert not active.parameters[0].get("required")
    body = alice_api.get("/api/v1/services/face-reading/").json()
    assert body["parameters"][0]["type"] == "image"
