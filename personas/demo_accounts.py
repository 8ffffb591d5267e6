"""The demo accounts' own personas, each reading its account's demo decision unit.

Run by `manage.py seed_assistants_demo` after the knowledge demo. Idempotent: a
persona is found by name in its account; its unit link is (re)set every run.
"""

from __future__ import annotations

from accounts.demo import SECOND_ACCOUNT, TEAM_ACCOUNT, DemoTenant
from accounts.tenancy.context import account_context
from knowledge.demo import demo_unit
from personas.demo import DEMO_MODEL
from personas.models import Persona
from personas.services import persona_create, persona_units_set

ACCOUNT_PERSONAS: dict[str, dict] = {
    TEAM_ACCOUNT: {
        "name": "Acme Shipping Desk",
        "role_title": "Answers customers and staff from the Acme shipping handbook",
        "model_config": {"model": DEMO_MODEL, "temperature": 0.2, "max_tokens": 600},
        "system_prompt": (
            "You are the shipping desk of Acme Logistics. Answer questions about delivery times, prices, "
            "returns, claims and warehouse rules from the company's own documents only, and name the document "
            "you used. When the documents do not say, say so and suggest contacting the account manager."
        ),
    },
    SECOND_ACCOUNT: {
        "name": "Globex Script Editor",
        "role_title": "Keeps scripts and titles in the Globex house style",
        "model_config": {"model": DEMO_MODEL, "temperature": 0.5, "max_tokens": 600},
        "system_prompt": (
            "You are the script editor of Globex Media. Check titles, scripts and episode plans against the "
            "brand voice guide and the episode plan, quote the rule you apply, and keep suggestions short."
        ),
    },
}


def demo_persona(tenant: DemoTenant) -> Persona | None:
    spec = ACCOUNT_PERSONAS.get(tenant.account.name)
    if spec is None:
        return None
    with account_context(tenant.account.id):
        return Persona.objects.filter(account=tenant.account, name=spec["name"]).order_by("created_at").first()


def seed_persona(tenant: DemoTenant) -> tuple[Persona, bool]:
    """The tenant's demo persona, linked to its demo unit. Returns (persona, created now)."""
    persona = demo_persona(tenant)
    created = persona is None
    if created:
        persona = persona_create(account=tenant.account, actor=tenant.owner, **ACCOUNT_PERSONAS[tenant.account.name])
    unit = demo_unit(tenant)
    if unit is not None:
        persona_units_set(persona=persona, actor=tenant.owner, unit_ids=[unit.pk])
    return persona, created
