"""The social platforms on loopback: a real HTTP server speaking the Graph
(Messenger, Instagram via a Page), Instagram Login, X API v2 and LinkedIn REST
wire formats of `shared/reference/channel-apis.md`, for the channel bot's
platform clients and connect flows.

    fake = FakePlatform().start()
    fake.use_in(settings)                 # every platform URL and app credential
    fake.fail("graph.messages", "window_closed")       # the next send answers 10/2018278
    fake.fail("x.dm", "x_rate_limited", times=2)        # 429 with x-rate-limit-reset
    location = fake.authorize(response["Location"])     # the user consents: our callback URL
    fake.calls("graph.messages")          # what the server received (path, query, headers, json)
    fake.reset(); fake.stop()

Each URL setting gets its own prefix on the one server (`/graph/v25.0`,
`/iggraph/v22.0`, `/xapi`, `/linkedinapi`, …), so a client calling the wrong
platform gets a 404. Tokens are deterministic: a Facebook code `C` becomes the
short user token `FB-SHORT-C`, then the long-lived `FB-LONG-C`; `/me/accounts`
only answers a long-lived token. Instagram codes become `IG-SHORT-C`, then
`IG-LONG-C`; refreshes `IG-REFRESHED-<n>`. X codes are bound to the PKCE
challenge of the authorize URL and the token endpoint checks the verifier
(S256); access tokens are `X-ACCESS-<n>`, refresh tokens `X-REFRESH-<n>`
(rotated on each refresh; a used one is refused with `invalid_grant`).

Webhook subscriptions: Meta `POST`/`DELETE /{page}/subscribed_apps` (Instagram
Login `/me/subscribed_apps`); X's app bearer (`POST /oauth2/token`,
client_credentials with the consumer key and secret), `GET`/`POST /2/webhooks`
(https URLs only, one per URL), the user subscribed with their token and removed
with the app's (`fake.x_webhooks`, `fake.x_subscriptions`); LinkedIn
`PUT`/`DELETE /rest/eventSubscriptions/(developerApplication:…,user:…,entity:…,eventType:…)`
with the URNs URL-encoded, for an organization the member administers
(`fake.li_subscriptions`: organization URN -> webhook URL).

Sends answer as the platforms do: Messenger and Instagram
`{"recipient_id","message_id"}`, X `{"data":{"dm_conversation_id","dm_event_id"}}`,
LinkedIn 201 with `x-restli-id`.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

APP_ID = "1517776481860111"
APP_SECRET = "fake-meta-app-secret"
VERIFY_TOKEN = "fake-verify-token"
IG_APP_ID = "990001"
IG_APP_SECRET = "fake-instagram-app-secret"
X_CLIENT_ID = "fake-x-client-id"
X_CLIENT_SECRET = "fake-x-client-secret"
X_CONSUMER_SECRET = "fake-x-consumer-secret"
X_CONSUMER_KEY = "fake-x-consumer-key"
X_APP_BEARER = "X-APP-BEARER"
LINKEDIN_APP_ID = "7700001"
WEBHOOK_BASE_URL = "https://bot.example.com"  # X registers https webhooks only
LINKEDIN_CLIENT_ID = "fake-linkedin-client-id"
LINKEDIN_CLIENT_SECRET = "fake-linkedin-client-secret"

PREFIXES = {
    "META_GRAPH_URL": "/graph/v25.0",
    "META_OAUTH_DIALOG_URL": "/facebook/v25.0/dialog/oauth",
    "INSTAGRAM_AUTHORIZE_URL": "/instagram/oauth/authorize",
    "INSTAGRAM_TOKEN_URL": "/instagram/oauth/access_token",
    "INSTAGRAM_GRAPH_URL": "/iggraph/v22.0",
    "X_AUTHORIZE_URL": "/x/i/oauth2/authorize",
    "X_API_URL": "/xapi",
    "LINKEDIN_OAUTH_URL": "/linkedin/oauth/v2",
    "LINKEDIN_API_URL": "/linkedinapi",
}


def _graph_error(status: int, code: int, message: str, subcode: int | None = None, type_="OAuthException") -> tuple:
    error: dict[str, Any] = {"message": message, "type": type_, "code": code, "fbtrace_id": "AbCdEfFake"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return status, {"error": error}, {}


# The reference's error fixtures, by name: (status, JSON body, extra headers).
FIXTURES: dict[str, Any] = {
    "token_expired": lambda: _graph_error(
        400, 190, "Error validating access token: Session has expired on Tuesday, 01-Jul-25.", 463),
    "password_changed": lambda: _graph_error(
        400, 190, "Error validating access token: The user has changed their password.", 460),
    "window_closed": lambda: _graph_error(
        400, 10, "(#10) This message is sent outside of allowed window.", 2018278, "OAuthApiException"),
    "unavailable": lambda: _graph_error(
        400, 551, "This person isn't available right now.", 1545041, "OAuthException"),
    "no_user": lambda: _graph_error(400, 100, "(#100) No matching user found", 2018001),
    "throttled": lambda: _graph_error(400, 4, "(#4) Application request limit reached", None, "OAuthException"),
    "page_throttled": lambda: _graph_error(400, 32, "(#32) Page request limit reached"),
    "transient": lambda: _graph_error(500, 2, "An unexpected error has occurred. Please retry your request later."),
    "server_error": lambda: (503, {"message": "Service Unavailable"}, {}),
    "x_unauthorized": lambda: (401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                                     "detail": "Unauthorized"}, {}),
    "x_rate_limited": lambda: (429, {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
                               {"x-rate-limit-limit": "200", "x-rate-limit-remaining": "0",
                                "x-rate-limit-reset": str(int(time.time()) + 30)}),
    "x_forbidden": lambda: (403, {"title": "Forbidden", "status": 403, "detail":
                                  "You cannot send messages to this user."}, {}),
    "x_invalid_grant": lambda: (400, {"error": "invalid_request",
                                      "error_description": "Value passed for the token was invalid."}, {}),
    "linkedin_unauthorized": lambda: (401, {"status": 401, "serviceErrorCode": 65600,
                                            "message": "Invalid access token"}, {}),
    "linkedin_throttled": lambda: (429, {"status": 429, "message": "Resource level throttle limit reached"}, {}),
}  # fmt: skip


@dataclass
class Recorded:
    method: str
    path: str  # without the query
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    form: dict[str, str]
    endpoint: str


@dataclass
class FakePlatform:
    host: str = "127.0.0.1"
    requests: list[Recorded] = field(default_factory=list)
    # Pages the Facebook user administers (`/me/accounts`), with their IG accounts.
    pages: list[dict[str, Any]] = field(default_factory=list)
    # Organizations the LinkedIn member administers.
    organizations: list[dict[str, Any]] = field(default_factory=list)
    # Profiles answered by the profile endpoints (PSID / IGSID / X user id -> fields).
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    ig_user: dict[str, Any] = field(default_factory=dict)
    x_user: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.reset()

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> FakePlatform:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._handle(self)

            do_POST = do_PUT = do_DELETE = do_GET

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

    def use_in(self, settings) -> FakePlatform:
        """Point every platform URL setting at this server and set test app credentials."""
        for name, prefix in PREFIXES.items():
            setattr(settings, name, self.url + prefix)
        settings.META_APP_ID, settings.META_APP_SECRET, settings.META_VERIFY_TOKEN = APP_ID, APP_SECRET, VERIFY_TOKEN
        settings.INSTAGRAM_APP_ID, settings.INSTAGRAM_APP_SECRET = IG_APP_ID, IG_APP_SECRET
        settings.X_CLIENT_ID, settings.X_CLIENT_SECRET = X_CLIENT_ID, X_CLIENT_SECRET
        settings.X_CONSUMER_SECRET, settings.X_CONSUMER_KEY = X_CONSUMER_SECRET, X_CONSUMER_KEY
        settings.LINKEDIN_CLIENT_ID, settings.LINKEDIN_CLIENT_SECRET = LINKEDIN_CLIENT_ID, LINKEDIN_CLIENT_SECRET
        settings.LINKEDIN_APP_ID = LINKEDIN_APP_ID
        settings.CHANNELS_WEBHOOK_BASE_URL = WEBHOOK_BASE_URL
        return self

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.pages[:] = [
                {"id": "1122334455", "name": "Corner Shop", "access_token": "PAGE-TOKEN-SHOP",
                 "instagram_business_account": "17841400000000001"},
                {"id": "5566778899", "name": "Second Page", "access_token": "PAGE-TOKEN-SECOND"},
            ]  # fmt: skip
            self.organizations[:] = [{"id": "2414183", "localizedName": "Corner Shop Ltd"}]
            self.profiles.clear()
            self.ig_user.clear()
            self.ig_user.update({"user_id": "17841400000000777", "username": "corner.shop"})
            self.x_user.clear()
            self.x_user.update({"id": "1460000000000000001", "name": "Corner Shop", "username": "cornershop"})
            self.delay = 0.0
            self._forced: dict[str, list[str]] = {}
            self._ids = itertools.count(1)
            self._x_codes: dict[str, dict[str, str]] = {}
            self._x_refresh: set[str] = set()
            self._x_access: set[str] = set()
            self._ig_refreshes = itertools.count(1)
            # Webhook subscriptions: X's registered webhooks ({"id","url","valid"}) and the
            # (webhook id, user id) pairs subscribed; LinkedIn's subscription keys -> webhook URL;
            # Meta pages / Instagram accounts (token) with our app subscribed.
            self.x_webhooks: list[dict[str, Any]] = []
            self.x_subscriptions: set[tuple[str, str]] = set()
            self.li_subscriptions: dict[str, str] = {}

    # --- scripting ------------------------------------------------------------------------

    def fail(self, endpoint: str, fixture: str, times: int = 1) -> None:
        """The next `times` calls of `endpoint` (e.g. "graph.messages") answer `fixture` (see FIXTURES)."""
        if fixture not in FIXTURES:
            raise KeyError(f"unknown fixture {fixture!r}; known: {', '.join(FIXTURES)}")
        with self._lock:
            self._forced.setdefault(endpoint, []).extend([fixture] * times)

    def calls(self, endpoint: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def authorize(self, location: str, *, code: str = "CODE1") -> str:
        """What the user consenting on the platform's dialog does: the path and query
        of our redirect_uri with `code` and the `state` we sent. X binds the code to
        the PKCE challenge."""
        query = dict(parse_qsl(urlsplit(location).query))
        if urlsplit(location).path.startswith(PREFIXES["X_AUTHORIZE_URL"]):
            with self._lock:
                self._x_codes[code] = {"challenge": query.get("code_challenge", ""),
                                       "method": query.get("code_challenge_method", ""),
                                       "redirect_uri": query.get("redirect_uri", "")}  # fmt: skip
        redirect = urlsplit(query["redirect_uri"])
        return f"{redirect.path}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    def x_tokens_issue(self) -> tuple[str, str]:
        """A valid (access, refresh) pair, as a connect flow would have stored."""
        with self._lock:
            return self._x_issue()

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
        elif raw:
            form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        endpoint, route = self._route(handler.command, url.path)
        with self._lock:
            self.requests.append(Recorded(handler.command, url.path, query, headers, body_json, form, endpoint))
            forced = self._forced.get(endpoint)
            if forced:
                status, body, extra = FIXTURES[forced.pop(0)]()
            elif route is None:
                status, body, extra = 404, {"error": {"message": f"Unknown path {url.path}", "code": 803}}, {}
            else:
                status, body, extra = route(handler.command, url.path, query, headers, body_json, form)
        if self.delay:
            time.sleep(self.delay)
        payload = json.dumps(body).encode() if body is not None else b""
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, method: str, path: str):
        graph, ig = PREFIXES["META_GRAPH_URL"], PREFIXES["INSTAGRAM_GRAPH_URL"]
        x, li = PREFIXES["X_API_URL"], PREFIXES["LINKEDIN_API_URL"]
        table = [
            ("GET", rf"^{graph}/oauth/access_token$", "graph.oauth", self._graph_oauth),
            ("GET", rf"^{graph}/me/accounts$", "graph.accounts", self._graph_accounts),
            ("GET", rf"^{graph}/me$", "graph.me", self._graph_me),
            ("POST", rf"^{graph}/[^/]+/subscribed_apps$", "graph.subscribed_apps", self._success),
            ("POST", rf"^{graph}/[^/]+/messages$", "graph.messages", self._graph_send),
            ("POST", rf"^{graph}/[^/]+/pass_thread_control$", "graph.pass_thread", self._success),
            ("POST", rf"^{graph}/[^/]+/take_thread_control$", "graph.take_thread", self._success),
            ("DELETE", rf"^{graph}/[^/]+/subscribed_apps$", "graph.unsubscribed_apps", self._graph_unsubscribe),
            ("GET", rf"^{graph}/[^/]+$", "graph.profile", self._profile),
            ("POST", rf"^{PREFIXES['INSTAGRAM_TOKEN_URL']}$", "ig.oauth", self._ig_oauth),
            ("GET", rf"^{ig}/access_token$", "ig.exchange", self._ig_exchange),
            ("GET", rf"^{ig}/refresh_access_token$", "ig.refresh", self._ig_refresh),
            ("GET", rf"^{ig}/me$", "ig.me", self._ig_me),
            ("POST", rf"^{ig}/me/subscribed_apps$", "ig.subscribed_apps", self._success),
            ("DELETE", rf"^{ig}/me/subscribed_apps$", "ig.unsubscribed_apps", self._ig_unsubscribe),
            ("POST", rf"^{ig}/[^/]+/messages$", "ig.messages", self._ig_send),
            ("GET", rf"^{ig}/[^/]+$", "ig.profile", self._profile),
            ("POST", rf"^{x}/2/oauth2/token$", "x.token", self._x_token),
            ("POST", rf"^{x}/2/dm_conversations/with/[^/]+/messages$", "x.dm", self._x_send),
            ("GET", rf"^{x}/2/users/me$", "x.me", self._x_me),
            ("GET", rf"^{x}/2/users/[^/]+$", "x.user", self._x_user),
            ("POST", rf"^{x}/oauth2/token$", "x.app_token", self._x_app_token),
            ("GET", rf"^{x}/2/webhooks$", "x.webhooks", self._x_webhooks),
            ("POST", rf"^{x}/2/webhooks$", "x.webhook_register", self._x_webhook_register),
            ("POST", rf"^{x}/2/account_activity/webhooks/[^/]+/subscriptions/all$", "x.subscribe", self._x_subscribe),
            (
                "DELETE",
                rf"^{x}/2/account_activity/webhooks/[^/]+/subscriptions/[^/]+/all$",
                "x.unsubscribe",
                self._x_unsubscribe,
            ),
            ("POST", rf"^{PREFIXES['LINKEDIN_OAUTH_URL']}/accessToken$", "linkedin.token", self._li_token),
            ("GET", rf"^{li}/rest/organizationAcls$", "linkedin.acls", self._li_acls),
            ("GET", rf"^{li}/rest/organizations/[^/]+$", "linkedin.organization", self._li_organization),
            ("POST", rf"^{li}/rest/socialActions/[^/]+/comments$", "linkedin.comments", self._li_comment),
            ("PUT", rf"^{li}/rest/eventSubscriptions/\(.+\)$", "linkedin.subscribe", self._li_subscribe),
            ("DELETE", rf"^{li}/rest/eventSubscriptions/\(.+\)$", "linkedin.unsubscribe", self._li_unsubscribe),
        ]
        for verb, pattern, name, handler in table:
            if verb == method and re.match(pattern, path):
                return name, handler
        return "unknown", None

    # --- Graph ----------------------------------------------------------------------------------

    @staticmethod
    def _success(*args) -> tuple:
        return 200, {"success": True}, {}

    def _graph_oauth(self, method, path, query, headers, body, form) -> tuple:
        if query.get("client_id") != APP_ID or query.get("client_secret") != APP_SECRET:
            return _graph_error(400, 101, "Error validating application. Invalid application ID.")
        if query.get("grant_type") == "fb_exchange_token":
            short = query.get("fb_exchange_token", "")
            if not short.startswith("FB-SHORT-"):
                return _graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
            return 200, {"access_token": "FB-LONG-" + short.removeprefix("FB-SHORT-"), "token_type": "bearer",
                         "expires_in": 5183944}, {}  # fmt: skip
        code = query.get("code", "")
        if not code or not query.get("redirect_uri"):
            return _graph_error(400, 100, "Invalid verification code format.", 36008)
        return 200, {"access_token": f"FB-SHORT-{code}", "token_type": "bearer", "expires_in": 5183}, {}

    def _graph_accounts(self, method, path, query, headers, body, form) -> tuple:
        if not query.get("access_token", "").startswith("FB-LONG-"):
            return _graph_error(400, 190, "A long-lived user access token is required here.", 463)
        data = [{"id": p["id"], "name": p["name"], "access_token": p["access_token"], "category": "Shopping",
                 "tasks": ["MANAGE", "MESSAGING"]} for p in self.pages]  # fmt: skip
        return 200, {"data": data, "paging": {"cursors": {"before": "B", "after": "A"}}}, {}

    def _graph_me(self, method, path, query, headers, body, form) -> tuple:
        page = next((p for p in self.pages if p["access_token"] == query.get("access_token")), None)
        if page is None:
            return _graph_error(400, 190, "Invalid OAuth access token.")
        answer: dict[str, Any] = {"id": page["id"]}
        if page.get("instagram_business_account"):
            answer["instagram_business_account"] = {"id": page["instagram_business_account"]}
        return 200, answer, {}

    def _graph_send(self, method, path, query, headers, body, form) -> tuple:
        if not query.get("access_token"):
            return _graph_error(400, 190, "An active access token must be used to query information.")
        if not isinstance(body, dict) or "recipient" not in body:
            return _graph_error(400, 100, "(#100) param recipient must be non-empty.")
        return 200, {"recipient_id": body["recipient"].get("id"), "message_id": f"m_fake_{next(self._ids):04d}"}, {}

    def _graph_unsubscribe(self, method, path, query, headers, body, form) -> tuple:
        if not query.get("access_token"):
            return _graph_error(400, 190, "An active access token must be used to query information.")
        return 200, {"success": True}, {}

    def _profile(self, method, path, query, headers, body, form) -> tuple:
        pid = unquote(path.rsplit("/", 1)[-1])
        if pid not in self.profiles:
            return _graph_error(400, 100, f"(#100) Unsupported get request. Object with ID '{pid}' does not exist.")
        return 200, {"id": pid, **self.profiles[pid]}, {}

    # --- Instagram Login ------------------------------------------------------------------------

    def _ig_oauth(self, method, path, query, headers, body, form) -> tuple:
        if form.get("client_id") != IG_APP_ID or form.get("client_secret") != IG_APP_SECRET:
            return 400, {"error_type": "OAuthException", "code": 400, "error_message": "Invalid client_id"}, {}
        if form.get("grant_type") != "authorization_code" or not form.get("code"):
            return 400, {"error_type": "OAuthException", "code": 400, "error_message": "Invalid code"}, {}
        return (
            200,
            {
                "data": [
                    {
                        "access_token": f"IG-SHORT-{form['code']}",
                        "user_id": self.ig_user["user_id"],
                        "permissions": "instagram_business_basic,instagram_business_manage_messages",
                    }
                ]
            },
            {},
        )

    def _ig_exchange(self, method, path, query, headers, body, form) -> tuple:
        if query.get("grant_type") != "ig_exchange_token" or query.get("client_secret") != IG_APP_SECRET:
            return _graph_error(400, 100, "Invalid grant_type or client_secret.")
        short = query.get("access_token", "")
        if not short.startswith("IG-SHORT-"):
            return _graph_error(400, 190, "Invalid OAuth access token.")
        return 200, {"access_token": "IG-LONG-" + short.removeprefix("IG-SHORT-"), "token_type": "bearer",
                     "expires_in": 5183944}, {}  # fmt: skip

    def _ig_refresh(self, method, path, query, headers, body, form) -> tuple:
        if query.get("grant_type") != "ig_refresh_token" or not query.get("access_token"):
            return _graph_error(400, 100, "Invalid grant_type.")
        return 200, {"access_token": f"IG-REFRESHED-{next(self._ig_refreshes)}", "token_type": "bearer",
                     "expires_in": 5183944}, {}  # fmt: skip

    def _ig_me(self, method, path, query, headers, body, form) -> tuple:
        if not headers.get("Authorization", "").startswith("Bearer IG-"):
            return _graph_error(400, 190, "Invalid OAuth access token.")
        return 200, {"id": "app-scoped-1", **self.ig_user}, {}

    def _ig_unsubscribe(self, method, path, query, headers, body, form) -> tuple:
        if not headers.get("Authorization", "").startswith("Bearer IG-"):
            return _graph_error(400, 190, "Invalid OAuth access token.")
        return 200, {"success": True}, {}

    def _ig_send(self, method, path, query, headers, body, form) -> tuple:
        if not headers.get("Authorization", "").startswith("Bearer "):
            return _graph_error(400, 190, "An active access token must be used.")
        if not isinstance(body, dict) or "recipient" not in body:
            return _graph_error(400, 100, "(#100) param recipient must be non-empty.")
        return 200, {"recipient_id": body["recipient"].get("id"), "message_id": f"aWdf_fake_{next(self._ids):04d}"}, {}

    # --- X ------------------------------------------------------------------------------------

    def _x_issue(self) -> tuple[str, str]:
        n = next(self._ids)
        access, refresh = f"X-ACCESS-{n}", f"X-REFRESH-{n}"
        self._x_access.add(access)
        self._x_refresh.add(refresh)
        return access, refresh

    def _x_grant(self) -> tuple:
        access, refresh = self._x_issue()
        return (
            200,
            {
                "token_type": "bearer",
                "expires_in": 7200,
                "access_token": access,
                "scope": "dm.read dm.write tweet.read users.read offline.access",
                "refresh_token": refresh,
            },
            {},
        )

    def _x_token(self, method, path, query, headers, body, form) -> tuple:
        expected = "Basic " + base64.b64encode(f"{X_CLIENT_ID}:{X_CLIENT_SECRET}".encode()).decode()
        if headers.get("Authorization") != expected:
            return 401, {"error": "unauthorized_client", "error_description": "Missing valid authorization header"}, {}
        grant = form.get("grant_type")
        if grant == "authorization_code":
            issued = self._x_codes.pop(form.get("code", ""), None)
            if issued is None:
                return (
                    400,
                    {
                        "error": "invalid_request",
                        "error_description": "Value passed for the authorization code was invalid.",
                    },
                    {},
                )  # noqa: E501
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if issued["method"] != "S256" or challenge != issued["challenge"]:
                return 400, {"error": "invalid_request", "error_description": "PKCE verification failed."}, {}
            if form.get("redirect_uri") != issued["redirect_uri"]:
                return 400, {"error": "invalid_request", "error_description": "redirect_uri mismatch."}, {}
            return self._x_grant()
        if grant == "refresh_token":
            token = form.get("refresh_token", "")
            if token not in self._x_refresh:
                return (
                    400,
                    {"error": "invalid_request", "error_description": "Value passed for the token was invalid."},
                    {},
                )  # noqa: E501
            self._x_refresh.discard(token)  # rotated: each refresh token works once
            return self._x_grant()
        return 400, {"error": "unsupported_grant_type", "error_description": f"grant_type {grant!r}"}, {}

    def _x_bearer_ok(self, headers) -> bool:
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        return token in self._x_access

    def _x_send(self, method, path, query, headers, body, form) -> tuple:
        if not self._x_bearer_ok(headers):
            return FIXTURES["x_unauthorized"]()
        if not isinstance(body, dict) or not (body.get("text") or body.get("attachments")):
            return 400, {"title": "Invalid Request", "detail": "text or attachments is required", "status": 400}, {}
        n = next(self._ids)
        return 201, {"data": {"dm_conversation_id": f"1460000000000000001-{path.split('/')[-2]}",
                              "dm_event_id": f"1580000000000{n:06d}"}}, {}  # fmt: skip

    def _x_me(self, method, path, query, headers, body, form) -> tuple:
        if not self._x_bearer_ok(headers):
            return FIXTURES["x_unauthorized"]()
        return 200, {"data": dict(self.x_user)}, {}

    def _x_user(self, method, path, query, headers, body, form) -> tuple:
        if not self._x_bearer_ok(headers):
            return FIXTURES["x_unauthorized"]()
        uid = path.rsplit("/", 1)[-1]
        if uid not in self.profiles:
            missing = {"detail": f"Could not find user with id: [{uid}].", "title": "Not Found Error"}
            return 200, {"errors": [missing]}, {}
        return 200, {"data": {"id": uid, **self.profiles[uid]}}, {}

    def _x_app_token(self, method, path, query, headers, body, form) -> tuple:
        expected = "Basic " + base64.b64encode(f"{X_CONSUMER_KEY}:{X_CONSUMER_SECRET}".encode()).decode()
        if headers.get("Authorization") != expected or form.get("grant_type") != "client_credentials":
            return 403, {"errors": [{"code": 99, "message": "Unable to verify your credentials"}]}, {}
        return 200, {"token_type": "bearer", "access_token": X_APP_BEARER}, {}

    @staticmethod
    def _x_app_ok(headers) -> bool:
        return headers.get("Authorization") == f"Bearer {X_APP_BEARER}"

    def _x_webhooks(self, method, path, query, headers, body, form) -> tuple:
        if not self._x_app_ok(headers):
            return FIXTURES["x_unauthorized"]()
        return 200, {"data": [dict(w) for w in self.x_webhooks], "meta": {"result_count": len(self.x_webhooks)}}, {}

    def _x_webhook_register(self, method, path, query, headers, body, form) -> tuple:
        if not self._x_app_ok(headers):
            return FIXTURES["x_unauthorized"]()
        url = (body or {}).get("url", "") if isinstance(body, dict) else ""
        if not url.startswith("https://"):
            return 400, {"title": "Invalid Request", "status": 400, "detail": "The webhook URL must use https."}, {}
        if any(w["url"] == url for w in self.x_webhooks):
            return 400, {"title": "Invalid Request", "status": 400, "detail": "DuplicateUrlFailed"}, {}
        hook = {"id": f"17800000000000{next(self._ids):05d}", "url": url, "valid": True,
                "created_at": "2026-01-01T00:00:00.000Z"}  # fmt: skip
        self.x_webhooks.append(hook)
        return 200, {"data": dict(hook)}, {}

    def _x_subscribe(self, method, path, query, headers, body, form) -> tuple:
        if not self._x_bearer_ok(headers):
            return FIXTURES["x_unauthorized"]()
        hook = path.split("/")[-3]
        if not any(w["id"] == hook for w in self.x_webhooks):
            return 404, {"title": "Not Found Error", "status": 404, "detail": f"Webhook {hook} not found."}, {}
        self.x_subscriptions.add((hook, self.x_user["id"]))
        return 200, {"data": {"subscribed": True}}, {}

    def _x_unsubscribe(self, method, path, query, headers, body, form) -> tuple:
        if not self._x_app_ok(headers):
            return FIXTURES["x_unauthorized"]()
        parts = path.split("/")
        hook, user = parts[-4], parts[-2]
        if (hook, user) not in self.x_subscriptions:
            return 404, {"title": "Not Found Error", "status": 404, "detail": "Subscription not found."}, {}
        self.x_subscriptions.discard((hook, user))
        return 200, {"data": {"subscribed": False}}, {}

    # --- LinkedIn -----------------------------------------------------------------------------------

    @staticmethod
    def li_subscription_key(path: str) -> dict[str, str]:
        """The decoded parts of an eventSubscriptions key in `path`."""
        inner = path.split("/rest/eventSubscriptions/", 1)[1].removeprefix("(").removesuffix(")")
        return {name: unquote(value) for name, value in (part.split(":", 1) for part in inner.split(","))}

    def _li_key_ok(self, path: str) -> tuple[str, tuple | None]:
        try:
            key = self.li_subscription_key(path)
        except ValueError:
            return "", (400, {"status": 400, "message": "Malformed key"}, {})
        expected = {
            "developerApplication": f"urn:li:developerApplication:{LINKEDIN_APP_ID}",
            "user": "urn:li:person:admin1", "eventType": "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS",
        }  # fmt: skip
        orgs = {f"urn:li:organization:{o['id']}" for o in self.organizations}
        if any(key.get(k) != v for k, v in expected.items()) or key.get("entity") not in orgs:
            return "", (403, {"status": 403, "message": f"Not allowed to subscribe with key {key}"}, {})
        return key["entity"], None

    def _li_subscribe(self, method, path, query, headers, body, form) -> tuple:
        if not self._li_headers_ok(headers):
            return FIXTURES["linkedin_unauthorized"]()
        entity, refused = self._li_key_ok(path)
        if refused:
            return refused
        webhook = (body or {}).get("webhook", "") if isinstance(body, dict) else ""
        if not webhook.startswith("https://"):
            return 422, {"status": 422, "message": "webhook must be an https URL"}, {}
        self.li_subscriptions[entity] = webhook
        return 201, None, {}

    def _li_unsubscribe(self, method, path, query, headers, body, form) -> tuple:
        if not self._li_headers_ok(headers):
            return FIXTURES["linkedin_unauthorized"]()
        entity, refused = self._li_key_ok(path)
        if refused:
            return refused
        if self.li_subscriptions.pop(entity, None) is None:
            return 404, {"status": 404, "message": "Not Found"}, {}
        return 204, None, {}

    @staticmethod
    def _li_headers_ok(headers) -> bool:
        bearer = headers.get("Authorization", "").startswith("Bearer LI-")
        return bearer and headers.get("X-Restli-Protocol-Version") == "2.0.0" and bool(headers.get("LinkedIn-Version"))

    def _li_token(self, method, path, query, headers, body, form) -> tuple:
        if form.get("client_id") != LINKEDIN_CLIENT_ID or form.get("client_secret") != LINKEDIN_CLIENT_SECRET:
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}, {}
        if form.get("grant_type") != "authorization_code" or not form.get("code"):
            return 400, {"error": "invalid_request", "error_description": "Unable to retrieve access token"}, {}
        return (
            200,
            {
                "access_token": f"LI-ACCESS-{form['code']}",
                "expires_in": 5184000,
                "scope": "r_organization_social,w_organization_social,rw_organization_admin",
            },
            {},
        )

    def _li_acls(self, method, path, query, headers, body, form) -> tuple:
        if not self._li_headers_ok(headers):
            return FIXTURES["linkedin_unauthorized"]()
        elements = [{"organization": f"urn:li:organization:{o['id']}", "role": "ADMINISTRATOR", "state": "APPROVED",
                     "roleAssignee": "urn:li:person:admin1"} for o in self.organizations]  # fmt: skip
        return 200, {"elements": elements, "paging": {"count": 10, "start": 0, "total": len(elements)}}, {}

    def _li_organization(self, method, path, query, headers, body, form) -> tuple:
        if not self._li_headers_ok(headers):
            return FIXTURES["linkedin_unauthorized"]()
        oid = path.rsplit("/", 1)[-1]
        found = next((o for o in self.organizations if o["id"] == oid), None)
        if found is None:
            return 404, {"status": 404, "message": "Not Found"}, {}
        return 200, {"id": int(oid), "localizedName": found["localizedName"]}, {}

    def _li_comment(self, method, path, query, headers, body, form) -> tuple:
        if not self._li_headers_ok(headers):
            return FIXTURES["linkedin_unauthorized"]()
        if not isinstance(body, dict) or not (body.get("message") or {}).get("text") or not body.get("actor"):
            return 422, {"status": 422, "message": "actor and message.text are required"}, {}
        activity = body.get("object", "")
        comment = f"urn:li:comment:({activity},{7000 + next(self._ids)})"
        return 201, None, {"x-restli-id": comment}
