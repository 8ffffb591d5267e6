"""Pages of the channel bot: the agent inbox (conversation list, thread, customer
panel, reply box, handoff buttons), channels, products and orders.

Every object is fetched through the account-first selectors, so another
account's id is a 404 on every page and method. Writes call one service each;
a refused action becomes a flash message and a redirect back. The inbox is
live: `static/channels_bot/inbox.js` listens to the account websocket (through
the shared `js/account_events.js`) and re-fetches the list and thread fragments
this module renders, so the page and its live updates share one template.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views import View

from accounts.models import Role
from accounts.tenancy.views import TenantViewMixin
from aiplatform.errors import ServiceError
from aiplatform.flash import run_and_report, service_error_text

from . import selectors as sel
from .forms import InboxFilterForm, ProductForm, ProductImportForm, ReplyForm, TransitionForm
from .models import ConnectedChannel, Conversation, ConversationMessage, Order
from .models.orders import TRANSITIONS
from .models.platforms import Platform
from .services import handoff
from .services.channels import channel_update
from .services.inbox import agent_message_send, conversation_mark_read
from .services.orders import order_transition
from .services.products import product_create, product_delete, product_update, products_import_csv

LIST_SIZE = 100
PRODUCTS_PER_PAGE = 50
ORDERS_PER_PAGE = 50

# What an agent can do about a failed send, by the error code the send recorded.
FAILURE_HINTS = {
    "window_closed": "The customer last wrote too long ago; the platform accepts messages again once they write.",
    "auth": "The channel's access was revoked or expired: reconnect it on the Channels page.",
    "permanent": "The platform refused this message; it will not be retried. Rephrase it or answer on the platform.",
    "551": "This person is not available on the platform right now (blocked or deactivated).",
    "throttled": "The platform is rate-limiting the page; it was retried and gave up. Send it again in a while.",
    "transient": "The platform did not answer; it was retried and gave up. Send it again in a while.",
}
DEFAULT_HINT = "The platform did not accept this message. Send it again, or answer in the platform's own inbox."
PLATFORM_NOTES = {
    Platform.LINKEDIN_PAGE: "LinkedIn has no messaging API for pages: the bot answers comments and mentions on the "
    "page's posts only.",
    Platform.TWITTER_PROFILE: "X direct messages are behind a feature flag (CHANNELS_X_ENABLED), since X's API "
    "access is paid.",
}


def failure_hint(code: str) -> str:
    code = (code or "").lower()
    for key, hint in FAILURE_HINTS.items():
        if key in code:
            return hint
    return DEFAULT_HINT


def reconnect_url(channel: ConnectedChannel | None = None) -> str:
    """The connect flow of the channel's platform and route (its start page), else the connect index."""
    from .services.connect import FLOWS

    if channel is not None:
        for flow in FLOWS.values():
            if (flow.platform, flow.route) == (channel.platform_type, channel.route) and flow.enabled():
                return reverse("channels_bot_connect:start", args=[flow.slug])
    return connect_url() or reverse("channels_bot:channels")


def connect_url() -> str | None:
    try:
        return reverse("channels_bot_connect:index")
    except NoReverseMatch:
        return None


def _bubble(message: ConversationMessage) -> ConversationMessage:
    """Attach what the thread template shows of one message, as the customer saw it."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    message.quick_replies = payload.get("quick_replies") or []
    message.cards = payload.get("cards") or []
    images, files = [], []
    if payload.get("image_url"):
        images.append(payload["image_url"])
    for attachment in payload.get("attachments") or []:
        if not isinstance(attachment, dict) or not attachment.get("url"):
            continue
        if attachment.get("type") == "image":
            images.append(attachment["url"])
        else:
            files.append(attachment)
    message.images, message.files = images, files
    message.tapped = payload.get("postback") or payload.get("quick_reply") or ""
    message.outbound = message.sender_type != ConversationMessage.Sender.CUSTOMER
    message.hint = failure_hint(message.error_code) if message.delivery_state == "failed" else ""
    message.show_text = bool(message.content) and not (message.cards and not payload.get("text"))
    return message


class _ChannelBotView(TenantViewMixin, View):
    def can(self, role: Role) -> bool:
        return self.request.account_role.at_least(role)

    def lookup(self, selector, pk):
        return selector(self.account, pk)  # NotFound is the 404 page (TenantViewMixin)

    def banner(self) -> list[dict]:
        return [
            {"channel": c, "url": reconnect_url(c)} for c in sel.channels_needing_reconnect(self.account)
        ]  # fmt: skip


# Inbox


class _InboxView(_ChannelBotView):
    def list_context(self) -> dict:
        form = InboxFilterForm(self.request.GET or None)
        filters = form.filters()
        conversations = sel.conversations_for_account(self.account, sel.ConversationFilters(**filters))
        if "status" not in filters:
            conversations = conversations.exclude(status=Conversation.Status.ARCHIVED)
        query = self.request.GET.urlencode()
        return {
            "conversations": list(conversations[:LIST_SIZE]), "filter_form": form, "filters": filters,
            "query": f"?{query}" if query else "", "counts": sel.inbox_counts(self.account),
        }  # fmt: skip

    def thread_context(self, conversation: Conversation) -> dict:
        thread = [_bubble(m) for m in sel.messages_of_conversation(self.account, conversation)]
        return {
            "conversation": conversation, "thread": thread,
            "orders": sel.customer_orders(self.account, conversation.customer),
            "can_answer": self.can(Role.MEMBER) and conversation.status != Conversation.Status.ARCHIVED,
            "can_act": self.can(Role.MEMBER),
            "reply_form": ReplyForm(),
        }  # fmt: skip


class InboxView(_InboxView):
    """The inbox; with a conversation open, its thread and customer panel too.
    Opening a conversation marks it read."""

    def get(self, request, pk=None):
        context = {
            **self.list_context(),
            "banner": self.banner(),
            "channels": list(sel.channels_for_account(self.account)),
        }
        if pk is not None:
            conversation = self.lookup(sel.conversation_get_for_account, pk)
            conversation_mark_read(conversation=conversation, actor=self.membership)
            context.update(self.thread_context(conversation))
        return render(request, "channels_bot/inbox.html", context)


class InboxListFragment(_InboxView):
    """The conversation list alone, re-fetched by the page on a live event."""

    def get(self, request):
        context = self.list_context()
        context["open_id"] = request.GET.get("open", "")
        return render(request, "channels_bot/_conversation_list.html", context)


class ConversationFragment(_InboxView):
    """The thread head, messages and customer panel of one conversation, re-fetched live."""

    def get(self, request, pk):
        conversation = self.lookup(sel.conversation_get_for_account, pk)
        if request.GET.get("read") == "1":
            conversation_mark_read(conversation=conversation, actor=self.membership)
        return render(request, "channels_bot/_thread_parts.html", self.thread_context(conversation))


class ConversationReplyView(_ChannelBotView):
    """The reply box without JavaScript (with it, the page posts to the API)."""

    required_role = Role.MEMBER

    def post(self, request, pk):
        conversation = self.lookup(sel.conversation_get_for_account, pk)
        form = ReplyForm(request.POST)
        if not form.is_valid():
            messages.error(request, gettext("Write a message of at most 2000 characters first."))
        else:
            run_and_report(
                request,
                lambda: agent_message_send(
                    conversation=conversation, actor=self.membership, text=form.cleaned_data["text"]
                ),
                "Sent.",
            )
        return redirect("channels_bot:conversation", pk=conversation.pk)


class _ConversationAction(_ChannelBotView):
    required_role = Role.MEMBER
    done = ""

    def act(self, conversation: Conversation):
        raise NotImplementedError

    def post(self, request, pk):
        conversation = self.lookup(sel.conversation_get_for_account, pk)
        run_and_report(request, lambda: self.act(conversation), self.done)
        return redirect("channels_bot:conversation", pk=conversation.pk)


class TakeOverView(_ConversationAction):
    done = gettext_lazy("You are answering this conversation; the bot stays quiet until you give it back.")

    def act(self, conversation):
        return handoff.conversation_take_over(conversation=conversation, actor=self.membership)


class GiveBackView(_ConversationAction):
    done = gettext_lazy("The bot answers this customer's next message.")

    def act(self, conversation):
        return handoff.conversation_give_back(conversation=conversation, actor=self.membership)


class CloseView(_ConversationAction):
    done = gettext_lazy("Closed. The customer's next message opens it again.")

    def act(self, conversation):
        return handoff.conversation_close(conversation=conversation, actor=self.membership)


class ArchiveView(_ConversationAction):
    done = gettext_lazy("Archived.")

    def act(self, conversation):
        return handoff.conversation_archive(conversation=conversation, actor=self.membership)


# Channels


class ChannelListView(_ChannelBotView):
    def get(self, request):
        from personas.selectors import personas_visible_to

        channels = list(sel.channels_for_account(self.account))
        for channel in channels:
            channel.note = PLATFORM_NOTES.get(channel.platform_type, "")
            channel.reconnect_url = reconnect_url(channel) if channel.needs_reconnect else ""
        return render(request, "channels_bot/channels.html", {
            "channels": channels, "banner": self.banner(), "can_manage": self.can(Role.ADMIN),
            "personas": list(personas_visible_to(self.account)), "connect_url": connect_url(),
            "x_enabled": settings.CHANNELS_X_ENABLED, "platform_notes": PLATFORM_NOTES,
        })  # fmt: skip


class ChannelUpdateView(_ChannelBotView):
    """The persona picker and the pause/resume button of a channel row."""

    required_role = Role.ADMIN

    def post(self, request, pk):
        channel = self.lookup(sel.channel_get_for_account, pk)
        changes: dict = {}
        if "persona" in request.POST:
            changes["persona"] = request.POST["persona"] or None
        if "is_active" in request.POST:
            changes["is_active"] = request.POST["is_active"] == "1"
        if "channel_name" in request.POST:
            changes["channel_name"] = request.POST["channel_name"]
        if changes.get("is_active") is False:
            done = gettext("Paused %(name)s: its messages are received and the bot does not answer.") % {
                "name": channel.channel_name
            }
        elif changes.get("is_active") is True:
            done = gettext("%(name)s is answering again.") % {"name": channel.channel_name}
        else:
            done = gettext("Saved %(name)s.") % {"name": channel.channel_name}
        run_and_report(request, lambda: channel_update(channel=channel, actor=self.membership, **changes), done)
        return redirect("channels_bot:channels")


# Products


class ProductListView(_ChannelBotView):
    def get(self, request):
        query = request.GET.get("q", "").strip()[:200]
        page = Paginator(sel.products_for_account(self.account, search=query), PRODUCTS_PER_PAGE).get_page(
            request.GET.get("page")
        )
        return render(request, "channels_bot/products.html", {
            "page": page, "q": query, "can_edit": self.can(Role.MEMBER), "import_form": ProductImportForm(),
            "import_result": request.session.pop("channels_bot_import", None),
        })  # fmt: skip


class ProductCreateView(_ChannelBotView):
    required_role = Role.MEMBER

    def get(self, request):
        return render(request, "channels_bot/product_form.html", {"form": ProductForm(), "product": None})

    def post(self, request):
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                product = product_create(account=self.account, actor=self.membership, **form.cleaned_data)
            except ServiceError as exc:
                messages.error(request, service_error_text(exc))
            else:
                messages.success(request, gettext("Added %(name)s.") % {"name": product.name})
                return redirect("channels_bot:products")
        return render(request, "channels_bot/product_form.html", {"form": form, "product": None}, status=400)


class ProductEditView(_ChannelBotView):
    def get(self, request, pk):
        product = self.lookup(sel.product_get_for_account, pk)
        initial = {f: getattr(product, f) for f in ProductForm.base_fields}
        return render(request, "channels_bot/product_form.html", {
            "form": ProductForm(initial=initial), "product": product, "can_edit": self.can(Role.MEMBER),
        })  # fmt: skip

    def post(self, request, pk):
        product = self.lookup(sel.product_get_for_account, pk)
        if not self.can(Role.MEMBER):
            raise PermissionDenied(gettext("Your role in this account does not allow this."))
        form = ProductForm(request.POST)
        if form.is_valid():
            try:
                product_update(product=product, actor=self.membership, **form.cleaned_data)
            except ServiceError as exc:
                messages.error(request, service_error_text(exc))
            else:
                messages.success(request, gettext("Saved %(name)s.") % {"name": form.cleaned_data["name"]})
                return redirect("channels_bot:products")
        return render(request, "channels_bot/product_form.html", {"form": form, "product": product, "can_edit": True},
                      status=400)  # fmt: skip


class ProductDeleteView(_ChannelBotView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        product = self.lookup(sel.product_get_for_account, pk)
        try:
            outcome = product_delete(product=product, actor=self.membership)
        except ServiceError as exc:
            messages.error(request, service_error_text(exc))
            return redirect("channels_bot:product", pk=product.pk)
        (messages.success if outcome.deleted else messages.info)(request, outcome.message)
        return redirect("channels_bot:products")


class ProductImportView(_ChannelBotView):
    required_role = Role.MEMBER

    def post(self, request):
        form = ProductImportForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, gettext("Choose a CSV file to import."))
            return redirect("channels_bot:products")
        try:
            result = products_import_csv(account=self.account, actor=self.membership, file=form.cleaned_data["file"])
        except ServiceError as exc:
            errors = exc.extra.get("errors") or []
            if not errors:
                messages.error(request, service_error_text(exc))
                return redirect("channels_bot:products")
            request.session["channels_bot_import"] = {
                "created": 0, "updated": 0, "message": exc.message,
                "errors": [{"line": e.get("line", ""), "field": e.get("field", ""), "message": e.get("message", "")}
                           for e in errors[:200]],
            }  # fmt: skip
            return redirect("channels_bot:products")
        request.session["channels_bot_import"] = {"created": result.created, "updated": result.updated, "errors": []}
        messages.success(
            request, ngettext("Imported %(n)s line.", "Imported %(n)s lines.", result.rows) % {"n": result.rows}
        )
        return redirect("channels_bot:products")


# Orders


class OrderListView(_ChannelBotView):
    def get(self, request):
        status = request.GET.get("status", "")
        if status not in Order.Status.values:
            status = ""
        orders = sel.orders_for_account(self.account, sel.OrderFilters(status=status))
        page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
        return render(request, "channels_bot/orders.html", {
            "page": page, "status": status, "statuses": Order.Status.choices,
        })  # fmt: skip


class OrderDetailView(_ChannelBotView):
    def get(self, request, pk):
        order = self.lookup(sel.order_get_for_account, pk)
        for item in order.items.all():
            item.line_total = item.price_at_purchase * item.quantity
        moves = [(value, label) for value, label in Order.Status.choices if value in TRANSITIONS[order.order_status]]
        return render(request, "channels_bot/order_detail.html", {
            "order": order, "moves": moves, "can_move": self.can(Role.MEMBER), "form": TransitionForm(),
        })  # fmt: skip


class OrderTransitionView(_ChannelBotView):
    required_role = Role.MEMBER

    def post(self, request, pk):
        order = self.lookup(sel.order_get_for_account, pk)
        form = TransitionForm(request.POST)
        if not form.is_valid():
            messages.error(request, gettext("Choose a status the order can move to."))
            return redirect("channels_bot:order", pk=order.pk)
        to_status = form.cleaned_data["status"]
        run_and_report(
            request,
            lambda: order_transition(order=order, to_status=to_status, actor_kind="agent", actor=self.membership,
                                     note=form.cleaned_data["note"]),
            gettext("Order moved to %(status)s; the customer is told on their channel.")
            % {"status": Order.Status(to_status).label.lower()},
        )  # fmt: skip
        return redirect("channels_bot:order", pk=order.pk)
