"""Demo billing data: plans for the demo accounts, some credits, spending and usage.

Idempotent: an account that already has a subscription is left alone.
"""

from django.core.management.base import BaseCommand

from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context, rls_bypass
from billing.models import Plan, Subscription
from billing.services.ledger import Reference, wallet_credit, wallet_debit
from billing.services.subscriptions import subscription_comp, subscription_for
from billing.services.usage import usage_record

DEMO_PLANS = {"Acme Logistics": "business", "Globex Media": "creator"}
DEMO_CALLS = [
    ("chat", "gpt-4o-mini", "openai", 1200, 400, "0.0004", "2.5"),
    ("service", "claude-3-5-haiku", "anthropic", 800, 900, "0.0011", "4"),
    ("embedding", "all-MiniLM-L6-v2", "local", 3000, 0, "0", "0.3"),
]


class Command(BaseCommand):
    help = "Give the demo accounts plans, credits and some usage (idempotent)."

    def handle(self, *args, **options):
        with rls_bypass("demo data: list demo accounts"):
            accounts = list(Account.objects.filter(name__in=DEMO_PLANS))
            fresh = [a for a in accounts if not Subscription.objects.filter(account=a).exists()]
        for account in fresh:
            with account_context(account.id):
                owner = Membership.objects.filter(account=account, role=Role.OWNER).select_related("user").first()
            plan = Plan.objects.get(code=DEMO_PLANS[account.name])
            subscription_comp(account=account, plan=plan, operator=None, reason="demo data")
            wallet_credit(account=account, amount="500", type="bonus", description="Welcome bonus")
            for i, (feature, model, provider, tin, tout, cost, credits) in enumerate(DEMO_CALLS * 3):
                ref = Reference("demo", str(i))
                wallet_debit(account=account, amount=credits, actor=owner.user if owner else None, reference=ref,
                             description=f"{feature} with {model}")  # fmt: skip
                usage_record(account=account, user=owner.user if owner else None, feature=feature, model=model,
                             provider=provider, tokens_in=tin, tokens_out=tout, provider_cost=cost, credits=credits,
                             latency_ms=350 + 40 * i, reference=ref)  # fmt: skip
        with rls_bypass("demo data: every account gets its free plan"):
            rest = list(Account.objects.exclude(pk__in=[a.pk for a in accounts]))
        for account in rest:
            subscription_for(account)
        self.stdout.write(self.style.SUCCESS(f"Billing demo data ready ({len(fresh)} accounts seeded)."))
