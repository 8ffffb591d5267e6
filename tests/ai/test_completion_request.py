"""The gateway's frozen request object (issue 18): one CompletionRequest for
complete, stream and astream, and the keyword form every existing caller uses
still works (it builds the same object)."""

from __future__ import annotations

import dataclasses

import pytest

from aiplatform.ai import gateway
from aiplatform.ai.gateway import CompletionRequest
from aiplatform.ai.types import ChatMessage
from tests.ai.conftest import usage_rows

pytestmark = pytest.mark.django_db

QUESTION = [ChatMessage("user", "What is two plus two?")]


def _request(payer, **changes) -> CompletionRequest:
    return CompletionRequest(account=payer.account, user=payer.user, model="test-model", messages=QUESTION,
                             feature="chat", max_tokens=20, **changes)  # fmt: skip


def test_complete_takes_the_request_object(payer, chat_model, model_server):
    model_server.reply("Four.")
    done = gateway.complete(_request(payer, temperature=0.3))
    assert done.text == "Four."
    sent = model_server.requests[0]
    assert (sent["temperature"], sent["max_tokens"]) == (0.3, 20)
    [record] = usage_rows(payer.account)
    assert record.feature == "chat"


def test_stream_takes_the_request_object(payer, chat_model, model_server):
    model_server.reply("Four, obviously.")
    with gateway.stream(_request(payer)) as stream:
        text = "".join(stream)
    assert text == "Four, obviously."
    assert model_server.requests[0]["stream"] is True


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_astream_takes_the_request_object(payer, chat_model, model_server):
    model_server.reply("Four.")
    stream = gateway.astream(_request(payer))
    assert "".join([piece async for piece in stream]) == "Four."


def test_the_keyword_form_builds_the_same_request(payer, chat_model, model_server):
    model_server.reply("Four.")
    model_server.reply("Four.")
    by_keywords = gateway.complete(account=payer.account, user=payer.user, model="test-model", messages=QUESTION,
                                   feature="chat", max_tokens=20)  # fmt: skip
    by_object = gateway.complete(_request(payer))
    assert by_keywords.text == by_object.text
    assert model_server.requests[0] == model_server.requests[1]


def test_the_request_is_frozen_and_replace_gives_a_changed_copy(payer):
    request = _request(payer)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.model = "other"  # type: ignore[misc]
    other = request.replace(model="other-model")
    assert (request.model, other.model, other.messages) == ("test-model", "other-model", request.messages)


def test_messages_from_an_iterator_are_read_once_into_a_tuple(payer):
    request = CompletionRequest(account=payer.account, model="m", messages=iter(QUESTION), feature="chat")
    assert request.messages == tuple(QUESTION)


def test_unknown_keywords_and_mixed_forms_are_type_errors(payer):
    with pytest.raises(TypeError):
        gateway.complete(account=payer.account, model="test-model", messages=QUESTION, feature="chat", colour="red")
    with pytest.raises(TypeError, match="not both"):
        gateway.complete(_request(payer), model="other")
