"""Demo platform personas (idempotent). Run after the model registry is seeded."""

from django.core.management.base import BaseCommand

from personas.services import personas_seed_demo


class Command(BaseCommand):
    help = "Create the demo platform personas that do not exist yet."

    def handle(self, *args, **options):
        created = personas_seed_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo personas ready ({created} created)."))
