"""Email opens and clicks: a 1x1 pixel and a redirect, both behind signed tokens.

The token is `django.core.signing` over {campaign, component, recipient, url}
with a salt of its own: nobody can make the redirect send a visitor somewhere
the campaign's owner did not write (no open redirect), nor count opens for a
campaign they do not hold a link of. Tokens do not expire: an email is read
months later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape, unescape
from urllib.parse import urlsplit

from django.core import signing
from django.urls import reverse

SALT = "canvas.tracking.email"
MAX_RECIPIENT = 64

# 1x1 transparent GIF
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


@dataclass(frozen=True)
class EmailLink:
    campaign_id: str
    component_id: str | None
    recipient: str
    url: str  # "" for the pixel


def _token(link: EmailLink) -> str:
    data = {"c": link.campaign_id}
    if link.component_id:
        data["cp"] = link.component_id
    if link.recipient:
        data["m"] = link.recipient[:MAX_RECIPIENT]
    if link.url:
        data["u"] = link.url
    return signing.dumps(data, salt=SALT, compress=True)


def read_token(token: str) -> EmailLink | None:
    try:
        data = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("c"), str):
        return None
    url = data.get("u", "")
    if url and urlsplit(url).scheme not in ("http", "https"):
        return None
    return EmailLink(campaign_id=data["c"], component_id=data.get("cp"), recipient=str(data.get("m", "")), url=str(url))


def pixel_path(*, campaign_id: str, component_id: str | None = None, recipient: str = "") -> str:
    return reverse("tracking:email_open", kwargs={"token": _token(EmailLink(campaign_id, component_id, recipient, ""))})


def click_path(*, campaign_id: str, url: str, component_id: str | None = None, recipient: str = "") -> str:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError("Only http(s) links can be tracked.")
    token = _token(EmailLink(campaign_id, component_id, recipient, url))
    return reverse("tracking:email_click", kwargs={"token": token})


_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


def email_html_instrument(
    html: str, *, base_url: str, campaign_id: str, component_id: str | None = None, recipient: str = ""
) -> str:
    """An email's HTML with each http(s) link sent through the redirect and the
    open pixel added at the end of the body. `base_url` is the platform's public
    address (links in an email must be absolute)."""
    base = base_url.rstrip("/")

    def rewrite(match: re.Match) -> str:
        target = unescape(match.group(3)).strip()
        if urlsplit(target).scheme not in ("http", "https"):
            return match.group(0)  # mailto:, tel:, anchors stay as they are
        path = click_path(campaign_id=campaign_id, url=target, component_id=component_id, recipient=recipient)
        return f"{match.group(1)}{match.group(2)}{escape(base + path)}{match.group(2)}"

    out = _HREF.sub(rewrite, html)
    pixel = pixel_path(campaign_id=campaign_id, component_id=component_id, recipient=recipient)
    tag = f'<img src="{escape(base + pixel)}" width="1" height="1" alt="" style="display:block;border:0">'
    at = out.lower().rfind("</body>")
    return out[:at] + tag + out[at:] if at >= 0 else out + tag
