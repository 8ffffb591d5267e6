"""Global search: chats, decision units, documents, personas and service results of
the active account, by PostgreSQL full text.

Every kind is one query, scoped to the account through the tenant querysets
(`for_account`, the products' own selectors), so row-level security and the ORM
wall both apply. Words match as prefixes (`ship` finds "shipping"), all words must
match, and the `simple` configuration keeps Korean and English words as written.
Document content is searched through the chunks' indexed `search_vector` (the
knowledge app's configuration), so a word inside a PDF finds the PDF.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import Exists, F, FloatField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from accounts.tenancy.context import account_context
from chats.models import Message
from chats.selectors import sessions_for_user
from knowledge.models import Chunk, DecisionUnit, Document
from knowledge.models.chunks import TEXT_SEARCH_CONFIG
from personas.selectors import personas_visible_to
from templates.selectors import results_of

CONFIG = "simple"
MAX_QUERY_CHARS = 200
MAX_WORDS = 8
SNIPPET_CHARS = 180
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Kind:
    key: str
    label: str | Promise
    icon: str


KINDS: dict[str, Kind] = {
    k.key: k
    for k in (
        Kind("chats", _("Chats"), "message-square"),
        Kind("units", _("Knowledge units"), "book-open"),
        Kind("documents", _("Documents"), "file-text"),
        Kind("personas", _("Personas"), "bot"),
        Kind("results", _("Service results"), "sparkles"),
    )
}


@dataclass(frozen=True)
class Hit:
    kind: str
    title: str
    url: str
    snippet: SafeString
    rank: float
    when: datetime | None

    @property
    def kind_label(self) -> str:
        return str(KINDS[self.kind].label)

    @property
    def icon(self) -> str:
        return KINDS[self.kind].icon


@dataclass(frozen=True)
class Results:
    query: str
    words: tuple[str, ...]
    hits: tuple[Hit, ...]
    counts: dict[str, int]  # hits per kind, before the page's limit

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def query_words(query: str) -> tuple[str, ...]:
    """The words of a query, lower case, deduplicated, at most MAX_WORDS."""
    words = dict.fromkeys(w.lower() for w in _WORD.findall((query or "")[:MAX_QUERY_CHARS]))
    return tuple(w for w in words if w.strip("_"))[:MAX_WORDS]


def _tsquery(words: Sequence[str], config: str) -> SearchQuery:
    # Each word is \w+ only, so quoting it makes a valid to_tsquery term; ':*' is a prefix match.
    raw = " & ".join(f"'{w}':*" for w in words)
    return SearchQuery(raw, search_type="raw", config=config)


def highlight(text: str, words: Sequence[str], limit: int = SNIPPET_CHARS) -> SafeString:
    """An escaped excerpt of `text` around the first match, the matching words in <mark>."""
    text = " ".join((text or "").split())
    if not text:
        return mark_safe("")
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\w*", re.IGNORECASE) if words else None
    start = 0
    if pattern and (found := pattern.search(text)):
        start = max(0, found.start() - limit // 3)
    excerpt = text[start : start + limit]
    prefix = "…" if start else ""
    suffix = "…" if start + limit < len(text) else ""
    escaped = html.escape(excerpt)
    if pattern:
        escaped = pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped)
    return mark_safe(prefix + escaped + suffix)  # noqa: S308  escaped above, only <mark> added


# --- one provider per kind: (account, user, words, limit) -> (hits, count) -----------------


def _ranked(queryset: QuerySet, vector, query: SearchQuery, extra: Q | None = None) -> QuerySet:
    match = Q(_vector=query) | extra if extra is not None else Q(_vector=query)
    return queryset.annotate(_vector=vector, _rank=SearchRank(vector, query)).filter(match)


def _chats(account: Account, user, words: Sequence[str], limit: int) -> tuple[list[Hit], int]:
    query = _tsquery(words, CONFIG)
    said = (
        Message.objects.for_account(account)
        .filter(session=OuterRef("pk"))
        .annotate(_vector=SearchVector("content", config=CONFIG))
        .filter(_vector=query)
    )
    vector = SearchVector("title", config=CONFIG, weight="A")
    rows = (
        _ranked(sessions_for_user(account, user), vector, query, extra=Q(Exists(said)))
        .annotate(_said=Subquery(said.order_by("-created_at").values("content")[:1]))
        .annotate(_score=Greatest(F("_rank"), Value(0.05), output_field=FloatField()))
        .order_by("-_score", "-last_active")
    )
    found = list(rows[: limit + 1])
    hits = [
        Hit("chats", s.title or str(_("New chat")), reverse("chats:session", args=[s.pk]),
            highlight(s._said or s.title, words), s._score, s.last_active)
        for s in found[:limit]
    ]  # fmt: skip
    return hits, len(found)


def _units(account: Account, user, words: Sequence[str], limit: int) -> tuple[list[Hit], int]:
    query = _tsquery(words, CONFIG)
    vector = SearchVector("name", config=CONFIG, weight="A") + SearchVector("description", config=CONFIG, weight="B")
    rows = _ranked(DecisionUnit.objects.for_account(account), vector, query).order_by("-_rank", "name")
    found = list(rows[: limit + 1])
    hits = [
        Hit("units", u.name, reverse("knowledge:unit", args=[u.pk]), highlight(u.description, words), u._rank,
            u.updated_at)
        for u in found[:limit]
    ]  # fmt: skip
    return hits, len(found)


def _documents(account: Account, user, words: Sequence[str], limit: int) -> tuple[list[Hit], int]:
    query = _tsquery(words, CONFIG)
    content_query = _tsquery(words, TEXT_SEARCH_CONFIG)
    inside = Chunk.objects.for_account(account).filter(document=OuterRef("pk"), search_vector=content_query)
    vector = SearchVector("name", config=CONFIG, weight="A")
    rows = (
        _ranked(Document.objects.for_account(account), vector, query, extra=Q(Exists(inside)))
        .annotate(_text=Subquery(inside.order_by("position").values("text")[:1]))
        .annotate(_score=Greatest(F("_rank"), Value(0.05), output_field=FloatField()))
        .select_related("unit")
        .order_by("-_score", "name")
    )
    found = list(rows[: limit + 1])
    hits = [
        Hit("documents", d.name, reverse("knowledge:document", args=[d.pk]),
            highlight(d._text or d.unit.name, words), d._score, d.updated_at)
        for d in found[:limit]
    ]  # fmt: skip
    return hits, len(found)


def _personas(account: Account, user, words: Sequence[str], limit: int) -> tuple[list[Hit], int]:
    query = _tsquery(words, CONFIG)
    vector = SearchVector("name", config=CONFIG, weight="A") + SearchVector("role_title", config=CONFIG, weight="B")
    rows = _ranked(personas_visible_to(account), vector, query).order_by("-_rank", "name", "id")
    found = list(rows[: limit + 1])
    hits = [
        Hit("personas", p.name, reverse("personas:detail", args=[p.pk]), highlight(p.role_title, words), p._rank,
            p.updated_at)
        for p in found[:limit]
    ]  # fmt: skip
    return hits, len(found)


def _results(account: Account, user, words: Sequence[str], limit: int) -> tuple[list[Hit], int]:
    query = _tsquery(words, CONFIG)
    vector = (
        # Inputs are encrypted at rest (personal data): the service and the answer are searched.
        SearchVector("service__name_en", "service__name_ko", config=CONFIG, weight="A")
        + SearchVector("result_text", config=CONFIG, weight="C")
    )
    rows = _ranked(results_of(account), vector, query).order_by("-_rank", "-created_at")
    found = list(rows[: limit + 1])
    hits = []
    for r in found[:limit]:
        title = f"{r.service.name_en} · {r.created_at:%Y-%m-%d}"
        hits.append(Hit("results", title, reverse("templates:result", args=[r.pk]),
                        highlight(r.result_text or str(r.input_data), words), r._rank, r.created_at))  # fmt: skip
    return hits, len(found)


PROVIDERS: dict[str, Callable[..., tuple[list[Hit], int]]] = {
    "chats": _chats,
    "units": _units,
    "documents": _documents,
    "personas": _personas,
    "results": _results,
}


def workspace_search(
    *, account: Account, user, query: str, kinds: Sequence[str] | None = None, limit: int = 20
) -> Results:
    """Search the account for `query`: one query per kind, best matches first.

    `kinds` narrows the search (unknown kinds are ignored); `limit` applies per kind,
    and each kind's count says "limit+" when more matched (it stops counting there)."""
    words = query_words(query)
    if not words or account is None:
        return Results(query=query, words=words, hits=(), counts={})
    chosen = [k for k in (kinds or PROVIDERS) if k in PROVIDERS]
    hits: list[Hit] = []
    counts: dict[str, int] = {}
    with account_context(account.id):  # the request's context already; a caller outside one gets it too
        for kind in chosen:
            found, count = PROVIDERS[kind](account, user, words, limit)
            hits.extend(found)
            if count:
                counts[kind] = count
    hits.sort(key=lambda h: (-h.rank, h.title.lower()))
    return Results(query=query, words=words, hits=tuple(hits), counts=counts)
