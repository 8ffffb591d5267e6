"""Reads of the knowledge app. Every function takes the account first."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext

from accounts.models import Account
from aiplatform.errors import NotFound

from .models import Chunk, DecisionUnit, Document


def with_document_counts(units: QuerySet[DecisionUnit]) -> QuerySet[DecisionUnit]:
    return units.annotate(
        document_count=Count("documents"),
        documents_in_progress=Count("documents", filter=Q(documents__status__in=Document.IN_PROGRESS)),
        documents_failed=Count("documents", filter=Q(documents__status=Document.Status.ERROR)),
    )


def units_for_account(account: Account) -> QuerySet[DecisionUnit]:
    """The account's decision units with document counts, by name. Personas pick
    their units from this."""
    return with_document_counts(DecisionUnit.objects.filter(account=account)).order_by("name", "id")


def _uuid(value: Any) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(gettext("Not found."))


def unit_get_for_account(account: Account, unit_id: Any) -> DecisionUnit:
    unit = units_for_account(account).filter(pk=_uuid(unit_id)).first()
    if unit is None:
        raise NotFound(gettext("There is no such decision unit."))
    return unit


def units_get_for_account(account: Account, unit_ids: list[Any]) -> list[DecisionUnit]:
    """The account's units `unit_ids` (duplicates once, in the order given), in one
    query; NotFound if any is not the account's."""
    wanted = list(dict.fromkeys(_uuid(unit_id) for unit_id in unit_ids))
    found = {unit.pk: unit for unit in DecisionUnit.objects.filter(account=account, pk__in=wanted)}
    if len(found) != len(wanted):
        raise NotFound(gettext("There is no such decision unit."))
    return [found[pk] for pk in wanted]


def documents_of_unit(account: Account, unit: DecisionUnit) -> QuerySet[Document]:
    return Document.objects.filter(account=account, unit=unit).select_related("uploaded_by").order_by("-created_at")


def document_get_for_account(account: Account, document_id: Any) -> Document:
    document = Document.objects.filter(account=account, pk=_uuid(document_id)).select_related("unit").first()
    if document is None:
        raise NotFound(gettext("There is no such document."))
    return document


def chunks_of_document(account: Account, document: Document) -> QuerySet[Chunk]:
    """The document's indexed chunks in order, without their vectors."""
    return (
        Chunk.objects.filter(account=account, document=document)
        .order_by("position")
        .only("id", "position", "page", "row", "row_end", "section", "char_offset", "token_count", "text", "model")
    )
