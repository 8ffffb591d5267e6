"""Channel bot demo data (idempotent). Run after seed_demo and seed_personas."""

from django.core.management.base import BaseCommand

from channels_bot.demo import channels_demo_seed


class Command(BaseCommand):
    help = "Create the channel bot demo: channels, products, customers, conversations and orders of the demo accounts."

    def handle(self, *args, **options):
        results = channels_demo_seed()
        if not results:
            self.stdout.write("No demo accounts: run seed_demo first.")
        for r in results:
            state = "created" if r.created else "already there"
            self.stdout.write(f"{r.account}: {state} ({r.products} products, {r.conversations} conversations, "
                              f"{r.orders} orders).")  # fmt: skip
        self.stdout.write(self.style.SUCCESS("Channel bot demo ready."))
