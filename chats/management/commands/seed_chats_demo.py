"""Demo chats with real streamed answers (idempotent): see chats.demo."""

from django.core.management.base import BaseCommand

from accounts.demo import demo_tenants
from chats.demo import seed_chats


class Command(BaseCommand):
    help = "Give the demo owners chats with their account persona, answered by the chats engine (idempotent)."

    def handle(self, *args, **options):
        for tenant in demo_tenants():
            created, answers = seed_chats(tenant)
            self.stdout.write(f"  {tenant.account.name}: {created} chats created, {answers} answers written")
        self.stdout.write(self.style.SUCCESS("Chat demo data ready."))
