"""Operator diagnostics: ask a registry model one tiny question, enabled or not.

This is a platform check, not an account's call: it goes straight to the
provider, so it writes no usage record and charges nobody (it is logged)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from .errors import ProviderError
from .models import AiModel
from .providers import provider_for
from .providers.base import ChatRequest, EmbedRequest
from .registry import ModelEntry
from .types import ChatMessage

log = logging.getLogger("aiplatform.ai")
PROBE_TIMEOUT = 20.0


@dataclass(frozen=True)
class Probe:
    ok: bool
    summary: str
    latency_ms: int


def model_probe(model: AiModel) -> Probe:
    entry = ModelEntry.of(model)
    provider = provider_for(entry.provider)
    started = time.perf_counter()
    try:
        if entry.kind == AiModel.Kind.EMBEDDING:
            result = provider.embed(EmbedRequest(model=entry.provider_model, texts=("ping",), timeout=PROBE_TIMEOUT))
            detail = f"a vector of {len(result.vectors[0])} dimensions"
        else:
            messages = (ChatMessage("user", "Reply with the single word: pong"),)
            request = ChatRequest(model=entry.provider_model, messages=messages, max_tokens=16, timeout=PROBE_TIMEOUT)
            answer = provider.complete(request)
            detail = f"“{answer.text.strip()[:120]}”"
    except ProviderError as exc:
        latency = int((time.perf_counter() - started) * 1000)
        log.info("ai: probe of %s failed: %s", entry.name, exc)
        return Probe(False, f"{entry.name} failed after {latency} ms: {exc.message}", latency)
    latency = int((time.perf_counter() - started) * 1000)
    log.info("ai: probe of %s answered in %d ms", entry.name, latency)
    return Probe(True, f"{entry.name} answered in {latency} ms: {detail}", latency)
