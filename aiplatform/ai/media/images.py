"""Image generation, the media interface's image part (issue 11).

    image_generate(account=, model=, prompt=, user=None, size="1024x1024", n=1,
                   reference=NO_REFERENCE) -> GeneratedImages

`model` is a chat-kind registry entry whose provider makes the images: an
OpenAI-compatible server gets `POST /images/generations` (OpenAI's images API,
`response_format: b64_json`) with the entry's provider model; the offline
provider ("local") draws a real PNG with Pillow that says it was made by the
offline model (no picture is invented). Anthropic has no images API (503).
The shut-off is checked first; one usage record per call (feature "image",
0 credits: the caller charges, as a service run's fixed price does).
"""

from __future__ import annotations

import base64
import binascii
import io
import textwrap
import time
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from accounts.models import Account
from billing.services.ledger import NO_REFERENCE, Reference
from billing.services.usage import usage_record

from ..errors import ProviderError, ProviderMisconfigured
from ..guard import call_guard
from ..registry import model_entry

MAX_IMAGES = 4
OFFLINE_TEXT = "Made by the offline model: no image model is connected, so this is not a real picture."


@dataclass(frozen=True, repr=False)
class GeneratedImages:
    images: tuple[bytes, ...]  # PNG bytes
    media_type: str
    model: str
    provider: str
    usage_record_id: Any


def offline_png(prompt: str, size: tuple[int, int] = (512, 512)) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, (236, 239, 244))
    draw = ImageDraw.Draw(image)
    lines = textwrap.wrap(OFFLINE_TEXT, 40) + [""] + textwrap.wrap(f"Prompt: {prompt}", 40)[:8]
    draw.multiline_text((24, 24), "\n".join(lines), fill=(40, 40, 60), spacing=6)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _openai_images(provider_model: str, prompt: str, size: str, n: int) -> list[bytes]:
    from ..providers.openai_compat import OpenAICompatible
    from ..providers.transport import post_json

    body = {"model": provider_model, "prompt": prompt, "n": n, "size": size, "response_format": "b64_json"}
    answer = post_json(OpenAICompatible().endpoint(), "/images/generations", body, None)
    try:
        return [base64.b64decode(row["b64_json"], validate=True) for row in answer["data"]]
    except (KeyError, TypeError, binascii.Error) as exc:
        raise ProviderError(
            gettext("The OpenAI-compatible provider sent an unreadable images answer (%(error)s).")
            % {"error": repr(exc)}
        ) from None


def image_generate(
    *, account: Account, model: str, prompt: str, user=None, size: str = "1024x1024", n: int = 1,
    reference: Reference = NO_REFERENCE,
) -> GeneratedImages:  # fmt: skip
    entry = model_entry(model)
    call_guard(account=account)
    n = max(1, min(n, MAX_IMAGES))
    started, status, error, images = time.perf_counter(), "ok", "", []
    try:
        if entry.provider == "local":
            width, _, height = size.partition("x")
            images = [offline_png(prompt, (min(int(width or 512), 1024), min(int(height or 512), 1024)))] * n
        elif entry.provider == "openai":
            images = _openai_images(entry.provider_model, prompt, size, n)
        else:
            raise ProviderMisconfigured(
                gettext("%(model)s: its provider (%(provider)s) has no images API.")
                % {"model": entry.name, "provider": entry.provider}
            )
    except Exception as exc:
        status, error = "error", f"{type(exc).__name__}: {getattr(exc, 'message', exc)}"
        raise
    finally:
        record = usage_record(
            account=account, user=user, feature="image", model=entry.name, provider=entry.provider, credits=0,
            latency_ms=int((time.perf_counter() - started) * 1000), status=status, error=error[:2000],
            reference=reference, generation=status == "ok",
        )  # fmt: skip
    return GeneratedImages(tuple(images), "image/png", entry.name, entry.provider, record.id)
