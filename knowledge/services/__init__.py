"""Writes of the knowledge app. Modules by topic: units, documents (upload and
the user's controls), storage, the ingestion pipeline (extraction, chunking,
embedding, ingestion) and retrieval."""
