"""Registry entries for the gateway tests."""

from __future__ import annotations

from decimal import Decimal

import factory

from aiplatform.ai.models import AiModel


class AiModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AiModel
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"model-{n}")
    provider = AiModel.Provider.OPENAI
    provider_model = "loopback-1"
    kind = AiModel.Kind.CHAT
    context_window = 8192
    max_output_tokens = 1024
    credits_in_per_1k = Decimal("1")
    credits_out_per_1k = Decimal("2")
    price_in_per_mtok = Decimal("0.15")
    price_out_per_mtok = Decimal("0.6")
