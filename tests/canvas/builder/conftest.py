"""Fixtures of the web builder tests."""

from __future__ import annotations

import json

import pytest

from tests.billing.factories import fund


@pytest.fixture
def builder_model(chat_model, settings):
    """The builder generates with the loopback model ("test-model")."""
    settings.BUILDER_GENERATION_MODEL = chat_model.name
    settings.BUILDER_GENERATION_HOLD = "20"
    return chat_model


@pytest.fixture
def funded(tenants):
    fund(tenants.a, "100")
    return tenants


def components_answer(*components) -> str:
    return json.dumps({"components": list(components)})


HERO = {"name": "Hero", "component_type": "hero_section", "html": "<section><h1>Run further</h1></section>",
        "css": ".hero{color:#123}"}  # fmt: skip
FORM = {"name": "Sign-up", "component_type": "form",
        "html": '<form data-track-conversion="lead"><input type="email" name="email"><button>Join</button></form>'}  # fmt: skip  # noqa: E501
