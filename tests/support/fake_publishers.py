"""The publishing targets of the web builder on loopback: one real HTTP server
speaking the WordPress REST API, GoHighLevel v2, Simvoly's contacts API and a
custom webhook receiver, with the request shapes of
`shared/reference/media-canvas-builder.md` section 5.

    fake = FakePublishers().start()
    fake.use_in(settings)                       # GHL URLs and app credentials
    site = fake.wordpress_url                   # what a user types as the WordPress site
    fake.fail("ghl.contacts_upsert", "ghl_rate_limited")   # the next upsert answers 429
    fake.expire_ghl_tokens()                    # every issued access token answers 401 from now on
    fake.calls("wp.page_create")                # what the server received
    fake.reset(); fake.stop()

WordPress (`<url>/wordpress`): Basic auth with an application password
(WordPress accepts it with or without its spaces); user `admin`, password
`WP_APP_PASSWORD`. A wrong one answers 401 `incorrect_password`. `POST
/wp-json/wp/v2/pages` creates (201, `id` and `link`), `POST /pages/{id}`
updates, `GET /pages/{id}` reads. Content is kses-filtered (scripts and
`on*` handlers stripped) unless `wp_unfiltered_html` is True, as WordPress
does for users without `unfiltered_html`.

GoHighLevel (`<url>/ghl`): every call needs `Authorization: Bearer <token>` and
`Version: 2021-07-28` (400 without it). `POST /oauth/token` (form-encoded)
exchanges a code `C` for `GHL-ACCESS-<n>` / `GHL-REFRESH-<n>`; refresh tokens
are single use (a used one answers 401 `invalid_grant`). Contacts upsert
(201 new / 200 existing, by email), the email builder (`/emails/builder`,
then `/emails/builder/data`), funnel redirects CRUD, funnel list and pages.

Simvoly (`<url>/simvoly`, the "site domain"): `X-API-KEY: SIMVOLY_API_KEY`;
`GET /api/site` (the site's name), `POST /api/contacts`, `GET /api/contacts`.

Webhooks (`<url>/hooks/<name>`): anything POSTed is recorded with its headers
(`fake.webhooks`); `fake.webhook_status` sets the status it answers.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

WP_USER = "admin"
WP_APP_PASSWORD = "abcd EFGH 1234 ijkl MNOP 6789"
GHL_CLIENT_ID = "fake-ghl-client-id"
GHL_CLIENT_SECRET = "fake-ghl-client-secret"
GHL_VERSION = "2021-07-28"
GHL_LOCATION_ID = "ve9EPM428h8vShlRW1KT"
GHL_COMPANY_ID = "5DP4iH6HLkQsiKESj6rh"
SIMVOLY_API_KEY = "fake-simvoly-api-key"

PREFIXES = {
    "GHL_API_URL": "/ghl",
    "GHL_OAUTH_AUTHORIZE_URL": "/ghl-marketplace/v2/oauth/chooselocation",
}

_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.I | re.S)
_HANDLER = re.compile(r"\s+on[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.I)

FIXTURES: dict[str, Any] = {
    "wp_server_error": lambda: (500, {"code": "internal_server_error",
                                      "message": "There has been a critical error on this website.",
                                      "data": {"status": 500}}, {}),
    "ghl_rate_limited": lambda: (429, {"statusCode": 429, "message": "Too many requests"},
                                 {"Retry-After": "10", "X-RateLimit-Remaining": "0"}),
    "ghl_unauthorized": lambda: (401, {"statusCode": 401, "message": "Invalid JWT"}, {}),
    "ghl_server_error": lambda: (503, {"statusCode": 503, "message": "Service Unavailable"}, {}),
    "simvoly_unauthorized": lambda: (401, {"error": "Unauthorized", "message": "Invalid API key"}, {}),
}  # fmt: skip


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    form: dict[str, str]
    raw: bytes
    endpoint: str


@dataclass
class FakePublishers:
    host: str = "127.0.0.1"
    requests: list[Recorded] = field(default_factory=list)
    wp_unfiltered_html: bool = False
    webhook_status: int = 200

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.reset()

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> FakePublishers:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._handle(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def wordpress_url(self) -> str:
        return self.url + "/wordpress"

    @property
    def simvoly_url(self) -> str:
        return self.url + "/simvoly"

    def webhook_url(self, name: str = "receiver") -> str:
        return f"{self.url}/hooks/{name}"

    def page_url(self, path: str = "/landing") -> str:
        """A plain HTML page to import (`fake.html_pages[path]`)."""
        return f"{self.url}/site{path}"

    def use_in(self, settings) -> FakePublishers:
        for name, prefix in PREFIXES.items():
            setattr(settings, name, self.url + prefix)
        settings.GHL_CLIENT_ID, settings.GHL_CLIENT_SECRET = GHL_CLIENT_ID, GHL_CLIENT_SECRET
        settings.BUILDER_INTEGRATIONS_ALLOW_PRIVATE_HOSTS = True
        settings.BUILDER_INTEGRATIONS_ALLOW_HTTP = True
        return self

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.wp_unfiltered_html = False
            self.webhook_status = 200
            self._forced: dict[str, list[str]] = {}
            self._ids = itertools.count(101)
            self.wp_pages: dict[int, dict[str, Any]] = {}
            self.ghl_access: set[str] = set()
            self.ghl_refresh: set[str] = set()
            self.ghl_expired: set[str] = set()
            self.ghl_contacts: dict[str, dict[str, Any]] = {}
            self.ghl_templates: dict[str, dict[str, Any]] = {}
            self.ghl_redirects: dict[str, dict[str, Any]] = {}
            self.ghl_funnels: list[dict[str, Any]] = [
                {"_id": "SkIDfu0S4m3NYQyvWHC6", "name": "Spring webinar", "locationId": GHL_LOCATION_ID,
                 "type": "funnel", "url": "/spring",
                 "steps": [{"id": "f5d178c0", "name": "Opt-in", "pages": ["2IhBmBcQRx9JXV1JZsRt"],
                            "sequence": 1, "type": "optin_funnel_page", "url": "/spring-optin"}]},
            ]  # fmt: skip
            self.simvoly_contacts: list[dict[str, Any]] = []
            self.webhooks: list[Recorded] = []
            self.html_pages: dict[str, str] = {
                "/landing": (
                    "<!doctype html><html><head><title>Old landing page</title>"
                    '<meta name="description" content="Yoga classes in Seoul"></head>'
                    "<body><h1>Yoga for beginners</h1><p>Book a free trial class.</p>"
                    '<form action="/signup"><input name="email"><button>Sign up</button></form>'
                    "</body></html>"
                )
            }

    # --- scripting ------------------------------------------------------------------------

    def fail(self, endpoint: str, fixture: str, times: int = 1) -> None:
        if fixture not in FIXTURES:
            raise KeyError(f"unknown fixture {fixture!r}; known: {', '.join(FIXTURES)}")
        with self._lock:
            self._forced.setdefault(endpoint, []).extend([fixture] * times)

    def calls(self, endpoint: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def expire_ghl_tokens(self) -> None:
        """A day passed: every access token issued so far is expired (refresh tokens still work)."""
        with self._lock:
            self.ghl_expired |= self.ghl_access

    def ghl_tokens_issue(self) -> tuple[str, str]:
        with self._lock:
            return self._ghl_issue()

    def ghl_authorize(self, location: str, *, code: str = "GHLCODE1") -> str:
        """The user picks a location on the marketplace page: our callback's path and query."""
        query = dict(parse_qsl(urlsplit(location).query))
        redirect = urlsplit(query["redirect_uri"])
        from urllib.parse import urlencode

        return f"{redirect.path}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    # --- the HTTP side -----------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        url = urlsplit(handler.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {k: v for k, v in handler.headers.items()}
        ctype = headers.get("Content-Type", "")
        body_json, form = None, {}
        if raw and "json" in ctype:
            try:
                body_json = json.loads(raw)
            except ValueError:
                body_json = None
        elif raw and "x-www-form-urlencoded" in ctype:
            form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        endpoint, route = self._route(handler.command, url.path)
        record = Recorded(handler.command, url.path, query, headers, body_json, form, raw, endpoint)
        content_type = "application/json"
        with self._lock:
            self.requests.append(record)
            forced = self._forced.get(endpoint)
            if forced:
                status, body, extra = FIXTURES[forced.pop(0)]()
            elif route is None:
                status, body, extra = 404, {"code": "rest_no_route", "message": f"No route {url.path}"}, {}
            else:
                status, body, extra = route(record)
        if isinstance(body, str):
            payload, content_type = body.encode(), "text/html; charset=utf-8"
        else:
            payload = json.dumps(body).encode() if body is not None else b""
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, method: str, path: str):
        wp, ghl, sv = "/wordpress/wp-json/wp/v2", PREFIXES["GHL_API_URL"], "/simvoly/api"
        table = [
            ("GET", rf"^{wp}/users/me$", "wp.me", self._wp_me),
            ("POST", rf"^{wp}/pages$", "wp.page_create", self._wp_page_create),
            ("POST", rf"^{wp}/pages/\d+$", "wp.page_update", self._wp_page_update),
            ("GET", rf"^{wp}/pages/\d+$", "wp.page_get", self._wp_page_get),
            ("POST", rf"^{ghl}/oauth/token$", "ghl.token", self._ghl_token),
            ("GET", rf"^{ghl}/locations/[^/]+$", "ghl.location", self._ghl_location),
            ("POST", rf"^{ghl}/contacts/upsert$", "ghl.contacts_upsert", self._ghl_upsert),
            ("POST", rf"^{ghl}/emails/builder$", "ghl.email_create", self._ghl_email_create),
            ("POST", rf"^{ghl}/emails/builder/data$", "ghl.email_data", self._ghl_email_data),
            ("GET", rf"^{ghl}/funnels/lookup/redirect/list$", "ghl.redirect_list", self._ghl_redirect_list),
            ("POST", rf"^{ghl}/funnels/lookup/redirect$", "ghl.redirect_create", self._ghl_redirect_create),
            ("PATCH", rf"^{ghl}/funnels/lookup/redirect/[^/]+$", "ghl.redirect_update", self._ghl_redirect_update),
            ("DELETE", rf"^{ghl}/funnels/lookup/redirect/[^/]+$", "ghl.redirect_delete", self._ghl_redirect_delete),
            ("GET", rf"^{ghl}/funnels/funnel/list$", "ghl.funnels", self._ghl_funnels),
            ("GET", rf"^{ghl}/funnels/page$", "ghl.funnel_pages", self._ghl_funnel_pages),
            ("GET", rf"^{sv}/site$", "simvoly.site", self._sv_site),
            ("POST", rf"^{sv}/contacts$", "simvoly.contact_create", self._sv_contact_create),
            ("GET", rf"^{sv}/contacts$", "simvoly.contacts", self._sv_contacts),
            ("POST", r"^/hooks/[^/]+$", "webhook", self._webhook),
            ("GET", r"^/site/.*$", "site.page", self._site_page),
        ]
        for verb, pattern, endpoint, handler in table:
            if verb == method and re.match(pattern, path):
                return endpoint, handler
        return "unknown", None

    # --- WordPress -------------------------------------------------------------------------

    def _wp_auth(self, r: Recorded):
        header = r.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return 401, {"code": "rest_not_logged_in", "message": "You are not currently logged in.",
                         "data": {"status": 401}}, {}  # fmt: skip
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            user, password = "", ""
        if user != WP_USER:
            return 401, {"code": "invalid_username", "message": "Unknown username.", "data": {"status": 401}}, {}
        if password.replace(" ", "") != WP_APP_PASSWORD.replace(" ", ""):
            return 401, {"code": "incorrect_password",
                         "message": "The provided password is an invalid application password.",
                         "data": {"status": 401}}, {}  # fmt: skip
        return None

    def _wp_page_view(self, page: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": page["id"], "status": page["status"], "slug": page["slug"], "link": page["link"],
            "title": {"raw": page["title"], "rendered": page["title"]},
            "content": {"raw": page["content"], "rendered": page["content"], "protected": False},
            "excerpt": {"raw": page.get("excerpt", ""), "rendered": page.get("excerpt", "")},
            "modified_gmt": page["modified_gmt"],
        }  # fmt: skip

    def _wp_me(self, r: Recorded):
        denied = self._wp_auth(r)
        if denied:
            return denied
        return 200, {"id": 1, "name": "Site Admin", "slug": WP_USER, "email": "admin@wp.example",
                     "capabilities": {"edit_pages": True, "unfiltered_html": self.wp_unfiltered_html}}, {}  # fmt: skip

    def _kses(self, html: str) -> str:
        if self.wp_unfiltered_html:
            return html
        return _HANDLER.sub("", _SCRIPT.sub("", html))

    def _wp_write(self, r: Recorded, page: dict[str, Any]):
        body = r.json if isinstance(r.json, dict) else {}
        status = body.get("status", page.get("status", "draft"))
        if status not in ("draft", "publish", "pending", "private", "future"):
            return 400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): status",
                         "data": {"status": 400, "params": {"status": "status is not one of draft, publish, "
                                                                      "pending, private, future."}}}, {}  # fmt: skip
        for key in ("title", "slug", "excerpt"):
            if key in body:
                page[key] = str(body[key])
        if "content" in body:
            page["content"] = self._kses(str(body["content"]))
        page["status"] = status
        page["slug"] = page.get("slug") or re.sub(r"[^a-z0-9]+", "-", page.get("title", "page").lower()).strip("-")
        page["link"] = f"{self.wordpress_url}/{page['slug']}/"
        page["modified_gmt"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        return None

    def _wp_page_create(self, r: Recorded):
        denied = self._wp_auth(r)
        if denied:
            return denied
        page: dict[str, Any] = {"id": next(self._ids), "title": "", "content": "", "slug": ""}
        invalid = self._wp_write(r, page)
        if invalid:
            return invalid
        self.wp_pages[page["id"]] = page
        return 201, self._wp_page_view(page), {"Location": f"{self.wordpress_url}/wp-json/wp/v2/pages/{page['id']}"}

    def _wp_page(self, r: Recorded):
        page = self.wp_pages.get(int(r.path.rsplit("/", 1)[1]))
        if page is None:
            return None, (404, {"code": "rest_post_invalid_id", "message": "Invalid post ID.",
                                "data": {"status": 404}}, {})  # fmt: skip
        return page, None

    def _wp_page_update(self, r: Recorded):
        denied = self._wp_auth(r)
        if denied:
            return denied
        page, missing = self._wp_page(r)
        if missing:
            return missing
        invalid = self._wp_write(r, page)
        return invalid or (200, self._wp_page_view(page), {})

    def _wp_page_get(self, r: Recorded):
        denied = self._wp_auth(r)
        if denied:
            return denied
        page, missing = self._wp_page(r)
        return missing or (200, self._wp_page_view(page), {})

    # --- GoHighLevel -------------------------------------------------------------------------

    def _ghl_issue(self) -> tuple[str, str]:
        n = next(self._ids)
        access, refresh = f"GHL-ACCESS-{n}", f"GHL-REFRESH-{n}"
        self.ghl_access.add(access)
        self.ghl_refresh.add(refresh)
        return access, refresh

    def _ghl_token(self, r: Recorded):
        f = r.form
        if f.get("client_id") != GHL_CLIENT_ID or f.get("client_secret") != GHL_CLIENT_SECRET:
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}, {}
        grant = f.get("grant_type")
        if grant == "authorization_code":
            if not f.get("code"):
                return 400, {"error": "invalid_request", "error_description": "code is required"}, {}
        elif grant == "refresh_token":
            token = f.get("refresh_token", "")
            if token not in self.ghl_refresh:
                return (
                    401,
                    {"error": "invalid_grant", "error_description": "Invalid grant: refresh token is invalid"},
                    {},
                )
            self.ghl_refresh.discard(token)  # single use
        else:
            return 400, {"error": "unsupported_grant_type", "error_description": "grant_type"}, {}
        access, refresh = self._ghl_issue()
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": 86399, "refresh_token": refresh,
                     "scope": "contacts.write emails/builder.write funnels/redirect.write", "userType": "Location",
                     "locationId": GHL_LOCATION_ID, "companyId": GHL_COMPANY_ID, "userId": "u-ghl-1"}, {}  # fmt: skip

    def _ghl_auth(self, r: Recorded):
        token = r.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token not in self.ghl_access or token in self.ghl_expired:
            return 401, {"statusCode": 401, "message": "Invalid JWT"}, {}
        if r.headers.get("Version") != GHL_VERSION:
            return 400, {"statusCode": 400, "message": "Version header was not found", "error": "Bad Request"}, {}
        return None

    def _ghl_location_check(self, location_id: str | None):
        if location_id != GHL_LOCATION_ID:
            return 403, {"statusCode": 403, "message": "The token does not have access to this location"}, {}
        return None

    def _ghl_location(self, r: Recorded):
        denied = self._ghl_auth(r) or self._ghl_location_check(r.path.rsplit("/", 1)[1])
        if denied:
            return denied
        return 200, {"location": {"id": GHL_LOCATION_ID, "name": "Acme Fitness", "email": "owner@acme.example",
                                  "companyId": GHL_COMPANY_ID}}, {}  # fmt: skip

    def _ghl_upsert(self, r: Recorded):
        body = r.json if isinstance(r.json, dict) else {}
        denied = self._ghl_auth(r) or self._ghl_location_check(body.get("locationId"))
        if denied:
            return denied
        if not body.get("email") and not body.get("phone"):
            return 422, {"statusCode": 422, "message": ["email or phone must be provided"],
                         "error": "Unprocessable Entity"}, {}  # fmt: skip
        key = (body.get("email") or body.get("phone")).lower()
        existing = self.ghl_contacts.get(key)
        contact = {**(existing or {"id": f"ghl-contact-{next(self._ids)}"}), **body}
        self.ghl_contacts[key] = contact
        return (200 if existing else 201), {"new": existing is None, "contact": contact, "traceId": "t-1"}, {}

    def _ghl_email_create(self, r: Recorded):
        body = r.json if isinstance(r.json, dict) else {}
        denied = self._ghl_auth(r) or self._ghl_location_check(body.get("locationId"))
        if denied:
            return denied
        if body.get("type") not in ("html", "folder", "import", "builder", "blank"):
            return 422, {"statusCode": 422, "message": ["type must be a valid enum value"]}, {}
        template_id = f"tpl{next(self._ids):021d}"
        self.ghl_templates[template_id] = {"id": template_id, "title": body.get("title", ""), "html": ""}
        return 201, {"redirect": template_id, "traceId": "t-2"}, {}

    def _ghl_email_data(self, r: Recorded):
        body = r.json if isinstance(r.json, dict) else {}
        denied = self._ghl_auth(r) or self._ghl_location_check(body.get("locationId"))
        if denied:
            return denied
        missing = [k for k in ("templateId", "updatedBy", "dnd", "html", "editorType") if k not in body]
        if missing:
            return 422, {"statusCode": 422, "message": [f"{k} should not be empty" for k in missing]}, {}
        template = self.ghl_templates.get(body["templateId"])
        if template is None:
            return 404, {"statusCode": 404, "message": "Not Found"}, {}
        template.update(html=body["html"], editorType=body["editorType"])
        return 201, {"ok": True, "traceId": "t-3", "previewUrl": f"https://preview.example/{body['templateId']}",
                     "templateDownloadUrl": ""}, {}  # fmt: skip

    def _ghl_redirect_list(self, r: Recorded):
        denied = self._ghl_auth(r) or self._ghl_location_check(r.query.get("locationId"))
        if denied:
            return denied
        rows = list(self.ghl_redirects.values())
        return 200, {"data": {"count": len(rows), "data": rows}}, {}

    def _ghl_redirect_create(self, r: Recorded):
        body = r.json if isinstance(r.json, dict) else {}
        denied = self._ghl_auth(r) or self._ghl_location_check(body.get("locationId"))
        if denied:
            return denied
        missing = [k for k in ("domain", "path", "target", "action") if not body.get(k)]
        if missing or body.get("action") not in ("funnel", "website", "url", "all"):
            return 422, {"statusCode": 422, "message": [f"{k} should not be empty" for k in missing] or ["action"]}, {}
        for row in self.ghl_redirects.values():
            if row["domain"] == body["domain"] and row["pathLowercase"] == body["path"].lower():
                return 422, {"statusCode": 422, "message": ["Redirect for this path already exists"]}, {}
        rid = f"redir{next(self._ids)}"
        row = {"id": rid, "locationId": body["locationId"], "domain": body["domain"], "path": body["path"],
               "pathLowercase": body["path"].lower(), "type": "Permanent", "target": body["target"],
               "action": body["action"]}  # fmt: skip
        self.ghl_redirects[rid] = row
        return 201, {"data": row}, {}

    def _ghl_redirect_update(self, r: Recorded):
        body = r.json if isinstance(r.json, dict) else {}
        denied = self._ghl_auth(r) or self._ghl_location_check(body.get("locationId"))
        if denied:
            return denied
        row = self.ghl_redirects.get(r.path.rsplit("/", 1)[1])
        if row is None:
            return 404, {"statusCode": 404, "message": "Redirect not found"}, {}
        row.update(target=body.get("target", row["target"]), action=body.get("action", row["action"]))
        return 200, {"data": row}, {}

    def _ghl_redirect_delete(self, r: Recorded):
        denied = self._ghl_auth(r) or self._ghl_location_check(r.query.get("locationId"))
        if denied:
            return denied
        if self.ghl_redirects.pop(r.path.rsplit("/", 1)[1], None) is None:
            return 404, {"statusCode": 404, "message": "Redirect not found"}, {}
        return 200, {"data": {"status": "ok"}}, {}

    def _ghl_funnels(self, r: Recorded):
        denied = self._ghl_auth(r) or self._ghl_location_check(r.query.get("locationId"))
        if denied:
            return denied
        return 200, {"funnels": self.ghl_funnels, "count": len(self.ghl_funnels), "traceId": "t-4"}, {}

    def _ghl_funnel_pages(self, r: Recorded):
        denied = self._ghl_auth(r) or self._ghl_location_check(r.query.get("locationId"))
        if denied:
            return denied
        funnel = next((f for f in self.ghl_funnels if f["_id"] == r.query.get("funnelId")), None)
        if funnel is None:
            return 404, {"statusCode": 404, "message": "Funnel not found"}, {}
        pages = [{"_id": pid, "locationId": GHL_LOCATION_ID, "funnelId": funnel["_id"], "name": step["name"],
                  "stepId": step["id"], "deleted": False, "updatedAt": "2026-11-01T10:00:00.000Z"}
                 for step in funnel["steps"] for pid in step["pages"]]  # fmt: skip
        return 200, pages, {}

    # --- Simvoly -----------------------------------------------------------------------------

    def _sv_auth(self, r: Recorded):
        if r.headers.get("X-API-KEY") != SIMVOLY_API_KEY:
            return 401, {"error": "Unauthorized", "message": "Invalid API key"}, {}
        return None

    def _sv_site(self, r: Recorded):
        return self._sv_auth(r) or (200, {"id": 4242, "name": "Acme on Simvoly", "email": "site@acme.example"}, {})

    def _sv_contact_create(self, r: Recorded):
        denied = self._sv_auth(r)
        if denied:
            return denied
        body = r.json if isinstance(r.json, dict) else {}
        if not body.get("email"):
            return 422, {"error": "Validation failed", "errors": {"email": ["is required"]}}, {}
        contact = {"id": next(self._ids), **body}
        self.simvoly_contacts.append(contact)
        return 201, contact, {}

    def _sv_contacts(self, r: Recorded):
        return self._sv_auth(r) or (200, {"data": self.simvoly_contacts, "total": len(self.simvoly_contacts)}, {})

    # --- webhooks and plain pages --------------------------------------------------------

    def _webhook(self, r: Recorded):
        self.webhooks.append(r)
        return self.webhook_status, {"received": True}, {}

    def _site_page(self, r: Recorded):
        html = self.html_pages.get(r.path.removeprefix("/site"))
        if html is None:
            return 404, "<html><body>Not found</body></html>", {}
        return 200, html, {}
