"""Errors of the gateway, in the shared error shape (aiplatform.errors)."""

from __future__ import annotations

from aiplatform.errors import InvalidInput, ServiceError


class ModelUnavailable(InvalidInput):
    """The model is not in the registry, is disabled, or is of the wrong kind."""

    code = "unknown_model"


class ProviderError(ServiceError):
    """The provider answered with an error after the retries were spent."""

    status = 502
    code = "provider_error"


class ProviderUnavailable(ProviderError):
    """The provider could not be reached or timed out."""

    status = 503
    code = "provider_unavailable"


class ProviderMisconfigured(ProviderError):
    """Settings lack what the provider needs (base URL, API key)."""

    status = 503
    code = "provider_misconfigured"
