"""Content analysis: a queue job asks the AI gateway for the hook, body, CTA and
style of a piece, its hashtags, mentions, trending elements, and engagement and
sentiment scores, as JSON validated against ANALYSIS_SCHEMA with one corrective
retry (aiplatform/ai/structured.py, the paid services' rule).

Request (`analysis_start`): editors of the piece's project; the plan's monthly
generations are checked; an analysis row (pending) and a processing job
(`content_analysis`) are created in one transaction, the job holding
CANVAS_ANALYSIS_CREDITS (nothing when the registry sends the model to the
offline provider: its filler is not sold). Worker (`analysis_job`): the row goes
processing, the model answers, a valid answer is stored and the hold settled in
the queue's completing transaction (`analysis_cost_credits` = what was charged);
an answer that stays invalid, or a provider failure once the attempts are spent,
fails the row and releases the hold. Poll `/api/v1/jobs/{job}/`, or
`/api/v1/content-pieces/{id}/analyses/`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts.models import Membership
from accounts.tenancy.context import account_context
from aiplatform.ai.errors import ModelUnavailable
from aiplatform.ai.registry import default_model, model_entry
from aiplatform.ai.structured import complete_json
from aiplatform.ai.types import ChatMessage
from billing.services.limits import generation_check
from canvas.models import ContentAnalysis, ContentPiece, JobType
from canvas.models.common import WorkStatus

from . import queue
from .content import _editable

OFFLINE_PROVIDER = "local"

ANALYSIS_SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "hook_analysis",
        "body_analysis",
        "cta_analysis",
        "content_style_analysis",
        "hashtags",
        "mentions",
        "trending_elements",
        "engagement_score",
        "sentiment_score",
    ],  # fmt: skip
    "properties": {
        "hook_analysis": {"type": "string", "minLength": 1, "maxLength": 4000},
        "body_analysis": {"type": "string", "minLength": 1, "maxLength": 4000},
        "cta_analysis": {"type": "string", "minLength": 1, "maxLength": 4000},
        "content_style_analysis": {"type": "string", "minLength": 1, "maxLength": 4000},
        "hashtags": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 100}},
        "mentions": {"type": "array", "maxItems": 50, "items": {"type": "string", "maxLength": 100}},
        "trending_elements": {
            "type": "object",
            "additionalProperties": False,
            "required": ["formats", "topics", "sounds"],
            "properties": {
                "formats": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 200}},
                "topics": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 200}},
                "sounds": {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 200}},
            },
        },
        "engagement_score": {"type": "number", "minimum": 0, "maximum": 100},
        "sentiment_score": {"type": "number", "minimum": -1, "maximum": 1},
    },
}

SYSTEM = (
    "You analyse short-form social media content for a creator studio. Read the piece and answer with one JSON "
    "object only: hook_analysis (what grabs attention in the first seconds and why), body_analysis (how the middle "
    "holds attention), cta_analysis (the call to action and how strong it is), content_style_analysis (tone, "
    "pacing, format), hashtags and mentions (as they appear, without # or @), trending_elements (formats, topics, "
    "sounds), engagement_score (0-100, how likely it is to engage its audience) and sentiment_score (-1 negative "
    "to 1 positive). Base everything on the text given; say so when the text is too thin to judge."
)

INVALID = gettext_noop(
    "The AI's answer did not have the expected form, even after it was asked to correct it. Nothing was charged; "
    "retry the analysis."
)


def analysis_model() -> str:
    return settings.CANVAS_ANALYSIS_MODEL or default_model()


def is_offline(model: str) -> bool:
    try:
        return model_entry(model).provider == OFFLINE_PROVIDER
    except ModelUnavailable:
        return False


def price_for(model: str, credits: Decimal) -> Decimal:
    """The fixed price of a job on `model` (0 on the offline model: its filler is never sold)."""
    return Decimal("0") if is_offline(model) else Decimal(str(credits))


def piece_text(piece: ContentPiece, *, limit: int = 12_000) -> str:
    """What the model reads about a piece."""
    parts = [
        f"Platform: {piece.platform}", f"Type: {piece.content_type}", f"URL: {piece.source_url}",
        f"Title: {piece.title or '(none)'}",
    ]  # fmt: skip
    if piece.duration_seconds:
        parts.append(f"Duration: {piece.duration_seconds} s")
    if piece.creator_id:
        parts.append(f"Creator: @{piece.creator.username} ({piece.creator.display_name})")
    if piece.description:
        parts.append(f"Description:\n{piece.description}")
    if piece.transcript:
        parts.append(f"Transcript:\n{piece.transcript}")
    return "\n".join(parts)[:limit]


def analysis_start(*, piece: ContentPiece, actor: Membership, priority: int = 0) -> tuple[ContentAnalysis, Any]:
    """Queue an analysis of `piece`. Returns (analysis, job)."""
    if piece.project is None:
        from aiplatform.errors import Conflict

        raise Conflict(gettext("Place this piece on a project before analysing it."), code="not_on_project")
    _editable(piece.project, actor)
    model = analysis_model()
    model_entry(model)  # an unknown or disabled model is a 400 now, not a failed job later
    with account_context(piece.account_id):
        generation_check(account=piece.project.account)
        analysis = ContentAnalysis.objects.create(
            account_id=piece.account_id, content_piece=piece, analysis_status=WorkStatus.PENDING, ai_model_used=model
        )
        job = queue.job_enqueue(
            account=piece.project.account, user=actor.user, job_type=JobType.CONTENT_ANALYSIS, priority=priority,
            data={"analysis_id": str(analysis.pk), "content_piece_id": str(piece.pk), "model": model},
        )  # fmt: skip
    return analysis, job


def _estimate(data: dict) -> Decimal:
    return price_for(data.get("model") or analysis_model(), settings.CANVAS_ANALYSIS_CREDITS)


def _row(job) -> ContentAnalysis | None:
    return ContentAnalysis.objects.filter(account_id=job.account_id, pk=job.job_data.get("analysis_id")).first()


def analysis_job(ctx: queue.JobContext) -> queue.JobResult:
    data = ctx.data
    with account_context(ctx.account.id):
        analysis = (
            ContentAnalysis.objects.select_related("content_piece__creator").filter(pk=data["analysis_id"]).first()
        )
        if analysis is None or analysis.content_piece.deleted_at is not None:
            raise queue.JobFailed(gettext_noop("The content piece was deleted before it could be analysed."))
        ContentAnalysis.objects.filter(pk=analysis.pk).update(analysis_status=WorkStatus.PROCESSING)
    ctx.progress(10)
    model = data.get("model") or analysis_model()
    messages = [ChatMessage("system", SYSTEM), ChatMessage("user", piece_text(analysis.content_piece))]
    answer = complete_json(
        account=ctx.account, user=ctx.user, model=model, messages=messages, schema=ANALYSIS_SCHEMA,
        feature="content_analysis", reference=ctx.reference,
        max_tokens=min(1500, model_entry(model).max_output_tokens),
    )  # fmt: skip
    ctx.progress(90)
    if not answer.ok:
        raise queue.JobFailed(INVALID)
    return queue.JobResult(
        credits=price_for(model, settings.CANVAS_ANALYSIS_CREDITS), usage_record_id=answer.usage_record_id,
        model=answer.model, provider=answer.provider, tokens_in=answer.tokens_in, tokens_out=answer.tokens_out,
        output={"analysis_id": str(analysis.pk), "attempts": answer.attempts, "answer": answer.data},
    )  # fmt: skip


def _tags(values: list) -> list[str]:
    seen: list[str] = []
    for value in values:
        tag = str(value).strip().lstrip("#@").strip()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def _completed(job, charged: Decimal, result: queue.JobResult) -> None:
    """Inside the queue's completing transaction: store the analysis and what it cost."""
    analysis = _row(job)
    if analysis is None:
        return
    answer = result.output["answer"]
    analysis.hook_analysis = answer["hook_analysis"]
    analysis.body_analysis = answer["body_analysis"]
    analysis.cta_analysis = answer["cta_analysis"]
    analysis.content_style_analysis = answer["content_style_analysis"]
    analysis.hashtags = _tags(answer["hashtags"])
    analysis.mentions = _tags(answer["mentions"])
    analysis.trending_elements = answer["trending_elements"]
    analysis.engagement_score = Decimal(str(answer["engagement_score"])).quantize(Decimal("0.01"))
    analysis.sentiment_score = Decimal(str(answer["sentiment_score"])).quantize(Decimal("0.01"))
    analysis.analysis_status = WorkStatus.COMPLETED
    analysis.analyzed_at = timezone.now()
    analysis.ai_model_used = result.model or analysis.ai_model_used
    analysis.analysis_cost_credits = charged
    analysis.save()


def _failed(job, message: str) -> None:
    ContentAnalysis.objects.filter(account_id=job.account_id, pk=job.job_data.get("analysis_id")).exclude(
        analysis_status=WorkStatus.COMPLETED
    ).update(analysis_status=WorkStatus.FAILED, updated_at=timezone.now())


def register() -> None:
    queue.register_job_type(
        JobType.CONTENT_ANALYSIS, analysis_job, provider="gateway", estimate=_estimate, feature="content_analysis",
        on_complete=_completed, on_fail=_failed,
    )  # fmt: skip


def analyses_for_piece(piece: ContentPiece):
    return ContentAnalysis.objects.filter(account_id=piece.account_id, content_piece=piece).order_by("-created_at")
