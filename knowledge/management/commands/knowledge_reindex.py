"""Re-ingest indexed documents so their chunks follow the current chunking (e.g. the
heading paths HTML and Markdown chunks start with since docs/adr/0003's tuning).

No migration is needed: each document gets a fresh ingestion run through the
queue, as `document_reingest` starts one; its old chunks stay searchable until
the new run's indexing step replaces them in one transaction. Re-embedding is a
metered embedding call billed to the document's account, like the first one.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.tenancy.context import account_context, rls_bypass
from knowledge.models import Document
from knowledge.services.documents import _enqueue

KINDS_WITH_HEADINGS = (Document.Kind.HTML, Document.Kind.MARKDOWN)


class Command(BaseCommand):
    help = "Queue a fresh ingestion run for indexed documents (default: HTML and Markdown, whose chunks got headings)."

    def add_arguments(self, parser):
        parser.add_argument("--account", help="only this account's documents (its id)")
        parser.add_argument("--all-kinds", action="store_true", help="every kind, not only HTML and Markdown")
        parser.add_argument("--dry-run", action="store_true", help="say how many, queue nothing")

    def handle(self, *args, account=None, all_kinds=False, dry_run=False, **options):
        with rls_bypass("knowledge: re-index documents after a chunking change"):
            documents = Document.objects.filter(status=Document.Status.DONE).exclude(file="")
            if account:
                try:
                    documents = documents.filter(account_id=account)
                    list(documents[:1])
                except Exception as exc:  # a malformed id
                    raise CommandError(f"--account: {exc}") from exc
            if not all_kinds:
                documents = documents.filter(kind__in=KINDS_WITH_HEADINGS)
            targets = list(documents.order_by("account_id", "created_at").values_list("pk", "account_id"))
        if dry_run:
            self.stdout.write(f"{len(targets)} documents would be re-ingested.")
            return
        queued = 0
        for pk, account_id in targets:
            with account_context(account_id), transaction.atomic():
                document = Document.objects.select_for_update().filter(pk=pk, status=Document.Status.DONE).first()
                if document is not None:
                    _enqueue(document, fresh=True)
                    queued += 1
        self.stdout.write(self.style.SUCCESS(f"{queued} documents queued for re-ingestion."))
