"""Template versions: create, change a draft, copy into a new version, activate,
roll back, and compare two versions side by side.

Activation is one transaction that locks the service's templates, switches the
old version off and the new one on; the partial unique index
(one active per service type) makes a second active version impossible even if
two operators click at the same moment.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from aiplatform.errors import Conflict, InvalidInput, NotFound
from templates.models import PromptTemplate

EDITABLE_FIELDS = (
    "ai_model", "system_prompt", "user_prompt_template", "parameters", "output_format", "validation_schema",
    "temperature", "max_tokens", "description", "author",
)  # fmt: skip
_NUMBERED = re.compile(r"^v(\d+)$")


def _invalid(exc: ValidationError) -> InvalidInput:
    fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
    return InvalidInput(gettext("The template is not valid."), fields=fields)


def _clean(template: PromptTemplate) -> None:
    try:
        # Uniqueness is left to the database (a race-free 409 below), not checked with a query first.
        template.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise _invalid(exc)


def _save(template: PromptTemplate) -> PromptTemplate:
    _clean(template)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise Conflict(
            gettext("Version %(version)s of %(service_type)s exists already.")
            % {"version": template.version, "service_type": template.service_type},
            code="version_exists",
        )
    return template


def next_version(service_type: str) -> str:
    """v<highest number + 1>, counting only versions named v<number>."""
    numbers = [
        int(m.group(1))
        for v in PromptTemplate.objects.filter(service_type=service_type).values_list("version", flat=True)
        if (m := _NUMBERED.match(v))
    ]
    return f"v{max(numbers, default=0) + 1}"


def template_create(*, actor, service_type: str, version: str | None = None, **fields) -> PromptTemplate:
    """A new, inactive version."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(gettext("Unknown template fields."), fields={f: ["Unknown field."] for f in sorted(unknown)})
    template = PromptTemplate(
        service_type=service_type, version=version or next_version(service_type), created_by=actor, **fields
    )
    return _save(template)


def template_update(*, template: PromptTemplate, actor, **fields) -> PromptTemplate:
    """Change a draft. Active or used versions are frozen: results point at their text."""
    if template.is_frozen:
        raise Conflict(
            gettext(
                "%(service_type)s %(version)s has been active or used, so it cannot change. "
                "Create a new version from it instead."
            )
            % {"service_type": template.service_type, "version": template.version},
            code="template_frozen",
        )
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(gettext("Unknown template fields."), fields={f: ["Unknown field."] for f in sorted(unknown)})
    for name, value in fields.items():
        setattr(template, name, value)
    return _save(template)


def template_new_version(*, template: PromptTemplate, actor, **overrides) -> PromptTemplate:
    """A copy of `template` under the next version number, inactive, with fresh statistics."""
    fields = {name: getattr(template, name) for name in EDITABLE_FIELDS}
    fields.update(overrides)
    fields["description"] = overrides.get("description", f"Copy of {template.version}. {template.description}".strip())
    return template_create(actor=actor, service_type=template.service_type, **fields)


def template_activate(*, template: PromptTemplate, actor=None) -> PromptTemplate:
    """Make `template` the version that runs; the previous one stops, in the same transaction."""
    _clean(template)
    with transaction.atomic():
        # Lock the service's versions so concurrent activations run one after the other.
        list(PromptTemplate.objects.select_for_update().filter(service_type=template.service_type))
        PromptTemplate.objects.filter(service_type=template.service_type, is_active=True).exclude(
            pk=template.pk
        ).update(is_active=False, updated_at=timezone.now())
        now = timezone.now()
        PromptTemplate.objects.filter(pk=template.pk).update(is_active=True, activated_at=now, updated_at=now)
    template.refresh_from_db()
    return template


def template_rollback(*, service_type: str, actor=None) -> PromptTemplate:
    """Activate the version that was active before the current one."""
    previous = (
        PromptTemplate.objects.filter(service_type=service_type, is_active=False, activated_at__isnull=False)
        .order_by("-activated_at")
        .first()
    )
    if previous is None:
        raise NotFound(
            gettext("%(service_type)s has no earlier active version to roll back to.") % {"service_type": service_type}
        )
    return template_activate(template=previous, actor=actor)


# --- side-by-side comparison ------------------------------------------------------------

TEXT_FIELDS = (("system_prompt", "System prompt"), ("user_prompt_template", "User prompt"),
               ("parameters", "Parameters"), ("validation_schema", "Validation schema"))  # fmt: skip
SETTING_FIELDS = (("ai_model", "Model"), ("output_format", "Output format"), ("temperature", "Temperature"),
                  ("max_tokens", "Max tokens"), ("is_active", "Active"), ("usage_count", "Used"),
                  ("avg_tokens", "Average tokens"), ("avg_response_time_ms", "Average response time (ms)"))  # fmt: skip


@dataclass(frozen=True)
class TextDiff:
    label: str
    changed: bool
    table: SafeString  # difflib's HTML table, every value escaped by difflib


@dataclass(frozen=True)
class SettingRow:
    label: str
    a: object
    b: object

    @property
    def changed(self) -> bool:
        return self.a != self.b


@dataclass(frozen=True)
class TemplateDiff:
    a: PromptTemplate
    b: PromptTemplate
    texts: list[TextDiff]
    settings: list[SettingRow]


def _lines(value) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, str):
        value = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
    return value.splitlines()


def template_diff(a: PromptTemplate, b: PromptTemplate) -> TemplateDiff:
    """Two versions side by side: every prompt and JSON field as a line diff, the settings as rows."""
    html = difflib.HtmlDiff(tabsize=2)
    texts = []
    for name, label in TEXT_FIELDS:
        left, right = _lines(getattr(a, name)), _lines(getattr(b, name))
        table = html.make_table(left, right, escape(a.version), escape(b.version), context=False)
        # difflib writes every space as &nbsp;: plain spaces let the page wrap long prompt lines at words.
        table = table.replace("&nbsp;", " ")
        texts.append(TextDiff(label, left != right, mark_safe(table)))  # noqa: S308 (difflib escapes the text)
    settings = [SettingRow(label, getattr(a, name), getattr(b, name)) for name, label in SETTING_FIELDS]
    return TemplateDiff(a, b, texts, settings)
