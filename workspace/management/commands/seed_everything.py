"""The whole demo, in dependency order: each app's own idempotent demo command.

`bin/dev` (aiplatform/run.py) runs this on every start. The order matters where one
demo builds on another: the month of billing history must come before any other
ledger row; knowledge before the personas that read it; personas before chats.
A command not installed yet (a product still being built) is skipped, and any other
`seed_*_demo` command an app adds runs after the listed ones, so a new product's
demo is loaded without touching this list.
"""

from __future__ import annotations

import time

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from aiplatform.platform_data import platform_data_ensure

DEMO_COMMANDS = (
    "seed_demo",  # accounts: operator, owner, member, Acme Logistics and Globex Media
    "seed_billing_history",  # billing: a month of past spending and usage (first ledger rows)
    "seed_billing_demo",  # billing: plans, bonus credits, today's usage
    "seed_personas",  # personas: the platform personas
    "seed_knowledge_demo",  # knowledge: a decision unit with the shipped documents, ingested
    "seed_assistants_demo",  # personas: each account's persona reading its unit
    "seed_chats_demo",  # chats: conversations answered by the chats engine, with citations
    "seed_services_demo",  # templates: a service result with a live share link
    "seed_channels_demo",  # channels_bot: channels, conversations, products and orders
    "seed_canvas_demo",
    "seed_content_demo",
    "seed_media_demo",
    "seed_builder_demo",
    "seed_library_demo",
)


def demo_commands() -> list[str]:
    installed = get_commands()
    listed = [name for name in DEMO_COMMANDS if name in installed]
    extra = sorted(n for n in installed if n.startswith("seed_") and n.endswith("_demo") and n not in DEMO_COMMANDS)
    return listed + extra


class Command(BaseCommand):
    help = "Load every app's demo data in order (idempotent: safe on every start)."

    def add_arguments(self, parser):
        parser.add_argument("--strict", action="store_true", help="stop at the first demo that fails")

    def handle(self, *args, strict: bool = False, **options):
        # The demo builds on the platform data (plans, models, services); a flushed database lacks it.
        platform_data_ensure()
        failed = []
        for name in demo_commands():
            started = time.monotonic()
            self.stdout.write(f"- {name}")
            try:
                call_command(name, stdout=self.stdout, stderr=self.stderr)
            except Exception as exc:
                if strict:
                    raise
                # One product's broken demo must not keep the platform from starting.
                failed.append(name)
                self.stderr.write(self.style.ERROR(f"  {name} failed: {exc.__class__.__name__}: {exc}"))
                continue
            self.stdout.write(f"  ({time.monotonic() - started:.1f} s)")
        if failed:
            self.stderr.write(self.style.WARNING(f"Demo data loaded except: {', '.join(failed)}."))
        else:
            self.stdout.write(self.style.SUCCESS("All demo data ready."))
        if failed and strict:
            raise CommandError("Some demo commands failed.")
