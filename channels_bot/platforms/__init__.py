"""HTTP clients of the social platforms, one module per vendor behind `base.PlatformClient`."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from channels_bot.models import ConnectedChannel

    from .base import PlatformClient

# platform_type / route -> "module:Class"; Instagram depends on how it was connected.
_CLIENTS = {
    ("FACEBOOK_PAGE", "facebook_login"): "meta:MessengerClient",
    ("INSTAGRAM_BUSINESS", "facebook_login"): "meta:InstagramViaPageClient",
    ("INSTAGRAM_BUSINESS", "instagram_login"): "instagram:InstagramLoginClient",
    ("TWITTER_PROFILE", "x_oauth2"): "x:XClient",
    ("LINKEDIN_PAGE", "linkedin_oauth"): "linkedin:LinkedInClient",
}


def client_for(channel: ConnectedChannel) -> PlatformClient:
    module, name = _CLIENTS[(channel.platform_type, channel.route)].split(":")
    return getattr(import_module(f"{__name__}.{module}"), name)()
