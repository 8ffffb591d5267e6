"""Re-encryption of every stored system prompt under the primary key.

Rows are read in id order, `batch_size` at a time, each batch in its own
transaction under `rls_bypass` (platform and every account's personas). After
each committed batch the last id is written to a checkpoint file, so a run that
crashes resumes after the last committed batch. A checkpoint records which
primary key it was made for and is ignored when the key has changed since.

The command works on the stored tokens, not through the model: a row already
under the primary key is skipped, one under an older key is rotated (MultiFernet
keeps its timestamp), and a row no configured key opens is counted as failed
and left untouched; the run then ends with an error naming those ids.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection

from accounts.tenancy.context import rls_bypass

from . import crypto
from .models import Persona


@dataclass
class ReencryptReport:
    scanned: int = 0
    rotated: int = 0
    current: int = 0
    failed_ids: list[str] = field(default_factory=list)
    batches: int = 0
    resumed_after: str | None = None


def _table() -> str:
    return connection.ops.quote_name(Persona._meta.db_table)


def _read_batch(after: str | None, size: int) -> list[tuple[str, str]]:
    # Raw SQL: the model field would decrypt; here we want the stored token.
    sql = f"SELECT id::text, system_prompt FROM {_table()}"
    params: list = []
    if after:
        sql += " WHERE id > %s::uuid"
        params.append(after)
    sql += " ORDER BY id LIMIT %s"
    params.append(size)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _write(pk: str, old: str, new: str) -> None:
    # Only if unchanged meanwhile: a concurrent save already wrote under the primary key.
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {_table()} SET system_prompt = %s WHERE id = %s::uuid AND system_prompt = %s", [new, pk, old]
        )


def _rotate_batch(rows: list[tuple[str, str]], report: ReencryptReport, dry_run: bool) -> None:
    for pk, token in rows:
        report.scanned += 1
        if crypto.is_current(token):
            report.current += 1
            continue
        try:
            new = crypto.rotate(token)
        except crypto.PromptDecryptionError:
            report.failed_ids.append(pk)
            continue
        if not dry_run:
            _write(pk, token, new)
        report.rotated += 1


class Checkpoint:
    def __init__(self, path: Path):
        self.path = path
        self.key_id = crypto.primary_key_id()

    def load(self) -> str | None:
        try:
            data = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return None
        return data.get("last_id") if data.get("key_id") == self.key_id else None

    def save(self, last_id: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key_id": self.key_id, "last_id": last_id}))
        os.replace(tmp, self.path)  # atomic: a crash leaves the old or the new checkpoint

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def personas_reencrypt(
    *,
    checkpoint: Checkpoint,
    batch_size: int = 200,
    dry_run: bool = False,
    restart: bool = False,
    on_batch: Callable[[ReencryptReport], None] | None = None,
) -> ReencryptReport:
    report = ReencryptReport()
    after = None if restart or dry_run else checkpoint.load()
    report.resumed_after = after
    while True:
        with rls_bypass("persona_reencrypt: rotate system prompts to the primary key"):
            rows = _read_batch(after, batch_size)
            if not rows:
                break
            _rotate_batch(rows, report, dry_run)
        after = rows[-1][0]
        report.batches += 1
        if not dry_run:
            checkpoint.save(after)
        if on_batch:
            on_batch(report)
    if not dry_run and not report.failed_ids:
        checkpoint.clear()
    return report
