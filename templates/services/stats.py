"""Template statistics, kept in one UPDATE per completed run.

The averages are computed in SQL from running totals, so concurrent workers
never overwrite each other's counts (no read-modify-write in Python).
"""

from __future__ import annotations

from django.db.models import F, Value

from templates.models import PromptTemplate


def template_record_use(*, template_id, tokens: int, ms: int) -> None:
    uses = F("usage_count") + Value(1)
    tokens_total = F("tokens_total") + Value(tokens)
    time_total = F("response_time_total_ms") + Value(ms)
    # Every F() reads the row as it was before this statement: the averages include this run.
    PromptTemplate.objects.filter(pk=template_id).update(
        usage_count=uses,
        tokens_total=tokens_total,
        response_time_total_ms=time_total,
        avg_tokens=tokens_total / uses,
        avg_response_time_ms=time_total / uses,
    )
