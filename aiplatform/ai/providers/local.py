"""The embedded default: an offline model that needs no network and no keys.

Deterministic and honest (see offline_answer): it says it is the offline model
and answers only from the context it was given. JSON requests get a value that
validates against the requested schema, built around that answer. It reports
no token counts, so the gateway applies its documented estimate and marks the
usage as estimated. Streaming yields one word at a time, AI_LOCAL_TOKEN_DELAY
seconds apart (0 by default: no artificial slowness). Embeddings are real:
all-MiniLM-L6-v2 (aiplatform/ai/minilm.py), with the tokens it read.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Iterator

from django.conf import settings
from django.utils.translation import gettext as _

from ..errors import ProviderMisconfigured
from .base import ChatRequest, ChatResult, EmbedRequest, EmbedResult, Provider
from .json_instance import instance_for
from .offline_answer import offline_answer, offline_image_refusal

_PIECE = re.compile(r"\S+\s*|\s+")


def answer_text(request: ChatRequest) -> str:
    text = offline_answer(request.messages)
    if any(m.images for m in request.messages):
        # No vision here: say so, and read nothing into the picture (no invented reading).
        text = offline_image_refusal(request.messages)
    if request.json_schema is not None:
        return json.dumps(instance_for(request.json_schema, text), ensure_ascii=False)
    if request.json_output:
        return json.dumps({"answer": text, "model": "offline"}, ensure_ascii=False)
    return text


def _pieces(request: ChatRequest, result: ChatResult) -> list[str]:
    """The answer word by word, cut at max_tokens (never a JSON answer: a cut one is invalid)."""
    pieces = _PIECE.findall(answer_text(request))
    limit = request.max_tokens
    if limit is not None and len(pieces) > limit and not (request.json_output or request.json_schema is not None):
        pieces, result.finish_reason = pieces[:limit], "length"
    return pieces


class Local(Provider):
    name = "local"
    label = "local offline model"

    def complete(self, request: ChatRequest) -> ChatResult:
        result = ChatResult()
        result.text = "".join(_pieces(request, result))
        return result

    def stream(self, request: ChatRequest, result: ChatResult) -> Iterator[str]:
        delay = settings.AI_LOCAL_TOKEN_DELAY
        for i, piece in enumerate(_pieces(request, result)):
            if delay and i:
                time.sleep(delay)
            yield piece

    async def astream(self, request: ChatRequest, result: ChatResult) -> AsyncIterator[str]:
        delay = settings.AI_LOCAL_TOKEN_DELAY
        for i, piece in enumerate(_pieces(request, result)):
            if delay and i:
                await asyncio.sleep(delay)
            yield piece

    def embed(self, request: EmbedRequest) -> EmbedResult:
        # all-MiniLM-L6-v2 runs in this process (aiplatform/ai/minilm.py: loaded once, offline).
        from aiplatform.ai.minilm import MODEL_NAME, encode

        if request.model != MODEL_NAME:
            raise ProviderMisconfigured(
                _(
                    "The local offline provider has only the embedding model '%(local)s', not '%(model)s'. "
                    "Set the registry entry's provider model to %(local)s, or enable an embedding model of an "
                    "OpenAI-compatible provider (with AI_OPENAI_BASE_URL and AI_OPENAI_API_KEY set) and name it in "
                    "AI_DEFAULT_EMBEDDING_MODEL."
                )
                % {"local": MODEL_NAME, "model": request.model}
            )
        encoded = encode(request.texts)
        return EmbedResult(vectors=encoded.vectors, tokens=encoded.tokens)
