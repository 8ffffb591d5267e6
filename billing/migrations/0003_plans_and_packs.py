"""The plan catalogue (seed 002 tiers mapped onto seed 003 plan types) and credit packs."""

from decimal import Decimal

from django.db import migrations, models

PLANS = [
    # code, name, plan_type, price, credits, users, creators, voices, storage, generations, trial, order
    ("free", "Free", "individual", "0", "100", 3, 5, 10, 5, 50, 0, 0),
    ("creator", "Creator", "individual", "19", "2000", 3, 10, 10, 50, 1000, 14, 1),
    ("business", "Business", "team", "49", "6000", 10, 20, 25, 200, 5000, 14, 2),
    ("agency", "Agency", "agency", "149", "20000", 50, 100, 100, 1000, 20000, 14, 3),
]
PACKS = [
    ("small", "500 credits", "500", "5.00", 0),
    ("medium", "2,000 credits", "2000", "18.00", 1),
    ("large", "10,000 credits", "10000", "80.00", 2),
]


def load(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    CreditPack = apps.get_model("billing", "CreditPack")
    for code, name, ptype, price, credits, users, creators, voices, storage, gens, trial, order in PLANS:
        Plan.objects.update_or_create(
            code=code,
            defaults=dict(
                name=name, plan_type=ptype, monthly_price=Decimal(price), monthly_credits=Decimal(credits),
                user_limit=users, creator_limit=creators, voice_model_limit=voices, storage_limit_gb=storage,
                monthly_generations=gens, trial_days=trial, sort_order=order,
            ),
        )  # fmt: skip
    for code, name, credits, price, order in PACKS:
        CreditPack.objects.update_or_create(
            code=code, defaults=dict(name=name, credits=Decimal(credits), price=Decimal(price), sort_order=order)
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_rls_and_ledger_triggers")]

    operations = [
        migrations.AddField(
            model_name="idempotencyrecord",
            name="payment",
            field=models.ForeignKey(
                null=True, on_delete=models.deletion.CASCADE, related_name="+", to="billing.payment"
            ),
        ),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
