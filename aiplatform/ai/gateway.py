"""The one entry point apps use for AI calls.

Contract (other apps code against it; keep it stable):

    complete(account=, model=, messages=, feature=, user=None, temperature=None,
             max_tokens=None, json_output=False, reference=NO_REFERENCE,
             charge=False, charged=None, timeout=None) -> Completion
    stream(...same keywords...) -> CompletionStream      # sync iterator of str pieces
    astream(...same keywords...) -> AsyncCompletionStream  # async iterator of str pieces
    embed(account=, model=, texts=, feature="embedding", user=None) -> Embeddings

- `model` is a registry name (AiModel.name); unknown or disabled -> ModelUnavailable (400).
- `messages` are ChatMessage or {"role", "content"} dicts.
- Before calling: billing.services.controls.ai_call_guard (shut-off -> 403).
- `charge=True`: debit the credits the registry prices for the tokens used
  (billing.services.ledger.wallet_debit, type "use", the given reference).
  `charged=Decimal(...)`: the caller charged this itself; it is written into the
  usage record, nothing is debited. A caller that charges only after the call
  succeeded (a service run's fixed price) passes `charged=0` and adds the charge
  with billing.services.usage.usage_charge_add in the transaction that charges:
  a usage record's credits are what the ledger charged.
- Every call, ok or failed or cancelled, writes one billing usage record.
- Errors: ProviderError 502, ProviderUnavailable 503, ProviderMisconfigured 503.
- A stream yields text pieces; after it is exhausted (or closed) its
  `.completion` holds the Completion; `.close()` / `await .aclose()` cancels
  the upstream request and records what was generated (finish_reason "cancelled").

Additions (backwards compatible):

- `CompletionRequest` (frozen dataclass): the fields above written once;
  `complete(req)`, `stream(req)`, `astream(req)` take it positionally, and the
  keyword form builds one (an unknown keyword is a TypeError, as before).

- `json_schema=dict`: the answer must be JSON valid against it (implies
  json_output; OpenAI-compatible servers get `response_format` json_schema,
  Anthropic an instruction, the offline model builds a valid instance). Callers
  still validate.
- `reservation=` (a billing Reservation or its id): settle that hold with the
  priced credits instead of a direct debit (released uncharged on error).
- `embed(..., charge=False, reference=NO_REFERENCE, timeout=None)`.
- `Completion.price`: the credits the registry prices the call at, charged or
  not; `Completion.credits` is what this call took from the wallet.
- Streams are context managers (`with gateway.stream(...) as s:`), which close
  them. Provider errors of `stream` raise from iteration; `astream` also checks
  the model and the shut-off on its first iteration (through
  database_sync_to_async).
- `generation=True`: this call is a generation a user asked for (a chat answer, a
  service run's call, a bot's reply): its usage record counts against the plan's
  monthly generations (billing.services.limits.generation_check) when it did not
  fail. Embeddings and internal calls leave it False.
- `output_guard=callable(text) -> bool` (streams): True blocks the answer. The
  caller runs it on text before releasing it; the stream runs it once more on the
  whole text before metering, and `close(blocked=True)` / `aclose(blocked=True)`
  ends a stream the caller blocked. A blocked call is recorded with status
  "blocked", finish_reason "blocked", and charged nothing (a hold is released).
- Usage with no provider report: aiplatform/ai/pricing.py (estimate, marked
  `Usage.estimated`). Registry entries and passed shut-off checks are cached
  in-process briefly (registry.py, guard.py).
- `charge=True` on a wallet that cannot pay for a finished answer: the usage
  record says it was not charged and InsufficientCredits (402) is raised; hold a
  reservation first where an answer must not be given away.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import Account
from aiplatform.errors import InvalidInput
from billing.services.ledger import NO_REFERENCE, Reference

from . import calls
from .errors import ProviderMisconfigured
from .guard import call_guard
from .models import AiModel
from .pricing import estimate_tokens
from .providers import provider_for
from .providers.base import ChatResult, EmbedRequest
from .registry import model_entry
from .streams import AsyncCompletionStream, CompletionStream
from .types import ChatMessage, Completion, Embeddings, Usage

__all__ = [
    "complete", "stream", "astream", "embed", "CompletionRequest", "CompletionStream", "AsyncCompletionStream",
    "NO_REFERENCE",
]  # fmt: skip

EMBED_BATCH = 128  # texts per provider request


@dataclass(frozen=True, kw_only=True)
class CompletionRequest:
    """One completion asked of the gateway, written once for complete, stream and
    astream (a new parameter is one field here). Frozen: `replace(...)` gives a
    changed copy, e.g. the same request with another model."""

    account: Account
    model: str
    messages: tuple[ChatMessage | Mapping, ...]
    feature: str
    user: Any = None
    temperature: float | None = None
    max_tokens: int | None = None
    json_output: bool = False
    json_schema: dict | None = None
    reference: Reference = NO_REFERENCE
    charge: bool = False
    charged: Decimal | str | int | None = None
    timeout: float | None = None
    reservation: Any = None
    generation: bool = False
    output_guard: Callable[[str], bool] | None = None  # streams only

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", tuple(self.messages))  # an iterator is read once, here

    def replace(self, **changes: Any) -> CompletionRequest:
        return dataclasses.replace(self, **changes)

    def as_kwargs(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _completion_request(request: CompletionRequest | None, keywords: dict[str, Any]) -> CompletionRequest:
    """The request object, or one built from the keyword form every existing caller uses."""
    if request is None:
        return CompletionRequest(**keywords)
    if keywords:
        raise TypeError("Pass a CompletionRequest or keywords, not both (use request.replace(...)).")
    return request


def _call(request: CompletionRequest) -> calls.Call:
    call = calls.prepare(**request.as_kwargs())
    calls.guard(call)
    return call


def complete(request: CompletionRequest | None = None, /, **keywords: Any) -> Completion:
    """One completion, whole: `complete(CompletionRequest(...))`, or the same fields as
    keywords (`complete(account=, model=, messages=, feature=, ...)`). `json_schema` asks
    for JSON valid against it (implies json_output); `reservation` (a Reservation or
    its id) is settled with the price instead of a direct debit. See the module
    docstring for the rest."""
    call = _call(_completion_request(request, keywords))
    try:
        result = call.provider.complete(call.request)
    except Exception as exc:
        calls.finish(call, ChatResult(), "", status=calls.ERROR, error=calls.error_text(exc))
        raise
    return calls.finish(call, result, result.text, status=calls.OK)


def stream(request: CompletionRequest | None = None, /, **keywords: Any) -> CompletionStream:
    """A streamed completion (a CompletionRequest or its fields as keywords). The model,
    arguments and shut-off are checked here; provider errors raise from iteration."""
    return CompletionStream(_call(_completion_request(request, keywords)))


def astream(request: CompletionRequest | None = None, /, **keywords: Any) -> AsyncCompletionStream:
    """`stream` for async code (Channels consumers, ASGI views): `async for piece in
    astream(...)`. All database work runs through sync_to_async; the checks run on
    the first iteration."""
    return AsyncCompletionStream(partial(_call, _completion_request(request, keywords)))


def embed(
    *,
    account: Account,
    model: str,
    texts: Iterable[str],
    feature: str = "embedding",
    user: Any = None,
    reference: Reference = NO_REFERENCE,
    charge: bool = False,
    timeout: float | None = None,
) -> Embeddings:
    """Vectors for `texts`, in order, from an embedding model of the registry.
    Tokens are priced at credits_in_per_1k; `charge=True` debits them."""
    entry = model_entry(model, kind=AiModel.Kind.EMBEDDING)
    texts = list(texts)
    if any(not isinstance(t, str) for t in texts):
        raise InvalidInput(_("Only text can be embedded."), fields={"texts": [_("Every item must be a string.")]})
    if not texts:
        return Embeddings(vectors=[], model=entry.name, dimensions=entry.dimensions or 0)
    call_guard(account=account)
    provider, started = provider_for(entry.provider), time.perf_counter()
    vectors: list[list[float]] = []
    tokens, estimated = 0, False
    try:
        for at in range(0, len(texts), EMBED_BATCH):
            batch = tuple(texts[at : at + EMBED_BATCH])
            result = provider.embed(EmbedRequest(model=entry.provider_model, texts=batch, timeout=timeout))
            vectors += result.vectors
            if result.tokens is None:
                tokens, estimated = tokens + sum(estimate_tokens(t) for t in batch), True
            else:
                tokens += result.tokens
        size = len(vectors[0])
        if entry.dimensions and any(len(v) != entry.dimensions for v in vectors):
            raise ProviderMisconfigured(
                _(
                    "The registry says %(model)s has %(dimensions)s dimensions, the provider sent %(size)s: "
                    "fix the registry entry or the provider model."
                )
                % {"model": entry.name, "dimensions": entry.dimensions, "size": size}
            )
    except Exception as exc:
        calls.meter(
            account=account, user=user, entry=entry, feature=feature, reference=reference,
            usage=Usage(tokens_in=tokens), status=calls.ERROR, error=calls.error_text(exc),
            latency_ms=int((time.perf_counter() - started) * 1000),
        )  # fmt: skip
        raise
    usage = Usage(tokens_in=tokens, estimated=estimated)
    calls.meter(
        account=account, user=user, entry=entry, feature=feature, reference=reference, usage=usage,
        status=calls.OK, error="", latency_ms=int((time.perf_counter() - started) * 1000), charge=charge,
    )  # fmt: skip
    return Embeddings(vectors=vectors, model=entry.name, dimensions=size, usage=usage)
