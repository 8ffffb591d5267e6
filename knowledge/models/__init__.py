"""Knowledge (seed 000 `decision_units`, `du_embeddings`): decision units, their
documents, and the indexed chunks that retrieval reads."""

from .chunks import EMBEDDING_DIMENSIONS, Chunk, StagedChunk
from .documents import Document
from .units import DecisionUnit

__all__ = ["EMBEDDING_DIMENSIONS", "Chunk", "DecisionUnit", "Document", "StagedChunk"]
