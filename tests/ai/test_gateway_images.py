"""Images in chat requests (issue 11): OpenAI-style content parts through the gateway to
each provider; text-only requests keep their string content."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from aiplatform.ai import gateway
from aiplatform.ai.models import AiModel
from aiplatform.ai.types import ChatMessage, ImagePart
from aiplatform.errors import InvalidInput
from tests.ai.factories import AiModelFactory
from tests.support.model_server import ReceivedImage

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 10, 10)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def vision(db, settings, model_server):
    settings.AI_OPENAI_BASE_URL = model_server.base_url
    settings.AI_OPENAI_API_KEY = "test-key"
    return AiModelFactory(name="vision-test", provider=AiModel.Provider.OPENAI, provider_model="loop-vision",
                          accepts_images=True)  # fmt: skip


def test_an_image_part_reaches_an_openai_compatible_server_as_a_data_url(payer, vision, model_server):
    # given a user message with a PNG, written as OpenAI content parts
    png = _png()
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    message = {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                           {"type": "image_url", "image_url": {"url": url}}]}  # fmt: skip
    model_server.reply("A red square.")
    # when
    done = gateway.complete(account=payer.account, model="vision-test", messages=[message], feature="chat")
    # then the server got the text and the image part, byte for byte
    assert done.text == "A red square."
    assert model_server.requests[0]["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": url}}]},
    ]  # fmt: skip
    assert model_server.images_received() == [ReceivedImage("image_url", "image/png", png)]


def test_text_only_messages_are_sent_as_strings_as_before(payer, vision, model_server):
    gateway.complete(account=payer.account, model="vision-test", messages=[ChatMessage("user", "Hi")], feature="chat")
    assert model_server.requests[0]["messages"] == [{"role": "user", "content": "Hi"}]
    assert model_server.images_received() == []


def test_anthropic_gets_a_base64_image_block_before_the_text(payer, settings, model_server):
    settings.AI_ANTHROPIC_BASE_URL = model_server.base_url
    settings.AI_ANTHROPIC_API_KEY = "anthropic-test-key"
    AiModelFactory(name="claude-vision", provider=AiModel.Provider.ANTHROPIC, provider_model="claude-loop",
                   max_output_tokens=512, accepts_images=True)  # fmt: skip
    png = _png()
    message = ChatMessage("user", "Read this face.", images=(ImagePart("image/png", png),))
    gateway.complete(account=payer.account, model="claude-vision", messages=[message], feature="chat")
    assert model_server.requests[0]["messages"] == [
        {"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": base64.b64encode(png).decode()}},
            {"type": "text", "text": "Read this face."},
        ]},
    ]  # fmt: skip
    assert model_server.images_received() == [ReceivedImage("image", "image/png", png)]


def test_a_model_without_vision_refuses_images_before_calling_the_provider(payer, vision, model_server):
    AiModelFactory(name="text-only", provider=AiModel.Provider.OPENAI, provider_model="loop-text")
    message = ChatMessage("user", "Look", images=(ImagePart("image/png", _png()),))
    with pytest.raises(InvalidInput) as caught:
        gateway.complete(account=payer.account, model="text-only", messages=[message], feature="chat")
    assert caught.value.code == "images_unsupported"
    assert model_server.requests == []


def test_an_image_url_that_is_not_inline_data_is_refused(payer, vision, model_server):
    message = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}
    with pytest.raises(InvalidInput):
        gateway.complete(account=payer.account, model="vision-test", messages=[message], feature="chat")
    assert model_server.requests == []


def test_the_offline_model_says_it_cannot_see_images(payer):
    message = ChatMessage("user", "Read my face, please.", images=(ImagePart("image/png", _png()),))
    done = gateway.complete(account=payer.account, model="local-assistant", messages=[message], feature="chat")
    assert done.text.startswith("This is the offline model. It cannot see images")
    assert "did not read or interpret the photo" in done.text
