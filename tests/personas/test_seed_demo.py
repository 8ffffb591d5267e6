"""The demo platform personas: seeded once, public, on the offline model."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.tenancy.context import rls_bypass
from personas.models import Persona
from personas.services import personas_seed_demo

pytestmark = pytest.mark.django_db


def _rows() -> list[tuple]:
    with rls_bypass("test: read back"):
        return sorted(Persona.objects.values_list("name", "role_title", "account_id", "is_public"))


def test_demo_personas_are_seeded_once_as_public_platform_personas():
    # when seeding twice
    first, second = personas_seed_demo(), personas_seed_demo()
    # then three personas exist, created by the first run only
    assert (first, second) == (3, 0)
    assert _rows() == [
        ("Algorithm Master", "Algorithms and data structures coach", None, True),
        ("Logistics Strategy", "Supply chain and freight strategist", None, True),
        ("TikTok Expert", "Short-form video growth strategist", None, True),
    ]
    with rls_bypass("test: read back"):
        configs = sorted((p.name, p.model_config["model"], len(p.system_prompt) > 300) for p in Persona.objects.all())
    assert configs == [
        ("Algorithm Master", "local-assistant", True),
        ("Logistics Strategy", "local-assistant", True),
        ("TikTok Expert", "local-assistant", True),
    ]


def test_an_operators_edit_survives_a_second_seed():
    personas_seed_demo()
    with rls_bypass("test: operator edit"):
        Persona.objects.filter(name="TikTok Expert").update(role_title="Reels and Shorts strategist")
    call_command("seed_personas", stdout=StringIO())
    assert ("TikTok Expert", "Reels and Shorts strategist", None, True) in _rows()


def test_every_account_sees_the_demo_personas(api_client, tenants):
    personas_seed_demo()
    api_client.force_login(tenants.carol)
    names = [p["name"] for p in api_client.get("/api/v1/personas/?scope=platform").json()["results"]]
    assert names == ["Algorithm Master", "Logistics Strategy", "TikTok Expert"]


def test_the_command_reports_what_it_created():
    out = StringIO()
    call_command("seed_personas", stdout=out)
    call_command("seed_personas", stdout=out)
    assert out.getvalue().splitlines() == ["Demo personas ready (3 created).", "Demo personas ready (0 created)."]
