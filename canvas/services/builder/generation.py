"""AI generation of a campaign's components, and of one component again.

Request (`generation_start`, `component_regenerate`; one transaction):
    member role -> the AI shut-off (403) and the plan's monthly generations
    (409) -> campaign moves to `generating` -> an `AIGeneration` row
    (processing) -> a builder job (`job_queue`, the processing-queue store
    "builder") holding the estimated credits (402 and nothing written when
    short); the Celery task starts on commit.
Worker (the job handler, no transaction open while the model answers):
    stream the model's JSON through the gateway (`json_schema`); every
    component object is parsed as soon as it is complete, validated against
    the item schema, sanitised, stored and published as a frame to the
    generation's Redis stream (the editor reads it over SSE) -> the whole
    answer is validated against the schema; if it is not valid, one corrective
    retry shows the model its answer and the error -> the queue settles the
    hold with the registry's price of all attempts (the usage record of the
    first call carries it). A failure releases the hold (nothing charged),
    records the error and moves the campaign back (draft, or ready if it had
    components).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import Account, Membership
from accounts.tenancy.context import account_context
from aiplatform.ai import gateway
from aiplatform.ai.types import ChatMessage
from aiplatform.errors import Conflict, InvalidInput, NotFound, ServiceError
from billing.services.controls import ai_call_guard
from billing.services.ledger import Reference
from billing.services.limits import generation_check
from billing.services.usage import count
from canvas.models import (
    AIGeneration,
    BuilderJobType,
    Campaign,
    CampaignComponent,
    CampaignStatus,
    ComponentType,
    GenerationStatus,
    GenerationType,
)

from . import frames
from .campaigns import member_require
from .sanitize import css_clean, html_clean
from .schema import COMPONENT_SCHEMA, GENERATION_SCHEMA, ComponentScanner, item_check, json_check

log = logging.getLogger("canvas.builder.generation")

PROMPT_MAX = 4000
INSTRUCTION_MAX = 1000
IMAGES_MAX = 4
MAX_ATTEMPTS = 2  # one corrective retry


def builder_model() -> str:
    return settings.BUILDER_GENERATION_MODEL or settings.AI_DEFAULT_CHAT_MODEL


def _images(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [v for v in value.split() if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(
            gettext("Reference images are a list of URLs."), fields={"reference_images": ["A list of URLs."]}
        )
    if len(value) > IMAGES_MAX:
        raise InvalidInput(
            gettext("At most %(IMAGES_MAX)s reference images.") % {"IMAGES_MAX": IMAGES_MAX},
            fields={"reference_images": [f"At most {IMAGES_MAX}."]},
        )
    for url in value:
        if not url.startswith(("https://", "http://")) or len(url) > 2000:
            raise InvalidInput(
                gettext("Reference images must be http(s) URLs."), fields={"reference_images": ["An http(s) URL."]}
            )
    return value


def _prompt(value: Any, *, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(gettext("Describe what to generate."), fields={field: ["This field is required."]})
    if len(value) > limit:
        raise InvalidInput(
            gettext("At most %(limit)s characters.") % {"limit": limit},
            fields={field: [f"At most {limit} characters."]},
        )
    return value.strip()


def _enqueue(generation: AIGeneration, job_type: str, actor: Membership):
    from canvas.services.queue import job_enqueue

    from .jobs import STORE

    return job_enqueue(
        account=generation.account, job_type=job_type, data={"generation_id": str(generation.pk)},
        user=actor.user, store=STORE.name, max_attempts=1,
    )  # fmt: skip


def generation_start(
    *, account: Account, actor: Membership, campaign: Campaign, prompt: Any, reference_images: Any = None
) -> AIGeneration:
    """Start generating `campaign`'s components from `prompt`."""
    member_require(actor, "generate campaigns")
    prompt = _prompt(prompt, field="prompt", limit=PROMPT_MAX)
    images = _images(reference_images)
    with account_context(account.id), transaction.atomic():
        row = Campaign.objects.select_for_update().filter(pk=campaign.pk, account=account).first()
        if row is None:
            raise NotFound(gettext("No such campaign in this account."))
        if row.status not in (CampaignStatus.DRAFT, CampaignStatus.READY):
            raise Conflict(
                gettext("A %(status)s campaign cannot be generated; pause or duplicate it first.")
                % {"status": row.status},
                code="invalid_transition",
            )
        ai_call_guard(account=account)
        generation_check(account=account)
        row.status = CampaignStatus.GENERATING
        row.save(update_fields=["status", "updated_at"])
        generation = AIGeneration.objects.create(
            account=account, user=actor.user, campaign=row, generation_type=GenerationType.CAMPAIGN,
            prompt_text=prompt, reference_images=images, model_used=builder_model(),
        )  # fmt: skip
        _enqueue(generation, BuilderJobType.GENERATION, actor)
    campaign.status = row.status
    return generation


def component_regenerate(
    *, account: Account, actor: Membership, component: CampaignComponent, instruction: Any
) -> AIGeneration:
    """Generate a new version of one component following `instruction`."""
    member_require(actor, "regenerate components")
    instruction = _prompt(instruction, field="instruction", limit=INSTRUCTION_MAX)
    with account_context(account.id), transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=component.campaign_id, account=account).first()
        if campaign is None:
            raise NotFound(gettext("No such component in this account."))
        if campaign.status in (CampaignStatus.ARCHIVED, CampaignStatus.GENERATING):
            raise Conflict(
                gettext("The campaign is %(status)s; wait or unarchive it first.") % {"status": campaign.status},
                code="campaign_busy",
            )
        ai_call_guard(account=account)
        generation_check(account=account)
        generation = AIGeneration.objects.create(
            account=account, user=actor.user, campaign=campaign, component=component,
            generation_type=GenerationType.COMPONENT, prompt_text=component.code[:PROMPT_MAX] or component.name,
            instruction=instruction, model_used=builder_model(),
        )  # fmt: skip
        _enqueue(generation, BuilderJobType.COMPONENT_REGENERATION, actor)
    return generation


def generation_feedback(
    *, generation: AIGeneration, actor: Membership, rating: Any = None, feedback: Any = None, accepted: Any = None
) -> AIGeneration:
    """Rate (1-5), comment, accept or reject a finished generation."""
    member_require(actor, "rate generations")
    if generation.status == GenerationStatus.PROCESSING:
        raise Conflict(gettext("The generation is still running; rate it when it is done."), code="generation_running")
    fields = []
    if rating is not None:
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidInput(gettext("Rate from 1 to 5."), fields={"rating": ["A whole number from 1 to 5."]})
        generation.user_rating = rating
        fields.append("user_rating")
    if feedback is not None:
        if not isinstance(feedback, str) or len(feedback) > 5000:
            raise InvalidInput(
                gettext("Feedback is text up to 5000 characters."), fields={"feedback": ["At most 5000."]}
            )
        generation.user_feedback = feedback.strip()
        fields.append("user_feedback")
    if accepted is not None:
        if not isinstance(accepted, bool):
            raise InvalidInput(gettext("accepted is true or false."), fields={"accepted": ["true or false."]})
        generation.accepted = accepted
        fields.append("accepted")
    with account_context(generation.account_id), transaction.atomic():
        if fields:
            generation.save(update_fields=fields)
        if accepted is not None and generation.generation_type == GenerationType.COMPONENT:
            _apply_version_choice(generation, accepted)
    return generation


def _apply_version_choice(generation: AIGeneration, accepted: bool) -> None:
    """Rejecting a regenerated component puts its parent back as current."""
    new = CampaignComponent.objects.filter(pk=(generation.result_data or {}).get("component_id")).first()
    if new is None or new.parent_component_id is None:
        return
    current, other = (new, new.parent_component) if accepted else (new.parent_component, new)
    CampaignComponent.objects.filter(pk=other.pk).update(is_current=False)
    CampaignComponent.objects.filter(pk=current.pk).update(is_current=True)


# --- the worker's side ------------------------------------------------------------------------


SYSTEM_PROMPT = (
    "You are a conversion-focused landing page designer. Answer with JSON only: "
    '{"components": [{"name", "component_type", "html", "css", "props"}]} in page order. '
    "component_type is one of: " + ", ".join(ComponentType.values) + ". "
    "html is semantic, self-contained HTML without scripts or event handlers; mark calls to action with "
    'data-track="<name>" and the sign-up form with data-track-conversion="lead". css is plain CSS for '
    "that component's classes."
)


def _campaign_brief(campaign: Campaign) -> str:
    with translation.override("en"):  # the brief is English, whatever language the request speaks
        kind = str(campaign.get_campaign_type_display())
    parts = [f"Campaign: {campaign.name} ({kind})."]
    for label, value in (
        ("Description", campaign.description), ("Target audience", campaign.target_audience),
        ("Business type", campaign.business_type), ("Brand guidelines", campaign.brand_guidelines),
    ):  # fmt: skip
        if value:
            parts.append(f"{label}: {value}")
    if campaign.goals:
        parts.append("Goals: " + "; ".join(campaign.goals))
    return "\n".join(parts)


def _messages(generation: AIGeneration) -> list[ChatMessage]:
    campaign = generation.campaign
    if generation.generation_type == GenerationType.COMPONENT:
        component = generation.component
        return [
            ChatMessage(
                "system", SYSTEM_PROMPT.replace('{"components": [', "one component ").replace("]} in page order", "")
            ),
            ChatMessage(
                "user",
                f"{_campaign_brief(campaign)}\n\nThe current {component.component_type} component "
                f"'{component.name}':\n{component.code}\n\nRewrite it: {generation.instruction}\n"
                'Answer with one JSON object {"name", "component_type", "html", "css", "props"}.',
            ),
        ]
    text = f"{_campaign_brief(campaign)}\n\nRequest: {generation.prompt_text}"
    if generation.reference_images:
        text += "\nReference images (match their style): " + ", ".join(generation.reference_images)
    return [ChatMessage("system", SYSTEM_PROMPT), ChatMessage("user", text)]


@dataclass
class Run:
    tokens_in: int = 0
    tokens_out: int = 0
    cost: Decimal = Decimal("0")
    price: Decimal = Decimal("0")
    attempts: int = 0
    model: str = ""
    provider: str = ""
    usage_record_id: Any = None
    text: str = ""
    created: list[str] = field(default_factory=list)

    def add(self, completion) -> None:
        if self.attempts == 1:
            self.usage_record_id = completion.usage_record_id
        self.tokens_in += completion.usage.tokens_in
        self.tokens_out += completion.usage.tokens_out
        self.cost += Decimal(str(completion.provider_cost or 0))
        self.price += Decimal(str(completion.price or 0))
        self.model, self.provider, self.text = completion.model, completion.provider, completion.text


def _props(item: dict) -> dict:
    return item.get("props") if isinstance(item.get("props"), dict) else {}


def _type(item: dict, default: str) -> str:
    return item.get("component_type") if item.get("component_type") in ComponentType.values else default


def _store_component(generation: AIGeneration, item: dict, order: int) -> CampaignComponent:
    ctype = item.get("component_type") if item.get("component_type") in ComponentType.values else ComponentType.CUSTOM
    meta = {"generation_id": str(generation.pk), "model": generation.model_used}
    with account_context(generation.account_id):
        return CampaignComponent.objects.create(
            account_id=generation.account_id, campaign_id=generation.campaign_id,
            name=str(item.get("name") or ctype)[:255], component_type=ctype, code=html_clean(item.get("html", "")),
            css_styles=css_clean(item.get("css", "") or ""), props=_props(item),
            export_formats=["html", "zip"], sort_order=order, ai_generation_metadata=meta,
        )  # fmt: skip


def _component_frame(component: CampaignComponent) -> dict:
    return {
        "type": "component", "id": str(component.pk), "name": component.name,
        "component_type": component.component_type, "html": component.code, "css": component.css_styles,
        "sort_order": component.sort_order, "version": component.version,
        "parent_id": str(component.parent_component_id) if component.parent_component_id else None,
    }  # fmt: skip


def _stream_campaign(generation: AIGeneration, ctx, run: Run, messages: list[ChatMessage]) -> dict | None:
    """Attempt 1, streamed: components are stored and published as they complete."""
    base_order = CampaignComponent.objects.filter(campaign_id=generation.campaign_id).aggregate(m=Max("sort_order"))[
        "m"
    ]
    base_order = -1 if base_order is None else base_order
    scanner = ComponentScanner()
    run.attempts = 1
    with gateway.stream(
        account=generation.account, user=generation.user, model=generation.model_used, messages=messages,
        feature="builder", json_schema=GENERATION_SCHEMA, charged=Decimal("0"), generation=True,
        reference=Reference("ai_generation", str(generation.pk)),
    ) as stream:  # fmt: skip
        for piece in stream:
            for item in scanner.feed(piece):
                if item_check(item):
                    component = _store_component(generation, item, base_order + 1 + len(run.created))
                    run.created.append(str(component.pk))
                    frames.publish(generation.pk, _component_frame(component))
                    ctx.progress(min(90, 10 + 15 * len(run.created)))
    run.add(stream.completion)
    check = json_check(run.text, GENERATION_SCHEMA)
    return check


def _corrective(generation: AIGeneration, run: Run, messages: list[ChatMessage], error: str, schema: dict):
    run.attempts += 1
    frames.publish(generation.pk, {"type": "retry", "message": "The answer was not valid; asking the model to fix it."})
    completion = gateway.complete(
        account=generation.account, user=generation.user, model=generation.model_used,
        messages=[*messages, ChatMessage("assistant", run.text),
                  ChatMessage("user", f"Your answer is not usable: {error} Answer again with corrected JSON only.")],
        feature="builder", json_schema=schema, charged=Decimal("0"), generation=False,
        reference=Reference("ai_generation", str(generation.pk)),
    )  # fmt: skip
    run.add(completion)
    return json_check(completion.text, schema)


def _record(generation: AIGeneration, run: Run, *, result: dict, error: str = "", started: float) -> None:
    """The run's figures on the generation row, its status left alone: the status is
    written only in the queue's transaction that finishes the job (`_completed`,
    `job_failed`), so the generation and its job never disagree (ADR 0010)."""
    with account_context(generation.account_id):
        AIGeneration.objects.filter(pk=generation.pk).update(
            result_data=result, error_message=error, prompt_tokens=run.tokens_in, completion_tokens=run.tokens_out,
            cost=run.cost.quantize(Decimal("0.000001")), iterations=run.attempts,
            model_used=run.model or generation.model_used, generation_time_seconds=int(time.monotonic() - started),
        )  # fmt: skip


def _settle_campaign(row: AIGeneration, *, completed: bool) -> None:
    if row.generation_type != GenerationType.CAMPAIGN:
        return
    campaign = Campaign.objects.select_for_update().get(pk=row.campaign_id)
    if campaign.status == CampaignStatus.GENERATING:
        has_components = CampaignComponent.objects.filter(campaign=campaign).exists()
        campaign.status = CampaignStatus.READY if completed or has_components else CampaignStatus.DRAFT
        campaign.save(update_fields=["status", "updated_at"])


def _completed(generation_id, charged: Decimal, done_frame: dict) -> None:
    """Inside the job's finishing transaction, after the charge: the generation completes with it."""
    row = AIGeneration.objects.select_for_update().get(pk=generation_id)
    if row.status != GenerationStatus.PROCESSING:
        return
    row.status = GenerationStatus.COMPLETED
    row.credits_charged = charged
    row.completed_at = timezone.now()
    row.save(update_fields=["status", "credits_charged", "completed_at"])
    _settle_campaign(row, completed=True)
    count(row.account_id, row.user_id, campaigns_generated=int(row.generation_type == GenerationType.CAMPAIGN))
    frame = {**done_frame, "credits": str(charged)}
    transaction.on_commit(lambda: frames.publish(generation_id, frame))


def job_failed(job, message: str) -> None:
    """The queue's `on_fail` (in the transaction that fails or cancels the job, also for
    the credit check at the end and a dead worker): the generation fails with it, its
    streamed components go, a regenerated component's parent is current again."""
    generation_id = (job.payload or {}).get("generation_id")
    row = AIGeneration.objects.select_for_update().filter(pk=generation_id, account_id=job.account_id).first()
    if row is None or row.status != GenerationStatus.PROCESSING:
        return
    cancelled = job.status == "cancelled"
    made = CampaignComponent.objects.filter(campaign_id=row.campaign_id,
                                            ai_generation_metadata__generation_id=str(row.pk))  # fmt: skip
    made.delete()
    if row.generation_type == GenerationType.COMPONENT and row.component_id:
        CampaignComponent.objects.filter(pk=row.component_id).update(is_current=True)
    row.status = GenerationStatus.CANCELLED if cancelled else GenerationStatus.FAILED
    row.error_message = (row.error_message or gettext(message))[:5000]
    row.credits_charged = Decimal("0")
    row.completed_at = timezone.now()
    row.save(update_fields=["status", "error_message", "credits_charged", "completed_at"])
    _settle_campaign(row, completed=False)
    frame = {"type": "error", "message": row.error_message}
    transaction.on_commit(lambda: frames.publish(row.pk, frame))


FAILED_MESSAGE = (
    "The AI's answer did not have the expected form, even after it was asked to correct it. "
    "Nothing was charged; generate again (rewording the description can help)."
)


def run_generation(ctx):
    """The job handler of both builder job types."""
    from canvas.services.queue import JobFailed, JobResult

    generation_id = ctx.data.get("generation_id")
    with account_context(ctx.job.account_id):
        generation = (
            AIGeneration.objects.select_related("account", "user", "campaign", "component")
            .filter(pk=generation_id).first()
        )  # fmt: skip
    if generation is None or generation.status != GenerationStatus.PROCESSING:
        return JobResult(credits=0)
    started = time.monotonic()
    run = Run()
    messages = _messages(generation)
    try:
        if generation.generation_type == GenerationType.COMPONENT:
            result = _regenerate(generation, ctx, run, messages)
        else:
            result = _generate(generation, ctx, run, messages)
    except ServiceError as exc:
        _fail(generation, run, exc.message, started)
        raise JobFailed(exc.message) from exc
    except Exception as exc:
        if exc.__class__.__name__ == "JobCancelled":
            # The cancel failed the generation with its job; drop what was streamed since.
            with account_context(generation.account_id):
                CampaignComponent.objects.filter(pk__in=run.created).delete()
            raise
        log.exception("generation %s failed", generation.pk)
        message = "Something went wrong on our side. Nothing was charged; generate again."
        _fail(generation, run, message, started)
        raise JobFailed(message) from exc
    if result is None:
        _fail(generation, run, FAILED_MESSAGE, started)
        raise JobFailed(FAILED_MESSAGE)
    _record(generation, run, result=result, started=started)
    done = {"type": "done", "generation_id": str(generation.pk), "components": result.get("component_ids", [])}
    return JobResult(
        credits=run.price, usage_record_id=run.usage_record_id, model=run.model, provider=run.provider,
        tokens_in=run.tokens_in, tokens_out=run.tokens_out, provider_cost=run.cost,
        finish=lambda charged: _completed(generation.pk, charged, done),
    )  # fmt: skip


def _fail(generation, run: Run, message: str, started: float) -> None:
    """Before the handler raises: the figures and the reason are kept, the components
    it streamed removed; the status follows in the queue's failing transaction."""
    if run.created:
        with account_context(generation.account_id):
            CampaignComponent.objects.filter(pk__in=run.created).delete()
    _record(generation, run, result={"answer": run.text[:20000]}, error=message, started=started)


def _generate(generation: AIGeneration, ctx, run: Run, messages) -> dict | None:
    ctx.progress(5)
    check = _stream_campaign(generation, ctx, run, messages)
    if not check.ok:
        # The streamed components came from an invalid answer: replace them with the corrected set.
        with account_context(generation.account_id):
            CampaignComponent.objects.filter(pk__in=run.created).delete()
        for component_id in run.created:
            frames.publish(generation.pk, {"type": "removed", "id": component_id})
        run.created = []
        check = _corrective(generation, run, messages, check.error, GENERATION_SCHEMA)
        if not check.ok:
            return None
        for index, item in enumerate(check.data["components"]):
            component = _store_component(generation, item, index)
            run.created.append(str(component.pk))
            frames.publish(generation.pk, _component_frame(component))
    return {"components": check.data["components"], "component_ids": run.created}


def _regenerate(generation: AIGeneration, ctx, run: Run, messages) -> dict | None:
    ctx.progress(10)
    run.attempts = 1
    completion = gateway.complete(
        account=generation.account, user=generation.user, model=generation.model_used, messages=messages,
        feature="builder", json_schema=COMPONENT_SCHEMA, charged=Decimal("0"), generation=True,
        reference=Reference("ai_generation", str(generation.pk)),
    )  # fmt: skip
    run.add(completion)
    check = json_check(completion.text, COMPONENT_SCHEMA)
    if not check.ok:
        check = _corrective(generation, run, messages, check.error, COMPONENT_SCHEMA)
        if not check.ok:
            return None
    parent = generation.component
    with account_context(generation.account_id), transaction.atomic():
        latest = CampaignComponent.objects.filter(campaign_id=parent.campaign_id, sort_order=parent.sort_order)
        version = (latest.aggregate(v=Max("version"))["v"] or parent.version) + 1
        item = check.data
        new = CampaignComponent.objects.create(
            account_id=parent.account_id, campaign_id=parent.campaign_id,
            name=str(item.get("name") or parent.name)[:255],
            component_type=_type(item, parent.component_type),
            code=html_clean(item.get("html", "")), css_styles=css_clean(item.get("css", "") or ""),
            props=_props(item), export_formats=parent.export_formats,
            version=version, parent_component=parent, sort_order=parent.sort_order,
            ai_generation_metadata={"generation_id": str(generation.pk), "instruction": generation.instruction},
        )  # fmt: skip
        CampaignComponent.objects.filter(pk=parent.pk).update(is_current=False)
    run.created.append(str(new.pk))
    frames.publish(generation.pk, _component_frame(new))
    return {"component": item, "component_id": str(new.pk), "component_ids": [str(new.pk)]}


def generation_for_account(account: Account, generation_id) -> AIGeneration:
    row = AIGeneration.objects.filter(account=account, pk=generation_id).first()
    if row is None:
        raise NotFound(gettext("No such generation in this account."))
    return row


def generation_frames_replay(generation: AIGeneration) -> list[dict]:
    """The frames of a finished generation, from the database (its stream expired)."""
    ids = (generation.result_data or {}).get("component_ids") or []
    components = CampaignComponent.objects.filter(pk__in=ids).order_by("sort_order")
    out = [_component_frame(c) for c in components]
    if generation.status == GenerationStatus.COMPLETED:
        out.append({"type": "done", "generation_id": str(generation.pk), "credits": str(generation.credits_charged),
                    "components": ids})  # fmt: skip
    elif generation.status != GenerationStatus.PROCESSING:
        out.append({"type": "error", "message": generation.error_message})
    return out


def generation_json(generation: AIGeneration) -> str:
    return json.dumps({"id": str(generation.pk), "status": generation.status})
