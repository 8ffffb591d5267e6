"""Service outcomes as flash messages, for the server-rendered pages of every app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages

from aiplatform.errors import ServiceError


def service_error_text(exc: ServiceError) -> str:
    details = [
        f"{name.replace('_', ' ').capitalize()}: {' '.join(str(e) for e in errors)}"
        for name, errors in (exc.fields or {}).items()
    ]
    return " ".join([exc.message, *details])


def run_and_report(request, action: Callable[[], Any], success: str | Callable[[Any], str]) -> bool:
    """Call a service; report its outcome as a flash message. True on success."""
    try:
        result = action()
    except ServiceError as exc:
        messages.error(request, service_error_text(exc))
        return False
    messages.success(request, success(result) if callable(success) else success)
    return True
