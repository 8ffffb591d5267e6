"""The sidebar: products grouped as the user thinks of them, defined once here.

An entry names the URL it opens. An entry whose URL name does not resolve (a
product not installed yet, or switched off) is left out, so a new product shows
up in the sidebar the moment its URLs are included. Role-dependent entries say
which role they need; templates never compare role ranks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Role


@dataclass(frozen=True)
class Entry:
    key: str
    label: str | Promise
    icon: str
    # Candidate URL names, first that resolves wins (a product may land under one of them).
    url_names: Sequence[str]
    role: Role | None = None  # the least role that sees it; None: every member
    staff: bool = False  # platform operators only
    needs_account: bool = True
    # URL path prefixes that count as "in this section" besides the entry's own URL.
    also: Sequence[str] = ()


@dataclass(frozen=True)
class Group:
    key: str
    label: str | Promise
    icon: str
    entries: Sequence[Entry] = field(default_factory=tuple)


NAVIGATION: tuple[Group, ...] = (
    Group(
        "home",
        _("Home"),
        "house",
        (Entry("dashboard", _("Dashboard"), "layout-dashboard", ("dashboard",), needs_account=False),),
    ),
    Group(
        "assistants",
        _("Assistants"),
        "bot",
        (
            Entry("personas", _("Personas"), "bot", ("personas:gallery",)),
            Entry("chats", _("Chats"), "message-square", ("chats:index",)),
            Entry("knowledge", _("Knowledge"), "book-open", ("knowledge:units",)),
        ),
    ),
    Group(
        "services",
        _("Services"),
        "sparkles",
        (
            Entry("services", _("Services"), "sparkles", ("templates:catalog",)),
            Entry("results", _("Results"), "history", ("templates:history",)),
        ),
    ),
    Group(
        "studio",
        _("Studio"),
        "palette",
        (
            Entry("canvas", _("Canvas projects"), "pen-tool", ("canvas:projects",)),
            Entry("creators", _("Creators"), "users", ("canvas:creators", "creators:index")),
            Entry("media", _("Media"), "clapperboard", ("canvas:media", "media:index")),
        ),
    ),
    Group(
        "builder",
        _("Builder"),
        "megaphone",
        (
            Entry("campaigns", _("Campaigns"), "megaphone", ("canvas:campaigns", "builder:campaigns")),
            Entry("library", _("Library"), "library", ("templates:library", "library:index")),
            Entry("integrations", _("Integrations"), "plug", ("canvas:integrations",)),
        ),
    ),
    Group(
        "channels",
        _("Channels"),
        "inbox",
        (
            Entry("inbox", _("Inbox"), "inbox", ("channels_bot:inbox",)),
            Entry("products", _("Products"), "package", ("channels_bot:products",)),
            Entry("orders", _("Orders"), "shopping-cart", ("channels_bot:orders",)),
            Entry("connected", _("Connected channels"), "share-2", ("channels_bot:channels",), role=Role.ADMIN),
        ),
    ),
    Group(
        "account",
        _("Account"),
        "building-2",
        (
            Entry("billing", _("Billing"), "wallet", ("billing:wallet",)),
            Entry("usage", _("Usage"), "chart-column", ("billing:usage",)),
            Entry("members", _("Members"), "users", ("settings_members",)),
            Entry("api_keys", _("API keys"), "key-round", ("settings_api_keys",), role=Role.ADMIN),
            Entry("settings", _("Settings"), "settings", ("settings_account",), also=("/settings/profile/",)),
        ),
    ),
)


@dataclass(frozen=True)
class Link:
    key: str
    label: str
    icon: str
    url: str
    active: bool


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    icon: str
    links: tuple[Link, ...]

    @property
    def active(self) -> bool:
        return any(link.active for link in self.links)


def _resolve(url_names: tuple[str, ...]) -> str | None:
    return _resolve_in(url_names, get_urlconf() or settings.ROOT_URLCONF)


@lru_cache(maxsize=256)
def _resolve_in(url_names: tuple[str, ...], urlconf) -> str | None:
    for name in url_names:
        try:
            return reverse(name, urlconf=urlconf)
        except NoReverseMatch:
            continue
    return None


def _visible(entry: Entry, request) -> bool:
    user = getattr(request, "user", None)
    if entry.staff and not (user and user.is_staff):
        return False
    if entry.needs_account and getattr(request, "account", None) is None:
        return False
    if entry.role is not None:
        role = getattr(request, "account_role", None)
        return role is not None and role.at_least(entry.role)
    return True


def _active_key(path: str, links: list[tuple[Entry, str]]) -> str | None:
    """The entry whose URL (or extra prefix) is the longest prefix of the path:
    /knowledge/units/1/ belongs to Knowledge, / to nothing but the dashboard."""
    best, best_len = None, 0
    for entry, url in links:
        for prefix in (url, *entry.also):
            if prefix != "/" and path.startswith(prefix) and len(prefix) > best_len:
                best, best_len = entry.key, len(prefix)
    return best


def sections_for(request, navigation: Sequence[Group] = NAVIGATION) -> list[Section]:
    """The sidebar of this request: visible entries with URLs, the current one marked."""
    resolved: list[tuple[Group, list[tuple[Entry, str]]]] = []
    for group in navigation:
        links = []
        for entry in group.entries:
            if not _visible(entry, request):
                continue
            url = _resolve(tuple(entry.url_names))
            if url is not None:
                links.append((entry, url))
        if links:
            resolved.append((group, links))
    active = _active_key(request.path, [pair for _, links in resolved for pair in links])
    return [
        Section(group.key, str(group.label), group.icon, tuple(
            Link(entry.key, str(entry.label), entry.icon, url, entry.key == active) for entry, url in links
        ))
        for group, links in resolved
    ]  # fmt: skip
