"""One module per provider behind one interface (base.Provider)."""

from __future__ import annotations

from .anthropic import Anthropic
from .base import Provider
from .local import Local
from .openai_compat import OpenAICompatible

_PROVIDERS: dict[str, Provider] = {p.name: p for p in (OpenAICompatible(), Anthropic(), Local())}


def provider_for(name: str) -> Provider:
    return _PROVIDERS[name]
