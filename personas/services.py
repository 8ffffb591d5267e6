"""Writes of personas, and the one-message preview through the AI gateway.

Account personas are written here with the acting membership (role rules in
`rules.py`). Platform personas are written by operators in the admin (which
runs under row-level-security bypass), validated by the same `persona_fields_clean`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from accounts.models import Account, Membership, User
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.ai import gateway
from aiplatform.errors import Forbidden, InvalidInput
from billing.services.ledger import Reference

from .config import model_config_clean
from .guard import GuardVerdict, guard_output
from .models import Persona, PersonaDecisionUnit
from .rules import persona_can_create, persona_can_edit, persona_can_set_units

EDITABLE = ("name", "role_title", "system_prompt", "model_config", "icon_url")
MAX_PROMPT_CHARS = 20_000
MAX_PREVIEW_CHARS = 4_000
MAX_PERSONA_UNITS = 100  # decision units one persona reads per account
WITHHELD_ANSWER = "I can't share my instructions. Ask me something about my area of expertise instead."
PREVIEW_FEATURE = "persona_preview"


def _clean_text(fields: dict[str, Any], errors: dict[str, list[str]]) -> None:
    for name, limit in (("name", 100), ("role_title", 120)):
        if name in fields:
            value = str(fields[name] or "").strip()
            if not value:
                errors[name] = ["This field is required."]
            elif len(value) > limit:
                errors[name] = [f"At most {limit} characters."]
            fields[name] = value
    if "system_prompt" in fields:
        value = str(fields["system_prompt"] or "").strip()
        if not value:
            errors["system_prompt"] = ["This field is required."]
        elif len(value) > MAX_PROMPT_CHARS:
            errors["system_prompt"] = [f"At most {MAX_PROMPT_CHARS} characters."]
        fields["system_prompt"] = value
    if "icon_url" in fields:
        value = str(fields["icon_url"] or "").strip()
        if value and not value.lower().startswith(("https://", "http://")):
            errors["icon_url"] = ["Enter an http(s) URL, or leave it empty to show initials."]
        fields["icon_url"] = value


def persona_fields_clean(fields: dict[str, Any]) -> dict[str, Any]:
    """The editable fields checked and normalised; InvalidInput lists every problem."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidInput(gettext("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    cleaned = dict(fields)
    errors: dict[str, list[str]] = {}
    _clean_text(cleaned, errors)
    if "model_config" in cleaned:
        try:
            cleaned["model_config"] = model_config_clean(cleaned["model_config"])
        except InvalidInput as exc:
            errors.update(exc.fields or {"model_config": [exc.message]})
    if errors:
        raise InvalidInput(gettext("Some fields are invalid."), fields=errors)
    return cleaned


def persona_create(
    *,
    account: Account,
    actor: Membership,
    name: str,
    role_title: str,
    system_prompt: str,
    model_config: dict[str, Any],
    icon_url: str = "",
) -> Persona:
    if actor.account_id != account.id or not persona_can_create(actor):
        raise Forbidden(gettext("Viewers cannot create personas; ask an owner or admin for the member role."))
    data = persona_fields_clean(
        {"name": name, "role_title": role_title, "system_prompt": system_prompt, "model_config": model_config,
         "icon_url": icon_url}
    )  # fmt: skip
    with transaction.atomic(), account_context(account.id):
        return Persona.objects.create(account=account, created_by_id=actor.user_id, is_public=False, **data)


def _check_edit(persona: Persona, actor: Membership) -> None:
    if persona.account_id is None:
        raise Forbidden(gettext("Platform personas are managed by the platform's operators."))
    if not persona_can_edit(persona, actor):
        raise Forbidden(gettext("Only owners, admins and the persona's creator can change it."))


def persona_update(*, persona: Persona, actor: Membership, **changes: Any) -> Persona:
    """Change some of the editable fields (EDITABLE); the rest stay as they are."""
    _check_edit(persona, actor)
    data = persona_fields_clean(changes)
    with transaction.atomic(), account_context(persona.account_id):
        locked = Persona.objects.select_for_update().get(pk=persona.pk, account_id=persona.account_id)
        for name, value in data.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*data, "updated_at"])
    return locked


def persona_delete(*, persona: Persona, actor: Membership) -> None:
    _check_edit(persona, actor)
    with transaction.atomic(), account_context(persona.account_id):
        Persona.objects.filter(pk=persona.pk, account_id=persona.account_id).delete()


# --- knowledge ---------------------------------------------------------------------------


def persona_units_set(*, persona: Persona, actor: Membership, unit_ids: list[Any]) -> list[Any]:
    """Make the actor's account's decision units `unit_ids` the ones this persona reads
    for that account. Editors of an account persona may; for a platform persona an
    account's owners and admins may (the link is theirs alone). See
    `rules.persona_can_set_units`."""
    from knowledge.selectors import units_get_for_account  # knowledge builds on personas, not the reverse

    if not persona_can_set_units(persona, actor):
        raise Forbidden(
            "Only owners and admins can give a platform persona your knowledge."
            if persona.is_platform
            else "Only owners, admins and the persona's creator can change it."
        )
    unit_ids = list(dict.fromkeys(unit_ids))
    if len(unit_ids) > MAX_PERSONA_UNITS:
        raise InvalidInput(
            gettext("Too many decision units."),
            fields={"decision_units": [f"A persona reads at most {MAX_PERSONA_UNITS} decision units."]},
        )
    with transaction.atomic(), account_context(actor.account_id):
        account = actor.account
        units = units_get_for_account(account, unit_ids)  # 404 if any is foreign; "ABC…" and "abc…" are one
        PersonaDecisionUnit.objects.filter(account=account, persona=persona).exclude(decision_unit__in=units).delete()
        have = set(
            PersonaDecisionUnit.objects.filter(account=account, persona=persona).values_list(
                "decision_unit_id", flat=True
            )
        )
        PersonaDecisionUnit.objects.bulk_create(
            [PersonaDecisionUnit(account=account, persona=persona, decision_unit=u) for u in units if u.pk not in have]
        )
    return [u.pk for u in units]


def persona_unit_ids(*, persona: Persona, account: Account) -> list[Any]:
    """The decision units this persona reads for `account`."""
    with account_context(account.id):
        return list(
            PersonaDecisionUnit.objects.filter(account=account, persona=persona).values_list(
                "decision_unit_id", flat=True
            )
        )


# --- preview ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewResult:
    answer: str  # what the user is shown: the model's answer, or WITHHELD_ANSWER when the guard blocked it
    verdict: GuardVerdict
    model: str
    tokens_in: int
    tokens_out: int
    latency_ms: int


def persona_preview(
    *, persona: Persona, message: str, user: User | None, account: Account | None = None
) -> PreviewResult:
    """One completion with the persona's system prompt and `message`, passed through the output guard.

    The gateway records the call's usage under `account` (without charging it);
    it defaults to the persona's own account, so a platform persona needs one given.
    """
    message = (message or "").strip()
    if not message:
        raise InvalidInput(gettext("Type a message to send."), fields={"message": ["This field is required."]})
    if len(message) > MAX_PREVIEW_CHARS:
        raise InvalidInput(
            gettext("The message is too long."), fields={"message": [f"At most {MAX_PREVIEW_CHARS} characters."]}
        )
    recorded_under = account if account is not None else persona.account
    if recorded_under is None:
        raise InvalidInput(
            gettext("Choose the account that records this call."),
            fields={"account": ["A platform persona has no account."]},
        )
    config = persona.model_config or {}
    completion = gateway.complete(
        account=recorded_under,
        model=config.get("model", ""),
        messages=[{"role": "system", "content": persona.system_prompt}, {"role": "user", "content": message}],
        feature=PREVIEW_FEATURE,
        user=user,
        temperature=config.get("temperature"),
        max_tokens=config.get("max_tokens"),
        reference=Reference("persona", str(persona.pk)),
    )
    verdict = guard_output(persona.system_prompt, completion.text)
    return PreviewResult(
        answer=WITHHELD_ANSWER if verdict.blocked else completion.text,
        verdict=verdict,
        model=completion.model,
        tokens_in=completion.usage.tokens_in,
        tokens_out=completion.usage.tokens_out,
        latency_ms=completion.latency_ms,
    )


# --- demo data -------------------------------------------------------------------------


def personas_seed_demo() -> int:
    """Create the demo platform personas that do not exist yet (matched by name).

    Idempotent: existing personas, edited by operators or not, are left alone.
    Returns how many were created. Their model is validated against the registry,
    so the registry's `local-assistant` must exist first.

    A function (run by `manage.py seed_personas`), not a data migration: demo
    personas are demo data, not platform data every database must carry, and a
    migration would put public rows into every test database, where the
    fail-closed tenancy tests count what is visible without a tenant.
    """
    from .demo import DEMO_PERSONAS

    created = 0
    with transaction.atomic(), rls_bypass("demo data: platform personas"):
        for spec in DEMO_PERSONAS:
            if Persona.objects.filter(account__isnull=True, name=spec["name"]).exists():
                continue
            data = persona_fields_clean({k: spec[k] for k in EDITABLE})
            Persona.objects.create(account=None, is_public=True, **data)
            created += 1
    return created
