"""Anthropic's Messages API (AI_ANTHROPIC_BASE_URL, AI_ANTHROPIC_API_KEY)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from ..errors import ProviderError, ProviderMisconfigured
from .base import ChatRequest, ChatResult, EmbedRequest, EmbedResult, Provider
from .sse import Event
from .transport import Endpoint, astream_events, post_json, stream_events

API_VERSION = "2023-06-01"
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "stop", "refusal": "stop"}


@lru_cache(maxsize=8)
def _endpoint(base_url: str, key: str) -> Endpoint:
    if not key:
        raise ProviderMisconfigured(
            _(
                "No API key for Anthropic at %(host)s: set AI_ANTHROPIC_API_KEY "
                "(or disable the Anthropic models in the model registry)."
            )
            % {"host": urlsplit(base_url).netloc}
        )
    headers = {"x-api-key": key, "anthropic-version": API_VERSION}
    return Endpoint("Anthropic API", base_url, headers, "AI_ANTHROPIC_BASE_URL", "AI_ANTHROPIC_API_KEY")


def messages_body(request: ChatRequest, *, stream: bool) -> dict:
    """Anthropic takes the system prompt apart, and strictly alternating user and
    assistant turns that start with the user: consecutive turns of one role merge."""
    system = [m.content for m in request.messages if m.role == "system"]
    if request.json_output or request.json_schema is not None:
        # No JSON mode here: ask for it, and let the caller validate.
        rule = "Answer with one JSON object and nothing else."
        if request.json_schema is not None:
            rule += " It must validate against this JSON Schema: " + json.dumps(request.json_schema)
        system.append(rule)
    turns: list[dict] = []
    images: list[list] = []  # per turn: its image blocks, put before its text (Anthropic's advice)
    for message in request.messages:
        if message.role == "system":
            continue
        blocks = [
            {"type": "image", "source": {"type": "base64", "media_type": i.media_type, "data": i.base64()}}
            for i in message.images
        ]  # fmt: skip
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"] += "\n\n" + message.content
            images[-1] += blocks
        else:
            turns.append({"role": message.role, "content": message.content})
            images.append(blocks)
    for turn, blocks in zip(turns, images, strict=True):
        if blocks:
            turn["content"] = [*blocks, *([{"type": "text", "text": turn["content"]}] if turn["content"] else [])]
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": "(start)"})
    body: dict = {"model": request.model, "messages": turns, "max_tokens": request.max_tokens or request.output_limit}
    if system:
        body["system"] = "\n\n".join(system)
    if request.temperature is not None:
        body["temperature"] = min(request.temperature, 1.0)  # Anthropic's range is 0..1
    if stream:
        body["stream"] = True
    return body


class Anthropic(Provider):
    name = "anthropic"
    label = "Anthropic API"

    def endpoint(self) -> Endpoint:
        return _endpoint(settings.AI_ANTHROPIC_BASE_URL, settings.AI_ANTHROPIC_API_KEY)

    def complete(self, request: ChatRequest) -> ChatResult:
        answer = post_json(self.endpoint(), "/messages", messages_body(request, stream=False), request.timeout)
        try:
            text = "".join(block.get("text", "") for block in answer["content"] if block.get("type") == "text")
        except (KeyError, TypeError, AttributeError):
            raise ProviderError(
                _("Anthropic sent an answer without content: %(answer)s") % {"answer": str(answer)[:200]}
            )
        usage = answer.get("usage") or {}
        return ChatResult(
            text=text, tokens_in=usage.get("input_tokens"), tokens_out=usage.get("output_tokens"),
            finish_reason=_FINISH.get(answer.get("stop_reason") or "end_turn", "stop"),
        )  # fmt: skip

    def stream(self, request: ChatRequest, result: ChatResult) -> Iterator[str]:
        events = stream_events(self.endpoint(), "/messages", messages_body(request, stream=True), request.timeout)
        done = False
        try:
            for event in events:
                # After message_stop, read on to the end of the body so the connection
                # goes back to the pool (a response closed early cannot).
                piece = None if done else _on_event(event, result)
                if piece is None:
                    done = True
                elif piece:
                    yield piece
        finally:
            events.close()

    async def astream(self, request: ChatRequest, result: ChatResult) -> AsyncIterator[str]:
        events = astream_events(self.endpoint(), "/messages", messages_body(request, stream=True), request.timeout)
        done = False
        try:
            async for event in events:
                piece = None if done else _on_event(event, result)  # read to the end: see stream()
                if piece is None:
                    done = True
                elif piece:
                    yield piece
        finally:
            await events.aclose()

    def embed(self, request: EmbedRequest) -> EmbedResult:
        raise ProviderMisconfigured(
            _(
                "Anthropic has no embeddings API. Use an embedding model of an OpenAI-compatible provider "
                "(AI_OPENAI_BASE_URL, AI_DEFAULT_EMBEDDING_MODEL)."
            )
        )


def _on_event(event: Event, result: ChatResult) -> str | None:
    """The text an event adds ("" for none), or None when the message is complete."""
    if event.name == "ping":
        return ""
    try:
        data = json.loads(event.data)
    except ValueError:
        raise ProviderError(_("Anthropic streamed something that is not JSON: %(data)s") % {"data": event.data[:200]})
    kind = data.get("type", event.name)
    if kind == "content_block_delta":
        delta = data.get("delta") or {}
        return delta.get("text", "") if delta.get("type") == "text_delta" else ""
    if kind == "message_start":
        usage = (data.get("message") or {}).get("usage") or {}
        result.tokens_in = usage.get("input_tokens", result.tokens_in)
    elif kind == "message_delta":
        usage = data.get("usage") or {}
        result.tokens_out = usage.get("output_tokens", result.tokens_out)
        stop = (data.get("delta") or {}).get("stop_reason")
        if stop:
            result.finish_reason = _FINISH.get(stop, "stop")
    elif kind == "message_stop":
        return None
    elif kind == "error":
        error = data.get("error") or {}
        said = f"{error.get('type', 'error')}: {error.get('message', '')}"
        raise ProviderError(_("Anthropic stopped with an error (%(said)s).") % {"said": said})
    return ""
