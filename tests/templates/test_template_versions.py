"""Operators' template versions: validation, new version, activate, roll back, diff, statistics."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from aiplatform.errors import Conflict, InvalidInput, NotFound
from templates.models import PromptTemplate
from templates.services.stats import template_record_use
from templates.services.versions import (
    template_activate,
    template_create,
    template_diff,
    template_new_version,
    template_rollback,
    template_update,
)
from tests.templates.factories import READING_PARAMETERS, READING_SCHEMA, PromptTemplateFactory

pytestmark = pytest.mark.django_db


def _active(service_type="horoscope"):
    return list(
        PromptTemplate.objects.filter(service_type=service_type, is_active=True).values_list("version", flat=True)
    )


def _fields(**overrides):
    fields = {
        "ai_model": "test-model", "system_prompt": "For {{name}}.", "user_prompt_template": "Born {{birth_date}}",
        "parameters": READING_PARAMETERS, "output_format": "json", "validation_schema": READING_SCHEMA,
    }  # fmt: skip
    fields.update(overrides)
    return fields


def test_a_new_template_is_validated_as_a_whole(chat_model):
    # when the prompt uses a placeholder without a parameter, the schema is broken and the model unknown
    with pytest.raises(InvalidInput) as err:
        template_create(
            actor=None, service_type="horoscope",
            **_fields(user_prompt_template="{{name}} {{zodiac}}", validation_schema={"type": "nonsense"},
                      ai_model="no-such-model"),
        )  # fmt: skip
    # then every problem is named and nothing is saved
    fields = err.value.fields
    assert fields["user_prompt_template"] == [
        "Placeholders without a parameter: {{zodiac}}. Define them or remove them."
    ]
    assert fields["validation_schema"][0].startswith("Not a valid JSON Schema at type: 'nonsense' is not valid")
    assert fields["ai_model"][0].startswith("The model 'no-such-model' is not available.")
    assert PromptTemplate.objects.filter(service_type="horoscope").count() == 0


def test_a_schema_on_text_output_and_too_many_tokens_are_refused(chat_model):
    with pytest.raises(InvalidInput) as err:
        template_create(actor=None, service_type="horoscope", **_fields(output_format="text", max_tokens=5000))
    assert err.value.fields == {
        "validation_schema": ["Only JSON output is validated against a schema; clear it or use JSON."],
        "max_tokens": ["test-model writes at most 4096 tokens."],
    }


def test_versions_number_themselves_and_a_new_version_copies_the_text(chat_model, tenants):
    v1 = template_create(actor=tenants.alice, service_type="horoscope", **_fields())
    v2 = template_new_version(template=v1, actor=tenants.alice, temperature="0.20")
    assert (v1.version, v2.version, v2.is_active, v2.usage_count) == ("v1", "v2", False, 0)
    assert (v2.system_prompt, v2.user_prompt_template, v2.parameters) == (v1.system_prompt, v1.user_prompt_template,
                                                                        v1.parameters)  # fmt: skip
    assert (str(v2.temperature), v2.created_by, v2.description) == ("0.20", tenants.alice, "Copy of v1.")
    with pytest.raises(Conflict) as err:
        template_create(actor=None, service_type="horoscope", version="v2", **_fields())
    assert err.value.code == "version_exists"


def test_activate_and_roll_back_keep_exactly_one_active(chat_model):
    # given v1 active, v2 and v3 drafts
    v1 = PromptTemplateFactory(service_type="horoscope", version="v1", is_active=True)
    v2 = PromptTemplateFactory(service_type="horoscope", version="v2")
    v3 = PromptTemplateFactory(service_type="horoscope", version="v3")
    PromptTemplateFactory(service_type="other", version="v1", is_active=True)
    # when v2 then v3 are activated
    template_activate(template=v2)
    assert _active() == ["v2"]
    template_activate(template=v3)
    assert _active() == ["v3"]
    # and the operator rolls back twice
    assert template_rollback(service_type="horoscope").version == "v2"
    assert _active() == ["v2"]
    assert template_rollback(service_type="horoscope").version == "v3"
    # then there was always one active version, and other services were not touched
    assert _active() == ["v3"] and _active("other") == ["v1"]
    v1.refresh_from_db()
    assert v1.is_active is False and v1.activated_at is not None


def test_rollback_without_history_is_a_404(chat_model):
    PromptTemplateFactory(service_type="horoscope", version="v1", is_active=True)
    with pytest.raises(NotFound):
        template_rollback(service_type="horoscope")


def test_activating_an_invalid_version_changes_nothing(chat_model):
    PromptTemplateFactory(service_type="horoscope", version="v1", is_active=True)
    broken = PromptTemplateFactory(service_type="horoscope", version="v2", user_prompt_template="{{nope}}")
    with pytest.raises(InvalidInput):
        template_activate(template=broken)
    assert _active() == ["v1"]


def test_the_database_refuses_a_second_active_version():
    PromptTemplateFactory(service_type="horoscope", version="v1", is_active=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        PromptTemplateFactory(service_type="horoscope", version="v2", is_active=True)


def test_active_or_used_versions_are_frozen(chat_model):
    active = PromptTemplateFactory(service_type="horoscope", version="v1", is_active=True)
    with pytest.raises(Conflict) as err:
        template_update(template=active, actor=None, system_prompt="Changed")
    assert err.value.code == "template_frozen"
    draft = PromptTemplateFactory(service_type="horoscope", version="v2")
    assert template_update(template=draft, actor=None, system_prompt="Dear {{name}}").system_prompt == "Dear {{name}}"


def test_diff_shows_two_versions_side_by_side():
    a = PromptTemplateFactory(service_type="horoscope", version="v1", system_prompt="Be kind.\nBe brief.")
    b = PromptTemplateFactory(service_type="horoscope", version="v2", system_prompt="Be kind.\nBe <b>bold</b>.",
                              temperature="0.9")  # fmt: skip
    a.refresh_from_db()
    b.refresh_from_db()
    diff = template_diff(a, b)
    system = diff.texts[0]
    assert (system.label, system.changed) == ("System prompt", True)
    assert "Be &lt;b&gt;bold&lt;/b&gt;." in system.table  # escaped, never markup
    assert [t.changed for t in diff.texts[1:]] == [False, False, False]
    changed = {row.label: (str(row.a), str(row.b)) for row in diff.settings if row.changed}
    assert changed == {"Temperature": ("0.50", "0.90")}


def test_statistics_are_running_averages_updated_in_sql():
    template = PromptTemplateFactory(service_type="horoscope", version="v1")
    template_record_use(template_id=template.pk, tokens=100, ms=1000)
    template_record_use(template_id=template.pk, tokens=51, ms=2001)
    template.refresh_from_db()
    assert (template.usage_count, template.avg_tokens, template.avg_response_time_ms) == (2, 75, 1500)
    assert (template.tokens_total, template.response_time_total_ms) == (151, 3001)


@pytest.mark.django_db(transaction=True)
def test_concurrent_uses_lose_no_update():
    template = PromptTemplateFactory(service_type="horoscope", version="v1")
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        for _ in range(25):
            template_record_use(template_id=template.pk, tokens=10, ms=100)
        connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    template.refresh_from_db()
    assert (template.usage_count, template.tokens_total, template.avg_tokens) == (100, 1000, 10)
