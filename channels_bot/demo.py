"""Demo data of the channel bot, seeded by `manage.py seed_channels_demo` (idempotent).

Acme Logistics gets a connected Facebook Page bound to the platform persona
"Logistics Strategy", a catalog of 8 products, 3 customers and their
conversations (a product carousel, quick replies, a customer asking for a
person, agent answers with their receipts and one that failed), and two
orders in different statuses with their history. Globex Media gets an
Instagram account with a smaller set and a LinkedIn Page.

Products and orders go through the catalog and order services; the messages
of the conversations are written as inbound processing and the send path
leave them (the demo channels' tokens are not real, so nothing is sent). The
status changes happen after the customer's 24-hour window, so they are
recorded without messaging anyone (the history says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.templatetags.static import static
from django.utils import timezone

from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context, rls_bypass
from channels_bot.models import ConnectedChannel, Conversation, ConversationMessage, Customer, Product
from channels_bot.models.platforms import Platform
from channels_bot.rich import Button, Card, Outgoing, QuickReply

DEMO_TOKEN = "demo-token-not-a-real-page-token"
DEMO_PERSONA = "Logistics Strategy"
# Shipped with the app, so the demo shows its pictures offline too.
PRODUCT_IMAGE = "channels_bot/demo/product.svg"
PHOTO_IMAGE = "channels_bot/demo/photo.svg"


def _image(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{static(path)}"


ACME_PRODUCTS = [
    ("Pallet stretch wrap 500 mm", "WRAP-500", "19.90", "Cast stretch film, 23 µm, 300 m roll. Fits hand dispensers."),
    ("Packing tape gun", "TAPE-GUN", "12.50", "Pistol-grip tape dispenser for 50 mm tape, with a brake."),
    ("Brown packing tape 6-pack", "TAPE-6", "9.90", "50 mm × 66 m acrylic tape, six rolls."),
    ("Double-wall carton 60×40×40", "BOX-604040", "3.20", "Double-wall corrugated box for heavy goods."),
    ("Pallet labels (500)", "LABEL-500", "14.00", "A5 thermal labels for pallet shipping, 500 per roll."),
    ("Bubble wrap roll 1 m × 50 m", "BUBBLE-50", "24.00", "Small-bubble cushioning film."),
    ("Hand pallet truck 2.5 t", "TRUCK-25", "389.00", "Manual pallet jack, 2,500 kg, 1150 mm forks."),
    ("Corner protectors (100)", "CORNER-100", "18.50", "Cardboard edge protectors 35×35×1000 mm."),
]
GLOBEX_PRODUCTS = [
    ('Creator ring light 18"', "RING-18", "79.00", "Dimmable LED ring light with a phone holder."),
    ("Lavalier microphone", "LAV-MIC", "29.00", "Clip-on microphone with a USB-C adapter."),
    ("Video editing course", "COURSE-EDIT", "49.00", "Six hours of short-form editing lessons."),
]


@dataclass(frozen=True)
class DemoResult:
    account: str
    created: bool
    products: int = 0
    conversations: int = 0
    orders: int = 0


def _owner(account: Account) -> Membership:
    with account_context(account.id):
        return Membership.objects.select_related("user", "account").filter(account=account, role=Role.OWNER).first()


def _persona(account: Account):
    from personas.selectors import personas_visible_to

    with account_context(account.id):
        return personas_visible_to(account).filter(name=DEMO_PERSONA).first()


def _products(account: Account, owner: Membership, rows: list[tuple[str, str, str, str]], currency: str) -> dict:
    from channels_bot.services.products import product_create

    found = {}
    for name, sku, price, description in rows:
        with account_context(account.id):
            product = Product.objects.filter(account=account, sku=sku).first()
        if product is None:
            product = product_create(
                account=account, actor=owner, name=name, sku=sku, price=Decimal(price), currency=currency,
                description=description, image_url=_image(PRODUCT_IMAGE),
            )  # fmt: skip
        found[sku] = product
    return found


class _Thread:
    """Writes one conversation's messages in order, as inbound processing and the
    send path leave them."""

    def __init__(self, channel: ConnectedChannel, customer: Customer, *, start, **fields) -> None:
        self.channel, self.customer, self.at, self.n = channel, customer, start, 0
        self.conversation = Conversation.objects.create(
            account_id=channel.account_id, channel=channel, customer=customer, started_at=start, last_message_at=start,
            **fields,
        )  # fmt: skip

    def _add(self, sender: str, minutes: float, *, content_type="TEXT", content="", payload=None, **fields):
        self.at += timedelta(minutes=minutes)
        self.n += 1
        fields.setdefault("platform_message_id", f"demo-{self.conversation.pk}-{self.n}")
        message = ConversationMessage.objects.create(
            account_id=self.channel.account_id, conversation=self.conversation, channel=self.channel,
            sender_type=sender, content_type=content_type, content=content, payload=payload or {}, timestamp=self.at,
            **fields,
        )  # fmt: skip
        updates = {"last_message_at": self.at}
        if sender == "CUSTOMER":
            updates["last_customer_message_at"] = self.at
        Conversation.objects.filter(pk=self.conversation.pk).update(**updates)
        return message

    def customer_says(self, text: str, minutes: float = 1, **payload):
        return self._add("CUSTOMER", minutes, content=text, payload=payload, delivery_state="received")

    def customer_image(self, url: str, minutes: float = 1):
        payload = {"attachments": [{"type": "image", "url": url}]}
        return self._add("CUSTOMER", minutes, content_type="IMAGE", content="[image]", payload=payload,
                         delivery_state="received")  # fmt: skip

    def we_send(self, sender: str, outgoing: Outgoing, minutes: float = 0.2, state: str = "read", **fields):
        return self._add(
            sender, minutes, content_type=outgoing.content_type, content=outgoing.text or outgoing.as_numbered_text(),
            payload=outgoing.as_payload(), delivery_state=state, **fields,
        )  # fmt: skip


def _carousel(products: list[Product]) -> Outgoing:
    return Outgoing(
        text="Here is what we have in stock:",
        cards=tuple(
            Card(title=p.name, subtitle=f"{p.price} {p.currency}", image_url=p.image_url,
                 buttons=(Button(title="Order", payload=f"ORDER:{p.pk}"),
                          Button(title="Details", payload=f"INFO:{p.pk}")))
            for p in products
        ),
    )  # fmt: skip


def _seed_acme(account: Account) -> DemoResult:
    from channels_bot.services.orders import order_create, order_transition

    owner = _owner(account)
    if owner is None:
        return DemoResult(account.name, False)
    products = _products(account, owner, ACME_PRODUCTS, "USD")
    now = timezone.now()
    with account_context(account.id), transaction.atomic():
        if ConnectedChannel.objects.filter(account=account, platform_type=Platform.FACEBOOK_PAGE).exists():
            return DemoResult(account.name, False, products=len(products))
        member = Membership.objects.select_related("user").filter(account=account, role=Role.MEMBER).first()
        agent = (member or owner).user
        page = ConnectedChannel.objects.create(
            account=account, platform_type=Platform.FACEBOOK_PAGE, platform_specific_id="demo-acme-page-1001",
            channel_name="Acme Logistics Shop", route=ConnectedChannel.Route.FACEBOOK_LOGIN, access_token=DEMO_TOKEN,
            persona=_persona(account), last_webhook_at=now - timedelta(minutes=4), created_by=owner.user,
        )  # fmt: skip
        kim, daniel, sofia = (
            Customer.objects.create(account=account, channel=page, platform_customer_id=psid, full_name=name,
                                    first_seen_at=now - timedelta(days=days), last_seen_at=now - timedelta(minutes=m))
            for psid, name, days, m in [
                ("demo-psid-kim", "Kim Minji", 3, 20), ("demo-psid-daniel", "Daniel Park", 1, 6),
                ("demo-psid-sofia", "Sofia Rossi", 9, 60 * 50),
            ]
        )  # fmt: skip

        # Kim: asks, gets a carousel, picks with quick replies, orders (stays pending).
        wrap, tape, gun = products["WRAP-500"], products["TAPE-6"], products["TAPE-GUN"]
        k = _Thread(page, kim, start=now - timedelta(minutes=45))
        k.customer_says("Hi! Do you sell stretch wrap for pallets?")
        k.we_send("BOT", _carousel([wrap, tape, gun]))
        k.customer_says("Order", minutes=2, postback=f"ORDER:{wrap.pk}")
        k.we_send("BOT", Outgoing(text="How many rolls of Pallet stretch wrap 500 mm?",
                                  quick_replies=(QuickReply("1", "QTY:1"), QuickReply("2", "QTY:2"),
                                                 QuickReply("5", "QTY:5"))))  # fmt: skip
        k.customer_says("2", quick_reply="QTY:2")
        k.we_send("BOT", Outgoing(text="2 × Pallet stretch wrap 500 mm = 39.80 USD. Where should we ship it?"))
        k.customer_says("Acme Depot, 12 Harbor Road, Busan 48943, South Korea", minutes=3)
        k.we_send(
            "BOT", Outgoing(text="Thank you! Your order is placed; we will confirm it shortly."), state="delivered"
        )
        Conversation.objects.filter(pk=k.conversation.pk).update(order_state={})

        # Daniel: wants a person; the bot says an agent will reply. Unread.
        d = _Thread(page, daniel, start=now - timedelta(minutes=12), needs_human=True, unread_count=2)
        d.customer_says("Do you give discounts for 40 pallet trucks?")
        d.we_send("BOT", Outgoing(text="I'll ask a colleague: an agent will reply here shortly."), state="read")
        d.customer_image(_image(PHOTO_IMAGE), minutes=5)
        d.customer_says("This is our warehouse, for the size.", minutes=0.5)

        # Sofia: an older thread an agent took over, with an answer the platform refused.
        s = _Thread(page, sofia, start=now - timedelta(days=2, hours=3), handler=Conversation.Handler.HUMAN,
                    assigned_to=agent)  # fmt: skip
        s.customer_says("Hello, I need 200 double-wall cartons and corner protectors.")
        packs = (QuickReply("100", "QTY:100"), QuickReply("200", "QTY:200"))
        s.we_send("BOT", Outgoing(text="Sure! How many corner protectors?", quick_replies=packs))
        s.customer_says("Can someone check delivery to Milan first?", minutes=4)
        s.we_send("AGENT", Outgoing(text="Hi Sofia, Mina here: Milan is fine, 3–4 working days."), minutes=15,
                  sent_by=agent)  # fmt: skip
        s.customer_says("Perfect, please place it.", minutes=6)
        s.we_send("AGENT", Outgoing(text="Done, you will get the confirmation here."), minutes=2, sent_by=agent,
                  state="delivered")  # fmt: skip
        s.we_send("AGENT", Outgoing(text="Your cartons left the warehouse today."), minutes=60 * 30, sent_by=agent,
                  state="failed", error_code="window_closed", platform_message_id="",
                  error_message="(#10) This message is sent outside of allowed window.")  # fmt: skip
        kim_conv, sofia_conv = k.conversation, s.conversation

    address_kim = {"name": "Kim Minji", "line1": "Acme Depot, 12 Harbor Road", "city": "Busan", "postal_code": "48943",
                   "country": "KR"}  # fmt: skip
    address_sofia = {"name": "Sofia Rossi", "line1": "Via Tortona 27", "city": "Milano", "postal_code": "20144",
                     "country": "IT"}  # fmt: skip
    order_create(account=account, customer=kim, conversation=kim_conv, items=[(wrap.pk, 2)],
                 shipping_address=address_kim, actor_kind="bot")  # fmt: skip
    sofia_order = order_create(
        account=account, customer=sofia, conversation=sofia_conv,
        items=[(products["BOX-604040"].pk, 200), (products["CORNER-100"].pk, 2)], shipping_address=address_sofia,
        actor_kind="agent", actor=owner,
    )  # fmt: skip
    for status, note in [("CONFIRMED", "Paid by bank transfer."), ("PROCESSING", "Packing at dock 3.")]:
        order_transition(order=sofia_order, to_status=status, actor_kind="agent", actor=owner, note=note)
    return DemoResult(account.name, True, products=len(products), conversations=3, orders=2)


def _seed_globex(account: Account) -> DemoResult:
    owner = _owner(account)
    if owner is None:
        return DemoResult(account.name, False)
    products = _products(account, owner, GLOBEX_PRODUCTS, "USD")
    now = timezone.now()
    with account_context(account.id), transaction.atomic():
        if ConnectedChannel.objects.filter(account=account, platform_type=Platform.INSTAGRAM_BUSINESS).exists():
            return DemoResult(account.name, False, products=len(products))
        ig = ConnectedChannel.objects.create(
            account=account, platform_type=Platform.INSTAGRAM_BUSINESS, platform_specific_id="demo-globex-ig-2001",
            channel_name="@globex.media", route=ConnectedChannel.Route.INSTAGRAM_LOGIN, access_token=DEMO_TOKEN,
            token_expires_at=now + timedelta(days=52), last_webhook_at=now - timedelta(hours=2), created_by=owner.user,
        )  # fmt: skip
        ConnectedChannel.objects.create(
            account=account, platform_type=Platform.LINKEDIN_PAGE, platform_specific_id="demo-globex-li-3001",
            channel_name="Globex Media", route=ConnectedChannel.Route.LINKEDIN_OAUTH, access_token=DEMO_TOKEN,
            token_expires_at=now + timedelta(days=40), created_by=owner.user,
        )  # fmt: skip
        fan = Customer.objects.create(account=account, channel=ig, platform_customer_id="demo-igsid-ana",
                                      full_name="Ana Costa", first_seen_at=now - timedelta(hours=3))  # fmt: skip
        t = _Thread(ig, fan, start=now - timedelta(hours=2, minutes=30), unread_count=1)
        t.customer_says("Is the ring light good for vertical video?")
        t.we_send("BOT", _carousel([products["RING-18"], products["LAV-MIC"]]))
        t.customer_says("Nice, thanks!", minutes=3)
    return DemoResult(account.name, True, products=len(products), conversations=1)


def channels_demo_seed() -> list[DemoResult]:
    """Seed the demo accounts that exist (run `seed_demo` first); a second run changes nothing."""
    results = []
    for name, seed in (("Acme Logistics", _seed_acme), ("Globex Media", _seed_globex)):
        with rls_bypass("demo data: find the demo account"):
            account = Account.objects.filter(name=name).first()
        if account is not None:
            results.append(seed(account))
    return results
