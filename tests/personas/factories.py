"""Factories for personas. Rows are written as the application writes them:
account personas inside their account's context (RLS WITH CHECK applies),
platform personas under the operators' bypass."""

from __future__ import annotations

from decimal import Decimal

import factory

from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.ai.models import AiModel
from personas.models import Persona
from tests.accounts.factories import AccountFactory

MODEL = "persona-test-model"  # see registry_model()
MODEL_MAX_OUTPUT = 2000


def registry_model(name: str = MODEL, *, max_output_tokens: int = MODEL_MAX_OUTPUT, enabled: bool = True) -> AiModel:
    """A chat model in the registry for personas to name (no server behind it)."""
    model, _ = AiModel.objects.update_or_create(
        name=name,
        defaults={
            "provider": AiModel.Provider.OPENAI, "provider_model": name, "kind": AiModel.Kind.CHAT,
            "context_window": 8192, "max_output_tokens": max_output_tokens, "enabled": enabled,
            "credits_in_per_1k": Decimal("0"), "credits_out_per_1k": Decimal("0"),
        },
    )  # fmt: skip
    return model


class PersonaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Persona

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Persona {n}")
    role_title = "Supply chain advisor"
    system_prompt = factory.Sequence(lambda n: f"You are persona number {n}. Answer briefly and cite the data.")
    model_config = factory.LazyFunction(lambda: {"model": MODEL, "temperature": 0.5, "max_tokens": 500})
    is_public = False

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        account = kwargs.get("account")
        if account is None:
            with rls_bypass("test: platform persona"):
                return super()._create(model_class, *args, **kwargs)
        with account_context(account.id):
            return super()._create(model_class, *args, **kwargs)


class PlatformPersonaFactory(PersonaFactory):
    account = None
    is_public = True
    role_title = "Platform expert"
