"""A Stripe stand-in on loopback: the endpoints billing.providers.stripe calls,
answered the way Stripe answers them, every request recorded, and webhooks
built, signed and delivered as Stripe signs them.

    fake = FakeStripe().start()
    fake.use_in(settings)            # points STRIPE_* and PAYMENT_PROVIDER at it
    fake.fail(500)                   # the next call answers HTTP 500
    fake.decline("Your card was declined.")
    response = fake.deliver(client, fake.checkout_completed("cs_test_0001"))
    fake.stop()

A completed checkout pays with a card that Stripe saves for off-session use
(`payment_intent_data[setup_future_usage]=off_session`): its customer (new,
unless the session named one) and PaymentIntent are in the event, and the
intent's card is served by GET /v1/payment_intents/<id>.

Stripe Billing: a session in subscription mode, once paid
(`subscription_checkout_paid`), makes a customer, a subscription (GET and POST
/v1/subscriptions/<id>) and its first invoice; the events are returned for the
test to deliver, in any order. `invoice_paid(sub_id)` bills the next period;
an upgrade (POST with proration_behavior=always_invoice) leaves its prorated
invoice in `pending_invoices`, or answers 402 when `decline()` is on.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from billing.providers.base import signature_header

WEBHOOK_PATH = "/billing/webhooks/stripe/"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class _Forced:
    status: int
    body: dict | str


@dataclass
class FakeStripe:
    secret_key: str = "sk_test_fake_0123456789"
    webhook_secret: str = "whsec_fake_0123456789"
    requests: list[Recorded] = field(default_factory=list)
    sessions: dict[str, dict] = field(default_factory=dict)
    intents: dict[str, dict] = field(default_factory=dict)
    customers: dict[str, dict] = field(default_factory=dict)
    payment_methods: dict[str, dict] = field(default_factory=dict)
    subscriptions: dict[str, dict] = field(default_factory=dict)
    pending_invoices: list[dict] = field(default_factory=list)
    # The card a checkout pays with.
    card_brand: str = "visa"
    card_last4: str = "4242"
    # Status a new PaymentIntent ends in: succeeded, processing, requires_action…
    intent_status: str = "succeeded"
    delay: float = 0.0  # seconds before answering (timeouts)

    def __post_init__(self):
        self._forced: list[_Forced] = []
        self._decline: str | None = None
        self._ids = itertools.count(1)
        self._events = itertools.count(1)
        self._checkout_ids = itertools.count(1)  # own counter: intent ids of charges stay pi_test_0001…
        self._sub_ids = itertools.count(1)
        self._invoice_ids = itertools.count(1)
        self._idempotent: dict[str, tuple[int, dict]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> FakeStripe:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                fake._handle(self)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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

    def use_in(self, settings) -> FakeStripe:
        settings.PAYMENT_PROVIDER = "stripe"
        settings.STRIPE_API_BASE = self.url
        settings.STRIPE_SECRET_KEY = self.secret_key
        settings.STRIPE_WEBHOOK_SECRET = self.webhook_secret
        return self

    # --- behaviour -------------------------------------------------------------------

    def fail(self, status: int, body: dict | str | None = None, times: int = 1) -> None:
        """The next `times` API calls answer `status` (Stripe's error shape unless `body`)."""
        if body is None:
            body = {"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}}
        self._forced.extend(_Forced(status, body) for _ in range(times))

    def decline(self, message: str = "Your card was declined.") -> None:
        """PaymentIntents are declined (HTTP 402 card_error) until further notice."""
        self._decline = message

    # --- the HTTP side -----------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        form = dict(parse_qsl(raw, keep_blank_values=True))
        headers = {k: v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append(Recorded(handler.command, handler.path, headers, form))
            status, body = self._answer(handler.command, handler.path, headers, form)
        if self.delay:
            time.sleep(self.delay)
        payload = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/html")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def _answer(self, method: str, path: str, headers: dict, form: dict) -> tuple[int, dict | str]:
        if self._forced:
            forced = self._forced.pop(0)
            return forced.status, forced.body
        if headers.get("Authorization") != f"Bearer {self.secret_key}":
            return 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided."}}
        key = headers.get("Idempotency-Key")
        if key and key in self._idempotent:
            return self._idempotent[key]  # Stripe replays the first answer
        url = urlsplit(path)
        if method == "GET":
            form = dict(parse_qsl(url.query, keep_blank_values=True))
        if method == "POST" and path == "/v1/checkout/sessions":
            answer = self._create_session(form)
        elif method == "POST" and path == "/v1/payment_intents":
            answer = self._create_intent(form)
        elif method == "GET" and url.path.startswith("/v1/payment_intents/"):
            answer = self._retrieve_intent(url.path.rsplit("/", 1)[-1], form)
        elif url.path.startswith("/v1/subscriptions/"):
            answer = self._subscription(method, url.path.rsplit("/", 1)[-1], form)
        else:
            answer = 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})."}}
        if key:
            self._idempotent[key] = answer
        return answer

    @staticmethod
    def _metadata(form: dict, prefix: str = "metadata") -> dict[str, str]:
        return {k[len(prefix) + 1 : -1]: v for k, v in form.items() if k.startswith(f"{prefix}[")}

    def _create_session(self, form: dict) -> tuple[int, dict]:
        session_id = f"cs_test_{next(self._ids):04d}"
        amount = int(form["line_items[0][price_data][unit_amount]"]) * int(form.get("line_items[0][quantity]", "1"))
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": form.get("mode"),
            "url": f"{self.url}/c/pay/{session_id}",
            "amount_total": amount,
            "currency": form["line_items[0][price_data][currency]"],
            "client_reference_id": form.get("client_reference_id"),
            "metadata": self._metadata(form),
            "payment_status": "unpaid",
            "status": "open",
            "customer": form.get("customer"),
            "customer_creation": form.get("customer_creation"),
            "payment_intent": None,
            "setup_future_usage": form.get("payment_intent_data[setup_future_usage]"),
            "payment_intent_metadata": self._metadata(form, "payment_intent_data[metadata]"),
            "subscription": None,
            "subscription_metadata": self._metadata(form, "subscription_data[metadata]"),
            "trial_period_days": int(form.get("subscription_data[trial_period_days]") or 0),
            "recurring": form.get("line_items[0][price_data][recurring][interval]"),
            "product_name": form.get("line_items[0][price_data][product_data][name]"),
        }
        self.sessions[session_id] = session
        return 200, session

    # --- Stripe Billing ----------------------------------------------------------------------

    def _subscription(self, method: str, sub_id: str, form: dict) -> tuple[int, dict]:
        sub = self.subscriptions.get(sub_id)
        if sub is None:
            error = {"type": "invalid_request_error", "code": "resource_missing",
                     "message": f"No such subscription: '{sub_id}'"}  # fmt: skip
            return 404, {"error": error}
        if method == "GET":
            return 200, sub
        item = sub["items"]["data"][0]
        if "cancel_at_period_end" in form:
            sub["cancel_at_period_end"] = form["cancel_at_period_end"] == "true"
        if "items[0][price_data][unit_amount]" in form:
            if (
                form.get("items[0][id]") != item["id"]
                or form.get("items[0][price_data][product]") != item["price"]["product"]
            ):
                return 400, {"error": {"type": "invalid_request_error", "message": "Unknown subscription item."}}
            old, new = item["price"]["unit_amount"], int(form["items[0][price_data][unit_amount]"])
            metadata = self._metadata(form) or sub["metadata"]
            if form.get("proration_behavior") == "always_invoice" and new > old:
                if self._decline is not None:
                    error = {"type": "card_error", "code": "card_declined", "message": self._decline}
                    return 402, {"error": error}  # error_if_incomplete: the change is not applied
                invoice = self._invoice(sub, new - old, "subscription_update", metadata=metadata)
                self.pending_invoices.append(invoice)
            item["price"] = {**item["price"], "unit_amount": new}
            sub["metadata"] = metadata
        return 200, sub

    def _invoice(self, sub: dict, amount: int, reason: str, *, metadata=None, start=None, end=None) -> dict:
        start = sub["current_period_start"] if start is None else start
        end = sub["current_period_end"] if end is None else end
        return {
            "id": f"in_test_{next(self._invoice_ids):04d}", "object": "invoice", "customer": sub["customer"],
            "amount_due": amount, "amount_paid": amount, "currency": sub["currency"], "billing_reason": reason,
            "status": "paid",
            "parent": {"type": "subscription_details", "subscription_details": {
                "subscription": sub["id"], "metadata": dict(metadata or sub["metadata"])}},
            "lines": {"data": [{"period": {"start": start, "end": end}}]},
        }  # fmt: skip

    def subscription_checkout_paid(self, session_id: str) -> list[dict]:
        """Paying a subscription-mode session: [checkout.session.completed, invoice.paid]
        (Stripe does not promise their order)."""
        session = self.sessions[session_id]
        n = next(self._sub_ids)
        customer = session["customer"] or f"cus_test_s{n:04d}"
        self.customers.setdefault(customer, {"id": customer, "object": "customer"})
        now = int(time.time())
        trial = session["trial_period_days"]
        end = now + (trial * 86400 if trial else 30 * 86400)
        sub_id = f"sub_test_{n:04d}"
        self.subscriptions[sub_id] = {
            "id": sub_id, "object": "subscription", "customer": customer, "status": "trialing" if trial else "active",
            "cancel_at_period_end": False, "current_period_start": now, "current_period_end": end,
            "currency": session["currency"], "metadata": dict(session["subscription_metadata"]),
            "items": {"data": [{"id": f"si_test_{n:04d}", "price": {"id": f"price_test_{n:04d}",
                                "product": f"prod_test_{n:04d}", "unit_amount": session["amount_total"],
                                "recurring": {"interval": session["recurring"]}}}]},
        }  # fmt: skip
        session.update(customer=customer, subscription=sub_id)
        completed = {**self._public(session), "payment_status": "no_payment_required" if trial else "paid",
                     "status": "complete"}  # fmt: skip
        invoice = self._invoice(self.subscriptions[sub_id], 0 if trial else session["amount_total"],
                                "subscription_create")  # fmt: skip
        return [self.event("checkout.session.completed", completed), self.event("invoice.paid", invoice)]

    def invoice_paid(self, sub_id: str, *, reason: str = "subscription_cycle", amount: int | None = None) -> dict:
        """The next period billed and paid (the subscription's period moves on)."""
        sub = self.subscriptions[sub_id]
        length = sub["current_period_end"] - sub["current_period_start"]
        sub["current_period_start"] = sub["current_period_end"]
        sub["current_period_end"] = sub["current_period_start"] + max(length, 30 * 86400)
        sub["status"] = "active"
        price = sub["items"]["data"][0]["price"]["unit_amount"]
        return self.event("invoice.paid", self._invoice(sub, price if amount is None else amount, reason))

    def invoice_failed(self, sub_id: str) -> dict:
        sub = self.subscriptions[sub_id]
        invoice = self._invoice(sub, sub["items"]["data"][0]["price"]["unit_amount"], "subscription_cycle")
        invoice.update(amount_paid=0, status="open")
        sub["status"] = "past_due"
        return self.event("invoice.payment_failed", invoice)

    def subscription_event(self, event_type: str, sub_id: str) -> dict:
        """customer.subscription.updated / .deleted with the subscription as it is now."""
        sub = self.subscriptions[sub_id]
        if event_type == "customer.subscription.deleted":
            sub["status"] = "canceled"
        return self.event(event_type, dict(sub))

    def _retrieve_intent(self, intent_id: str, query: dict) -> tuple[int, dict]:
        intent = self.intents.get(intent_id)
        if intent is None:
            error = {"type": "invalid_request_error", "code": "resource_missing",
                     "message": f"No such payment_intent: '{intent_id}'"}  # fmt: skip
            return 404, {"error": error}
        expand = {v for k, v in query.items() if k == "expand[]" or k.startswith("expand[")}
        if "payment_method" in expand and intent.get("payment_method") in self.payment_methods:
            intent = {**intent, "payment_method": self.payment_methods[intent["payment_method"]]}
        return 200, intent

    def _pay_session(self, session: dict) -> None:
        """What paying on Stripe's page does: a customer (when asked for), an intent, a card."""
        if session["payment_intent"] is not None:
            return
        n = next(self._checkout_ids)
        customer = session["customer"]
        if customer is None and session["customer_creation"] == "always":
            customer = f"cus_test_{n:04d}"
            self.customers[customer] = {"id": customer, "object": "customer"}
        method = f"pm_test_{n:04d}"
        self.payment_methods[method] = {
            "id": method, "object": "payment_method", "type": "card", "customer": customer,
            "card": {"brand": self.card_brand, "last4": self.card_last4, "exp_month": 12, "exp_year": 2030},
        }  # fmt: skip
        intent_id = f"pi_test_c{n:04d}"
        self.intents[intent_id] = {
            "id": intent_id, "object": "payment_intent", "amount": session["amount_total"],
            "amount_received": session["amount_total"], "currency": session["currency"], "customer": customer,
            "payment_method": method, "setup_future_usage": session["setup_future_usage"], "status": "succeeded",
            "metadata": session["payment_intent_metadata"],
        }  # fmt: skip
        session.update(customer=customer, payment_intent=intent_id)

    def _create_intent(self, form: dict) -> tuple[int, dict]:
        intent_id = f"pi_test_{next(self._ids):04d}"
        amount = int(form["amount"])
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount if self.intent_status == "succeeded" else 0,
            "currency": form["currency"],
            "customer": form.get("customer"),
            "payment_method": form.get("payment_method"),
            "status": self.intent_status,
            "metadata": self._metadata(form),
        }
        if self._decline is not None:
            intent.update(status="requires_payment_method", amount_received=0)
            intent["last_payment_error"] = {"code": "card_declined", "message": self._decline}
            self.intents[intent_id] = intent
            error = {"type": "card_error", "code": "card_declined", "message": self._decline, "payment_intent": intent}
            return 402, {"error": error}
        self.intents[intent_id] = intent
        return 200, intent

    # --- webhooks ---------------------------------------------------------------------------

    def event(self, event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
        return {
            "id": event_id or f"evt_test_{next(self._events):04d}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }

    def checkout_completed(self, session_id: str, **changes) -> dict:
        """The session paid (by card, saved as the session asked), as Stripe reports it."""
        self._pay_session(self.sessions[session_id])
        session = {**self._public(self.sessions[session_id]), "payment_status": "paid", "status": "complete"}
        return self.event("checkout.session.completed", {**session, **changes})

    @staticmethod
    def _public(session: dict) -> dict:
        """The session as Stripe shows it (without this fake's bookkeeping)."""
        private = ("setup_future_usage", "payment_intent_metadata", "subscription_metadata", "trial_period_days",
                   "recurring", "product_name")  # fmt: skip
        return {k: v for k, v in session.items() if k not in private}

    def checkout_event(self, event_type: str, session_id: str, **changes) -> dict:
        return self.event(event_type, {**self._public(self.sessions[session_id]), **changes})

    def intent_event(self, event_type: str, intent: dict, **changes) -> dict:
        return self.event(event_type, {**intent, **changes})

    def invoice_event(self, event_type: str, subscription_id: str, **changes) -> dict:
        invoice = {
            "id": f"in_test_{next(self._invoice_ids):04d}",
            "object": "invoice",
            "subscription": subscription_id,
            "amount_due": 2900,
            "amount_paid": 2900 if event_type == "invoice.paid" else 0,
            "currency": "usd",
            **changes,
        }
        return self.event(event_type, invoice)

    def sign(self, body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> str:
        return signature_header(secret or self.webhook_secret, body, timestamp)

    def deliver(self, client, event: dict | bytes, *, timestamp=None, secret=None, header=None, path=WEBHOOK_PATH):
        """POST the event to our webhook endpoint as Stripe would (`header` overrides the signature)."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        signature = self.sign(body, timestamp=timestamp, secret=secret) if header is None else header
        headers = {"Stripe-Signature": signature} if signature else {}
        return client.post(path, data=body, content_type="application/json", headers=headers)
