"""Webhook signatures and handshake answers of each platform (shared/reference/channel-apis.md).

Every check hashes the raw request bytes (never re-serialised JSON) and compares
in constant time. A missing secret never verifies anything.

- Meta: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`; the
  GET handshake echoes `hub.challenge` when `hub.verify_token` matches.
- X: `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, body)>`;
  the CRC answer is `{"response_token": "sha256=" + base64(HMAC(consumer secret, crc_token))}`.
- LinkedIn: `X-LI-Signature` is a hex HMAC-SHA256 with the client secret. The docs
  are ambiguous about what is hashed, so both documented variants are accepted:
  `"hmacsha256=" + body` and the bare body (with or without a `hmacsha256=`
  prefix on the header value). The challenge answer is
  `{"challengeCode": c, "challengeResponse": hex(HMAC(client secret, c))}`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

META_PREFIX = "sha256="
X_PREFIX = "sha256="
LINKEDIN_PREFIX = "hmacsha256="


def _mac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def meta_signature(secret: str, body: bytes) -> str:
    return META_PREFIX + _mac(secret, body).hex()


def meta_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    header = header.strip()
    if not header.lower().startswith(META_PREFIX):
        return False
    return _same(meta_signature(secret, body), META_PREFIX + header[len(META_PREFIX) :].lower())


def meta_verify_token_valid(expected: str, mode: str | None, token: str | None) -> bool:
    return bool(expected) and mode == "subscribe" and token is not None and _same(expected, token)


def x_signature(secret: str, body: bytes) -> str:
    return X_PREFIX + base64.b64encode(_mac(secret, body)).decode()


def x_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return _same(x_signature(secret, body), header.strip())


def x_crc_response(secret: str, crc_token: str) -> dict[str, str]:
    return {"response_token": x_signature(secret, crc_token.encode())}


def linkedin_signature(secret: str, body: bytes, *, prefixed: bool = True) -> str:
    """The hex signature; `prefixed` hashes `"hmacsha256=" + body` (the common reading of the docs)."""
    message = LINKEDIN_PREFIX.encode() + body if prefixed else body
    return _mac(secret, message).hex()


def linkedin_signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    given = header.strip()
    if given.lower().startswith(LINKEDIN_PREFIX):
        given = given[len(LINKEDIN_PREFIX) :]
    given = given.lower()
    # Both variants are always computed, so the time taken does not say which one matched.
    prefixed = _same(linkedin_signature(secret, body, prefixed=True), given)
    bare = _same(linkedin_signature(secret, body, prefixed=False), given)
    return prefixed or bare


def linkedin_challenge_response(secret: str, challenge_code: str) -> dict[str, str]:
    return {
        "challengeCode": challenge_code,
        "challengeResponse": _mac(secret, challenge_code.encode()).hex(),
    }
