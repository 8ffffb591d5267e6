"""Publishing integrations of the web builder, one module per platform behind
`base.Adapter`, and the registry that picks one by `platform_type`."""

from __future__ import annotations

from django.utils.translation import gettext

from .base import Adapter
from .gohighlevel import GoHighLevelAdapter
from .simvoly import SimvolyAdapter
from .webhook import WebhookAdapter
from .wordpress import WordPressAdapter

ADAPTERS: dict[str, Adapter] = {
    a.platform: a for a in (WordPressAdapter(), GoHighLevelAdapter(), SimvolyAdapter(), WebhookAdapter())
}


def adapter_for(platform_type: str) -> Adapter:
    from aiplatform.errors import InvalidInput

    try:
        return ADAPTERS[platform_type]
    except KeyError:
        raise InvalidInput(
            gettext("Unknown platform '%(platform_type)s'.") % {"platform_type": platform_type},
            fields={"platform_type": ["Unknown platform."]},
        ) from None


def flag_of(platform_type: str) -> str:
    return f"integration.{platform_type}"
