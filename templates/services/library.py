"""The component library and marketplace (seed 002 `component_library`).

Writes, each taking the account and the acting membership/user:

- `library_component_save` / `_update` / `_delete`: the account's own components
  (code sanitised with nh3: no scripts, no event handlers, no javascript: URLs).
- `library_component_share`: private, public (free to use) or a marketplace item
  priced in credits. Sharing honours the `marketplace` feature flag.
- `library_like` / `library_unlike`: once per account (a unique row; the counter
  is kept by a trigger, migration templates 0003).
- `library_use`: a free public component copied into the account's library,
  counted as one download per account.
- `library_buy`: a marketplace item: the purchase row, the buyer's charge, the
  seller's earning (price minus the operators' fee) and the copy, in ONE
  transaction. Buying it again (or retrying with the same idempotency key)
  charges once and answers the first purchase; too few credits is a 402 with
  nothing written.
- Operators (admin): `library_unlist` / `library_relist`, `library_purchase_refund`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.flags import app_setting_value, feature_require
from accounts.models import Account, Membership, Role
from accounts.tenancy.context import account_context, rls_bypass
from aiplatform.errors import Conflict, Forbidden, InvalidInput, NotFound
from billing.services.amounts import parse_credits
from billing.services.ledger import Reference
from billing.services.transfers import fee_for, wallet_transfer, wallet_transfer_reverse
from templates.models.library import (
    LibraryComponent,
    LibraryDownload,
    LibraryLike,
    LibraryPurchase,
    PurchaseStatus,
)

COMPONENT_TYPES = (
    "landing_page", "form", "header", "footer", "hero_section", "testimonials", "pricing", "email_template",
    "popup", "navigation", "custom",
)  # fmt: skip
MAX_TAGS = 20
MAX_CODE = 200_000
_TAG = re.compile(r"^[\w][\w\- ]{0,49}$", re.U)

# The HTML a component may contain: nh3's (ammonia's) defaults plus layout and
# form elements, `class`/`style`/`id` everywhere and `data-*` marks the tracker reads.
_EXTRA_TAGS = {"section", "header", "footer", "nav", "main", "article", "aside", "form", "input", "button",
               "label", "select", "option", "textarea", "figure", "figcaption", "picture",
               "source", "video"}  # fmt: skip
_GENERIC_ATTRS = {"class", "style", "id", "title", "role", "aria-label", "aria-hidden"}
_TAG_ATTRS = {
    "a": {"href", "target"}, "img": {"src", "alt", "width", "height", "loading"},
    "form": {"action", "method"}, "input": {"type", "name", "placeholder", "value", "required", "checked"},
    "button": {"type", "name", "value"}, "label": {"for"}, "select": {"name", "required"},
    "option": {"value", "selected"}, "textarea": {"name", "placeholder", "rows", "required"},
    "source": {"src", "srcset", "type"}, "video": {"src", "controls", "poster", "width", "height"},
}  # fmt: skip


def sanitize_html(html: str) -> str:
    """Component HTML without scripts, event handlers or script URLs."""
    import nh3

    tags = set(nh3.ALLOWED_TAGS) | _EXTRA_TAGS
    attributes = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
    for tag, attrs in _TAG_ATTRS.items():
        attributes.setdefault(tag, set()).update(attrs)
    attributes["*"] = attributes.get("*", set()) | _GENERIC_ATTRS
    return nh3.clean(
        html or "", tags=tags, attributes=attributes, url_schemes={"http", "https", "mailto", "tel"},
        generic_attribute_prefixes={"data-"}, link_rel="noopener noreferrer", strip_comments=True,
    )  # fmt: skip


def _sanitize_css(css: str) -> str:
    # CSS cannot run script in today's browsers, but it can leave its <style> element.
    return re.sub(r"</?\s*style", "", css or "", flags=re.I)


@dataclass(frozen=True)
class Purchase:
    purchase: LibraryPurchase
    copy: LibraryComponent | None  # None when the purchase was made before (replayed)
    replayed: bool


def _require_member(actor: Membership) -> None:
    if not Role(actor.role).at_least(Role.MEMBER):
        raise Forbidden(gettext("Your role in this account does not allow this."))


def _clean_tags(tags) -> list[str]:
    if tags in (None, ""):
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list | tuple):
        raise InvalidInput(gettext("Tags must be a list of words."), fields={"tags": ["A list of strings."]})
    out: list[str] = []
    for tag in tags:
        tag = str(tag).strip().lower()
        if not tag:
            continue
        if not _TAG.match(tag):
            raise InvalidInput(
                gettext("'%(tag)s' is not a valid tag.") % {"tag": tag[:60]},
                fields={"tags": ["Letters, digits, - and spaces; up to 50."]},
            )
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InvalidInput(
            gettext("At most %(MAX_TAGS)s tags.") % {"MAX_TAGS": MAX_TAGS}, fields={"tags": [f"At most {MAX_TAGS}."]}
        )
    return out


def _clean(data: dict, *, partial: bool) -> dict:
    out: dict = {}
    if not partial or "name" in data:
        name = str(data.get("name") or "").strip()
        if not name or len(name) > 255:
            raise InvalidInput(
                gettext("A component needs a name (up to 255 characters)."), fields={"name": ["Required."]}
            )
        out["name"] = name
    for key, limit in (("description", 5000), ("category", 100), ("preview_image_url", 2000)):
        if key in data:
            value = str(data.get(key) or "").strip()
            if len(value) > limit:
                raise InvalidInput(
                    gettext("%(key)s is too long (at most %(limit)s).") % {"key": key, "limit": limit},
                    fields={key: [f"At most {limit} characters."]},
                )
            out[key] = value.lower() if key == "category" else value
    if out.get("preview_image_url") and not out["preview_image_url"].startswith(("https://", "http://", "/")):
        raise InvalidInput(
            gettext("The preview must be an http(s) address."), fields={"preview_image_url": ["Invalid URL."]}
        )
    if "component_type" in data or not partial:
        ctype = data.get("component_type") or "custom"
        if ctype not in COMPONENT_TYPES:
            raise InvalidInput(
                gettext("Unknown component type."), fields={"component_type": [f"One of {', '.join(COMPONENT_TYPES)}."]}
            )
        out["component_type"] = ctype
    if "tags" in data:
        out["tags"] = _clean_tags(data["tags"])
    if "code" in data:
        code = str(data.get("code") or "")
        if len(code) > MAX_CODE:
            raise InvalidInput(
                gettext("The component's code is too large."), fields={"code": [f"At most {MAX_CODE} characters."]}
            )
        out["code"] = sanitize_html(code)
    if "css_styles" in data:
        out["css_styles"] = _sanitize_css(str(data.get("css_styles") or ""))[:MAX_CODE]
    if "props_schema" in data:
        schema = data.get("props_schema") or {}
        if not isinstance(schema, dict):
            raise InvalidInput(
                gettext("props_schema must be a JSON object (a JSON Schema)."), fields={"props_schema": ["An object."]}
            )
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError

        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise InvalidInput(
                gettext("props_schema is not a valid JSON Schema: %(message)s") % {"message": exc.message},
                fields={"props_schema": [exc.message]},
            ) from exc
        out["props_schema"] = schema
    return out


def library_component_own(account: Account, component_id) -> LibraryComponent:
    """One of the account's own library items (NotFound otherwise); call it in the account's context."""
    row = LibraryComponent.objects.filter(account=account, pk=component_id).first()
    if row is None:
        raise NotFound(gettext("No such component in your library."))
    return row


def library_component_save(
    *, account: Account, actor: Membership, data: dict, source_component_id=None
) -> LibraryComponent:
    """Save a component to the account's library (private until shared)."""
    _require_member(actor)
    fields = _clean(data, partial=False)
    with account_context(account.id):
        return LibraryComponent.objects.create(
            account=account, created_by=actor.user, source_component_id=source_component_id, **fields
        )


def library_component_update(*, account: Account, actor: Membership, component_id, data: dict) -> LibraryComponent:
    _require_member(actor)
    fields = _clean(data, partial=True)
    with account_context(account.id):
        row = library_component_own(account, component_id)
        for key, value in fields.items():
            setattr(row, key, value)
        row.save()
        row.refresh_from_db(fields=["search_vector"])
    return row


def library_component_delete(*, account: Account, actor: Membership, component_id) -> None:
    _require_member(actor)
    with account_context(account.id):
        row = library_component_own(account, component_id)
        if LibraryPurchase.objects.filter(component=row).exists():
            # Buyers keep their copies, but the sales ledger references this row.
            raise Conflict(
                gettext("This component has been sold; unshare it instead of deleting it."), code="component_sold"
            )
        row.delete()


def fee_percent() -> Decimal:
    """The platform's cut of a sale: app setting `marketplace.fee_percent`, else MARKETPLACE_FEE_PERCENT."""
    value = app_setting_value("marketplace.fee_percent", None)
    if isinstance(value, dict):
        value = value.get("value")
    try:
        percent = Decimal(str(value if value is not None else settings.MARKETPLACE_FEE_PERCENT))
    except ArithmeticError:
        percent = Decimal(str(settings.MARKETPLACE_FEE_PERCENT))
    return min(max(percent, Decimal("0")), Decimal("100"))


def library_component_share(
    *, account: Account, actor: Membership, component_id, visibility: str, price=None
) -> LibraryComponent:
    """visibility: "private", "public" (free) or "marketplace" (priced in credits)."""
    _require_member(actor)
    if visibility not in ("private", "public", "marketplace"):
        raise InvalidInput(
            gettext("Choose private, public or marketplace."), fields={"visibility": ["Unknown visibility."]}
        )
    if visibility != "private":
        feature_require("marketplace", account_id=account.id)
    amount = Decimal("0")
    if visibility == "marketplace":
        amount = parse_credits(price, field="price")
        if amount > Decimal(str(settings.MARKETPLACE_MAX_PRICE)):
            raise InvalidInput(
                gettext("The price can be at most %(max)s credits.") % {"max": settings.MARKETPLACE_MAX_PRICE},
                fields={"price": ["Too high."]},
            )
    with account_context(account.id):
        row = library_component_own(account, component_id)
        row.is_public = visibility != "private"
        row.is_marketplace_item = visibility == "marketplace"
        row.price = amount
        row.save(update_fields=["is_public", "is_marketplace_item", "price", "updated_at"])
    return row


def _shared(account: Account, component_id) -> LibraryComponent:
    """A component the account may see: its own, or another's listed public one."""
    row = LibraryComponent.objects.filter(pk=component_id).first()  # RLS: own + listed public
    if row is None or (row.account_id != account.id and not (row.is_public and row.is_listed)):
        raise NotFound(gettext("No such component."))
    return row


def library_like(*, account: Account, user, component_id) -> LibraryComponent:
    feature_require("marketplace", account_id=account.id)
    with account_context(account.id):
        row = _shared(account, component_id)
        try:
            with transaction.atomic():
                LibraryLike.objects.create(account=account, component=row, user=user)
        except IntegrityError:
            pass  # liked already: counted once per account
        row.refresh_from_db(fields=["likes"])
    return row


def library_unlike(*, account: Account, user, component_id) -> LibraryComponent:
    with account_context(account.id):
        row = _shared(account, component_id)
        LibraryLike.objects.filter(account=account, component=row).delete()
        row.refresh_from_db(fields=["likes"])
    return row


def _copy(row: LibraryComponent, account: Account, user) -> LibraryComponent:
    return LibraryComponent.objects.create(
        account=account, created_by=user, name=row.name, description=row.description, category=row.category,
        tags=list(row.tags), component_type=row.component_type, code=row.code, css_styles=row.css_styles,
        props_schema=row.props_schema, preview_image_url=row.preview_image_url,
        source_component_id=row.source_component_id,
    )  # fmt: skip


def _count_download(row: LibraryComponent, account: Account, user) -> None:
    try:
        with transaction.atomic():
            LibraryDownload.objects.create(account=account, component=row, user=user)
    except IntegrityError:
        pass  # once per account


def library_use(*, account: Account, actor: Membership, component_id) -> LibraryComponent:
    """Copy a free public component into the account's library (one download per account)."""
    _require_member(actor)
    feature_require("marketplace", account_id=account.id)
    with account_context(account.id):
        row = _shared(account, component_id)
        if row.account_id == account.id:
            raise Conflict(gettext("This component is already in your library."), code="own_item")
        if row.is_marketplace_item and row.price > 0:
            raise Conflict(
                gettext("This component costs %(price)s credits: buy it instead.") % {"price": row.price},
                code="purchase_required",
            )
        copy = _copy(row, account, actor.user)
        _count_download(row, account, actor.user)
    return copy


def library_buy(*, account: Account, actor: Membership, component_id, idempotency_key: str | None = None) -> Purchase:
    """Buy a marketplace item (see the module docstring)."""
    _require_member(actor)
    feature_require("marketplace", account_id=account.id)
    with transaction.atomic(), account_context(account.id):
        row = _shared(account, component_id)
        if row.account_id == account.id:
            raise Conflict(gettext("This is your own component."), code="own_item")
        if not row.is_marketplace_item:
            raise Conflict(gettext("This component is free: use it instead of buying it."), code="not_for_sale")
        feature_require("marketplace", account_id=row.account_id)
        first = LibraryPurchase.objects.filter(account=account, component=row, status=PurchaseStatus.COMPLETED).first()
        if first is not None:
            return Purchase(first, None, replayed=True)
        purchase_id = uuid.uuid4()
        percent = fee_percent()
        fee = fee_for(row.price, percent)
        try:
            with transaction.atomic():
                purchase = LibraryPurchase.objects.create(
                    id=purchase_id, account=account, component=row, user=actor.user,
                    seller_account_id=row.account_id, price=row.price, platform_fee=fee,
                    idempotency_key=idempotency_key or "",
                )  # fmt: skip
        except IntegrityError:
            # A concurrent purchase of the same item by this account committed first.
            first = LibraryPurchase.objects.get(account=account, component=row, status=PurchaseStatus.COMPLETED)
            return Purchase(first, None, replayed=True)
        seller_tx_id = None
        buyer_tx_id = None
        if row.price > 0:
            transfer = wallet_transfer(
                payer=account, payee=Account(pk=row.account_id), amount=row.price, fee_percent=percent,
                actor=actor.user, reference=Reference("library_purchase", str(purchase_id)),
                description=f"Component: {row.name}"[:200], idempotency_key=idempotency_key,
            )  # fmt: skip
            buyer_tx_id = transfer.buyer_tx.id
            seller_tx_id = transfer.seller_tx.id if transfer.seller_tx else None
        copy = _copy(row, account, actor.user)
        _count_download(row, account, actor.user)
        purchase.buyer_transaction_id, purchase.seller_transaction_id = buyer_tx_id, seller_tx_id
        LibraryPurchase.objects.filter(pk=purchase.pk).update(
            buyer_transaction_id=buyer_tx_id, seller_transaction_id=seller_tx_id
        )
    return Purchase(purchase, copy, replayed=False)


# --- operators ------------------------------------------------------------------------


def library_unlist(*, component_id, operator, listed: bool = False) -> LibraryComponent:
    """Moderation: hide (or show again) a shared component from other accounts."""
    with rls_bypass(f"marketplace moderation by {getattr(operator, 'pk', operator)}"):
        row = LibraryComponent.objects.filter(pk=component_id).first()
        if row is None:
            raise NotFound(gettext("No such component."))
        row.is_listed = listed
        row.save(update_fields=["is_listed", "updated_at"])
    return row


def library_purchase_refund(*, purchase_id, operator, reason: str) -> LibraryPurchase:
    """Give the buyer the whole price back and take the seller's earning back, in one
    transaction; the purchase is marked refunded (the buyer may buy again)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(gettext("Say why the purchase is refunded."), fields={"reason": ["Required."]})
    with transaction.atomic(), rls_bypass(f"marketplace refund by {getattr(operator, 'pk', operator)}"):
        purchase = LibraryPurchase.objects.select_for_update().filter(pk=purchase_id).first()
        if purchase is None:
            raise NotFound(gettext("No such purchase."))
        if purchase.status != PurchaseStatus.COMPLETED:
            raise Conflict(gettext("This purchase was already refunded."), code="already_refunded")
        if purchase.buyer_transaction_id and purchase.price > 0:
            wallet_transfer_reverse(
                payer=Account(pk=purchase.account_id), payee=Account(pk=purchase.seller_account_id),
                buyer_transaction_id=purchase.buyer_transaction_id, earning=purchase.price - purchase.platform_fee,
                actor=operator, reason=f"Marketplace refund: {reason}"[:500],
                reference=Reference("library_purchase", str(purchase.id)),
            )  # fmt: skip
        purchase.status = PurchaseStatus.REFUNDED
        purchase.refunded_at = timezone.now()
        purchase.save(update_fields=["status", "refunded_at"])
    return purchase
