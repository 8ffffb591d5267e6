"""What a call costs: credits we charge, dollars the provider charges us, and the
token estimate used when a provider reports no usage.

Token estimate (Usage.estimated = True), close to what BPE tokenizers give for
English and safe for Korean:
    tokens(text)  = ceil(ASCII characters / 4) + non-ASCII characters
    prompt tokens = sum over messages of (tokens(content) + 4)   # role and framing
                    + IMAGE_TOKENS per attached image           # a vision model's tiles, roughly
    answer tokens = tokens(answer)
Credits = (tokens_in x credits_in_per_1k + tokens_out x credits_out_per_1k) / 1000,
rounded half-up to 4 decimal places (the ledger's precision). Provider cost =
(tokens_in x price_in_per_mtok + tokens_out x price_out_per_mtok) / 1,000,000 USD,
to 6 places.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from .registry import ModelEntry
from .types import ChatMessage

MESSAGE_OVERHEAD = 4
IMAGE_TOKENS = 800  # OpenAI bills a 512 px tile at 170 tokens plus 85; a typical photo is a few tiles
CREDIT_QUANTUM = Decimal("0.0001")
COST_QUANTUM = Decimal("0.000001")
_THOUSAND = Decimal(1000)
_MILLION = Decimal(1_000_000)


def estimate_tokens(text: str) -> int:
    ascii_chars = len(text.encode("ascii", "ignore"))
    return -(-ascii_chars // 4) + (len(text) - ascii_chars)


def estimate_prompt_tokens(messages: Iterable[ChatMessage]) -> int:
    return sum(estimate_tokens(m.content) + MESSAGE_OVERHEAD + IMAGE_TOKENS * len(m.images) for m in messages)


def credits_for(entry: ModelEntry, tokens_in: int, tokens_out: int) -> Decimal:
    raw = (tokens_in * entry.credits_in_per_1k + tokens_out * entry.credits_out_per_1k) / _THOUSAND
    return raw.quantize(CREDIT_QUANTUM, rounding=ROUND_HALF_UP)


def provider_cost_for(entry: ModelEntry, tokens_in: int, tokens_out: int) -> Decimal:
    raw = (tokens_in * entry.price_in_per_mtok + tokens_out * entry.price_out_per_mtok) / _MILLION
    return raw.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
