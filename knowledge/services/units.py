"""Decision units: create, change, delete, and their status derived from their documents."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext

from accounts.actors import Actor, require_role
from accounts.models import Account, Role
from aiplatform.errors import InvalidInput
from billing.services.usage import count
from knowledge.events import unit_changed
from knowledge.models import DecisionUnit, Document

from .embedding import embedding_model_check

EDITABLE = ("name", "description", "embedding_model", "vector_weight", "text_weight")
MAX_WEIGHT = 10.0


def _clean(fields: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidInput(gettext("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    errors: dict[str, list[str]] = {}
    if "name" in fields or not partial:
        name = str(fields.get("name") or "").strip()
        if not name:
            errors["name"] = ["This field is required."]
        elif len(name) > 200:
            errors["name"] = ["At most 200 characters."]
        fields["name"] = name
    if "description" in fields:
        fields["description"] = str(fields["description"] or "").strip()[:5000]
    for weight in ("vector_weight", "text_weight"):
        if weight in fields:
            try:
                value = float(fields[weight])
            except (TypeError, ValueError):
                errors[weight] = ["Enter a number."]
                continue
            if not 0 <= value <= MAX_WEIGHT:
                errors[weight] = [f"Between 0 and {MAX_WEIGHT:g}."]
            fields[weight] = value
    if not errors and fields.get("vector_weight", 1.0) == 0 and fields.get("text_weight", 1.0) == 0:
        errors["vector_weight"] = ["At least one of the two weights must be above 0."]
    if fields.get("embedding_model"):
        try:
            embedding_model_check(fields["embedding_model"])
        except InvalidInput as exc:
            errors["embedding_model"] = [exc.message]
    if errors:
        raise InvalidInput(gettext("Some fields are invalid."), fields=errors)
    return fields


def unit_create(*, account: Account, actor: Actor, **fields: Any) -> DecisionUnit:
    require_role(actor, Role.MEMBER, gettext("Viewers cannot create decision units."))
    fields.setdefault("embedding_model", settings.AI_DEFAULT_EMBEDDING_MODEL)
    fields = _clean(fields, partial=False)
    return DecisionUnit.objects.create(
        account=account, created_by=actor.user if actor else None, status=DecisionUnit.Status.ACTIVE, **fields
    )


def unit_update(*, unit: DecisionUnit, actor: Actor, **changes: Any) -> DecisionUnit:
    """Change a unit. A new embedding model re-embeds every document (the old
    chunks stay searchable by text until each document is re-indexed)."""
    require_role(actor, Role.MEMBER, gettext("Viewers cannot change decision units."))
    changes = _clean(changes, partial=True)
    from .documents import document_reingest

    with transaction.atomic():
        unit = DecisionUnit.objects.select_for_update().get(pk=unit.pk)
        model_changed = "embedding_model" in changes and changes["embedding_model"] != unit.embedding_model
        for name, value in changes.items():
            setattr(unit, name, value)
        unit.save()
        if model_changed:
            for document in Document.objects.filter(unit=unit).exclude(file=""):
                document_reingest(document=document, actor=actor)
    return unit_refresh(unit.pk) or unit


def unit_delete(*, unit: DecisionUnit, actor: Actor) -> None:
    """Delete a unit, its documents, chunks and stored files."""
    require_role(actor, Role.ADMIN, gettext("Only owners and admins can delete a decision unit."))
    stored = list(Document.objects.filter(unit=unit).exclude(file=""))
    files = [(d.file.storage, d.file.name) for d in stored]
    with transaction.atomic():
        account_id = unit.account_id
        unit.delete()
        if stored:
            count(account_id, actor.user if actor else None, storage_bytes_used=-sum(d.size for d in stored))
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in files])


def unit_status_for(counts: dict[str, int]) -> str:
    """Processing while any document is queued or being ingested; error when
    documents exist but none could be ingested; active otherwise (an empty unit,
    or one whose failed documents sit beside working ones)."""
    if any(counts.get(s, 0) for s in Document.IN_PROGRESS):
        return DecisionUnit.Status.PROCESSING
    if counts.get(Document.Status.ERROR, 0) and not counts.get(Document.Status.DONE, 0):
        return DecisionUnit.Status.ERROR
    return DecisionUnit.Status.ACTIVE


def unit_refresh(unit_id: Any) -> DecisionUnit | None:
    """Recompute the unit's status and live chunk count from its documents."""
    rows = Document.objects.filter(unit_id=unit_id).values("status").annotate(n=Count("id"), chunks=Sum("chunk_count"))
    counts = {r["status"]: r["n"] for r in rows}
    chunks = sum(r["chunks"] or 0 for r in rows)
    status = unit_status_for(counts)
    changed = DecisionUnit.objects.filter(pk=unit_id).filter(~Q(status=status) | ~Q(chunk_count=chunks))
    updated = changed.update(status=status, chunk_count=chunks, updated_at=timezone.now())
    unit = DecisionUnit.objects.filter(pk=unit_id).first()
    if updated and unit is not None:
        unit_changed(unit)
    return unit
