"""Country, region and city only when a GeoIP database is configured."""

from __future__ import annotations

import pytest

from canvas.tracking import geo
from tests.canvas.tracking.conftest import post_event, queued

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_database(tmp_path):
    """A real MaxMind-format City database with one network in it."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True)
    writer.insert_network(
        IPSet(["203.0.113.0/24"]),
        {"country": {"iso_code": "KR", "names": {"en": "South Korea"}},
         "subdivisions": [{"iso_code": "11", "names": {"en": "Seoul"}}], "city": {"names": {"en": "Jongno-gu"}}},
    )  # fmt: skip
    path = tmp_path / "city.mmdb"
    writer.to_db_file(str(path))
    return str(path)


def test_no_database_no_location(launched, visitor, settings):
    settings.TRACKING_GEOIP_DATABASE = ""
    assert geo.locate("203.0.113.57") == geo.NOWHERE
    post_event(visitor, {"c": launched.id, "t": "view"})
    assert {k: queued()[0][k] for k in ("country", "region", "city")} == {"country": "", "region": "", "city": ""}


def test_a_configured_database_resolves_the_full_address_before_it_is_truncated(
    launched, visitor, settings, city_database
):
    settings.TRACKING_GEOIP_DATABASE = city_database
    post_event(visitor, {"c": launched.id, "t": "view"})
    [row] = queued()
    assert (row["country"], row["region"], row["city"]) == ("KR", "Seoul", "Jongno-gu")
    assert row["ip_address"] == "203.0.113.0"


def test_an_address_outside_the_database_has_no_location(settings, city_database):
    settings.TRACKING_GEOIP_DATABASE = city_database
    assert geo.locate("198.51.100.1") == geo.NOWHERE
    assert geo.locate("") == geo.NOWHERE
