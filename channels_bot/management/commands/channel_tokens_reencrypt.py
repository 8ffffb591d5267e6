"""Re-encrypt every channel's access and refresh token under the first key of
PERSONA_ENCRYPTION_KEYS (the tokens use the persona prompts' MultiFernet).

Like `persona_reencrypt`: rows in id order, `--batch-size` at a time, each
batch in its own transaction under a named `rls_bypass` (every account's
channels); a checkpoint after each committed batch, so a crashed run resumes
(`--restart` ignores it); `--dry-run` only counts. It works on the stored
tokens: one already under the primary key is skipped, an older one rotated
(only if unchanged meanwhile), one no key opens is reported and left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.tenancy.context import rls_bypass
from channels_bot.models import ConnectedChannel
from personas import crypto
from personas.reencrypt import Checkpoint

COLUMNS = ("access_token", "refresh_token")


@dataclass
class Report:
    channels: int = 0
    rotated: int = 0
    current: int = 0
    failed: list[str] = field(default_factory=list)  # "<channel id> <column>"
    batches: int = 0
    resumed_after: str | None = None


def _table() -> str:
    return connection.ops.quote_name(ConnectedChannel._meta.db_table)


def _read_batch(after: str | None, size: int) -> list[tuple[str, str | None, str | None]]:
    # Raw SQL: the model field would decrypt, and here we want the stored tokens.
    sql = f"SELECT id::text, access_token, refresh_token FROM {_table()}"
    params: list = []
    if after:
        sql += " WHERE id > %s::uuid"
        params.append(after)
    sql += " ORDER BY id LIMIT %s"
    params.append(size)
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _write(pk: str, column: str, old: str, new: str) -> None:
    # Only if unchanged meanwhile: a token refresh already wrote under the primary key.
    with connection.cursor() as cur:
        cur.execute(f"UPDATE {_table()} SET {column} = %s WHERE id = %s::uuid AND {column} = %s", [new, pk, old])


def channel_tokens_reencrypt(*, checkpoint: Checkpoint, batch_size: int, dry_run: bool, restart: bool, on_batch=None):
    report = Report()
    after = None if restart or dry_run else checkpoint.load()
    report.resumed_after = after
    while True:
        with rls_bypass("channel_tokens_reencrypt: rotate channel tokens to the primary key"):
            rows = _read_batch(after, batch_size)
            if not rows:
                break
            for pk, *tokens in rows:
                report.channels += 1
                for column, token in zip(COLUMNS, tokens, strict=True):
                    if token is None:
                        continue
                    if crypto.is_current(token):
                        report.current += 1
                        continue
                    try:
                        new = crypto.rotate(token)
                    except crypto.PromptDecryptionError:
                        report.failed.append(f"{pk} {column}")
                        continue
                    if not dry_run:
                        _write(pk, column, token, new)
                    report.rotated += 1
        after = rows[-1][0]
        report.batches += 1
        if not dry_run:
            checkpoint.save(after)
        if on_batch:
            on_batch(report)
    if not dry_run and not report.failed:
        checkpoint.clear()
    return report


class Command(BaseCommand):
    help = "Re-encrypt every channel access and refresh token under the current primary key (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")
        parser.add_argument("--restart", action="store_true", help="Ignore a checkpoint and start from the first row.")
        parser.add_argument(
            "--checkpoint", type=Path, default=None,
            help="Checkpoint file (default: <AIPLATFORM_DATA_DIR>/channel_tokens_reencrypt.checkpoint.json).",
        )  # fmt: skip

    def handle(self, *args, batch_size: int, dry_run: bool, restart: bool, checkpoint: Path | None, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        path = checkpoint or Path(settings.DATA_DIR) / "channel_tokens_reencrypt.checkpoint.json"
        report = channel_tokens_reencrypt(
            checkpoint=Checkpoint(path), batch_size=batch_size, dry_run=dry_run, restart=restart,
            on_batch=lambda r: self.stdout.write(f"batch {r.batches}: {r.channels} channels scanned so far"),
        )  # fmt: skip
        if report.resumed_after:
            self.stdout.write(f"Resumed after channel {report.resumed_after}.")
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"{report.channels} channels scanned, {verb} {report.rotated} tokens, {report.current} already under "
            f"the primary key, {len(report.failed)} failed."
        )
        if report.failed:
            raise CommandError(
                "These tokens could not be decrypted with any configured key (tampered, or their key was removed): "
                f"{', '.join(report.failed)}. Nothing was written for them; reconnect those channels."
            )
