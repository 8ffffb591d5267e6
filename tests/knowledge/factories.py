"""Factories for the knowledge app. Rows are written inside their account's
context, as the application writes them (row-level security WITH CHECK applies)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tenancy.context import account_context
from aiplatform.ai.models import AiModel
from knowledge.models import Chunk, DecisionUnit, Document, StagedChunk
from tests.accounts.factories import AccountFactory, TenantFactory

MODEL = "local-minilm"


def minilm_model() -> AiModel:
    """The local embedding model in the registry (also seeded by aiplatform.ai's migration)."""
    model, _ = AiModel.objects.update_or_create(
        name=MODEL,
        defaults={
            "display_name": "all-MiniLM-L6-v2 (local)", "provider": AiModel.Provider.LOCAL,
            "provider_model": "all-MiniLM-L6-v2", "kind": AiModel.Kind.EMBEDDING, "dimensions": 384,
            "context_window": 256, "max_output_tokens": 0, "credits_in_per_1k": Decimal("0.01"),
            "credits_out_per_1k": Decimal("0"), "enabled": True,
        },
    )  # fmt: skip
    return model


def upload(name: str, content: bytes | str, content_type: str = "") -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type=content_type)


class DecisionUnitFactory(TenantFactory):
    class Meta:
        model = DecisionUnit

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Decision unit {n}")
    description = "Playbooks of the logistics team."
    embedding_model = MODEL


class DocumentFactory(TenantFactory):
    """A document already ingested (status done), with a stored text file."""

    class Meta:
        model = Document

    unit = factory.SubFactory(DecisionUnitFactory)
    account = factory.SelfAttribute("unit.account")
    name = factory.Sequence(lambda n: f"notes-{n}.txt")
    content = factory.Sequence(lambda n: f"Notes number {n}.".encode())  # stored as the file, not a column
    size = factory.LazyAttribute(lambda d: len(d.content))
    sha256 = factory.LazyAttribute(lambda d: hashlib.sha256(d.content).hexdigest())
    mime_type = "text/plain"
    kind = Document.Kind.TXT
    status = Document.Status.DONE
    embedding_model = MODEL

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        content = kwargs.pop("content", b"")
        document = model_class(*args, **kwargs)
        with account_context(document.account_id):
            if content:
                document.file.save(document.name, ContentFile(content), save=False)
            document.save()
        return document


def unit_vector(seed: int) -> list[float]:
    """A deterministic unit-length 384-dimensional vector (for rows whose meaning does not matter)."""
    raw = [((seed * 7919 + i * 104729) % 1000) / 1000 - 0.5 for i in range(384)]
    norm = sum(x * x for x in raw) ** 0.5
    return [x / norm for x in raw]


class ChunkFactory(TenantFactory):
    class Meta:
        model = Chunk

    document = factory.SubFactory(DocumentFactory)
    account = factory.SelfAttribute("document.account")
    unit = factory.SelfAttribute("document.unit")
    position = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Chunk text {n}.")
    model = MODEL
    embedding = factory.Sequence(unit_vector)


class StagedChunkFactory(ChunkFactory):
    class Meta:
        model = StagedChunk
