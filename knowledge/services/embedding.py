"""Embeddings through the AI gateway (one metered, billed call per batch)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from accounts.models import Account
from aiplatform.ai import gateway
from aiplatform.ai.models import AiModel
from aiplatform.ai.registry import ModelEntry, model_entry
from aiplatform.errors import InvalidInput
from knowledge.models import EMBEDDING_DIMENSIONS

INGEST_FEATURE = "knowledge_ingest"
SEARCH_FEATURE = "knowledge_search"


def embedding_model_check(name: str) -> ModelEntry:
    """The registry entry of an embedding model a unit may use: enabled, and of the
    vector column's size. ModelUnavailable (400) or InvalidInput (400) otherwise."""
    entry = model_entry(name, kind=AiModel.Kind.EMBEDDING)
    if entry.dimensions != EMBEDDING_DIMENSIONS:
        raise InvalidInput(
            gettext(
                "The model '%(name)s' makes %(dimensions)s-dimensional vectors; knowledge stores "
                "%(expected)s-dimensional ones. Choose a %(expected)s-dimensional model."
            )
            % {"name": name, "dimensions": entry.dimensions or gettext("unknown"), "expected": EMBEDDING_DIMENSIONS},
            fields={"embedding_model": [f"Needs {EMBEDDING_DIMENSIONS} dimensions."]},
        )
    return entry


def embed_texts(*, account: Account, model: str, texts: list[str], feature: str, user: Any = None) -> list[list[float]]:
    """Vectors of `texts` in order; the account pays the registry's price."""
    return gateway.embed(account=account, model=model, texts=texts, feature=feature, user=user, charge=True).vectors
