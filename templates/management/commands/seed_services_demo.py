"""A service result with a live share link per demo account (idempotent): see templates.demo."""

from django.core.management.base import BaseCommand
from django.urls import reverse

from accounts.demo import demo_tenants
from templates.demo import seed_result


class Command(BaseCommand):
    help = "Run one catalog service for each demo account and share its result (idempotent)."

    def handle(self, *args, **options):
        for tenant in demo_tenants():
            result = seed_result(tenant)
            if result is None:
                continue
            link = reverse("templates:shared", args=[result.share_token]) if result.share_token else "(not shared)"
            self.stdout.write(f"  {tenant.account.name}: {result.service.name_en} {result.status}, {link}")
        self.stdout.write(self.style.SUCCESS("Service demo data ready."))
