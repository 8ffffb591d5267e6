"""One gateway call from its arguments to its usage record: validation before the
provider is asked, pricing, charging and metering after it answered.

Everything here that touches the database is synchronous; the async stream runs
it through `database_sync_to_async`.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from accounts.models import Account
from aiplatform.errors import InsufficientCredits, InvalidInput
from billing.services.amounts import parse_credits
from billing.services.ledger import Reference, wallet_debit
from billing.services.reservations import reservation_settle
from billing.services.usage import usage_record

from .guard import call_guard
from .pricing import credits_for, estimate_prompt_tokens, estimate_tokens, provider_cost_for
from .providers import provider_for
from .providers.base import ChatRequest, ChatResult, Provider
from .registry import ModelEntry, model_entry
from .types import IMAGE_TYPES, ChatMessage, Completion, ImagePart, Usage

OK, ERROR, CANCELLED, BLOCKED = "ok", "error", "cancelled", "blocked"
UNCHARGED = frozenset({ERROR, BLOCKED})
_ROLES = frozenset({"system", "user", "assistant"})


@dataclass
class Call:
    account: Account
    user: Any
    entry: ModelEntry
    provider: Provider
    feature: str
    reference: Reference
    charge: bool
    charged: Decimal | None
    reservation: Any
    request: ChatRequest
    generation: bool = False
    output_guard: Any = None  # callable(text) -> True to block
    started: float = field(default_factory=time.perf_counter)


def _invalid_message(message: Mapping, why: str) -> InvalidInput:
    return InvalidInput(why, fields={"messages": [f"Invalid message: {str(dict(message))[:100]}"]})


def _image_part(part: Mapping, message: Mapping) -> ImagePart:
    """An OpenAI-style `{"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}` part.
    Only inline data: the gateway never fetches a URL on a caller's behalf."""
    image_url = part.get("image_url")
    url = image_url.get("url") if isinstance(image_url, Mapping) else image_url
    head, _, data = str(url or "").partition(",")
    media_type = head.removeprefix("data:").removesuffix(";base64")
    if not head.startswith("data:") or not head.endswith(";base64") or media_type not in IMAGE_TYPES:
        raise _invalid_message(message, f"An image part must be a base64 data URL of one of: {', '.join(IMAGE_TYPES)}.")
    try:
        return ImagePart(media_type=media_type, data=base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        raise _invalid_message(message, "An image part's data is not valid base64.") from None


def chat_message(message: ChatMessage | Mapping) -> ChatMessage:
    """A ChatMessage, from one or from a dict whose content is text or OpenAI-style
    content parts (`text` and `image_url` parts; images in user messages only)."""
    if isinstance(message, ChatMessage):
        chat = message
    else:
        role, content = message.get("role"), message.get("content")
        images: list[ImagePart] = []
        if isinstance(content, list | tuple) and role in _ROLES:
            texts = []
            for part in content:
                kind = part.get("type") if isinstance(part, Mapping) else None
                if kind == "text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif kind == "image_url":
                    images.append(_image_part(part, message))
                else:
                    raise _invalid_message(message, "A content part is a text or an image_url part.")
            content = "\n\n".join(texts)
        if role not in _ROLES or not isinstance(content, str):
            raise _invalid_message(message, "Each message needs a role (system, user or assistant) and text content.")
        chat = ChatMessage(role=role, content=content, images=tuple(images))
    if chat.images and chat.role != "user":
        raise InvalidInput(
            gettext("Only user messages can carry images."),
            fields={"messages": [gettext("Images in a non-user message.")]},
        )
    return chat


def prepare(
    *,
    account: Account,
    model: str,
    messages: Iterable[ChatMessage | Mapping],
    feature: str,
    user: Any,
    temperature: float | None,
    max_tokens: int | None,
    json_output: bool,
    json_schema: dict | None,
    reference: Reference,
    charge: bool,
    charged: Decimal | str | int | None,
    timeout: float | None,
    reservation: Any,
    generation: bool = False,
    output_guard: Any = None,
) -> Call:
    """Validate the arguments and price nothing yet. Reads the registry cache only."""
    entry = model_entry(model)
    msgs = tuple(chat_message(m) for m in messages)
    if not msgs:
        raise InvalidInput(
            gettext("A completion needs at least one message."), fields={"messages": [gettext("Empty.")]}
        )
    if charged is not None and (charge or reservation is not None):
        raise InvalidInput(
            gettext("Pass either charge/reservation (the gateway charges) or charged= (you did), not both.")
        )
    if temperature is not None and not 0 <= temperature <= 2:
        raise InvalidInput(
            gettext("temperature must be between 0 and 2."), fields={"temperature": [gettext("Between 0 and 2.")]}
        )
    if max_tokens is not None and not 0 < max_tokens <= entry.max_output_tokens:
        raise InvalidInput(
            gettext("max_tokens must be between 1 and %(limit)s for %(model)s.")
            % {"limit": entry.max_output_tokens, "model": entry.name},
            fields={"max_tokens": [gettext("At most %(limit)s.") % {"limit": entry.max_output_tokens}]},
        )
    if any(m.images for m in msgs) and not entry.accepts_images:
        raise InvalidInput(
            gettext(
                "The model %(model)s does not read images. Choose a vision model of the registry "
                "(one marked 'accepts images')."
            )
            % {"model": entry.name},
            code="images_unsupported",
            fields={"model": [gettext("This model does not accept images.")]},
        )
    prompt = estimate_prompt_tokens(msgs)
    if prompt > entry.context_window:
        raise InvalidInput(
            gettext(
                "The conversation is too long for %(model)s: about %(tokens)s tokens, its context window is %(window)s."
            )
            % {"model": entry.name, "tokens": prompt, "window": entry.context_window},
            code="context_too_long",
        )
    request = ChatRequest(
        model=entry.provider_model, messages=msgs, max_tokens=max_tokens,
        temperature=float(temperature) if temperature is not None else None,  # a Decimal is not JSON
        json_output=json_output or json_schema is not None, json_schema=json_schema, timeout=timeout,
        output_limit=entry.max_output_tokens,
    )  # fmt: skip
    return Call(
        account=account, user=user, entry=entry, provider=provider_for(entry.provider), feature=feature,
        reference=reference, charge=charge or reservation is not None,
        charged=parse_credits(charged, field="charged", allow_zero=True) if charged is not None else None,
        reservation=getattr(reservation, "pk", reservation), request=request, generation=generation,
        output_guard=output_guard,
    )  # fmt: skip


def guard(call: Call) -> None:
    """The account's emergency shut-off (403), checked before the provider is asked."""
    call_guard(account=call.account)


def usage_of(call: Call, result: ChatResult, text: str, *, status: str, started: bool) -> Usage:
    """Reported tokens, or the documented estimate (pricing.py) for what is missing."""
    if not started or (status == ERROR and not text and result.tokens_in is None):
        return Usage(tokens_in=result.tokens_in or 0, tokens_out=result.tokens_out or 0)
    tokens_in, tokens_out, estimated = result.tokens_in, result.tokens_out, False
    if tokens_in is None:
        tokens_in, estimated = estimate_prompt_tokens(call.request.messages), True
    if tokens_out is None:
        tokens_out, estimated = estimate_tokens(text), True
    return Usage(tokens_in=tokens_in, tokens_out=tokens_out, estimated=estimated)


@dataclass(frozen=True)
class Metered:
    price: Decimal  # credits the registry prices the tokens at
    spent: Decimal  # credits taken from the account for this call
    cost: Decimal  # USD the provider charges us
    record_id: Any


def meter(
    *,
    account: Account,
    user: Any,
    entry: ModelEntry,
    feature: str,
    reference: Reference,
    usage: Usage,
    status: str,
    error: str,
    latency_ms: int,
    charge: bool = False,
    charged: Decimal | None = None,
    reservation: Any = None,
    generation: bool = False,
) -> Metered:
    """Charge as asked and write the usage record, in one transaction.

    An error or a blocked answer is never charged (a held reservation is settled at 0). When the wallet
    cannot pay, the usage record says so and InsufficientCredits (402) is raised
    after it is written."""
    price = credits_for(entry, usage.tokens_in, usage.tokens_out)
    cost = provider_cost_for(entry, usage.tokens_in, usage.tokens_out)
    unpaid: InsufficientCredits | None = None
    # Inside a caller's transaction (a request) no savepoint of its own: the charge and
    # the record commit or roll back with the caller's work, and a search or a chat
    # turn spares two round trips. InsufficientCredits is caught below, inside the
    # block, so it never marks the caller's transaction for rollback.
    with transaction.atomic(savepoint=False):
        spent = Decimal("0")
        if charged is not None:
            spent = charged if status not in UNCHARGED else Decimal("0")
        elif reservation is not None:
            actual = price if status not in UNCHARGED else Decimal("0")
            spent = _settle_reservation(account, reservation, actual, entry, feature)
        elif charge and status not in UNCHARGED and price > 0:
            try:
                wallet_debit(
                    account=account, amount=price, type="use", actor=user, reference=reference,
                    description=f"{entry.name}: {usage.tokens_in} tokens in, {usage.tokens_out} out ({feature})",
                )  # fmt: skip
                spent = price
            except InsufficientCredits as exc:
                unpaid, error = exc, f"not charged: {exc.message}"
        record = usage_record(
            account=account, user=user, feature=feature, model=entry.name, provider=entry.provider,
            tokens_in=usage.tokens_in, tokens_out=usage.tokens_out, provider_cost=cost, credits=spent,
            latency_ms=latency_ms, status=status, error=error[:2000], reference=reference, generation=generation,
        )  # fmt: skip
    if unpaid is not None:
        raise unpaid
    return Metered(price=price, spent=spent, cost=cost, record_id=record.id)


def finish(
    call: Call, result: ChatResult, text: str, *, status: str, error: str = "", started: bool = True
) -> Completion:
    """Price, charge and record a chat call (see `meter`); its Completion."""
    latency_ms = int((time.perf_counter() - call.started) * 1000)
    usage = usage_of(call, result, text, status=status, started=started)
    metered = meter(
        account=call.account, user=call.user, entry=call.entry, feature=call.feature, reference=call.reference,
        usage=usage, status=status, error=error, latency_ms=latency_ms, charge=call.charge, charged=call.charged,
        reservation=call.reservation, generation=call.generation,
    )  # fmt: skip
    if status == OK:
        finish_reason = result.finish_reason
    else:
        finish_reason = status if status in (CANCELLED, BLOCKED) else "error"
    return Completion(
        text=text, model=call.entry.name, provider=call.entry.provider, usage=usage, finish_reason=finish_reason,
        latency_ms=latency_ms, credits=metered.spent if call.charged is None else Decimal("0"),
        provider_cost=metered.cost, usage_record_id=metered.record_id, price=metered.price,
    )  # fmt: skip


def _settle_reservation(account: Account, reservation: Any, price: Decimal, entry: ModelEntry, feature: str) -> Decimal:
    tx = reservation_settle(
        account=account, reservation_id=reservation, actual=price, description=f"{entry.name} ({feature})"
    )
    return -tx.amount if tx is not None else Decimal("0")


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
