"""What every publishing adapter (WordPress, GoHighLevel, Simvoly, custom
webhook) shares: the failure classes, the credential session, the payloads.

A failure says what the user must do:

| failure | when | what happens |
| --- | --- | --- |
| AUTH | wrong password, expired or revoked token, bad API key | integration -> error, "Reconnect"; queued publishes \
are kept and re-run after reconnecting |
| THROTTLED | 429 | retried later (Retry-After) |
| TRANSIENT | network, timeout, 5xx | retried with backoff |
| PERMANENT | anything else the platform refused | the publish fails with the platform's message |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Failure(StrEnum):
    AUTH = "auth"
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


class IntegrationError(Exception):
    def __init__(self, message: str, *, failure: Failure = Failure.PERMANENT, status: int | None = None,
                 retry_after: int | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.message = message
        self.failure = failure
        self.status = status
        self.retry_after = retry_after

    @property
    def needs_reconnect(self) -> bool:
        return self.failure == Failure.AUTH

    @property
    def retryable(self) -> bool:
        return self.failure in (Failure.THROTTLED, Failure.TRANSIENT)


@dataclass
class Session:
    """The decrypted credentials of one integration while an adapter uses them.
    An adapter that refreshes a token sets `changed`, and the caller stores them."""

    credentials: dict[str, Any]
    metadata: dict[str, Any]
    changed: bool = False

    def update(self, **values: Any) -> None:
        self.credentials.update(values)
        self.changed = True

    def credential(self, name: str) -> Any:
        """One stored credential. Missing (a connection saved before the field existed,
        or damaged) is an AUTH failure: the integration asks to be reconnected."""
        value = self.credentials.get(name)
        if value in (None, ""):
            raise IntegrationError(f"the saved connection has no {name}; connect it again.", failure=Failure.AUTH)
        return value


@dataclass(frozen=True)
class AccountInfo:
    name: str
    email: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PagePayload:
    """A campaign as one page: its sanitised HTML (with CSS inlined in a <style>),
    where the platform hosts it, and where an existing remote copy is."""

    title: str
    html: str
    slug: str
    hosted_url: str
    status: str = "publish"
    external_id: str = ""


@dataclass(frozen=True)
class Published:
    external_id: str
    external_url: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lead:
    email: str
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    source: str = ""
    tags: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportedPage:
    """A page or funnel read for analysis."""

    title: str
    url: str
    html: str = ""
    text: str = ""
    structure: dict[str, Any] = field(default_factory=dict)


class Adapter:
    """One platform. Methods a platform cannot do raise IntegrationError (PERMANENT)
    with the reason; `capabilities` lists the ones it can."""

    platform: str = ""
    label: str = ""
    capabilities: frozenset[str] = frozenset()

    def unsupported(self, what: str) -> IntegrationError:
        return IntegrationError(f"{self.label} cannot {what}.", failure=Failure.PERMANENT)

    def connect(self, data: dict[str, Any]) -> tuple[dict[str, Any], AccountInfo]:
        """Credentials from the connect form, verified against the platform."""
        raise self.unsupported("be connected with a form")

    def verify(self, session: Session) -> AccountInfo:
        raise self.unsupported("be verified")

    def publish_page(self, session: Session, page: PagePayload) -> Published:
        raise self.unsupported("publish pages")

    def push_lead(self, session: Session, lead: Lead) -> Published:
        raise self.unsupported("receive leads")

    def push_email_template(self, session: Session, *, title: str, html: str, external_id: str = "") -> Published:
        raise self.unsupported("receive email templates")

    def point_redirect(self, session: Session, *, path: str, target: str, external_id: str = "") -> Published:
        raise self.unsupported("redirect to hosted pages")

    def fetch_page(self, session: Session, ref: str) -> ImportedPage:
        raise self.unsupported("import pages")

    def list_pages(self, session: Session) -> list[dict[str, Any]]:
        return []
