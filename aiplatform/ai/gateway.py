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
  `charged=Decimal(...)`: the caller charged this itself (e.g. a service's fixed
  price); it is written into the usage record, nothing is debited.
- Every call, ok or failed or cancelled, writes one billing usage record.
- Errors: ProviderError 502, ProviderUnavailable 503, ProviderMisconfigured 503.
- A stream yields text pieces; after it is exhausted (or closed) its
  `.completion` holds the Completion; `.close()` / `await .aclose()` cancels
  the upstream request and records what was generated (finish_reason "cancelled").
"""
