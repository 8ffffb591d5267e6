"""Running a paid service.

Request (`service_run`, inside the request's transaction):
    validate the input against the template that will run -> check the AI
    shut-off and the plan's monthly generations -> hold the service's price
    (402 when short, nothing called) -> create the result (pending) -> enqueue
    the work on commit.
Worker (`result_process`, no transaction open while the model answers):
    call the model through the gateway -> validate the output, with
    MAX_ATTEMPTS - 1 corrective retries that show the model its answer and the
    error -> in one transaction: settle the hold (the ledger row), store the
    output and what ran, count the use on the template and the experiment arm.
    On a provider error or output that stays invalid the hold is released and
    the result fails with an explanation. A failed run is never charged, so
    there is nothing to refund: releasing the hold is the refund.

Idempotency: with a key, the result's id is derived from (account, key,
service, parameters, pinned version) and billing's idempotency record of the
hold is keyed on it, so a retry returns the first result and charges once, and
the same key with other parameters is billing's 409.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from accounts.models import Account
from accounts.tenancy.context import account_context
from aiplatform.ai import gateway
from aiplatform.ai.errors import ModelUnavailable, ProviderError, ProviderMisconfigured
from aiplatform.ai.registry import model_entry
from aiplatform.ai.types import ChatMessage
from aiplatform.errors import Conflict, InsufficientCredits, InvalidInput, NotFound, ServiceError
from aiplatform.ids import uuid7
from billing.models import Reservation
from billing.services.controls import ai_call_guard
from billing.services.ledger import Reference, wallet_debit
from billing.services.limits import generation_check
from billing.services.reservations import reservation_hold, reservation_release, reservation_settle
from billing.services.subscriptions import subscription_for
from billing.services.usage import usage_charge_add
from templates.models import PromptExperiment, PromptTemplate, Service, ServiceResult

from .experiments import arm_for_user, experiment_record_result, running_experiment
from .files import files_delete, photos_store, photos_validate, result_image_store, result_photos
from .offline import OFFLINE_PROVIDER, offline_policy, uses_offline_model
from .parameters import parameters_validate
from .rendering import correction_message, prompt_messages
from .validation import output_check

log = logging.getLogger("templates.run")

MAX_ATTEMPTS = 2  # one corrective retry: each attempt costs provider tokens the fixed price must cover
HOLD_TTL = timedelta(minutes=30)  # longer than the gateway's timeouts and retries for two attempts
_RESULT_IDS = uuid.UUID("3f1c7a52-9a0e-4d5c-8a1e-5b7f0c2d9e41")

Status = ServiceResult.Status


class ServiceUnavailable(ServiceError):
    status = 503
    code = "service_unavailable"


@dataclass(frozen=True)
class RunChoice:
    """Which template runs for this request, and why."""

    template: PromptTemplate
    pinned: bool = False
    experiment: PromptExperiment | None = None
    arm: str = ""


def service_for_code(code: str) -> Service:
    service = Service.objects.filter(service_type=code, is_active=True).first()
    if service is None:
        raise NotFound(gettext("There is no such service, or it is switched off."))
    return service


def template_for_run(service: Service, *, user, version: str | None = None) -> RunChoice:
    """The pinned version; else this user's arm of a running experiment; else the active version."""
    if version:
        template = PromptTemplate.objects.filter(service_type=service.service_type, version=version).first()
        if template is None:
            known = PromptTemplate.objects.filter(service_type=service.service_type).order_by("created_at")
            listed = ", ".join(known.values_list("version", flat=True)) or "none"
            raise InvalidInput(
                gettext("Version '%(version)s' does not exist for %(service_type)s.")
                % {"version": version, "service_type": service.service_type},
                fields={"template_version": [f"Unknown version. Versions of this service: {listed}."]},
            )
        return RunChoice(template, pinned=True)
    experiment = running_experiment(service.service_type)
    if experiment is not None:
        arm = arm_for_user(experiment, user.pk)
        return RunChoice(experiment.template_of(arm), experiment=experiment, arm=arm)
    template = PromptTemplate.objects.filter(service_type=service.service_type, is_active=True).first()
    if template is None:
        raise ServiceUnavailable(
            gettext("This service is not available right now. Nothing was charged; try again later.")
        )
    return RunChoice(template)


def _result_id(account: Account, key: str, service: Service, values: dict, version: str | None) -> uuid.UUID:
    canonical = json.dumps([str(account.id), key, service.service_type, values, version or ""], sort_keys=True)
    return uuid.uuid5(_RESULT_IDS, hashlib.sha256(canonical.encode()).hexdigest())


def service_run(
    *,
    account: Account,
    user,
    service_code: str,
    params: Any,
    template_version: str | None = None,
    idempotency_key: str | None = None,
    files: Mapping[str, Any] | None = None,
) -> ServiceResult:
    """Validate, hold the price and queue the run. Returns the result (pending).

    `files`: uploads by image parameter name (a photo). They are checked with the
    parameters, before anything is held; stored only once the price is held."""
    service = service_for_code(service_code)
    choice = template_for_run(service, user=user, version=template_version)
    demo = uses_offline_model(choice.template.ai_model)
    if demo and service.credit_cost > 0 and offline_policy() == "unavailable":
        raise ServiceUnavailable(
            gettext(
                "This service is switched off here: it would run on the offline demo model, which cannot give a "
                "real reading. Nothing was charged."
            )
        )
    values = parameters_validate(choice.template.parameters, params)
    photos = photos_validate(choice.template.parameters, files)
    # The same key with another photo is other parameters (billing's 409), as with other values.
    keyed = {**values, **{f"{p.name}:sha256": p.sha256 for p in photos}}
    result_id = _result_id(account, idempotency_key, service, keyed, template_version) if idempotency_key else None
    with account_context(account.id):
        if result_id and (first := ServiceResult.objects.filter(pk=result_id).first()) is not None:
            return first
        ai_call_guard(account=account)
        subscription_for(account)  # a new account starts on the free plan, whose limits then apply
        generation_check(account=account)
        result_id = result_id or uuid7()
        hold = None
        if service.credit_cost > 0 and not demo:  # the offline model's filler is never sold
            hold = reservation_hold(
                account=account, amount=service.credit_cost, actor=user, ttl=HOLD_TTL,
                reference=Reference("service_result", str(result_id)), idempotency_key=idempotency_key,
            )  # fmt: skip
            # A concurrent retry waited for the first request's commit inside the hold: return its result.
            if idempotency_key and (first := ServiceResult.objects.filter(pk=result_id).first()) is not None:
                return first
        paths = photos_store(account_id=account.id, result_id=result_id, photos=photos)
        try:
            with transaction.atomic():
                result = ServiceResult.objects.create(
                    id=result_id, account=account, user=user, service=service, input_data=values,
                    input_files=paths,
                    reservation=hold, prompt_template=choice.template, template_version=choice.template.version,
                    version_pinned=choice.pinned, experiment=choice.experiment, experiment_arm=choice.arm,
                    ai_model=choice.template.ai_model, output_format=choice.template.output_format,
                )  # fmt: skip
        except IntegrityError:  # a free service's concurrent retry created it first
            files_delete(paths)
            return ServiceResult.objects.get(pk=result_id)
        except BaseException:
            files_delete(paths)
            raise
        _enqueue(result)
    return result


def _enqueue(result: ServiceResult) -> None:
    from templates.tasks import service_result_process

    result_id, account_id = str(result.id), str(result.account_id)
    transaction.on_commit(lambda: service_result_process.delay(result_id=result_id, account_id=account_id))


# --- the worker's side ------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool = False
    data: Any = None
    text: str = ""
    error: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    attempts: int = 0
    model: str = ""
    provider: str = ""
    answers: list[str] = field(default_factory=list)
    usage_record_id: Any = None  # the first call's: it carries the run's charge once settled
    images: tuple[bytes, ...] = ()  # an image service's PNGs, stored by `_complete`
    media_type: str = ""


def _price(result: ServiceResult) -> Decimal:
    """What the user agreed to when they started: the amount held then (a price change later does not apply)."""
    return result.reservation.amount if result.reservation_id else Decimal("0")


def _claim(result_id, account_id) -> ServiceResult | None:
    """pending/running -> running; None when the result is gone or finished (a duplicate delivery)."""
    with account_context(account_id):
        claimed = ServiceResult.objects.filter(pk=result_id, status__in=[Status.PENDING, Status.RUNNING]).update(
            status=Status.RUNNING, started_at=Coalesce(F("started_at"), Now())
        )
        if not claimed:
            return None
        return ServiceResult.objects.select_related("account", "user", "service", "prompt_template", "reservation").get(
            pk=result_id
        )


def _progress(result: ServiceResult, attempt: int) -> None:
    with account_context(result.account_id):
        ServiceResult.objects.filter(pk=result.pk, status=Status.RUNNING).update(attempts=attempt)


def _inputs(result: ServiceResult) -> dict[str, Any]:
    """The run's input values (a JSON object: the form validated it before the run)."""
    return cast(dict[str, Any], result.input_data)


def _draw(result: ServiceResult, template: PromptTemplate) -> Outcome:
    """An image service: the rendered prompt to the image model, one call."""
    from aiplatform.ai.media.images import OFFLINE_TEXT, image_generate

    prompt = "\n\n".join(m.content for m in prompt_messages(template, _inputs(result)) if m.content)
    made = image_generate(
        account=result.account, user=result.user, model=template.ai_model, prompt=prompt,
        reference=Reference("service_result", str(result.id)),
    )  # fmt: skip
    text = OFFLINE_TEXT if made.provider == OFFLINE_PROVIDER else ""
    return Outcome(
        ok=bool(made.images), data={"images": len(made.images)}, text=text, attempts=1, model=made.model,
        provider=made.provider, usage_record_id=made.usage_record_id, images=made.images,
        media_type=made.media_type, error="" if made.images else "the image model made no image.",
    )  # fmt: skip


def _call(result: ServiceResult, template: PromptTemplate) -> Outcome:
    """Up to MAX_ATTEMPTS model calls; after an invalid answer the model sees it and the error."""
    if template.output_format == "image":
        return _draw(result, template)
    messages = prompt_messages(template, _inputs(result))
    if result.input_files:  # the photos go with the user's message, as image parts
        last = messages[-1]
        messages[-1] = ChatMessage(last.role, last.content, images=result_photos(result))
    # The registry may have lowered the model's limit since the template was activated.
    max_tokens = min(template.max_tokens, model_entry(template.ai_model).max_output_tokens)
    is_json = template.output_format == "json"
    outcome = Outcome()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if attempt > 1:
            _progress(result, attempt)
        completion = gateway.complete(
            account=result.account, user=result.user, model=template.ai_model, messages=messages, feature="service",
            temperature=float(template.temperature), max_tokens=max_tokens, json_output=is_json,
            json_schema=template.validation_schema if is_json else None,
            reference=Reference("service_result", str(result.id)),
            # Charged by the run, once, when its output is valid (`_complete`): the usage
            # record of the first call gets the charge then; a failed run stays at 0.
            charged=Decimal("0"),
            generation=attempt == 1,  # a run is one generation, however many attempts it takes
        )  # fmt: skip
        outcome.attempts = attempt
        if attempt == 1:
            outcome.usage_record_id = completion.usage_record_id
        outcome.tokens_in += completion.usage.tokens_in
        outcome.tokens_out += completion.usage.tokens_out
        outcome.model, outcome.provider, outcome.text = completion.model, completion.provider, completion.text
        outcome.answers.append(completion.text)
        check = output_check(template, completion.text)
        if check.ok:
            outcome.ok, outcome.data, outcome.error = True, check.data, ""
            return outcome
        outcome.error = check.error
        messages = [*messages, ChatMessage("assistant", completion.text), correction_message(check.error)]
    return outcome


# Shown to users, stored in English and translated when displayed (templates' locale).
ERRORS = {
    "provider_error": gettext_noop(
        "The AI provider answered with an error. Nothing was charged; please try again in a few minutes."
    ),
    "provider_unavailable": gettext_noop(
        "The AI provider could not be reached. Nothing was charged; please try again in a few minutes."
    ),
    "provider_misconfigured": gettext_noop(
        "This service is not set up correctly right now. Nothing was charged; please try again "
        "later or contact support."
    ),
    "unknown_model": gettext_noop(
        "This service's AI model is switched off right now. Nothing was charged; please try again later."
    ),
    "invalid_output": gettext_noop(
        "The AI's answer did not have the expected form, even after it was asked to correct it. "
        "Nothing was charged; please run the service again (rewording your input can help)."
    ),
    "queue_timeout": gettext_noop(
        "This request waited too long for a worker and was cancelled. Nothing was charged; please run "
        "the service again."
    ),
    "credits_ran_out": gettext_noop(
        "Your account no longer had enough credits when the answer was ready, so it was not "
        "delivered. Nothing was charged; top up and run the service again."
    ),
    "internal_error": gettext_noop("Something went wrong on our side. Nothing was charged; please try again."),
    "template_missing": gettext_noop(
        "This service's prompt was removed while your request waited. Nothing was charged; please "
        "run the service again."
    ),
}


def _fail(result: ServiceResult, code: str, message: str | None = None, outcome: Outcome | None = None,
          elapsed_ms: int | None = None) -> None:  # fmt: skip
    """Release the hold (nothing charged) and record why, in one transaction."""
    with account_context(result.account_id):
        row = ServiceResult.objects.select_for_update().filter(pk=result.pk).first()
        if row is None or row.status != Status.RUNNING:
            return
        if row.reservation_id:
            try:
                reservation_release(account=result.account, reservation_id=row.reservation_id)
            except Conflict:
                pass  # the expiry sweep released it already
        row.status = Status.FAILED
        row.error_code = code
        row.error = message or ERRORS[code]
        row.completed_at = timezone.now()
        row.processing_time_ms = elapsed_ms
        if outcome is not None:
            row.attempts = outcome.attempts
            row.tokens_in, row.tokens_out = outcome.tokens_in, outcome.tokens_out
            row.result_text = outcome.text
            row.ai_model = outcome.model or row.ai_model
            row.provider = outcome.provider
        row.save()
    log.info("service result %s failed: %s", result.pk, code)


def _charge(result: ServiceResult, description: str):
    """Settle the hold; if the sweep released it meanwhile, charge directly (or raise InsufficientCredits)."""
    if result.reservation_id:
        try:
            return reservation_settle(
                account=result.account, reservation_id=result.reservation_id, actual=_price(result),
                description=description,
            )  # fmt: skip
        except Conflict:
            pass
    if _price(result) <= 0:
        return None
    return wallet_debit(
        account=result.account, amount=_price(result), actor=result.user, description=description,
        reference=Reference("service_result", str(result.id)),
    )  # fmt: skip


def _complete(result: ServiceResult, template: PromptTemplate, outcome: Outcome, elapsed_ms: int) -> None:
    """The ledger row, the output and the statistics, in one transaction."""
    from .stats import template_record_use

    paths = [
        result_image_store(account_id=result.account_id, result_id=result.pk, media_type=outcome.media_type, data=d)
        for d in outcome.images
    ]  # fmt: skip
    charged = False
    with account_context(result.account_id):
        row = ServiceResult.objects.select_for_update().filter(pk=result.pk).first()
        if row is None or row.status != Status.RUNNING:
            files_delete(paths)  # a duplicate delivery finished it meanwhile
            return
        try:
            with transaction.atomic():
                charge = _charge(result, f"{result.service.name_en} ({template.service_type} {template.version})")
        except InsufficientCredits:
            charged = False
        else:
            charged = True
            row.status = Status.COMPLETED
            row.result_data = outcome.data
            row.result_text = outcome.text
            row.result_files = paths
            row.credits_charged = -charge.amount if charge is not None else Decimal("0")
            row.charge = charge
            usage_charge_add(account=result.account, record_id=outcome.usage_record_id, credits=row.credits_charged)
            row.tokens_in, row.tokens_out = outcome.tokens_in, outcome.tokens_out
            row.attempts = outcome.attempts
            row.ai_model, row.provider = outcome.model, outcome.provider
            row.processing_time_ms = elapsed_ms
            row.completed_at = timezone.now()
            row.error, row.error_code = "", ""
            row.save()
            template_record_use(template_id=template.pk, tokens=outcome.tokens_in + outcome.tokens_out, ms=elapsed_ms)
            if row.experiment_id and row.experiment_arm:
                experiment_record_result(experiment_id=row.experiment_id, arm=row.experiment_arm)
    if not charged:
        files_delete(paths)
        _fail(result, "credits_ran_out", outcome=outcome, elapsed_ms=elapsed_ms)


def result_process(*, result_id: str, account_id: str) -> None:
    """The worker's part of a run. Safe to run twice: a finished result is left alone."""
    result = _claim(result_id, account_id)
    if result is None:
        return
    reservation = result.reservation
    if reservation is not None and reservation.status != Reservation.Status.HELD:
        _fail(result, "queue_timeout")
        return
    template = result.prompt_template
    if template is None:
        _fail(result, "template_missing")
        return
    started = time.monotonic()
    try:
        outcome = _call(result, template)
    except (ProviderError, ModelUnavailable) as exc:
        code = exc.code if exc.code in ERRORS else "provider_error"
        if isinstance(exc, ProviderMisconfigured):
            log.error("service %s: provider misconfigured: %s", result.service.service_type, exc.message)
        _fail(result, code, elapsed_ms=_ms(started))
        return
    except ServiceError as exc:  # e.g. the account's AI shut-off engaged meanwhile
        _fail(result, exc.code[:50], f"{exc.message} Nothing was charged.", elapsed_ms=_ms(started))
        return
    except Exception:
        log.exception("service result %s: unexpected error", result_id)
        _fail(result, "internal_error", elapsed_ms=_ms(started))
        return
    elapsed = _ms(started)
    if not outcome.ok:
        _fail(result, "invalid_output", outcome=outcome, elapsed_ms=elapsed)
        return
    _complete(result, template, outcome, elapsed)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
