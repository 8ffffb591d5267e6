"""Simvoly with an API key (Settings > Applications) and the site's domain.

Its documented entities are contacts, form submissions, members, products,
orders, bookings and webhooks; there is no public page-publishing API (not
found; reference section 5, unverified), so pages go there as an export (HTML
to paste into a custom-code block) or an embed of the hosted page; contacts
are pushed with `POST <domain>/api/contacts`. The key travels in `X-API-KEY`
(our best reading of the integration docs; isolated here to change in one place).
"""

from __future__ import annotations

from html import escape
from typing import Any

from .base import AccountInfo, Adapter, Failure, IntegrationError, Lead, PagePayload, Published, Session
from .http import body_of, check_user_url, classify, request


def embed_snippet(hosted_url: str, title: str = "") -> str:
    """What a Simvoly custom-code block embeds: the hosted (tracked) page in an iframe."""
    return (f'<iframe src="{escape(hosted_url)}" title="{escape(title)}" loading="lazy" '
            'style="width:100%;min-height:900px;border:0" '
            'referrerpolicy="strict-origin-when-cross-origin"></iframe>')  # fmt: skip


class SimvolyAdapter(Adapter):
    platform = "simvoly"
    label = "Simvoly"
    capabilities = frozenset({"push_lead", "export_page"})

    def _headers(self, session: Session) -> dict[str, str]:
        return {"X-API-KEY": session.credential("api_key"), "Accept": "application/json"}

    def _url(self, session: Session, path: str) -> str:
        return session.credential("domain") + "/api" + path

    def _error(self, response, action: str) -> IntegrationError:
        if response.status_code in (401, 403):
            return IntegrationError("Simvoly refused the API key. Reconnect it with the key from Settings > "
                                    "Applications.", failure=Failure.AUTH, status=response.status_code)  # fmt: skip
        body = body_of(response)
        message = (body.get("message") or body.get("error") or "") if isinstance(body, dict) else ""
        return classify(response, "Simvoly", f"!Simvoly could not {action}: {message or response.status_code}")

    def connect(self, data: dict[str, Any]) -> tuple[dict[str, Any], AccountInfo]:
        domain = check_user_url(str(data.get("domain") or ""), what="Simvoly site address")
        key = str(data.get("api_key") or "").strip()
        if not key:
            raise IntegrationError("Enter the Simvoly API key (Settings > Applications).")
        credentials = {"domain": domain, "api_key": key}
        return credentials, self.verify(Session(credentials, {}))

    def verify(self, session: Session) -> AccountInfo:
        response = request("GET", self._url(session, "/site"), label="Simvoly", headers=self._headers(session))
        if response.status_code != 200:
            raise self._error(response, "sign in")
        site = body_of(response)
        return AccountInfo(name=str(site.get("name") or ""), email=str(site.get("email") or ""),
                           metadata={"domain": session.credential("domain"), "site_id": site.get("id")})  # fmt: skip

    def push_lead(self, session: Session, lead: Lead) -> Published:
        body = {"email": lead.email, "firstName": lead.first_name, "lastName": lead.last_name, "phone": lead.phone,
                "tags": list(lead.tags), "source": lead.source}  # fmt: skip
        response = request("POST", self._url(session, "/contacts"), label="Simvoly", json=body,
                           headers=self._headers(session))  # fmt: skip
        if response.status_code not in (200, 201):
            raise self._error(response, "add the contact")
        return Published(external_id=str(body_of(response).get("id") or ""))

    def publish_page(self, session: Session, page: PagePayload) -> Published:
        """No page API: the 'publication' is the export and embed snippet, kept for the user."""
        return Published(external_id="", external_url=page.hosted_url,
                         metadata={"embed": embed_snippet(page.hosted_url, page.title),
                                   "export": page.html})  # fmt: skip
