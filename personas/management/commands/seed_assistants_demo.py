"""The demo accounts' own personas, linked to their demo knowledge (idempotent)."""

from django.core.management.base import BaseCommand

from accounts.demo import demo_tenants
from personas.demo_accounts import seed_persona


class Command(BaseCommand):
    help = "Give each demo account its own persona reading its demo decision unit (idempotent)."

    def handle(self, *args, **options):
        for tenant in demo_tenants():
            persona, created = seed_persona(tenant)
            self.stdout.write(f"  {tenant.account.name}: '{persona.name}' {'created' if created else 'kept'}")
        self.stdout.write(self.style.SUCCESS("Account personas ready."))
