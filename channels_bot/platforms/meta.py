"""Meta's Graph API: Messenger (a Facebook Page) and Instagram through a Page.

Rendering (`render_messages`) turns one `rich.Outgoing` into the Messenger
message objects that carry it, within the Send API's limits:

- quick replies: at most 13, `content_type: text`, titles clipped to 20 chars,
  payloads cut to 1000; they ride on the last part;
- cards: one card without an image but with buttons is a button template (its
  text is the message text, the card's title and subtitle, ≤ 640 chars);
  otherwise a generic template of ≤ 10 elements (title and subtitle ≤ 80,
  ≤ 3 buttons: postback with title ≤ 20 and payload ≤ 1000, or web_url);
- an image is an image attachment (`is_reusable: true`);
- text is clipped to 2000 characters (Instagram: 1000 UTF-8 bytes) with an
  ellipsis. We clip rather than split: a stored message is one platform
  message wherever possible, so a retry cannot deliver half of it twice.

Text beside a template or an image goes first, as its own part: the send
records how many parts were accepted (`http.PartialSendError`) and a retry
skips them. Outside the 24 h window an agent's message goes with
`messaging_type: MESSAGE_TAG, tag: HUMAN_AGENT` (SendContext.human_agent_tag).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings

from channels_bot import rich

from . import http
from .base import Failure, PlatformError, Profile, SendContext, SendResult, TokenGrant

if TYPE_CHECKING:
    from channels_bot.models import ConnectedChannel
    from channels_bot.rich import Outgoing

# The page's webhook fields (`POST /{page-id}/subscribed_apps`), as services/connect.py subscribes them.
PAGE_FIELDS = "messages,messaging_postbacks,message_deliveries,message_reads,message_echoes,messaging_handovers"
MESSENGER_TEXT_MAX = 2000
BUTTON_TEMPLATE_TEXT_MAX = 640
INSTAGRAM_TEXT_MAX_BYTES = 1000
LABEL = "Facebook"


def clip_bytes(text: str, limit: int) -> str:
    """`text` within `limit` UTF-8 bytes (never cutting a character), with an ellipsis when cut."""
    text = (text or "").strip()
    if len(text.encode()) <= limit:
        return text
    budget = limit - len("…".encode())
    cut = text.encode()[:budget].decode(errors="ignore").rstrip()
    return cut + "…"


def _button(button: rich.Button) -> dict[str, Any] | None:
    title = rich.clip(button.title, rich.BUTTON_TITLE_MAX)
    if not title:
        return None
    if button.url and not button.payload:
        return {"type": "web_url", "url": button.url, "title": title}
    return {"type": "postback", "title": title, "payload": (button.payload or title)[: rich.PAYLOAD_MAX]}


def _buttons(buttons: tuple[rich.Button, ...]) -> list[dict[str, Any]]:
    rendered = [b for b in (_button(button) for button in buttons) if b]
    return rendered[: rich.CARD_BUTTONS_MAX]


def quick_replies(outgoing: Outgoing) -> list[dict[str, Any]]:
    rendered = []
    for reply in outgoing.quick_replies:
        title = rich.clip(reply.title, rich.QUICK_REPLY_TITLE_MAX)
        if title:  # a text quick reply needs a title
            rendered.append({"content_type": "text", "title": title, "payload": (reply.payload or title)[:1000]})
    return rendered[: rich.QUICK_REPLIES_MAX]


def _element(card: rich.Card) -> dict[str, Any]:
    element: dict[str, Any] = {"title": rich.clip(card.title, rich.CARD_TEXT_MAX) or "—"}
    if card.subtitle:
        element["subtitle"] = rich.clip(card.subtitle, rich.CARD_TEXT_MAX)
    if card.image_url:
        element["image_url"] = card.image_url
    buttons = _buttons(card.buttons)
    if buttons:
        element["buttons"] = buttons
    return element


def render_messages(outgoing: Outgoing, *, instagram: bool = False) -> list[dict[str, Any]]:
    """The Send API `message` objects of `outgoing`, in the order they are sent."""

    def text_of(value: str) -> str:
        if instagram:
            return clip_bytes(value, INSTAGRAM_TEXT_MAX_BYTES)
        return rich.clip(value, MESSENGER_TEXT_MAX)

    parts: list[dict[str, Any]] = []
    text = (outgoing.text or "").strip()
    cards = outgoing.cards[: rich.CARDS_MAX]
    single = cards[0] if len(cards) == 1 else None
    if single is not None and not single.image_url and _buttons(single.buttons):
        lines = [line for line in (text, single.title.strip(), single.subtitle.strip()) if line]
        parts.append({"attachment": {"type": "template", "payload": {
            "template_type": "button",
            "text": rich.clip("\n".join(lines), BUTTON_TEMPLATE_TEXT_MAX),
            "buttons": _buttons(single.buttons),
        }}})  # fmt: skip
    else:
        if text and (cards or outgoing.image_url):
            parts.append({"text": text_of(text)})
        if cards:
            parts.append({"attachment": {"type": "template", "payload": {
                "template_type": "generic", "elements": [_element(card) for card in cards],
            }}})  # fmt: skip
        if outgoing.image_url:
            parts.append({"attachment": {"type": "image", "payload": {"url": outgoing.image_url, "is_reusable": True}}})
        if not parts:
            parts.append({"text": text_of(text or outgoing.as_numbered_text())})
    replies = quick_replies(outgoing)
    if replies:
        parts[-1]["quick_replies"] = replies
    return parts


def send_body(recipient_id: str, message: dict[str, Any], context: SendContext) -> dict[str, Any]:
    body: dict[str, Any] = {"recipient": {"id": recipient_id}}
    if context.human_agent_tag:
        body.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    else:
        body["messaging_type"] = "RESPONSE"
    body["message"] = message
    return body


def send_parts(post, parts: list[dict[str, Any]], context: SendContext) -> SendResult:
    """Send `parts` from `context.skip_parts` on; `post(body) -> response JSON`.
    The id of the first part sent is the message's platform id."""
    first_id = ""
    for index, message in enumerate(parts):
        if index < context.skip_parts:
            continue
        try:
            answer = post(send_body(context.recipient_id, message, context))
        except PlatformError as exc:
            if index > context.skip_parts or context.skip_parts:
                raise http.PartialSendError(exc, sent_parts=index, platform_message_id=first_id) from exc
            raise
        first_id = first_id or str(answer.get("message_id") or "")
    if not first_id and context.skip_parts < len(parts):
        raise PlatformError(f"{LABEL} accepted the message but returned no message id.", failure=Failure.PERMANENT)
    return SendResult(platform_message_id=first_id)


def fetch_graph_profile(url: str, *, label: str, **kwargs) -> Profile | None:
    """A customer's name and picture; None when the platform does not share them."""
    try:
        data = http.graph_call("GET", url, label=label, **kwargs)
    except PlatformError as exc:
        if exc.failure == Failure.PERMANENT:
            return None
        raise
    name = str(data.get("name") or data.get("username") or "")[:200]
    return Profile(full_name=name, profile_picture_url=str(data.get("profile_pic") or "")[:1000])


class MessengerClient:
    """A Facebook Page: `POST {META_GRAPH_URL}/{PAGE_ID}/messages?access_token=PAGE_TOKEN`."""

    label = LABEL
    instagram = False

    def _graph(self, path: str) -> str:
        return f"{settings.META_GRAPH_URL.rstrip('/')}/{path.lstrip('/')}"

    def _messages_url(self, channel: ConnectedChannel) -> str:
        return self._graph(f"{channel.platform_specific_id}/messages")

    def send(self, channel: ConnectedChannel, outgoing: Outgoing, context: SendContext) -> SendResult:
        url, params = self._messages_url(channel), {"access_token": channel.access_token}

        def post(body: dict[str, Any]) -> dict[str, Any]:
            return http.graph_call("POST", url, label=self.label, params=params, json=body)

        return send_parts(post, render_messages(outgoing, instagram=self.instagram), context)

    def fetch_profile(self, channel: ConnectedChannel, platform_customer_id: str) -> Profile | None:
        return fetch_graph_profile(
            self._graph(platform_customer_id), label=self.label,
            params={"fields": "name,profile_pic", "access_token": channel.access_token},
        )  # fmt: skip

    def refresh_token(self, channel: ConnectedChannel) -> TokenGrant | None:
        return None  # a page token from a long-lived user token does not expire

    def _thread_control(self, channel: ConnectedChannel, action: str, body: dict[str, Any]) -> None:
        http.graph_call(
            "POST", self._graph(f"{channel.platform_specific_id}/{action}"), label=self.label,
            params={"access_token": channel.access_token}, json=body,
        )  # fmt: skip

    def pass_thread_to_inbox(self, channel: ConnectedChannel, recipient_id: str) -> None:
        self._thread_control(channel, "pass_thread_control", {
            "recipient": {"id": recipient_id}, "target_app_id": settings.META_PAGE_INBOX_APP_ID,
            "metadata": "An agent took over the conversation.",
        })  # fmt: skip

    def take_thread_back(self, channel: ConnectedChannel, recipient_id: str) -> None:
        self._thread_control(channel, "take_thread_control", {
            "recipient": {"id": recipient_id}, "metadata": "The bot answers again.",
        })  # fmt: skip

    def _page_id(self, channel: ConnectedChannel) -> str:
        return channel.platform_specific_id

    def subscribe_webhooks(self, channel: ConnectedChannel) -> None:
        """`POST /{page-id}/subscribed_apps` with the page token: our app gets the page's events."""
        http.graph_call(
            "POST", self._graph(f"{self._page_id(channel)}/subscribed_apps"), label=self.label,
            params={"subscribed_fields": PAGE_FIELDS, "access_token": channel.access_token},
        )  # fmt: skip

    def unsubscribe_webhooks(self, channel: ConnectedChannel) -> None:
        """`DELETE /{page-id}/subscribed_apps`: the page stops sending our app its events."""
        http.graph_call(
            "DELETE", self._graph(f"{self._page_id(channel)}/subscribed_apps"), label=self.label,
            params={"access_token": channel.access_token},
        )  # fmt: skip


class InstagramViaPageClient(MessengerClient):
    """An Instagram business account linked to a Page: `POST /me/messages` with the
    page token, the recipient an IGSID; Messenger's bodies, Instagram's text limit."""

    label = "Instagram"
    instagram = True

    def _messages_url(self, channel: ConnectedChannel) -> str:
        return self._graph("me/messages")

    def _page_id(self, channel: ConnectedChannel) -> str:
        return channel.page_id  # the events of the Instagram account come through its page

    def pass_thread_to_inbox(self, channel: ConnectedChannel, recipient_id: str) -> None:
        return None  # the bot stays quiet by itself; no handover call on this route

    def take_thread_back(self, channel: ConnectedChannel, recipient_id: str) -> None:
        return None
