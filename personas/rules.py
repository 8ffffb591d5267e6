"""Who may do what with a persona, decided in one place for the API, the pages
and the services.

* Platform personas are read-only outside the admin (operators edit them there).
* Any member of an account (not a viewer) creates account personas.
* Owners and admins edit and delete every persona of their account; a member
  edits and deletes the ones they created.
* The system prompt is shown exactly to those who may edit the persona (and to
  operators, in the admin only): reading a persona is not reading its prompt.
* Which of an account's decision units a persona reads is chosen by those who
  may edit an account persona, and for a platform persona by the account's
  owners and admins (the link is the account's own, not the platform's).
"""

from __future__ import annotations

from accounts.models import Membership, Role

from .models import Persona


def persona_can_create(membership: Membership | None) -> bool:
    return membership is not None and membership.role_enum.at_least(Role.MEMBER)


def persona_can_edit(persona: Persona, membership: Membership | None) -> bool:
    if membership is None or persona.account_id is None or persona.account_id != membership.account_id:
        return False
    role = membership.role_enum
    if role.at_least(Role.ADMIN):
        return True
    return (
        role.at_least(Role.MEMBER) and persona.created_by_id is not None and persona.created_by_id == membership.user_id
    )


def persona_can_see_prompt(persona: Persona, membership: Membership | None) -> bool:
    return persona_can_edit(persona, membership)


def persona_can_set_units(persona: Persona, membership: Membership | None) -> bool:
    if membership is None:
        return False
    if persona.account_id is None:
        return membership.role_enum.at_least(Role.ADMIN)
    return persona_can_edit(persona, membership)
