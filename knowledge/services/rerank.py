"""Optional reranking of fused passages by a hosted chat model, through the AI gateway.

The model rates every passage against the question (JSON, checked against a
schema); passages are re-ordered by that rating. The offline local model is
refused: it cannot judge relevance, and a made-up order would be worse than none.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext

from accounts.models import Account
from aiplatform.ai import gateway
from aiplatform.ai.errors import ProviderError
from aiplatform.ai.models import AiModel
from aiplatform.ai.registry import ModelEntry, model_entry
from aiplatform.errors import InvalidInput

from .retrieval import Passage, with_rerank_scores

RERANK_FEATURE = "knowledge_rerank"
MAX_PASSAGE_CHARS = 1500
SCHEMA = {
    "type": "object",
    "properties": {"scores": {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 10}}},
    "required": ["scores"],
    "additionalProperties": False,
}
INSTRUCTIONS = (
    "You judge search results. For each numbered passage, rate from 0 (unrelated) to 10 (answers the question "
    'fully) how well it answers the question. Reply with JSON {"scores": [...]}: one number per passage, '
    "in the order given."
)


def rerank_model_check(name: str) -> ModelEntry:
    if not name:
        raise InvalidInput(gettext("Reranking is not configured: set KNOWLEDGE_RERANK_MODEL to a hosted chat model."))
    entry = model_entry(name, kind=AiModel.Kind.CHAT)
    if entry.provider == AiModel.Provider.LOCAL:
        raise InvalidInput(
            gettext("'%(name)s' is the offline model, which cannot judge relevance; rerank with a hosted model.")
            % {"name": name}
        )
    return entry


def rerank_passages(*, account: Account, user: Any, query: str, passages: list[Passage]) -> list[Passage]:
    from django.conf import settings

    model = rerank_model_check(settings.KNOWLEDGE_RERANK_MODEL).name
    numbered = "\n\n".join(f"[{i}] {p.text[:MAX_PASSAGE_CHARS]}" for i, p in enumerate(passages, start=1))
    completion = gateway.complete(
        account=account, user=user, model=model, feature=RERANK_FEATURE, json_schema=SCHEMA, temperature=0,
        charge=True,
        messages=[{"role": "system", "content": INSTRUCTIONS},
                  {"role": "user", "content": f"Question: {query}\n\nPassages:\n\n{numbered}"}],
    )  # fmt: skip
    try:
        scores = json.loads(completion.text)["scores"]
        valid = len(scores) == len(passages) and all(isinstance(s, int | float) for s in scores)
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise ProviderError(
            gettext("The reranking model '%(model)s' did not rate the %(count)s passages; try again.")
            % {"model": model, "count": len(passages)}
        )
    return with_rerank_scores(passages, scores)
