"""Re-encrypt every persona system prompt under the first key of PERSONA_ENCRYPTION_KEYS.

Resumable: after a crash, run it again and it continues after the last committed
batch (see personas/reencrypt.py). `--dry-run` only counts.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from personas.reencrypt import Checkpoint, personas_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every persona system prompt under the current primary key (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument("--dry-run", action="store_true", help="Count what would change; write nothing.")
        parser.add_argument("--restart", action="store_true", help="Ignore a checkpoint and start from the first row.")
        parser.add_argument(
            "--checkpoint",
            type=Path,
            default=None,
            help="Checkpoint file (default: <AIPLATFORM_DATA_DIR>/persona_reencrypt.checkpoint.json).",
        )

    def handle(self, *args, batch_size: int, dry_run: bool, restart: bool, checkpoint: Path | None, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        path = checkpoint or Path(settings.DATA_DIR) / "persona_reencrypt.checkpoint.json"
        report = personas_reencrypt(
            checkpoint=Checkpoint(path),
            batch_size=batch_size,
            dry_run=dry_run,
            restart=restart,
            on_batch=lambda r: self.stdout.write(f"batch {r.batches}: {r.scanned} scanned so far"),
        )
        if report.resumed_after:
            self.stdout.write(f"Resumed after persona {report.resumed_after}.")
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"{report.scanned} scanned, {verb} {report.rotated}, {report.current} already under the primary key, "
            f"{len(report.failed_ids)} failed."
        )
        if report.failed_ids:
            raise CommandError(
                "These personas could not be decrypted with any configured key (tampered, or their key was "
                f"removed): {', '.join(report.failed_ids)}. Nothing was written for them."
            )
