"""Encryption at rest of persona system prompts (seed 000: "IP protection").

`cryptography`'s MultiFernet over the keys in `settings.PERSONA_ENCRYPTION_KEYS`:
the first key encrypts, every key decrypts, so a key is rotated by putting a
new one first, re-encrypting (`manage.py persona_reencrypt`) and then dropping
the old one. Fernet authenticates every token (AES-CBC + HMAC-SHA256), so a
changed byte is detected: `decrypt` raises `PromptDecryptionError`, and there
is no path that returns the stored value as plaintext.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTING = "PERSONA_ENCRYPTION_KEYS"
KEY_HELP = (
    'Generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class PromptDecryptionError(Exception):
    """A stored system prompt could not be decrypted: tampered, truncated, or
    encrypted under a key that is no longer configured."""


def parse_keys(raw: str | Iterable[str] | None) -> list[Fernet]:
    """The configured keys as Fernets, first (encrypting) key first.

    Raises ImproperlyConfigured on a missing, empty or malformed key, so the app
    stops at boot instead of failing on the first persona it reads.
    """
    if raw is None:
        raise ImproperlyConfigured(f"{SETTING} is not set. {KEY_HELP}")
    values = raw.split(",") if isinstance(raw, str) else list(raw)
    values = [str(v).strip() for v in values]
    if not values or not any(values):
        raise ImproperlyConfigured(f"{SETTING} is empty: set at least one Fernet key. {KEY_HELP}")
    keys = []
    for position, value in enumerate(values, start=1):
        try:
            keys.append(Fernet(value.encode()))
        except (ValueError, TypeError):
            # Never echo the value: it may be a real key with a typo.
            raise ImproperlyConfigured(
                f"{SETTING}: key #{position} is not a Fernet key (32 url-safe base64-encoded bytes). {KEY_HELP}"
            )
    return keys


def check_keys() -> None:
    """Called by PersonasConfig.ready(): fail at boot on a bad configuration."""
    parse_keys(getattr(settings, SETTING, None))


@lru_cache(maxsize=1)
def _cipher() -> MultiFernet:
    return MultiFernet(parse_keys(getattr(settings, SETTING, None)))


@lru_cache(maxsize=1)
def _primary() -> Fernet:
    return parse_keys(getattr(settings, SETTING, None))[0]


@receiver(setting_changed)
def _forget_keys(*, setting: str, **kwargs) -> None:
    if setting == SETTING:
        _cipher.cache_clear()
        _primary.cache_clear()


def encrypt(plaintext: str) -> str:
    return _cipher().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _cipher().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise PromptDecryptionError(
            "A persona system prompt could not be decrypted: the stored value was altered, or its key is not "
            f"in {SETTING}."
        ) from exc


def is_current(token: str) -> bool:
    """True when the primary (first) key alone decrypts `token`."""
    try:
        _primary().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeError):
        return False
    return True


def rotate(token: str) -> str:
    """`token` re-encrypted under the primary key (PromptDecryptionError if no key opens it)."""
    try:
        return _cipher().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise PromptDecryptionError("A persona system prompt could not be decrypted for re-encryption.") from exc


def primary_key_id() -> str:
    """A short, non-secret fingerprint of the primary key (names re-encryption checkpoints)."""
    raw = getattr(settings, SETTING, None)
    first = (raw.split(",") if isinstance(raw, str) else list(raw or [""]))[0].strip()
    return hashlib.sha256(f"persona-key-id:{first}".encode()).hexdigest()[:16]
