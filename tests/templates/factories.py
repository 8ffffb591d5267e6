"""Factories of the service catalog. Prompt templates default to the loopback
registry entry "test-model" (the `chat_model` fixture creates it)."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.tenancy.context import account_context
from templates.models import PromptExperiment, PromptTemplate, Service, ServiceResult
from tests.accounts.factories import AccountFactory, UserFactory

READING_SCHEMA = {
    "type": "object",
    "required": ["summary", "lucky_number"],
    "properties": {
        "summary": {"type": "string", "minLength": 1},
        "lucky_number": {"type": "integer", "minimum": 1, "maximum": 99},
    },
}
READING_PARAMETERS = [
    {"name": "name", "type": "string", "required": True, "max_length": 40, "label": {"en": "Name", "ko": "이름"}},
    {"name": "birth_date", "type": "date", "required": True, "label": {"en": "Birth date", "ko": "생년월일"}},
    {"name": "mood", "type": "string", "enum": ["calm", "curious"], "default": "calm"},
]
VALID_READING = '{"summary": "A bright week ahead.", "lucky_number": 7}'


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("service_type",)

    service_type = factory.Sequence(lambda n: f"reading-{n}")
    category = Service.Category.FORTUNE
    name_en = factory.LazyAttribute(lambda o: f"Reading {o.service_type}")
    name_ko = factory.LazyAttribute(lambda o: f"운세 {o.service_type}")
    description_en = "A reading of the week."
    description_ko = "이번 주 운세 풀이."
    credit_cost = Decimal("10")
    icon = "🔮"


class PromptTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromptTemplate

    service_type = factory.Sequence(lambda n: f"reading-{n}")
    version = factory.Sequence(lambda n: f"v{n + 1}")
    ai_model = "test-model"
    system_prompt = "You are a fortune teller. The reader is {{name}}."
    user_prompt_template = "Read the week of {{name}}, born {{birth_date}}, who feels {{mood}}."
    parameters = factory.LazyFunction(lambda: [dict(p) for p in READING_PARAMETERS])
    output_format = "json"
    validation_schema = factory.LazyFunction(lambda: dict(READING_SCHEMA))
    temperature = Decimal("0.5")
    max_tokens = 400
    is_active = False

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if kwargs.get("is_active") and not kwargs.get("activated_at"):
            kwargs["activated_at"] = timezone.now()
        return super()._create(model_class, *args, **kwargs)


def service_with_template(code: str = "weekly-reading", *, cost="10", **template_fields) -> Service:
    """A service and its active v1 template (JSON output on test-model unless told otherwise)."""
    service = ServiceFactory(service_type=code, credit_cost=Decimal(cost))
    fields = {"version": "v1", "is_active": True, **template_fields}
    PromptTemplateFactory(service_type=code, **fields)
    return service


class ExperimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromptExperiment

    service_type = factory.LazyAttribute(lambda o: o.template_a.service_type)
    template_a = factory.SubFactory(PromptTemplateFactory)
    template_b = factory.SubFactory(
        PromptTemplateFactory, service_type=factory.SelfAttribute("..template_a.service_type")
    )
    traffic_split = 50


class ServiceResultFactory(factory.django.DjangoModelFactory):
    """A finished result row, written as the tenant (row-level security applies)."""

    class Meta:
        model = ServiceResult

    account = factory.SubFactory(AccountFactory)
    user = factory.SubFactory(UserFactory)
    service = factory.SubFactory(ServiceFactory)
    status = ServiceResult.Status.COMPLETED
    input_data = factory.LazyFunction(lambda: {"name": "Minji Kim", "birth_date": "1990-04-01"})
    output_format = "json"
    result_data = factory.LazyFunction(lambda: {"summary": "A bright week ahead.", "lucky_number": 7})
    result_text = VALID_READING
    credits_charged = Decimal("10")
    template_version = "v1"
    ai_model = "test-model"
    tokens_in = 40
    tokens_out = 12
    processing_time_ms = 800

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        with account_context(kwargs["account"].id):
            return super()._create(model_class, *args, **kwargs)
