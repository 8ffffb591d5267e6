"""A file import: a JSON list of posts in storage, for platforms without a public feed."""

from __future__ import annotations

import json

from django.core.files.storage import default_storage

from .base import SourceError, SourceItem
from .feeds import _date, _newest

KINDS = {"video", "image", "text", "audio"}


class FileImportAdapter:
    name = "file_import"

    def __init__(self, path: str):
        self.path = path

    def fetch(self, creator, *, limit: int) -> list[SourceItem]:
        try:
            with default_storage.open(self.path, "rb") as fh:
                rows = json.loads(fh.read(5 * 1024 * 1024).decode("utf-8"))
        except FileNotFoundError as exc:
            raise SourceError(f"The import file {self.path} is not in storage.") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SourceError(f"The import file {self.path} is not a UTF-8 JSON list ({exc}).") from exc
        if not isinstance(rows, list):
            raise SourceError(f"The import file {self.path} must hold a JSON list of posts.")
        items = []
        for row in rows:
            if not isinstance(row, dict) or not isinstance(row.get("url"), str):
                continue
            kind = row.get("content_type") if row.get("content_type") in KINDS else "video"
            items.append(SourceItem(
                url=row["url"].strip(), external_id=str(row.get("id") or row["url"]),
                title=str(row.get("title") or "")[:500],
                description=str(row.get("description") or ""), published_at=_date(row.get("published_at")),
                thumbnail_url=str(row.get("thumbnail_url") or ""), content_type=kind,
            ))  # fmt: skip
        return _newest(items, limit)
