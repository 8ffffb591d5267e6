"""Customers: the people who write to a channel (seed 004 `Customers`).

`customer_touch` finds or creates the customer of an inbound event and moves
`last_seen_at`; it runs inside the caller's transaction and account context.
`customer_profile_fetch` asks the platform for a name and picture once (a
network call: never inside a transaction), when the payload did not carry them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.tenancy.context import account_context
from channels_bot.models import ConnectedChannel, Customer

log = logging.getLogger("channels_bot.customers")

NAME_MAX = Customer._meta.get_field("full_name").max_length
PICTURE_MAX = Customer._meta.get_field("profile_picture_url").max_length


@dataclass(frozen=True)
class Touched:
    customer: Customer
    created: bool

    @property
    def wants_profile(self) -> bool:
        """Nobody asked the platform yet, and the payload did not name them."""
        return self.customer.profile_fetched_at is None and not self.customer.full_name


def _picture(url: str) -> str:
    return url if url.startswith(("https://", "http://")) and len(url) <= PICTURE_MAX else ""


def customer_touch(
    *,
    channel: ConnectedChannel,
    platform_customer_id: str,
    seen_at: datetime | None = None,
    full_name: str = "",
    picture_url: str = "",
    active: bool = True,
) -> Touched:
    """The channel's customer `platform_customer_id`, created on first contact and
    locked for the rest of the caller's transaction (one conversation decision at a
    time per customer). `active`: the customer acted (moves last_seen_at); False
    for messages the page sent them. Names from the payload fill empty fields."""
    seen_at = seen_at or timezone.now()
    full_name, picture_url = full_name.strip()[:NAME_MAX], _picture(picture_url)
    with transaction.atomic():
        customer, created = Customer.objects.get_or_create(
            channel=channel, platform_customer_id=platform_customer_id,
            defaults={
                "account_id": channel.account_id, "full_name": full_name, "profile_picture_url": picture_url,
                "first_seen_at": seen_at, "last_seen_at": seen_at,
            },
        )  # fmt: skip
        if created:
            return Touched(customer, True)
        customer = Customer.objects.select_for_update().get(pk=customer.pk)
        changed = []
        if active and seen_at > customer.last_seen_at:
            customer.last_seen_at = seen_at
            changed.append("last_seen_at")
        if full_name and not customer.full_name:
            customer.full_name = full_name
            changed.append("full_name")
        if picture_url and not customer.profile_picture_url:
            customer.profile_picture_url = picture_url
            changed.append("profile_picture_url")
        if changed:
            customer.save(update_fields=changed)
    return Touched(customer, False)


def customer_profile_fetch(*, account_id: str, customer_id: str) -> bool:
    """Ask the platform for the customer's name and picture, once. True when stored.

    A platform error, or a platform whose client is not available, leaves the
    customer as it is; an answer (even an empty one) is not asked again."""
    from channels_bot.platforms.base import PlatformError

    with account_context(account_id):
        customer = Customer.objects.select_related("channel").filter(pk=customer_id).first()
    if customer is None or customer.profile_fetched_at is not None or not customer.channel.is_active:
        return False
    try:
        from channels_bot.platforms import client_for

        profile = client_for(customer.channel).fetch_profile(customer.channel, customer.platform_customer_id)
    except PlatformError as exc:
        log.info("profile of customer %s not fetched: %s", customer_id, exc.message)
        return False
    except (ImportError, KeyError, AttributeError, NotImplementedError) as exc:
        log.info("profile of customer %s not fetched: no client for %s (%s)", customer_id, customer.channel, exc)
        return False
    values = {"profile_fetched_at": timezone.now()}
    if profile is not None:
        if profile.full_name:
            values["full_name"] = profile.full_name.strip()[:NAME_MAX]
        if _picture(profile.profile_picture_url):
            values["profile_picture_url"] = profile.profile_picture_url
    with account_context(account_id):
        Customer.objects.filter(pk=customer_id, profile_fetched_at__isnull=True).update(**values)
    return profile is not None
