"""Lookups in the model registry (AiModel). Other apps validate model names here.

The gateway reads entries through `model_entry`, an in-process cache of
immutable snapshots: the hot path of a call does not query the database for
its model. Saving or deleting an AiModel clears this process's cache at once;
other processes see the change within AI_REGISTRY_CACHE_SECONDS (5 s).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import ModelUnavailable
from .models import AiModel


def model_get(name: str, *, kind: str = AiModel.Kind.CHAT) -> AiModel:
    """The enabled registry entry called `name`, or ModelUnavailable (400)."""
    model = AiModel.objects.filter(name=name, kind=kind, enabled=True).first()
    if model is None:
        raise _unavailable(name, kind)
    return model


def model_names(*, kind: str = AiModel.Kind.CHAT) -> list[str]:
    return list(AiModel.objects.filter(kind=kind, enabled=True).values_list("name", flat=True))


def default_model(*, kind: str = AiModel.Kind.CHAT) -> str:
    """The registry name to use when nothing else is chosen (AI_DEFAULT_CHAT_MODEL /
    AI_DEFAULT_EMBEDDING_MODEL)."""
    return settings.AI_DEFAULT_EMBEDDING_MODEL if kind == AiModel.Kind.EMBEDDING else settings.AI_DEFAULT_CHAT_MODEL


def _unavailable(name: str, kind: str) -> ModelUnavailable:
    return ModelUnavailable(
        _("The model '%(model)s' is not available. Choose one of: %(models)s.")
        % {"model": name, "models": ", ".join(model_names(kind=kind)) or _("none")},
        fields={"model": [_("Unknown or disabled model.")]},
    )


@dataclass(frozen=True)
class ModelEntry:
    """What the gateway needs of a registry row, frozen so threads can share it."""

    name: str
    provider: str
    provider_model: str
    kind: str
    context_window: int
    max_output_tokens: int
    dimensions: int | None
    accepts_images: bool
    price_in_per_mtok: Decimal
    price_out_per_mtok: Decimal
    credits_in_per_1k: Decimal
    credits_out_per_1k: Decimal

    @classmethod
    def of(cls, model: AiModel) -> ModelEntry:
        return cls(**{f: getattr(model, f) for f in cls.__dataclass_fields__})


_cache: dict[tuple[str, str], tuple[float, ModelEntry]] = {}
_cache_lock = threading.Lock()


def model_entry(name: str, *, kind: str = AiModel.Kind.CHAT) -> ModelEntry:
    """`model_get` as a cached snapshot; ModelUnavailable (400) when unknown or disabled."""
    key = (name, kind)
    hit = _cache.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    entry = ModelEntry.of(model_get(name, kind=kind))
    with _cache_lock:
        _cache[key] = (now + settings.AI_REGISTRY_CACHE_SECONDS, entry)
    return entry


def cache_clear(**_: object) -> None:
    """Forget every cached entry (connected to AiModel's post_save and post_delete)."""
    with _cache_lock:
        _cache.clear()
