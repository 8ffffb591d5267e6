"""Lookups in the model registry (AiModel). Other apps validate model names here."""

from __future__ import annotations

from .errors import ModelUnavailable
from .models import AiModel


def model_get(name: str, *, kind: str = AiModel.Kind.CHAT) -> AiModel:
    """The enabled registry entry called `name`, or ModelUnavailable (400)."""
    model = AiModel.objects.filter(name=name, kind=kind, enabled=True).first()
    if model is None:
        raise ModelUnavailable(
            f"The model '{name}' is not available. Choose one of: {', '.join(model_names(kind=kind)) or 'none'}.",
            fields={"model": ["Unknown or disabled model."]},
        )
    return model


def model_names(*, kind: str = AiModel.Kind.CHAT) -> list[str]:
    return list(AiModel.objects.filter(kind=kind, enabled=True).values_list("name", flat=True))
