"""Who sent an event, without keeping who it was.

- The client address is the socket's, or the one TRACKING_TRUSTED_PROXIES
  proxies in front of us put in X-Forwarded-For (never a header a client could
  forge when no proxy is trusted).
- The visitor is `blake2b(campaign | IP | user agent, key = the day's salt)`: the
  same browser counts once a day per campaign; the salt is random, lives in
  Redis for TRACKING_SALT_TTL_HOURS and is then gone, so a hash can no longer be
  tied to an address (Plausible's scheme). No cookie or local identifier is set.
- Only a truncated address is stored (IPv4 /24, IPv6 /48).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from datetime import UTC, date, datetime

from django.conf import settings

from .stream import redis_client

SALT_KEY = "aip:track:salt:{day}"

_salts: dict[str, bytes] = {}


def client_ip(meta: dict) -> str:
    """The client's address as a normalised string, or "" when it is not an address."""
    proxies = settings.TRACKING_TRUSTED_PROXIES
    raw = meta.get("REMOTE_ADDR", "")
    if proxies:
        hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            raw = hops[-proxies]
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return ""


def truncate_ip(ip: str) -> str | None:
    """IPv4 to its /24, IPv6 to its /48 (the network, not the host); None if not an address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def today() -> date:
    return datetime.now(UTC).date()


def daily_salt(day: date) -> bytes:
    """The salt of `day` (UTC): made once, by whoever asks first, shared through Redis."""
    key = day.isoformat()
    salt = _salts.get(key)
    if salt is not None:
        return salt
    client = redis_client()
    rkey = SALT_KEY.format(day=key)
    fresh = secrets.token_bytes(32)
    ttl = settings.TRACKING_SALT_TTL_HOURS * 3600
    client.set(rkey, fresh, nx=True, ex=ttl)
    salt = client.get(rkey) or fresh
    _salts.clear()  # keep only the current day's
    _salts[key] = salt
    return salt


def salts_forget() -> None:
    """Drop the in-process copies (tests; a day change needs nothing: the key changes)."""
    _salts.clear()


def visitor_hash(*, campaign_id: str, ip: str, user_agent: str, day: date | None = None) -> str:
    salt = daily_salt(day or today())
    message = f"{campaign_id}|{ip}|{user_agent}".encode()
    return hashlib.blake2b(message, key=salt, digest_size=16).hexdigest()
