"""An unexpected error (issue 17): under /api/ a 500 in the documented shape with a
request id, never an HTML page or a traceback; the server log line of the exception
carries the same id (aiplatform/requestid.py, aiplatform.api.errors.server_error)."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import Client

from aiplatform.requestid import RequestIdFilter, current_request_id

pytestmark = pytest.mark.django_db

WALLET_API = "/api/v1/wallet/"
WALLET_PAGE = "/billing/"
GENERATED = re.compile(r"[0-9a-f]{32}")


def _boom(account):
    raise RuntimeError("database on fire: secret-internal-detail")


@pytest.fixture
def broken_wallet(monkeypatch):
    """The wallet service fails unexpectedly, for the API view and the HTML page alike."""
    monkeypatch.setattr("billing.api.wallet_for", _boom)
    monkeypatch.setattr("billing.views.wallet_for", _boom)


@pytest.fixture
def alice(tenants):
    client = Client(raise_request_exception=False)
    client.force_login(tenants.alice)
    return client


def _exception_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "django.request" and r.levelno == logging.ERROR]


def test_an_unexpected_api_error_is_a_json_500_with_the_request_id_also_logged(alice, broken_wallet, caplog):
    # given alice signed in and a wallet service that raises
    caplog.set_level(logging.ERROR, logger="django.request")

    # when she reads her wallet through the API
    response = alice.get(WALLET_API)

    # then it is a 500 in the API's shape, with a generated request id in the body and the header
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    request_id = response["X-Request-ID"]
    assert GENERATED.fullmatch(request_id)
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "An unexpected error occurred; quote the request id when reporting it.",
            "request_id": request_id,
        }
    }
    # and nothing of the exception leaks to the client
    assert b"secret-internal-detail" not in response.content
    assert b"Traceback" not in response.content
    # and the server's log line of that exception carries the same id, with the traceback
    [record] = _exception_records(caplog)
    assert record.request_id == request_id
    assert record.getMessage() == f"Internal Server Error: {WALLET_API}"
    assert record.exc_info[0] is RuntimeError


def test_a_sane_incoming_request_id_is_kept_in_body_header_and_log(alice, broken_wallet, caplog):
    # given a proxy in front that sends its own request id
    caplog.set_level(logging.ERROR, logger="django.request")

    # when the request fails unexpectedly
    response = alice.get(WALLET_API, headers={"X-Request-ID": "lb-7f3a.42:9_x"})

    # then the same id is answered and logged
    assert response.status_code == 500
    assert response["X-Request-ID"] == "lb-7f3a.42:9_x"
    assert response.json()["error"]["request_id"] == "lb-7f3a.42:9_x"
    [record] = _exception_records(caplog)
    assert record.request_id == "lb-7f3a.42:9_x"


@pytest.mark.parametrize("incoming", ["has spaces", "<script>", "x" * 129, "line\nbreak", ""])
def test_an_insane_incoming_request_id_is_replaced(alice, broken_wallet, incoming):
    # when a client sends a request id that is not a short token
    response = alice.get(WALLET_API, headers={"X-Request-ID": incoming})

    # then a fresh one is generated and used instead
    request_id = response["X-Request-ID"]
    assert GENERATED.fullmatch(request_id)
    assert response.json()["error"]["request_id"] == request_id


def test_a_successful_api_response_carries_a_request_id_header(alice, tenants):
    # when alice reads her wallet and nothing goes wrong
    response = alice.get(WALLET_API, headers={"X-Request-ID": "abc-123"})

    # then it is the usual answer, with the request id echoed
    assert response.status_code == 200
    assert response["X-Request-ID"] == "abc-123"


def test_an_unexpected_page_error_keeps_the_html_500_page(alice, broken_wallet, caplog):
    # given a wallet service that raises
    caplog.set_level(logging.ERROR, logger="django.request")

    # when alice opens the wallet page
    response = alice.get(WALLET_PAGE)

    # then she gets the site's HTML 500 page, not JSON, and the log carries the id
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert [t.name for t in response.templates] == ["500.html"]
    assert b"secret-internal-detail" not in response.content
    [record] = _exception_records(caplog)
    assert record.request_id == response["X-Request-ID"]


def test_an_unknown_api_url_is_still_a_json_404_with_a_request_id(alice):
    # when alice asks for a URL the API does not have
    response = alice.get("/api/v1/no-such-thing/")

    # then the API's 404 shape is unchanged and the request id header is there
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert GENERATED.fullmatch(response["X-Request-ID"])


def test_the_log_format_names_the_request_id_and_a_dash_outside_a_request(settings):
    # given the console formatter and filter as configured
    fmt = settings.LOGGING["formatters"]["plain"]["format"]
    formatter = logging.Formatter(fmt)
    record = logging.LogRecord("worker", logging.INFO, __file__, 1, "tick", None, None)

    # when a record is written outside any request
    assert RequestIdFilter().filter(record) is True

    # then it carries "-" and the formatted line shows it
    assert current_request_id() == "-"
    assert record.request_id == "-"
    assert formatter.format(record).endswith("INFO worker [-] tick")
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["request_id"]
