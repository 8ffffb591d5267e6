"""Country, region and city of an address, from a MaxMind-format database
(GeoLite2-City or GeoLite2-Country .mmdb, read with `maxminddb`), only when
TRACKING_GEOIP_DATABASE names one. Off by default: nothing is looked up."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from django.conf import settings

log = logging.getLogger("canvas.tracking")


@dataclass(frozen=True)
class Place:
    country: str = ""
    region: str = ""
    city: str = ""


NOWHERE = Place()

_lock = threading.Lock()
_readers: dict[str, object] = {}


def _reader(path: str):
    reader = _readers.get(path)
    if reader is None:
        import maxminddb

        with _lock:
            reader = _readers.get(path) or maxminddb.open_database(path)
            _readers[path] = reader
    return reader


def _name(record: dict | None) -> str:
    if not isinstance(record, dict):
        return ""
    names = record.get("names") or {}
    return str(names.get("en") or record.get("iso_code") or "")


def locate(ip: str) -> Place:
    path = settings.TRACKING_GEOIP_DATABASE
    if not path or not ip:
        return NOWHERE
    try:
        record = _reader(path).get(ip)
    except ValueError:  # not an address
        return NOWHERE
    except Exception:  # a broken database must not break the collector
        log.exception("GeoIP lookup failed")
        return NOWHERE
    if not isinstance(record, dict):
        return NOWHERE
    country = (record.get("country") or record.get("registered_country") or {}).get("iso_code") or ""
    subdivisions = record.get("subdivisions") or [None]
    return Place(
        country=str(country)[:2].upper(),
        region=_name(subdivisions[0])[:100],
        city=_name(record.get("city"))[:100],
    )
