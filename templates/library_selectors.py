"""Reads of the component library and marketplace.

Search is PostgreSQL full-text search over the generated `search_vector`
(name A, tags and category B, description C; GIN index
`templates_library_search`): the query is parsed as websearch text (quotes,
`-word`, `or`), results are ranked with `ts_rank_cd` and tie-broken by likes,
downloads and age. Tags filter with array containment (GIN index on `tags`).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from billing.models.fields import CREDIT_DIGITS, CREDIT_PLACES
from templates.models.library import SEARCH_CONFIG, LibraryComponent, LibraryLike, LibraryPurchase, PurchaseStatus

SCOPES = ("mine", "public", "marketplace")
SORTS = {"relevance", "popular", "newest", "price"}


def library_of(account) -> QuerySet[LibraryComponent]:
    return LibraryComponent.objects.filter(account=account)


def _annotated(qs: QuerySet, account) -> QuerySet:
    return qs.annotate(
        liked=Exists(LibraryLike.objects.filter(account=account, component=OuterRef("pk"))),
        purchased=Exists(
            LibraryPurchase.objects.filter(account=account, component=OuterRef("pk"), status=PurchaseStatus.COMPLETED)
        ),
    )


def library_search(
    account, *, q: str = "", tags: list[str] | None = None, category: str = "", component_type: str = "",
    scope: str = "public", sort: str = "relevance",
) -> QuerySet[LibraryComponent]:  # fmt: skip
    """Components the account may see in `scope`, filtered and ranked."""
    if scope == "mine":
        qs = LibraryComponent.objects.filter(account=account)
    elif scope == "marketplace":
        qs = LibraryComponent.objects.filter(is_marketplace_item=True, is_public=True, is_listed=True)
    else:
        qs = LibraryComponent.objects.filter(is_public=True, is_listed=True)
    if tags:
        qs = qs.filter(tags__contains=[t.strip().lower() for t in tags if t.strip()])
    if category:
        qs = qs.filter(category=category.strip().lower())
    if component_type:
        qs = qs.filter(component_type=component_type)
    q = (q or "").strip()
    if q:
        query = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
        qs = qs.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query, cover_density=True))
    else:
        qs = qs.annotate(rank=Value(0.0))
    order = {
        "relevance": ["-rank", "-likes", "-downloads", "-created_at", "id"],
        "popular": ["-likes", "-downloads", "-created_at", "id"],
        "newest": ["-created_at", "id"],
        "price": ["price", "-likes", "id"],
    }[sort if sort in SORTS else "relevance"]
    return _annotated(qs, account).order_by(*order)


def library_visible(account, component_id) -> LibraryComponent | None:
    """One component the account may see (its own, or a listed public one), annotated."""
    qs = LibraryComponent.objects.filter(Q(account=account) | Q(is_public=True, is_listed=True), pk=component_id)
    return _annotated(qs, account).first()


def purchases_of(account) -> QuerySet[LibraryPurchase]:
    return LibraryPurchase.objects.filter(account=account).select_related("component").order_by("-created_at")


def _credits() -> DecimalField:
    return DecimalField(max_digits=CREDIT_DIGITS, decimal_places=CREDIT_PLACES)


def sales_of(account) -> QuerySet[LibraryPurchase]:
    """The purchases of the account's items (readable through the seller policy)."""
    return (
        LibraryPurchase.objects.filter(seller_account_id=account.id)
        .select_related("component")
        .annotate(earning=F("price") - Coalesce(F("platform_fee"), Value(Decimal("0")), output_field=_credits()))
        .order_by("-created_at")
    )


def categories(account) -> list[str]:
    return list(
        LibraryComponent.objects.filter(Q(account=account) | Q(is_public=True, is_listed=True))
        .exclude(category="")
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )
