"""Live progress on the account websocket (`ws/account/`), sent after commit."""

from __future__ import annotations

from typing import TypedDict

from accounts.events import publish_on_commit

from .models import DecisionUnit, Document

DOCUMENT_EVENT = "knowledge.document"
UNIT_EVENT = "knowledge.unit"


class DocumentFrame(TypedDict):
    id: str
    unit_id: str
    name: str
    status: str
    stage: str
    chunks_embedded: int
    chunks_total: int
    chunk_count: int
    error: str
    stage_times: dict[str, str]
    in_progress: bool


class UnitFrame(TypedDict):
    id: str
    status: str
    chunk_count: int


def document_frame(document: Document) -> DocumentFrame:
    return DocumentFrame(
        id=str(document.id), unit_id=str(document.unit_id), name=document.name, status=document.status,
        stage=document.stage_label, chunks_embedded=document.chunks_embedded, chunks_total=document.chunks_total,
        chunk_count=document.chunk_count, error=document.error,
        stage_times={name: at.isoformat() for name, at in document.stage_times}, in_progress=document.in_progress,
    )  # fmt: skip


def document_changed(document: Document) -> None:
    publish_on_commit(document.account_id, DOCUMENT_EVENT, dict(document_frame(document)))


def unit_changed(unit: DecisionUnit) -> None:
    frame = UnitFrame(id=str(unit.id), status=unit.status, chunk_count=unit.chunk_count)
    publish_on_commit(unit.account_id, UNIT_EVENT, dict(frame))
