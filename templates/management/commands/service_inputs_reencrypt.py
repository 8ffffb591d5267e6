"""Re-encrypt every stored service input (ServiceResult.input_data and the photo
paths of input_files, personal data) under the first key of PERSONA_ENCRYPTION_KEYS: the rotation step of
templates/models/fields.py.

The run of `persona_reencrypt` and `channel_tokens_reencrypt` (personas/reencrypt.py): rows in id order,
`--batch-size` at a time, each batch in its own transaction under a named
`rls_bypass` (every account's results); a checkpoint after each committed batch,
so a crashed run resumes (`--restart` ignores it); `--dry-run` only counts. It
works on the stored tokens: one under the primary key is skipped, an older one
rotated (only if unchanged meanwhile), one no key opens is reported and left alone.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from personas.reencrypt import Checkpoint, EncryptedColumns, ReencryptReport, reencrypt
from templates.models import ServiceResult


def service_inputs_reencrypt(**options) -> ReencryptReport:
    target = EncryptedColumns(
        ServiceResult._meta.db_table,
        ("input_data",),
        "service_inputs_reencrypt: rotate service inputs to the primary key",
        array_columns=("input_files",),
    )
    return reencrypt(target, **options)


class Command(BaseCommand):
    help = "Re-encrypt every stored service input under the current primary key (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")
        parser.add_argument("--restart", action="store_true", help="Ignore a checkpoint and start from the first row.")
        parser.add_argument(
            "--checkpoint", type=Path, default=None,
            help="Checkpoint file (default: <AIPLATFORM_DATA_DIR>/service_inputs_reencrypt.checkpoint.json).",
        )  # fmt: skip

    def handle(self, *args, batch_size: int, dry_run: bool, restart: bool, checkpoint: Path | None, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        path = checkpoint or Path(settings.DATA_DIR) / "service_inputs_reencrypt.checkpoint.json"
        report = service_inputs_reencrypt(
            checkpoint=Checkpoint(path), batch_size=batch_size, dry_run=dry_run, restart=restart
        )
        if report.resumed_after:
            self.stdout.write(f"Resumed after result {report.resumed_after}.")
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"{report.scanned} results scanned, {verb} {report.rotated}, {report.current} already under the "
            f"primary key, {len(report.failed_ids)} failed."
        )
        if report.failed_ids:
            raise CommandError(
                "These service inputs could not be decrypted with any configured key (tampered, or their key was "
                f"removed): {', '.join(report.failed_ids)}. Nothing was written for them."
            )
