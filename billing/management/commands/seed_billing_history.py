"""A month of past ledger and usage rows for the demo accounts (idempotent): see billing.demo."""

from django.core.management.base import BaseCommand

from accounts.demo import demo_tenants
from billing.demo import history_seed


class Command(BaseCommand):
    help = "Give the demo accounts a month of past spending and usage, before any other ledger row (idempotent)."

    def handle(self, *args, **options):
        for tenant in demo_tenants():
            written = history_seed(tenant)
            state = f"{written} ledger rows written" if written else "ledger not empty, left alone"
            self.stdout.write(f"  {tenant.account.name}: {state}")
        self.stdout.write(self.style.SUCCESS("Billing history ready."))
