"""Component library and marketplace demo (idempotent; after seed_demo and the billing demo).

Acme Logistics gets two components of its own (one shared free); Globex Media
lists a pricing table on the marketplace for 25 credits, which Acme can buy,
and a free footer Acme can use.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context, rls_bypass
from templates.models.library import LibraryComponent
from templates.services.library import library_component_save, library_component_share

ITEMS = {
    "Acme Logistics": [
        ("Hero with signup form", "hero_section", "hero", ["hero", "signup", "lead capture"], "private", None,
         '<section class="hero"><h1>Ship faster with Acme</h1><p>Same-day delivery in 40 cities.</p>'
         '<form data-track="signup"><input type="email" name="email" placeholder="Work email" required>'
         '<button type="submit">Get a quote</button></form></section>'),
        ("Testimonials strip", "testimonials", "social proof", ["testimonials", "quotes", "trust"], "public", None,
         '<section class="testimonials"><blockquote>"Our parcels arrive a day early." - Mara, Seoul</blockquote>'
         '<blockquote>"Tracking that customers understand." - Jin, Busan</blockquote></section>'),
    ],
    "Globex Media": [
        ("Pricing table (3 tiers)", "pricing", "pricing", ["pricing", "plans", "saas"], "marketplace", "25",
         '<section class="pricing"><div class="tier"><h3>Starter</h3><p>$9/mo</p></div>'
         '<div class="tier featured"><h3>Growth</h3><p>$29/mo</p></div>'
         '<div class="tier"><h3>Scale</h3><p>$99/mo</p></div></section>'),
        ("Dark footer", "footer", "layout", ["footer", "dark", "links"], "public", None,
         '<footer class="dark"><nav><a href="/about">About</a> <a href="/privacy">Privacy</a></nav>'
         '<p>&copy; Globex Media</p></footer>'),
    ],
}  # fmt: skip

PROPS = {"type": "object", "properties": {"headline": {"type": "string"}, "accent": {"type": "string"}}}


class Command(BaseCommand):
    help = "Create the component library and marketplace demo (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        created = 0
        for account_name, items in ITEMS.items():
            with rls_bypass("library demo: find the demo accounts"):
                account = Account.objects.filter(name=account_name).first()
                owner = Membership.objects.filter(account=account, role=Role.OWNER).select_related("user").first()
            if account is None or owner is None:
                self.stdout.write(f"No demo account {account_name}: run seed_demo first.")
                continue
            for name, ctype, category, tags, visibility, price, code in items:
                with account_context(account.id):
                    if LibraryComponent.objects.filter(account=account, name=name).exists():
                        continue
                row = library_component_save(account=account, actor=owner, data={
                    "name": name, "description": f"{name} from the {account_name} demo library.", "category": category,
                    "tags": tags, "component_type": ctype, "code": code, "props_schema": PROPS,
                })  # fmt: skip
                if visibility != "private":
                    library_component_share(account=account, actor=owner, component_id=row.pk, visibility=visibility,
                                            price=price)  # fmt: skip
                created += 1
        self.stdout.write(self.style.SUCCESS(f"Library demo ready ({created} components created)."))
