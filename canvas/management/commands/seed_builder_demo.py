"""Web builder demo (idempotent): a launched landing-page campaign of Acme
Logistics with its components, a published page at /p/acme-spring-freight/ and
one recorded AI generation. Run after seed_demo."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.demo import TEAM_ACCOUNT, demo_tenant
from accounts.tenancy.context import account_context, rls_bypass
from canvas.models import AIGeneration, Campaign, CampaignComponent, CampaignStatus, GenerationStatus
from canvas.services.builder.campaigns import campaign_transition
from canvas.services.builder.sanitize import css_clean, html_clean
from canvas.tracking.demo import tracking_demo_seed

SLUG = "acme-spring-freight"
COMPONENTS = [
    (
        "Header",
        "header",
        '<header class="acme-head"><strong>Acme Logistics</strong>'
        '<nav><a href="#offer" data-track="nav_offer">Offer</a> <a href="#quote" data-track="nav_quote">Quote</a></nav></header>',  # noqa: E501
    ),
    (
        "Hero",
        "hero_section",
        '<section class="acme-hero" id="offer"><h1>Spring freight: 20% off your first 10 pallets</h1>'
        "<p>Door-to-door within 48 hours across the region, tracked live.</p>"
        '<a class="acme-cta" href="#quote" data-track="hero_cta">Get a quote</a></section>',
    ),
    (
        "Benefits",
        "custom",
        '<section class="acme-grid"><div><h3>48-hour delivery</h3><p>Or the next shipment is free.</p></div>'
        "<div><h3>Live tracking</h3><p>Every pallet on the map.</p></div><div><h3>One invoice</h3><p>Monthly, no surprises.</p></div></section>",  # noqa: E501
    ),
    (
        "Testimonials",
        "testimonials",
        '<section class="acme-quotes"><blockquote>"Our stock arrives before the shop opens."'
        "<cite>Mira, bakery chain</cite></blockquote></section>",
    ),
    (
        "Quote form",
        "form",
        '<section id="quote"><h2>Ask for a quote</h2><form data-track="quote_form" '
        'data-track-conversion="lead" data-track-value="50" data-track-currency="USD"><label>Email '
        '<input type="email" name="email" required></label><label>Pallets <input type="number" name="pallets" min="1"></label>'  # noqa: E501
        '<button type="submit">Send</button></form></section>',
    ),
    ("Footer", "footer", '<footer class="acme-foot"><p>Acme Logistics · Spring offer until May 31</p></footer>'),
]
CSS = (
    ".acme-head{display:flex;justify-content:space-between;padding:1rem 2rem;background:#0b3d5c;color:#fff}"
    ".acme-head a{color:#fff;margin-left:1rem}.acme-hero{padding:4rem 2rem;text-align:center;background:#e8f3fa}"
    ".acme-cta{display:inline-block;padding:.8rem 1.6rem;background:#f28c28;color:#fff;border-radius:6px}"
    ".acme-grid{display:flex;gap:2rem;padding:2rem}.acme-quotes{padding:2rem;font-style:italic}"
    "#quote{padding:2rem;background:#f7f7f7}.acme-foot{padding:1rem 2rem;color:#666}"
)


class Command(BaseCommand):
    help = "Create the web builder demo: a launched campaign with a hosted page for Acme Logistics."

    def handle(self, *args, **options):
        tenant = demo_tenant(TEAM_ACCOUNT)
        if tenant is None:
            self.stdout.write("No demo accounts: run seed_demo first.")
            return
        with rls_bypass("builder demo: is the demo slug taken?"):
            existing = Campaign.objects.filter(slug=SLUG).values_list("account_id", flat=True).first()
        if existing is not None:
            self.stdout.write(f"{tenant.account}: already there (/p/{SLUG}/).")
            self._traffic(existing)
            return
        account = tenant.account
        with account_context(account.id):
            campaign = Campaign.objects.create(
                account=account, created_by=tenant.user, name="Spring freight offer", slug=SLUG,
                description="Landing page for the spring pallet discount, collecting quote requests.",
                target_audience="Regional shops and bakeries shipping 5-50 pallets a month",
                business_type="Logistics", goals=["collect quote requests", "sell the spring discount"],
                brand_guidelines="Navy and orange, plain words, no jargon.", status=CampaignStatus.DRAFT,
            )  # fmt: skip
            for order, (name, ctype, html) in enumerate(COMPONENTS):
                CampaignComponent.objects.create(
                    account=account, campaign=campaign, name=name, component_type=ctype, code=html_clean(html),
                    css_styles=css_clean(CSS) if order == 0 else "", sort_order=order, export_formats=["html", "zip"],
                    ai_generation_metadata={"demo": True},
                )  # fmt: skip
            AIGeneration.objects.create(
                account=account, user=tenant.user, campaign=campaign, generation_type="campaign",
                prompt_text="A landing page for our spring freight discount with a quote form",
                model_used="demo (seeded)", status=GenerationStatus.COMPLETED, iterations=1, user_rating=5,
                accepted=True, result_data={"demo": True},
            )  # fmt: skip
            Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.READY)
            campaign.refresh_from_db()
        campaign_transition(campaign=campaign, actor=tenant.owner, status=CampaignStatus.LAUNCHED)
        self.stdout.write(f"{account}: created a launched campaign at /p/{SLUG}/ ({len(COMPONENTS)} components).")
        self._traffic(account.id)
        self.stdout.write(self.style.SUCCESS("Web builder demo ready."))

    def _traffic(self, account_id) -> None:
        """Two weeks of visitors through the real batch writer, so the analytics page has curves."""
        with account_context(account_id):
            campaign = Campaign.objects.get(slug=SLUG)
        written = tracking_demo_seed(campaign)
        if written:
            self.stdout.write(f"{campaign.name}: {written} demo tracking events written.")
