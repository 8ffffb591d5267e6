"""WordPress through its REST API with an Application Password (core since 5.6),
sent as HTTP Basic `user:app-password`.

- connect: `GET /wp-json/wp/v2/users/me?context=edit` checks the password and
  tells whether the user has `unfiltered_html` (without it WordPress's kses
  filter strips `<script>`, so the tracker cannot run there: the page then links
  to the hosted copy, which is tracked).
- publish: `POST /wp-json/wp/v2/pages {title, content, status, slug}` (201 with
  `id` and `link`); a relaunch updates the same page with `POST /pages/{id}`.
  A page deleted on the WordPress side (404) is created again.
- import: `GET /wp-json/wp/v2/pages/{id}?context=edit`, or any public URL.
"""

from __future__ import annotations

from typing import Any

from .base import AccountInfo, Adapter, Failure, ImportedPage, IntegrationError, PagePayload, Published, Session
from .http import body_of, check_user_url, classify, request


class WordPressAdapter(Adapter):
    platform = "wordpress"
    label = "WordPress"
    capabilities = frozenset({"publish_page", "fetch_page"})

    def _api(self, session: Session) -> str:
        return session.credential("site_url") + "/wp-json/wp/v2"

    def _auth(self, session: Session) -> tuple[str, str]:
        return session.credential("username"), session.credential("app_password")

    def _error(self, response, action: str) -> IntegrationError:
        body = body_of(response)
        code = body.get("code", "") if isinstance(body, dict) else ""
        message = body.get("message", "") if isinstance(body, dict) else ""
        if response.status_code == 401 or code in ("incorrect_password", "invalid_username", "rest_not_logged_in"):
            return IntegrationError(
                f"WordPress refused the user name or application password ({message or code}). Reconnect it with "
                "a new application password (Users > Profile > Application Passwords).",
                failure=Failure.AUTH, status=response.status_code,
            )  # fmt: skip
        if response.status_code == 403:
            return IntegrationError(f"This WordPress user may not {action} ({message or code}).",
                                    failure=Failure.AUTH, status=403)  # fmt: skip
        return classify(
            response, "WordPress", f"!WordPress could not {action}: {message or code or response.status_code}"
        )

    def connect(self, data: dict[str, Any]) -> tuple[dict[str, Any], AccountInfo]:
        site = check_user_url(str(data.get("site_url") or ""), what="WordPress site address")
        username = str(data.get("username") or "").strip()
        password = str(data.get("app_password") or "").strip()
        if not username or not password:
            raise IntegrationError("Enter the WordPress user name and an application password.")
        credentials = {"site_url": site, "username": username, "app_password": password}
        return credentials, self.verify(Session(credentials, {}))

    def verify(self, session: Session) -> AccountInfo:
        response = request("GET", self._api(session) + "/users/me", label="WordPress", params={"context": "edit"},
                           auth=self._auth(session))  # fmt: skip
        if response.status_code != 200:
            raise self._error(response, "sign in")
        me = body_of(response)
        caps = me.get("capabilities") or {}
        return AccountInfo(
            name=str(me.get("name") or me.get("slug") or ""), email=str(me.get("email") or ""),
            metadata={"site_url": session.credential("site_url"), "user_id": me.get("id"),
                      "unfiltered_html": bool(caps.get("unfiltered_html"))},
        )  # fmt: skip

    def publish_page(self, session: Session, page: PagePayload) -> Published:
        html = page.html
        if not session.metadata.get("unfiltered_html"):
            # kses will strip the tracker: say where the tracked copy lives.
            html += f'\n<p class="aip-hosted"><a href="{page.hosted_url}">{page.hosted_url}</a></p>'
        body = {"title": page.title, "content": html, "status": page.status, "slug": page.slug}
        if page.external_id:
            response = request("POST", f"{self._api(session)}/pages/{page.external_id}", label="WordPress",
                               json=body, auth=self._auth(session))  # fmt: skip
            if response.status_code == 404:
                return self.publish_page(session, PagePayload(**{**page.__dict__, "external_id": ""}))
            if response.status_code != 200:
                raise self._error(response, "update the page")
        else:
            response = request("POST", f"{self._api(session)}/pages", label="WordPress", json=body,
                               auth=self._auth(session))  # fmt: skip
            if response.status_code != 201:
                raise self._error(response, "create the page")
        data = body_of(response)
        return Published(external_id=str(data.get("id")), external_url=str(data.get("link") or ""),
                         metadata={"status": data.get("status")})  # fmt: skip

    def fetch_page(self, session: Session, ref: str) -> ImportedPage:
        if not ref.isdigit():
            raise IntegrationError("Give the WordPress page's numeric id.")
        response = request("GET", f"{self._api(session)}/pages/{ref}", label="WordPress", params={"context": "edit"},
                           auth=self._auth(session))  # fmt: skip
        if response.status_code != 200:
            raise self._error(response, "read the page")
        data = body_of(response)
        content = (data.get("content") or {}).get("raw") or (data.get("content") or {}).get("rendered") or ""
        title = (data.get("title") or {}).get("raw") or (data.get("title") or {}).get("rendered") or ""
        return ImportedPage(title=title, url=str(data.get("link") or ""), html=content)
