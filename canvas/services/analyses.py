"""AI platform analysis (seed 002 `platform_analyses`): import an existing page
(by URL) or a page/funnel from a connected platform, and get a full audit, a
campaign analysis or a migration assessment with recommendations.

`analysis_request` stores the analysis (pending) and queues a builder job
"analysis" whose estimate (BUILDER_ANALYSIS_HOLD credits) is held at once (402
and nothing stored when the account cannot cover it). The job imports the
page, asks the AI gateway for JSON valid against the type's schema (one
correction round if it is not), stores summary / campaigns analysed /
recommendations / migration assessment, the model, the provider cost (USD), the
credits and the time taken, and the queue settles the hold with the actual
price (released when it fails: nothing charged).
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from accounts.flags import feature_require
from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context
from aiplatform.ai import gateway
from aiplatform.ai.types import ChatMessage
from aiplatform.errors import Forbidden, InvalidInput, NotFound
from billing.services.ledger import Reference
from canvas.models import AnalysisStatus, AnalysisType, ConnectionStatus, PlatformAnalysis, PlatformIntegration

MAX_PROMPT_CHARS = 12_000

_RECOMMENDATIONS = {
    "type": "array", "minItems": 1, "maxItems": 12,
    "items": {"type": "object", "required": ["title", "detail", "priority"],
              "properties": {"title": {"type": "string"}, "detail": {"type": "string"},
                             "priority": {"type": "string", "enum": ["high", "medium", "low"]},
                             "area": {"type": "string"}}},
}  # fmt: skip
_SUMMARY = {
    "type": "object", "required": ["headline", "score"],
    "properties": {"headline": {"type": "string"}, "score": {"type": "integer", "minimum": 0, "maximum": 100},
                   "strengths": {"type": "array", "items": {"type": "string"}},
                   "weaknesses": {"type": "array", "items": {"type": "string"}}},
}  # fmt: skip
_CAMPAIGNS = {
    "type": "array",
    "items": {"type": "object", "required": ["name"],
              "properties": {"name": {"type": "string"}, "goal": {"type": "string"},
                             "audience": {"type": "string"}, "conversion_path": {"type": "string"}}},
}  # fmt: skip
_MIGRATION = {
    "type": "object", "required": ["complexity", "steps"],
    "properties": {"complexity": {"type": "string", "enum": ["low", "medium", "high"]},
                   "estimated_hours": {"type": "number", "minimum": 0},
                   "steps": {"type": "array", "items": {"type": "string"}},
                   "risks": {"type": "array", "items": {"type": "string"}}},
}  # fmt: skip

SCHEMAS: dict[str, dict] = {
    AnalysisType.FULL_AUDIT: {"title": "full_audit", "type": "object", "required": ["summary", "recommendations"],
                              "properties": {"summary": _SUMMARY, "recommendations": _RECOMMENDATIONS}},
    AnalysisType.CAMPAIGN_ANALYSIS: {"title": "campaign_analysis", "type": "object",
                                     "required": ["summary", "campaigns_analyzed", "recommendations"],
                                     "properties": {"summary": _SUMMARY, "campaigns_analyzed": _CAMPAIGNS,
                                                    "recommendations": _RECOMMENDATIONS}},
    AnalysisType.MIGRATION_ASSESSMENT: {"title": "migration_assessment", "type": "object",
                                        "required": ["summary", "migration_assessment", "recommendations"],
                                        "properties": {"summary": _SUMMARY, "migration_assessment": _MIGRATION,
                                                       "recommendations": _RECOMMENDATIONS}},
}  # fmt: skip

INSTRUCTIONS = {
    AnalysisType.FULL_AUDIT: "Audit this marketing page: clarity of the offer, call to action, trust signals, form "
    "friction, accessibility and speed hints. Score it 0-100.",
    AnalysisType.CAMPAIGN_ANALYSIS: "Identify the campaigns (offers and funnels) on this page or funnel, their goal, "
    "audience and conversion path, and how to improve each.",
    AnalysisType.MIGRATION_ASSESSMENT: "Assess moving this page or funnel into our page builder: complexity, the steps "
    "(components to rebuild, forms, tracking, redirects) and the risks.",
}


def model_name() -> str:
    return settings.BUILDER_ANALYSIS_MODEL or settings.AI_DEFAULT_CHAT_MODEL


class _Text(HTMLParser):
    """The visible text, title and outline of an HTML page (scripts and styles skipped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.outline: dict[str, int] = {"headings": 0, "forms": 0, "inputs": 0, "links": 0, "images": 0, "buttons": 0}
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "noscript", "template"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        key = {"h1": "headings", "h2": "headings", "h3": "headings", "form": "forms", "input": "inputs",
               "a": "links", "img": "images", "button": "buttons"}.get(tag)  # fmt: skip
        if key:
            self.outline[key] += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript", "template") and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skip and data.strip():
            self.parts.append(data.strip())


def page_text(html: str) -> tuple[str, str, dict[str, int]]:
    parser = _Text()
    try:
        parser.feed(html or "")
        parser.close()
    except Exception:  # noqa: BLE001 - a broken page still gives what was parsed
        pass
    return parser.title.strip(), re.sub(r"\s+", " ", " ".join(parser.parts)), parser.outline


def analysis_request(
    *, account: Account, actor: Membership, analysis_type: str, source_url: str = "", integration_id=None,
    source_ref: str = "",
) -> PlatformAnalysis:  # fmt: skip
    """Queue an analysis of a URL, or of a page/funnel `source_ref` of a connected integration."""
    from canvas.services.integrations.base import IntegrationError
    from canvas.services.integrations.http import check_user_url
    from canvas.services.integrations.jobs import ensure_registered
    from canvas.services.queue import job_enqueue

    if not Role(actor.role).at_least(Role.MEMBER):
        raise Forbidden(_("Your role in this account does not allow this."))
    feature_require("platform_analysis", account_id=account.id)
    if analysis_type not in AnalysisType.values:
        raise InvalidInput(_("Choose full_audit, campaign_analysis or migration_assessment."),
                           fields={"analysis_type": ["Unknown analysis type."]})  # fmt: skip
    integration = None
    with account_context(account.id):
        if integration_id:
            integration = PlatformIntegration.objects.filter(account=account, pk=integration_id).first()
            if integration is None:
                raise NotFound(_("No such integration."))
            if integration.connection_status != ConnectionStatus.CONNECTED:
                raise InvalidInput(
                    _("Reconnect %(platform)s first.") % {"platform": integration.get_platform_type_display()}
                )
            if not str(source_ref or "").strip():
                raise InvalidInput(_("Choose the page or funnel to import."), fields={"source_ref": ["Required."]})
        elif source_url:
            try:
                source_url = check_user_url(source_url, what="page address")
            except IntegrationError as exc:
                raise InvalidInput(exc.message, fields={"source_url": [exc.message]}) from exc
        else:
            raise InvalidInput(_("Give a page address or choose a connected platform's page."),
                               fields={"source_url": ["Required without an integration."]})  # fmt: skip
        ensure_registered()
        analysis = PlatformAnalysis.objects.create(
            account=account, integration=integration, requested_by=actor.user, analysis_type=analysis_type,
            source_url=source_url if not integration else "", source_ref=str(source_ref or "")[:255],
        )  # fmt: skip
        job_enqueue(account=account, job_type="analysis", store="builder", user=actor.user,
                    data={"analysis_id": str(analysis.pk)}, max_attempts=2)  # fmt: skip
    return analysis


def _import(analysis: PlatformAnalysis):
    from canvas.services.integrations import adapter_for
    from canvas.services.integrations.base import ImportedPage
    from canvas.services.integrations.http import check_user_url, request
    from canvas.services.integrations.service import _store_session, session_of

    if analysis.integration_id:
        integration = analysis.integration
        session = session_of(integration)
        try:
            return adapter_for(integration.platform_type).fetch_page(session, analysis.source_ref)
        finally:
            _store_session(integration, session)
    url = check_user_url(analysis.source_url, what="page address")
    response = request("GET", url, label=_("The page"), max_bytes=settings.BUILDER_IMPORT_MAX_BYTES,
                       headers={"Accept": "text/html", "User-Agent": "aiplatform-analysis/1"})  # fmt: skip
    if response.status_code != 200:
        from canvas.services.integrations.base import IntegrationError

        raise IntegrationError(_("The page answered HTTP %(status)s.") % {"status": response.status_code})
    return ImportedPage(title="", url=url, html=response.text)


def _messages(analysis: PlatformAnalysis, page) -> list[ChatMessage]:
    title, text, outline = page_text(page.html) if page.html else (page.title, page.text, {})
    content = (f"Page title: {title or page.title}\nURL: {page.url or '-'}\nOutline: {outline or page.structure}\n\n"
               f"Visible text:\n{(text or page.text)[:MAX_PROMPT_CHARS]}")  # fmt: skip
    return [
        ChatMessage("system", "You are a conversion-rate and web migration expert. Answer with JSON only. "
                    + INSTRUCTIONS[analysis.analysis_type]),
        ChatMessage("user", content),
    ]


def analysis_run(ctx):
    """The job body: import, ask, validate, store. Returns the queue's JobResult."""
    from canvas.services.integrations.base import IntegrationError
    from canvas.services.queue import JobFailed, JobResult

    started = time.monotonic()
    with account_context(ctx.job.account_id):
        analysis = (
            PlatformAnalysis.objects.select_related("integration", "account")
            .filter(pk=ctx.data.get("analysis_id"))
            .first()
        )
        if analysis is None:
            return JobResult(credits=0)
        PlatformAnalysis.objects.filter(pk=analysis.pk).update(status=AnalysisStatus.PROCESSING)
    try:
        page = _import(analysis)
    except IntegrationError as exc:
        _failed(analysis, exc.message, started)
        raise JobFailed(exc.message, retryable=exc.retryable) from exc
    ctx.progress(30)
    schema = SCHEMAS[analysis.analysis_type]
    validator = Draft202012Validator(schema)
    messages = _messages(analysis, page)
    tokens_in = tokens_out = 0
    cost = Decimal("0")
    price = Decimal("0")
    first_usage = None
    data: Any = None
    error = ""
    completion = None
    for attempt in (1, 2):
        completion = gateway.complete(
            account=ctx.account, user=ctx.user, model=model_name(), messages=messages,
            feature="platform_analysis", json_schema=schema, charged=Decimal("0"), max_tokens=1500,
            reference=Reference("platform_analysis", str(analysis.pk)), generation=attempt == 1,
        )  # fmt: skip
        first_usage = first_usage or completion.usage_record_id
        tokens_in += completion.usage.tokens_in
        tokens_out += completion.usage.tokens_out
        cost += completion.provider_cost
        price += completion.price
        try:
            import json

            data = json.loads(completion.text)
            errors = sorted(validator.iter_errors(data), key=lambda e: e.path)
            error = errors[0].message if errors else ""
        except ValueError as exc:
            error = f"not JSON: {exc}"
        if not error:
            break
        messages = [*messages, ChatMessage("assistant", completion.text[:4000]),
                    ChatMessage("user", f"That answer is invalid ({error}). "
                                        "Answer again with JSON valid against the schema.")]  # fmt: skip
    ctx.progress(90)
    if error:
        message = _("The AI's analysis did not have the expected form, even after a correction. Nothing was charged.")
        _failed(analysis, message, started)
        raise JobFailed(message)
    elapsed = int(round(time.monotonic() - started))
    with account_context(analysis.account_id):
        PlatformAnalysis.objects.filter(pk=analysis.pk).update(
            status=AnalysisStatus.COMPLETED, summary=data.get("summary") or {},
            campaigns_analyzed=data.get("campaigns_analyzed") or [], recommendations=data.get("recommendations") or [],
            migration_assessment=data.get("migration_assessment") or {}, ai_model_used=completion.model,
            ai_cost=cost.quantize(Decimal("0.0001")), credits_charged=price, processing_time_seconds=elapsed,
            error_message="", completed_at=timezone.now(),
            **({"source_url": page.url} if page.url and not analysis.source_url else {}),
        )  # fmt: skip
    return JobResult(credits=price, usage_record_id=first_usage, model=completion.model,
                     provider=completion.provider, tokens_in=tokens_in, tokens_out=tokens_out, provider_cost=cost,
                     output={"analysis_id": str(analysis.pk)})  # fmt: skip


def _failed(analysis: PlatformAnalysis, message: str, started: float) -> None:
    with account_context(analysis.account_id):
        PlatformAnalysis.objects.filter(pk=analysis.pk).update(
            status=AnalysisStatus.FAILED, error_message=message[:2000],
            processing_time_seconds=int(round(time.monotonic() - started)), completed_at=timezone.now(),
        )  # fmt: skip
