"""The account's customer and saved card at the payment provider (automatic top-ups)."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

from accounts.tenancy.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_row_level_security"),
        ("billing", "0006_fast_debit_and_leaner_ledger_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="PaymentCustomer",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("provider", models.CharField(max_length=30)),
                ("customer_ref", models.CharField(max_length=255)),
                ("payment_method_ref", models.CharField(blank=True, max_length=255)),
                ("card_brand", models.CharField(blank=True, max_length=30)),
                ("card_last4", models.CharField(blank=True, max_length=4)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "account",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.account"
                    ),
                ),
            ],
            options={
                "abstract": False,
            },
        ),
        EnableTenantRLS("PaymentCustomer"),
    ]
