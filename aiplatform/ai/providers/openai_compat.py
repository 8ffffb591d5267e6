"""Any server that speaks OpenAI's chat completions and embeddings API: OpenAI,
Ollama, vLLM, LM Studio, llama.cpp's server… (AI_OPENAI_BASE_URL, AI_OPENAI_API_KEY)."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from ..errors import ProviderError, ProviderMisconfigured
from ..types import ChatMessage
from .base import ChatRequest, ChatResult, EmbedRequest, EmbedResult, Provider
from .sse import Event
from .transport import Endpoint, astream_events, post_json, stream_events

_FINISH = {"stop": "stop", "length": "length", "content_filter": "stop", "tool_calls": "stop"}


def needs_key(base_url: str) -> bool:
    """Hosted services need a key; a server on this machine or the private network
    (Ollama on localhost, vLLM as a compose service) usually does not."""
    host = (urlsplit(base_url).hostname or "").lower()
    if not host or host == "localhost" or "." not in host or host.endswith((".local", ".internal", ".localhost")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return not (address.is_loopback or address.is_private or address.is_link_local)


@lru_cache(maxsize=8)
def _endpoint(base_url: str, key: str) -> Endpoint:
    if not key and needs_key(base_url):
        raise ProviderMisconfigured(
            _(
                "No API key for the OpenAI-compatible provider at %(host)s: set AI_OPENAI_API_KEY "
                "(or point AI_OPENAI_BASE_URL at a local server such as Ollama)."
            )
            % {"host": urlsplit(base_url).netloc}
        )
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Endpoint("OpenAI-compatible provider", base_url, headers, "AI_OPENAI_BASE_URL", "AI_OPENAI_API_KEY")


def _schema_name(schema: dict) -> str:
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", str(schema.get("title") or "answer"))[:64]
    return name or "answer"


def message_content(message: ChatMessage) -> str | list[dict]:
    """Text as a string (as before); a message with images as content parts, text first."""
    if not message.images:
        return message.content
    parts: list[dict] = [{"type": "text", "text": message.content}] if message.content else []
    parts += [{"type": "image_url", "image_url": {"url": image.data_url()}} for image in message.images]
    return parts


def chat_body(request: ChatRequest, *, stream: bool) -> dict:
    messages = [{"role": m.role, "content": message_content(m)} for m in request.messages]
    body: dict = {"model": request.model, "messages": messages}
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.json_schema is not None:
        # strict mode would demand additionalProperties: false everywhere; callers validate instead.
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": _schema_name(request.json_schema), "schema": request.json_schema, "strict": False},
        }
    elif request.json_output:
        body["response_format"] = {"type": "json_object"}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}  # the last chunk then carries the usage
    return body


class OpenAICompatible(Provider):
    name = "openai"
    label = "OpenAI-compatible provider"

    def endpoint(self) -> Endpoint:
        return _endpoint(settings.AI_OPENAI_BASE_URL, settings.AI_OPENAI_API_KEY)

    def complete(self, request: ChatRequest) -> ChatResult:
        answer = post_json(self.endpoint(), "/chat/completions", chat_body(request, stream=False), request.timeout)
        return self._parse(answer)

    def stream(self, request: ChatRequest, result: ChatResult) -> Iterator[str]:
        events = stream_events(self.endpoint(), "/chat/completions", chat_body(request, stream=True), request.timeout)
        done = False
        try:
            for event in events:
                # Read on to the end of the body after [DONE] (servers end it right there):
                # a response closed before its end cannot go back to the connection pool.
                if done or event.data == "[DONE]":
                    done = True
                    continue
                piece = self._chunk(event, result)
                if piece:
                    yield piece
        finally:
            events.close()

    async def astream(self, request: ChatRequest, result: ChatResult) -> AsyncIterator[str]:
        body = chat_body(request, stream=True)
        events = astream_events(self.endpoint(), "/chat/completions", body, request.timeout)
        done = False
        try:
            async for event in events:
                if done or event.data == "[DONE]":  # read to the end: see stream()
                    done = True
                    continue
                piece = self._chunk(event, result)
                if piece:
                    yield piece
        finally:
            await events.aclose()

    def embed(self, request: EmbedRequest) -> EmbedResult:
        body: dict = {"model": request.model, "input": list(request.texts)}
        if request.dimensions:
            body["dimensions"] = request.dimensions
        answer = post_json(self.endpoint(), "/embeddings", body, request.timeout)
        try:
            rows = sorted(answer["data"], key=lambda row: row.get("index", 0))
            vectors = [list(map(float, row["embedding"])) for row in rows]
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(
                _("The OpenAI-compatible provider sent an unreadable embeddings answer (%(error)s).")
                % {"error": repr(exc)}
            )
        if len(vectors) != len(request.texts):
            raise ProviderError(
                _("Asked for %(asked)s embeddings, the provider sent %(sent)s.")
                % {"asked": len(request.texts), "sent": len(vectors)}
            )
        usage = answer.get("usage") or {}
        return EmbedResult(vectors, usage.get("prompt_tokens"))

    # --- parsing ------------------------------------------------------------------------

    def _parse(self, answer: dict) -> ChatResult:
        try:
            choice = answer["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError(
                _("The OpenAI-compatible provider sent an answer without a message: %(answer)s")
                % {"answer": str(answer)[:200]}
            )
        result = ChatResult(text=text, finish_reason=_FINISH.get(choice.get("finish_reason") or "stop", "stop"))
        _usage(answer, result)
        return result

    def _chunk(self, event: Event, result: ChatResult) -> str:
        try:
            chunk = json.loads(event.data)
        except ValueError:
            raise ProviderError(
                _("The OpenAI-compatible provider streamed something not JSON: %(data)s") % {"data": event.data[:200]}
            )
        if "error" in chunk:
            error = chunk["error"]
            said = error.get("message", error) if isinstance(error, dict) else error
            raise ProviderError(_("The OpenAI-compatible provider stopped with an error: %(said)s") % {"said": said})
        _usage(chunk, result)
        piece = ""
        for choice in chunk.get("choices") or ():
            piece += (choice.get("delta") or {}).get("content") or ""
            if choice.get("finish_reason"):
                result.finish_reason = _FINISH.get(choice["finish_reason"], "stop")
        return piece


def _usage(payload: dict, result: ChatResult) -> None:
    usage = payload.get("usage")
    if usage:
        result.tokens_in = usage.get("prompt_tokens")
        result.tokens_out = usage.get("completion_tokens")
