"""Seed the model registry: the offline model (enabled, the embedded default) and
hosted models at their list prices, disabled until an operator sets their keys.

Credits: one credit sells for about one US cent (billing packs: 500 for $5,
10,000 for $80); hosted models are priced at roughly three times what the
provider charges us. Existing rows are left as operators edited them."""

from decimal import Decimal

from django.db import migrations

MODELS = [
    # name, display, provider, provider model, kind, context, max out, dims, $in/M, $out/M, cr in/1k, cr out/1k, on
    ("local-assistant", "Local assistant (offline)", "local", "offline-extractive-1", "chat", 8192, 1024, None,
     "0", "0", "1", "1", True),
    ("gpt-4o-mini", "GPT-4o mini", "openai", "gpt-4o-mini", "chat", 128000, 16384, None,
     "0.15", "0.60", "0.05", "0.2", False),
    ("gpt-4o", "GPT-4o", "openai", "gpt-4o", "chat", 128000, 16384, None,
     "2.50", "10.00", "0.75", "3", False),
    ("claude-sonnet-4", "Claude Sonnet 4", "anthropic", "claude-sonnet-4-20250514", "chat", 200000, 64000, None,
     "3.00", "15.00", "0.9", "4.5", False),
    ("text-embedding-3-small", "OpenAI text-embedding-3-small", "openai", "text-embedding-3-small", "embedding",
     8191, 0, 1536, "0.02", "0", "0.01", "0", False),
]


def seed(apps, schema_editor):
    AiModel = apps.get_model("ai", "AiModel")
    for (name, display, provider, provider_model, kind, context, max_out, dims, price_in, price_out, cr_in, cr_out,
         enabled) in MODELS:
        AiModel.objects.get_or_create(
            name=name,
            defaults=dict(
                display_name=display, provider=provider, provider_model=provider_model, kind=kind,
                context_window=context, max_output_tokens=max_out, dimensions=dims,
                price_in_per_mtok=Decimal(price_in), price_out_per_mtok=Decimal(price_out),
                credits_in_per_1k=Decimal(cr_in), credits_out_per_1k=Decimal(cr_out), enabled=enabled,
            ),
        )


def unseed(apps, schema_editor):
    apps.get_model("ai", "AiModel").objects.filter(name__in=[row[0] for row in MODELS]).delete()


class Migration(migrations.Migration):
    dependencies = [("ai", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
