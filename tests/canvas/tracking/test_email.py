"""Email opens (pixel) and clicks (redirect) through signed links only."""

from __future__ import annotations

import pytest
from django.core import signing

from canvas.tracking import email
from tests.canvas.tracking.conftest import queued

pytestmark = pytest.mark.django_db


def test_the_pixel_is_a_gif_and_counts_an_open_even_through_an_image_proxy(launched, client):
    path = email.pixel_path(campaign_id=launched.id, component_id=str(launched.hero.pk), recipient="contact-42")
    proxy = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    response = client.get(path, HTTP_USER_AGENT=proxy, REMOTE_ADDR="66.249.84.10")
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert response.content == email.PIXEL and "no-cache" in response["Cache-Control"]
    [row] = queued()
    assert (row["event_type"], row["component_id"], row["event_data"]) == (
        "email_open", str(launched.hero.pk), {"recipient": "contact-42"}
    )  # fmt: skip
    assert row["ip_address"] == "66.249.84.0"


def test_a_click_redirects_to_the_signed_url_and_counts(launched, visitor):
    path = email.click_path(campaign_id=launched.id, url="https://shop.example/offer?x=1")
    response = visitor.get(path)
    assert response.status_code == 302 and response["Location"] == "https://shop.example/offer?x=1"
    [row] = queued()
    assert (row["event_type"], row["url"], row["utm_medium"]) == ("email_click", "https://shop.example/offer?x=1",
                                                                  "email")  # fmt: skip


def test_a_forged_or_tampered_link_redirects_nowhere_and_counts_nothing(launched, visitor):
    forged = signing.dumps({"c": launched.id, "u": "https://evil.example/"}, salt="another-salt", compress=True)
    genuine = email.click_path(campaign_id=launched.id, url="https://shop.example/")
    tampered = genuine.replace("/l/", "/l/x", 1)
    for path in (f"/t/l/{forged}/", tampered, "/t/l/plain-garbage/"):
        assert visitor.get(path).status_code == 404
    assert visitor.get("/t/o/garbage/").status_code == 200  # a pixel is always a pixel
    assert queued() == []


def test_only_web_links_can_be_signed():
    with pytest.raises(ValueError):
        email.click_path(campaign_id="c", url="javascript:alert(1)")


def test_an_email_s_links_are_rewritten_and_the_pixel_added(launched):
    html = ('<html><body><p><a href="https://shop.example/a?x=1&amp;y=2">Buy</a> '
            '<a href="mailto:help@shop.example">Help</a></p></body></html>')  # fmt: skip
    out = email.email_html_instrument(html, base_url="https://app.example/", campaign_id=launched.id)
    assert "mailto:help@shop.example" in out
    assert 'href="https://app.example/t/l/' in out and "shop.example/a" not in out
    assert out.index('<img src="https://app.example/t/o/') < out.index("</body>")
    token = out.split("/t/l/")[1].split("/")[0]
    assert email.read_token(token).url == "https://shop.example/a?x=1&y=2"
