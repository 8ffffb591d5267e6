"""The knowledge a persona reads: passages of the decision units its account
links to it, as a chat or bot prompt cites them.

The persona-unit link is the personas app's (it sits above knowledge in the
layers), so this lives here rather than in knowledge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accounts.models import Account
from knowledge.services.retrieval import retrieve

from .services import persona_unit_ids


@dataclass(frozen=True)
class PersonaPassage:
    """A passage as the chat prompt cites it."""

    text: str
    citation: dict


def persona_passages(
    *, account: Account, persona: Any, query: str, limit: int = 5, user: Any = None
) -> list[PersonaPassage]:
    """The best passages of the decision units `persona` reads for `account` (none linked: none)."""
    unit_ids = persona_unit_ids(persona=persona, account=account)
    if not unit_ids or not query.strip():
        return []
    found = retrieve(account=account, unit_ids=unit_ids, query=query, k=limit, user=user)
    return [
        PersonaPassage(
            text=p.text,
            citation={
                "title": p.document_name,
                "source": p.citation,
                "document_id": str(p.document_id),
                "page": p.page,
                "row": p.row,
                "score": round(p.score, 6),
            },
        )  # fmt: skip
        for p in found.passages
    ]
