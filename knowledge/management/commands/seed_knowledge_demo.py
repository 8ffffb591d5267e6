"""Demo knowledge for the demo accounts (knowledge/demo/): see knowledge.demo."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.demo import demo_tenant
from accounts.tenancy.context import account_context
from knowledge.demo import DEMO_UNITS, seed_unit
from knowledge.models import Document


class Command(BaseCommand):
    help = "Give each demo account a decision unit with the shipped demo documents, ingested (idempotent)."

    def handle(self, *args, **options):
        for name in DEMO_UNITS:
            tenant = demo_tenant(name)
            if tenant is None:
                self.stdout.write(self.style.WARNING(f"No demo account '{name}': run seed_demo first."))
                continue
            unit, uploaded = seed_unit(tenant)
            with account_context(tenant.account.id):
                states = list(Document.objects.filter(unit=unit).values_list("name", "status", "chunk_count"))
            ready = sum(1 for _, status, _ in states if status == Document.Status.DONE)
            self.stdout.write(f"  {name}: '{unit.name}', {uploaded} uploaded now, {ready}/{len(states)} indexed")
            for doc, status, chunks in states:
                if status != Document.Status.DONE:
                    self.stdout.write(self.style.WARNING(f"    {doc}: {status} ({chunks} chunks)"))
        self.stdout.write(self.style.SUCCESS("Knowledge demo data ready."))
