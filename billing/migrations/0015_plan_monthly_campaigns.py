"""Seed 002 tiers limit the campaigns generated a month (web builder)."""

from django.db import migrations, models

CAMPAIGNS = {"free": 3, "creator": 25, "business": 100, "agency": 500}


def load(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for code, limit in CAMPAIGNS.items():
        Plan.objects.filter(code=code).update(monthly_campaigns=limit)


class Migration(migrations.Migration):
    dependencies = [("billing", "0014_marketplace_transaction_types")]

    operations = [
        migrations.AddField(
            model_name="plan",
            name="monthly_campaigns",
            field=models.PositiveIntegerField(default=3, help_text="Web-builder campaigns created per month."),
        ),
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
