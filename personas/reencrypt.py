"""Re-encryption of encrypted columns under the primary key: the persona system prompts
(`persona_reencrypt`), channel tokens and service inputs use the same run.

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


@dataclass(frozen=True)
class EncryptedColumns:
    """A table's MultiFernet-encrypted text columns (nullable or not) keyed by a uuid `id`;
    `array_columns` are text[] columns holding one token per element."""

    table: str
    columns: tuple[str, ...]
    reason: str  # the rls_bypass reason: these runs read every account's rows
    array_columns: tuple[str, ...] = ()

    @property
    def every_column(self) -> tuple[str, ...]:
        return self.columns + self.array_columns


@dataclass
class ReencryptReport:
    scanned: int = 0  # rows
    rotated: int = 0  # tokens
    current: int = 0  # tokens already under the primary key
    failed_ids: list[str] = field(default_factory=list)  # "<id>", or "<id> <column>" for several columns
    batches: int = 0
    resumed_after: str | None = None


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def _read_batch(target: EncryptedColumns, after: str | None, size: int) -> list[tuple]:
    # Raw SQL: the model field would decrypt; here we want the stored tokens.
    sql = f"SELECT id::text, {', '.join(map(_quoted, target.every_column))} FROM {_quoted(target.table)}"
    params: list = []
    if after:
        sql += " WHERE id > %s::uuid"
        params.append(after)
    sql += " ORDER BY id LIMIT %s"
    params.append(size)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _write(target: EncryptedColumns, column: str, pk: str, old: str | list[str], new: str | list[str]) -> None:
    # Only if unchanged meanwhile: a concurrent save already wrote under the primary key.
    table, col = _quoted(target.table), _quoted(column)
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {table} SET {col} = %s WHERE id = %s::uuid AND {col} = %s", [new, pk, old])


def _rotate_column(value: str | list[str]) -> tuple[str | list[str], int]:
    """The column's value under the primary key and how many tokens that changed.
    An array rotates whole or not at all: PromptDecryptionError when no key opens an element."""
    tokens = value if isinstance(value, list) else [value]
    new = [token if crypto.is_current(token) else crypto.rotate(token) for token in tokens]
    changed = sum(a != b for a, b in zip(tokens, new, strict=True))
    return (new if isinstance(value, list) else new[0]), changed


def _rotate_batch(rows: list[tuple], report: ReencryptReport, dry_run: bool, target: EncryptedColumns) -> None:
    columns = target.every_column
    for pk, *values in rows:
        report.scanned += 1
        for column, value in zip(columns, values, strict=True):
            if not value:  # NULL, or an empty array
                continue
            try:
                new, changed = _rotate_column(value)
            except crypto.PromptDecryptionError:
                report.failed_ids.append(pk if len(columns) == 1 else f"{pk} {column}")
                continue
            report.rotated += changed
            report.current += (len(value) if isinstance(value, list) else 1) - changed
            if changed and not dry_run:
                _write(target, column, pk, value, new)


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


def reencrypt(
    target: EncryptedColumns,
    *,
    checkpoint: Checkpoint,
    batch_size: int = 200,
    dry_run: bool = False,
    restart: bool = False,
    on_batch: Callable[[ReencryptReport], None] | None = None,
) -> ReencryptReport:
    """Rotate every token of `target` to the primary key, batch by batch (see the module)."""
    report = ReencryptReport()
    after = None if restart or dry_run else checkpoint.load()
    report.resumed_after = after
    while True:
        with rls_bypass(target.reason):
            rows = _read_batch(target, after, batch_size)
            if not rows:
                break
            _rotate_batch(rows, report, dry_run, target)
        after = rows[-1][0]
        report.batches += 1
        if not dry_run:
            checkpoint.save(after)
        if on_batch:
            on_batch(report)
    if not dry_run and not report.failed_ids:
        checkpoint.clear()
    return report


def personas_reencrypt(**options) -> ReencryptReport:
    target = EncryptedColumns(
        Persona._meta.db_table, ("system_prompt",), "persona_reencrypt: rotate system prompts to the primary key"
    )
    return reencrypt(target, **options)
