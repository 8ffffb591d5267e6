"""GoHighLevel v2 (LeadConnector API) as a marketplace app with OAuth.

Facts (highlevel-api-docs): base GHL_API_URL, headers `Authorization: Bearer`
and `Version: 2021-07-28`; `POST /oauth/token` form-encoded for
`authorization_code` and `refresh_token` (access tokens last a day, refresh
tokens a year and are replaced on every refresh); 100 requests / 10 s per
location. Its Funnels API is read-only, so a campaign is hosted by us and GHL
gets a funnel redirect (`POST/PATCH /funnels/lookup/redirect`) to it; leads go
in with `POST /contacts/upsert`; email templates with `POST /emails/builder`
then `POST /emails/builder/data`.

An expired access token is refreshed before a call (GHL_REFRESH_MARGIN_SECONDS)
and once more on a 401; a refused refresh token means the user must reconnect.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from .base import AccountInfo, Adapter, Failure, ImportedPage, IntegrationError, Lead, Published, Session
from .http import body_of, classify, request


def authorize_url(*, redirect_uri: str, state: str) -> str:
    query = {"response_type": "code", "redirect_uri": redirect_uri, "client_id": settings.GHL_CLIENT_ID,
             "scope": settings.GHL_SCOPES, "state": state}  # fmt: skip
    return f"{settings.GHL_OAUTH_AUTHORIZE_URL}?{urlencode(query)}"


def configured() -> bool:
    return bool(settings.GHL_CLIENT_ID and settings.GHL_CLIENT_SECRET)


class GoHighLevelAdapter(Adapter):
    platform = "gohighlevel"
    label = "GoHighLevel"
    capabilities = frozenset({"push_lead", "push_email_template", "point_redirect", "fetch_page", "list_pages"})

    # --- OAuth -------------------------------------------------------------------------

    def _token(self, form: dict[str, str]) -> dict[str, Any]:
        form = {"client_id": settings.GHL_CLIENT_ID, "client_secret": settings.GHL_CLIENT_SECRET,
                "user_type": "Location", **form}  # fmt: skip
        response = request("POST", settings.GHL_API_URL + "/oauth/token", label="GoHighLevel", data=form,
                           headers={"Accept": "application/json"})  # fmt: skip
        body = body_of(response)
        if response.status_code >= 500 or response.status_code == 429:
            raise classify(response, "GoHighLevel")
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            description = body.get("error_description") or body.get("error") if isinstance(body, dict) else ""
            raise IntegrationError(f"GoHighLevel refused the authorisation ({description or response.status_code}). "
                                   "Connect it again.", failure=Failure.AUTH, status=response.status_code)  # fmt: skip
        return body

    @staticmethod
    def _credentials(body: dict[str, Any]) -> dict[str, Any]:
        return {"access_token": body["access_token"], "refresh_token": body.get("refresh_token", ""),
                "expires_at": int(time.time()) + int(body.get("expires_in") or 86399),
                "location_id": body.get("locationId", ""), "company_id": body.get("companyId", ""),
                "user_id": body.get("userId", ""), "scope": body.get("scope", "")}  # fmt: skip

    def exchange_code(self, *, code: str, redirect_uri: str) -> tuple[dict[str, Any], AccountInfo]:
        if not configured():
            raise IntegrationError("GoHighLevel is not set up here: GHL_CLIENT_ID and GHL_CLIENT_SECRET are empty.")
        body = self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
        credentials = self._credentials(body)
        if not credentials["location_id"]:
            raise IntegrationError("Choose a sub-account (location) in GoHighLevel, not the agency.")
        return credentials, self.verify(Session(credentials, {}))

    def refresh(self, session: Session) -> None:
        token = session.credentials.get("refresh_token")
        if not token:
            raise IntegrationError("GoHighLevel's authorisation has ended. Reconnect it.", failure=Failure.AUTH)
        body = self._token({"grant_type": "refresh_token", "refresh_token": token})
        session.update(**{k: v for k, v in self._credentials(body).items() if v or k == "expires_at"})

    # --- calls -------------------------------------------------------------------------

    def _call(self, session: Session, method: str, path: str, *, json: Any = None, params: dict | None = None,
              ok: tuple[int, ...] = (200, 201), retried: bool = False) -> Any:  # fmt: skip
        if int(session.credentials.get("expires_at") or 0) - settings.GHL_REFRESH_MARGIN_SECONDS < time.time():
            self.refresh(session)
        headers = {"Authorization": f"Bearer {session.credential('access_token')}",
                   "Version": settings.GHL_API_VERSION, "Accept": "application/json"}  # fmt: skip
        response = request(method, settings.GHL_API_URL + path, label="GoHighLevel", json=json, params=params,
                           headers=headers)  # fmt: skip
        if response.status_code == 401 and not retried:
            self.refresh(session)
            return self._call(session, method, path, json=json, params=params, ok=ok, retried=True)
        if response.status_code not in ok:
            body = body_of(response)
            message = body.get("message") if isinstance(body, dict) else ""
            if isinstance(message, list):
                message = "; ".join(str(m) for m in message)
            if response.status_code == 401:
                raise IntegrationError("GoHighLevel no longer accepts our token. Reconnect it.",
                                       failure=Failure.AUTH, status=401)  # fmt: skip
            if response.status_code == 403:
                raise IntegrationError(f"GoHighLevel: {message or 'access denied'}. Reconnect it with this "
                                       "sub-account.", failure=Failure.AUTH, status=403)  # fmt: skip
            raise classify(
                response, "GoHighLevel", f"!GoHighLevel refused the request: {message or response.status_code}"
            )
        return body_of(response)

    def _location(self, session: Session) -> str:
        return session.credential("location_id")

    def verify(self, session: Session) -> AccountInfo:
        body = self._call(session, "GET", f"/locations/{self._location(session)}")
        location = body.get("location") or {}
        return AccountInfo(name=str(location.get("name") or ""), email=str(location.get("email") or ""),
                           metadata={"location_id": self._location(session),
                                     "company_id": session.credentials.get("company_id", "")})  # fmt: skip

    def push_lead(self, session: Session, lead: Lead) -> Published:
        body = {"locationId": self._location(session), "email": lead.email, "firstName": lead.first_name or None,
                "lastName": lead.last_name or None, "phone": lead.phone or None, "source": lead.source or None,
                "tags": list(lead.tags) or None}  # fmt: skip
        body = {k: v for k, v in body.items() if v is not None}
        data = self._call(session, "POST", "/contacts/upsert", json=body)
        contact = data.get("contact") or {}
        return Published(external_id=str(contact.get("id") or ""), metadata={"new": bool(data.get("new"))})

    def push_email_template(self, session: Session, *, title: str, html: str, external_id: str = "") -> Published:
        template_id = external_id
        if not template_id:
            created = self._call(session, "POST", "/emails/builder",
                                 json={"locationId": self._location(session), "title": title[:200], "type": "html",
                                       "builderVersion": "2", "name": title[:200]})  # fmt: skip
            template_id = str(created.get("redirect") or "")
            if not template_id:
                raise IntegrationError("GoHighLevel did not return the new template's id.", failure=Failure.TRANSIENT)
        data = self._call(session, "POST", "/emails/builder/data",
                          json={"locationId": self._location(session), "templateId": template_id,
                                "updatedBy": session.credentials.get("user_id") or "aiplatform",
                                "dnd": {"elements": [], "attrs": {}, "templateSettings": {}},
                                "html": html, "editorType": "html"})  # fmt: skip
        return Published(external_id=template_id, external_url=str(data.get("previewUrl") or ""))

    def point_redirect(self, session: Session, *, path: str, target: str, external_id: str = "",
                       domain: str = "") -> Published:  # fmt: skip
        domain = domain or session.metadata.get("domain", "")
        if not domain:
            raise IntegrationError("Set the GoHighLevel domain to redirect from (e.g. go.example.com) in the "
                                   "integration's settings.")  # fmt: skip
        if external_id:
            try:
                data = self._call(session, "PATCH", f"/funnels/lookup/redirect/{external_id}",
                                  json={"target": target, "action": "url",
                                        "locationId": self._location(session)})  # fmt: skip
                row = data.get("data") or {}
                return Published(external_id=str(row.get("id") or external_id), external_url=f"https://{domain}{path}")
            except IntegrationError as exc:
                if exc.status != 404:
                    raise
        data = self._call(session, "POST", "/funnels/lookup/redirect",
                          json={"locationId": self._location(session), "domain": domain, "path": path,
                                "target": target, "action": "url"})  # fmt: skip
        row = data.get("data") or {}
        return Published(external_id=str(row.get("id") or ""), external_url=f"https://{domain}{path}")

    def list_pages(self, session: Session) -> list[dict[str, Any]]:
        data = self._call(session, "GET", "/funnels/funnel/list", params={"locationId": self._location(session)})
        funnels = data.get("funnels") or []
        if isinstance(funnels, dict):
            funnels = [funnels]
        return [{"id": f.get("_id"), "name": f.get("name"), "steps": f.get("steps") or []} for f in funnels]

    def fetch_page(self, session: Session, ref: str) -> ImportedPage:
        """A funnel (its steps and pages: the API gives structure, not page HTML)."""
        funnel = next((f for f in self.list_pages(session) if f["id"] == ref), None)
        if funnel is None:
            raise IntegrationError("No such funnel in this GoHighLevel sub-account.")
        pages = self._call(session, "GET", "/funnels/page",
                           params={"locationId": self._location(session), "funnelId": ref,
                                   "limit": 50, "offset": 0})  # fmt: skip
        text = "\n".join(f"Step {s.get('sequence')}: {s.get('name')} ({s.get('type')}) {s.get('url')}"
                         for s in funnel["steps"])  # fmt: skip
        return ImportedPage(title=str(funnel["name"] or ""), url="", text=text,
                            structure={"steps": funnel["steps"],
                                       "pages": pages if isinstance(pages, list) else []})  # fmt: skip
