"""Re-encrypt every channel's access and refresh token under the first key of
PERSONA_ENCRYPTION_KEYS (the tokens use the persona prompts' MultiFernet).

The run of `persona_reencrypt` (personas/reencrypt.py): rows in id order, `--batch-size` at a time, each
batch in its own transaction under a named `rls_bypass` (every account's
channels); a checkpoint after each committed batch, so a crashed run resumes
(`--restart` ignores it); `--dry-run` only counts. It works on the stored
tokens: one already under the primary key is skipped, an older one rotated
(only if unchanged meanwhile), one no key opens is reported and left alone.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from channels_bot.models import ConnectedChannel
from personas.reencrypt import Checkpoint, EncryptedColumns, ReencryptReport, reencrypt


def channel_tokens_reencrypt(**options) -> ReencryptReport:
    target = EncryptedColumns(
        ConnectedChannel._meta.db_table, ("access_token", "refresh_token"),
        "channel_tokens_reencrypt: rotate channel tokens to the primary key",
    )  # fmt: skip
    return reencrypt(target, **options)


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
            on_batch=lambda r: self.stdout.write(f"batch {r.batches}: {r.scanned} channels scanned so far"),
        )  # fmt: skip
        if report.resumed_after:
            self.stdout.write(f"Resumed after channel {report.resumed_after}.")
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"{report.scanned} channels scanned, {verb} {report.rotated} tokens, {report.current} already under "
            f"the primary key, {len(report.failed_ids)} failed."
        )
        if report.failed_ids:
            raise CommandError(
                "These tokens could not be decrypted with any configured key (tampered, or their key was removed): "
                f"{', '.join(report.failed_ids)}. Nothing was written for them; reconnect those channels."
            )
