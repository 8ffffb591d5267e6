"""Scripts: from a content piece, research perspectives and a rewritten script in
the account's brand voice (the requesting user's brand profile: brand name and
description, persona, target audience, style preferences).

Same path as analysis (canvas/services/analysis.py): `script_start` creates the
script row (pending) and a `script_generation` job holding
CANVAS_SCRIPT_CREDITS; the job asks the gateway for JSON valid against
SCRIPT_SCHEMA with one corrective retry; the prompt, model, status and cost are
recorded on the row; `script_update` edits the result afterwards.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts.models import Membership
from accounts.tenancy.context import account_context
from aiplatform.ai.registry import default_model, model_entry
from aiplatform.ai.structured import complete_json
from aiplatform.ai.types import ChatMessage
from aiplatform.errors import Conflict, InvalidInput
from billing.services.limits import generation_check
from canvas.models import ContentAnalysis, ContentPiece, GeneratedScript, JobType
from canvas.models.common import WorkStatus

from . import queue
from .analysis import piece_text, price_for
from .content import _editable

SCRIPT_MAX = 100_000
INSTRUCTIONS_MAX = 2000

SCRIPT_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["research_perspectives", "rewritten_script"],
    "properties": {
        "research_perspectives": {
            "type": "array",
            "minItems": 1,
            "maxItems": 8,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["angle", "insight"],
                "properties": {
                    "angle": {"type": "string", "minLength": 1, "maxLength": 300},
                    "insight": {"type": "string", "minLength": 1, "maxLength": 2000},
                },
            },
        },
        "rewritten_script": {"type": "string", "minLength": 1, "maxLength": 20000},
    },
}

SYSTEM = (
    "You are a scriptwriter for a creator. From the source content, first give research perspectives: distinct "
    "angles on the topic, each with the insight that makes it worth a video. Then rewrite the content as a new, "
    "original short-form video script in the creator's brand voice described below (hook, body, call to action), "
    "never copying the source's wording. Answer with one JSON object only: research_perspectives "
    "([{angle, insight}]) and rewritten_script (the script as plain text)."
)

INVALID = gettext_noop(
    "The AI's answer did not have the expected form, even after it was asked to correct it. Nothing was charged; "
    "retry the script."
)


def script_model() -> str:
    return settings.CANVAS_SCRIPT_MODEL or default_model()


def brand_voice(user) -> str:
    """The brand fields of the user's profile, as the model reads them ("" when none are set)."""
    profile = getattr(user, "profile", None) if user is not None else None
    if profile is None:
        return ""
    lines = []
    for label, value in (
        ("Brand", profile.brand_name), ("About the brand", profile.brand_description),
        ("Persona", profile.persona_description), ("Target audience", profile.target_audience),
    ):  # fmt: skip
        if value:
            lines.append(f"{label}: {value}")
    if profile.content_style_preferences:
        prefs = ", ".join(f"{k}: {v}" for k, v in sorted(profile.content_style_preferences.items()))
        lines.append(f"Style preferences: {prefs}")
    return "\n".join(lines)


def _prompt(piece: ContentPiece, user, instructions: str) -> str:
    voice = brand_voice(user) or "No brand profile is set: write in a clear, friendly, direct voice."
    parts = [f"Brand voice:\n{voice}", f"Source content:\n{piece_text(piece)}"]
    analysis = (
        ContentAnalysis.objects.filter(content_piece=piece, analysis_status=WorkStatus.COMPLETED)
        .order_by("-analyzed_at")
        .first()
    )
    if analysis is not None:
        parts.append(
            f"Analysis of the source:\nHook: {analysis.hook_analysis}\nBody: {analysis.body_analysis}\n"
            f"CTA: {analysis.cta_analysis}\nStyle: {analysis.content_style_analysis}"
        )
    if instructions:
        parts.append(f"Extra instructions from the creator:\n{instructions}")
    return "\n\n".join(parts)


def script_start(
    *, piece: ContentPiece, actor: Membership, instructions: Any = "", priority: int = 0
) -> tuple[GeneratedScript, Any]:
    """Queue a script from `piece`. Returns (script, job)."""
    if piece.project is None:
        raise Conflict(gettext("Place this piece on a project before writing a script from it."), code="not_on_project")
    _editable(piece.project, actor)
    if instructions is None:
        instructions = ""
    if not isinstance(instructions, str) or len(instructions) > INSTRUCTIONS_MAX:
        raise InvalidInput(
            gettext("At most %(INSTRUCTIONS_MAX)s characters.") % {"INSTRUCTIONS_MAX": INSTRUCTIONS_MAX},
            fields={"instructions": [f"At most {INSTRUCTIONS_MAX} characters."]},
        )
    model = script_model()
    model_entry(model)
    with account_context(piece.account_id):
        generation_check(account=piece.project.account)
        prompt = _prompt(piece, actor.user, instructions.strip())
        script = GeneratedScript.objects.create(
            account_id=piece.account_id, content_piece=piece, user=actor.user,
            original_script=piece.transcript or piece.description, generation_prompt=f"{SYSTEM}\n\n{prompt}",
            ai_model_used=model, generation_status=WorkStatus.PENDING,
        )  # fmt: skip
        job = queue.job_enqueue(
            account=piece.project.account, user=actor.user, job_type=JobType.SCRIPT_GENERATION, priority=priority,
            data={"script_id": str(script.pk), "content_piece_id": str(piece.pk), "model": model},
        )  # fmt: skip
    return script, job


def _estimate(data: dict) -> Decimal:
    return price_for(data.get("model") or script_model(), settings.CANVAS_SCRIPT_CREDITS)


def script_job(ctx: queue.JobContext) -> queue.JobResult:
    data = ctx.data
    with account_context(ctx.account.id):
        script = GeneratedScript.objects.filter(pk=data["script_id"]).first()
        if script is None:
            raise queue.JobFailed(gettext_noop("The script was deleted before it was written."))
        GeneratedScript.objects.filter(pk=script.pk).update(generation_status=WorkStatus.PROCESSING)
    ctx.progress(10)
    model = data.get("model") or script_model()
    system, _, prompt = script.generation_prompt.partition("\n\n")
    answer = complete_json(
        account=ctx.account, user=ctx.user, model=model, schema=SCRIPT_SCHEMA, feature="script_generation",
        messages=[ChatMessage("system", system), ChatMessage("user", prompt)], reference=ctx.reference,
        max_tokens=min(3000, model_entry(model).max_output_tokens),
    )  # fmt: skip
    ctx.progress(90)
    if not answer.ok:
        raise queue.JobFailed(INVALID)
    return queue.JobResult(
        credits=price_for(model, settings.CANVAS_SCRIPT_CREDITS), usage_record_id=answer.usage_record_id,
        model=answer.model, provider=answer.provider, tokens_in=answer.tokens_in, tokens_out=answer.tokens_out,
        output={"script_id": str(script.pk), "attempts": answer.attempts, "answer": answer.data},
    )  # fmt: skip


def _completed(job, charged: Decimal, result: queue.JobResult) -> None:
    from billing.services.usage import count

    script = GeneratedScript.objects.filter(account_id=job.account_id, pk=job.job_data.get("script_id")).first()
    if script is None:
        return
    answer = result.output["answer"]
    script.research_perspectives = answer["research_perspectives"]
    script.rewritten_script = answer["rewritten_script"]
    script.generation_status = WorkStatus.COMPLETED
    script.generated_at = timezone.now()
    script.ai_model_used = result.model or script.ai_model_used
    script.generation_cost_credits = charged
    script.save()
    count(job.account_id, job.user_id, scripts_generated=1)


def _failed(job, message: str) -> None:
    GeneratedScript.objects.filter(account_id=job.account_id, pk=job.job_data.get("script_id")).exclude(
        generation_status=WorkStatus.COMPLETED
    ).update(generation_status=WorkStatus.FAILED, updated_at=timezone.now())


def register() -> None:
    queue.register_job_type(
        JobType.SCRIPT_GENERATION, script_job, provider="gateway", estimate=_estimate, feature="script_generation",
        on_complete=_completed, on_fail=_failed,
    )  # fmt: skip


def script_update(*, script: GeneratedScript, actor: Membership, **changes: Any) -> GeneratedScript:
    """Edit a script afterwards (editors of the piece's project; not while it is being written)."""
    piece = script.content_piece
    if piece is None or piece.project is None:
        raise Conflict(gettext("This script's content piece is gone; it cannot be edited."), code="orphaned")
    _editable(piece.project, actor)
    if script.generation_status in (WorkStatus.PENDING, WorkStatus.PROCESSING):
        raise Conflict(gettext("This script is still being written; edit it when it is done."), code="in_progress")
    fields = []
    for name in ("rewritten_script", "original_script"):
        if name in changes:
            value = changes[name] or ""
            if not isinstance(value, str) or len(value) > SCRIPT_MAX:
                raise InvalidInput(
                    gettext("At most %(SCRIPT_MAX)s characters.") % {"SCRIPT_MAX": SCRIPT_MAX},
                    fields={name: [f"At most {SCRIPT_MAX} characters."]},
                )
            setattr(script, name, value)
            fields.append(name)
    if "research_perspectives" in changes:
        value = changes["research_perspectives"]
        if not isinstance(value, list):
            raise InvalidInput(gettext("Must be a list."), fields={"research_perspectives": ["Must be a list."]})
        script.research_perspectives = value
        fields.append("research_perspectives")
    if fields:
        with account_context(script.account_id):
            script.save(update_fields=[*fields, "updated_at"])
    return script
