"""The webhook endpoints: handshakes, signatures over the raw bytes, size cap, bad JSON,
one stored delivery per accepted POST."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from accounts.tenancy.context import rls_bypass
from channels_bot.models import WebhookDelivery
from tests.support.platform_webhooks import (
    LINKEDIN_SECRET,
    META_VERIFY,
    PATHS,
    X_SECRET,
    body_bytes,
    linkedin_delivery,
    linkedin_notification,
    meta_delivery,
    meta_entry,
    meta_message,
    post_signed,
    sign_linkedin,
    sign_meta,
    signed_headers,
    x_dm,
)

pytestmark = pytest.mark.django_db


def deliveries() -> list[WebhookDelivery]:
    with rls_bypass("test: read every stored delivery"):
        return list(WebhookDelivery.objects.order_by("received_at"))


def raw_post(client, path: str, body: bytes, **headers):
    return client.post(path, data=body, content_type="application/json", **headers)


# --- handshakes -------------------------------------------------------------------------------


def test_meta_handshake_echoes_the_challenge_for_our_verify_token(client, webhook_settings):
    # when
    ok = client.get("/webhooks/meta/", {"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                        "hub.verify_token": META_VERIFY})  # fmt: skip
    wrong = client.get("/webhooks/meta/", {"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                           "hub.verify_token": "guess"})  # fmt: skip
    wrong_mode = client.get("/webhooks/meta/", {"hub.mode": "unsubscribe", "hub.challenge": "1",
                                                "hub.verify_token": META_VERIFY})  # fmt: skip
    # then
    assert (ok.status_code, ok.content, ok["Content-Type"]) == (200, b"1158201444", "text/plain; charset=utf-8")
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "invalid_verify_token"
    assert wrong_mode.status_code == 403


def test_x_crc_answers_the_base64_hmac_of_the_token(client, webhook_settings):
    # given
    expected = "sha256=" + base64.b64encode(hmac.new(X_SECRET.encode(), b"crc-abc", hashlib.sha256).digest()).decode()
    # when
    response = client.get("/webhooks/x/", {"crc_token": "crc-abc"})
    missing = client.get("/webhooks/x/")
    # then
    assert response.status_code == 200
    assert response.json() == {"response_token": expected}
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "invalid_challenge"


def test_linkedin_challenge_answers_the_hex_hmac_of_the_code(client, webhook_settings):
    # given
    code = "890e4bb6-3d8e-4b7d-9f5a-1c2d3e4f5a6b"
    expected = hmac.new(LINKEDIN_SECRET.encode(), code.encode(), hashlib.sha256).hexdigest()
    # when
    response = client.get("/webhooks/linkedin/", {"challengeCode": code, "applicationId": "77"})
    # then
    assert response.status_code == 200
    assert response.json() == {"challengeCode": code, "challengeResponse": expected}


@pytest.mark.parametrize(
    ("path", "setting", "params"),
    [
        ("/webhooks/meta/", "META_VERIFY_TOKEN",
         {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": ""}),
        ("/webhooks/x/", "X_CONSUMER_SECRET", {"crc_token": "abc"}),
        ("/webhooks/linkedin/", "LINKEDIN_CLIENT_SECRET", {"challengeCode": "abc"}),
    ],
)  # fmt: skip
def test_a_platform_without_its_secret_refuses_the_handshake_naming_the_setting(client, settings, path, setting,
                                                                                params):  # fmt: skip
    # given
    setattr(settings, setting, "")
    # when
    response = client.get(path, params)
    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "webhook_not_configured"
    assert setting in response.json()["error"]["message"]


@pytest.mark.parametrize(("path", "setting"), [("/webhooks/meta/", "META_APP_SECRET"),
                                               ("/webhooks/x/", "X_CONSUMER_SECRET"),
                                               ("/webhooks/linkedin/", "LINKEDIN_CLIENT_SECRET")])  # fmt: skip
def test_a_platform_without_its_secret_refuses_deliveries_and_stores_nothing(client, webhook_settings, path, setting):
    # given
    setattr(webhook_settings, setting, "")
    body = b'{"object":"page","entry":[]}'
    # when
    response = raw_post(client, path, body, HTTP_X_HUB_SIGNATURE_256=sign_meta(body, ""))
    # then
    assert response.status_code == 403
    assert setting in response.json()["error"]["message"]
    assert deliveries() == []


# --- signatures ----------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["meta", "x", "linkedin"])
def test_a_forged_signature_is_403_and_nothing_is_stored(client, webhook_settings, platform):
    # given: signed with another secret
    body = body_bytes({"object": "page", "entry": []})
    headers = signed_headers(platform, body, secret="not-the-secret")
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    # when
    response = raw_post(client, PATHS[platform], body, **extra)
    # then
    assert response.status_code == 403
    assert response.json() == {"error": {"code": "invalid_signature", "message": response.json()["error"]["message"]}}
    assert deliveries() == []


@pytest.mark.parametrize("platform", ["meta", "x", "linkedin"])
def test_a_missing_signature_is_403_and_nothing_is_stored(client, webhook_settings, platform):
    # when
    response = raw_post(client, PATHS[platform], b'{"object":"page","entry":[]}')
    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invalid_signature"
    assert deliveries() == []


def test_the_signature_covers_the_raw_bytes_not_the_parsed_json(client, webhook_settings):
    # given: the same JSON re-spaced after signing
    body = b'{"object": "page", "entry": []}'
    signature = sign_meta(body)
    # when
    response = raw_post(client, "/webhooks/meta/", b'{"object":"page","entry":[]}', HTTP_X_HUB_SIGNATURE_256=signature)
    # then
    assert response.status_code == 403
    assert deliveries() == []


def test_an_instagram_login_delivery_signed_with_the_instagram_app_secret_is_accepted(client, webhook_settings):
    # given Instagram Login's own app secret, and a delivery signed with it
    webhook_settings.INSTAGRAM_APP_SECRET = "instagram-login-secret"
    body = b'{"object": "instagram", "entry": []}'

    # when
    signed = sign_meta(body, "instagram-login-secret")
    accepted = raw_post(client, "/webhooks/meta/", body, HTTP_X_HUB_SIGNATURE_256=signed)
    forged = raw_post(client, "/webhooks/meta/", body, HTTP_X_HUB_SIGNATURE_256=sign_meta(body, "someone-else"))

    # then
    assert (accepted.status_code, forged.status_code) == (200, 403)
    assert len(deliveries()) == 1


@pytest.mark.parametrize("variant", ["prefixed", "bare", "header-prefixed"])
def test_linkedin_accepts_both_documented_signature_variants(client, webhook_settings, variant, answers,
                                                              django_capture_on_commit_callbacks):  # fmt: skip
    # given
    body = body_bytes(linkedin_delivery([linkedin_notification("1")]))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        signature = sign_linkedin(body, variant=variant)
        response = raw_post(client, "/webhooks/linkedin/", body, HTTP_X_LI_SIGNATURE=signature)
    # then
    assert response.status_code == 200
    assert [bytes(d.body) for d in deliveries()] == [body]


# --- size and JSON --------------------------------------------------------------------------------


def test_an_oversize_delivery_is_413_and_nothing_is_stored(client, webhook_settings):
    # given
    webhook_settings.CHANNELS_WEBHOOK_MAX_BYTES = 1000
    body = body_bytes({"object": "page", "entry": [], "padding": "x" * 1000})
    # when
    response = raw_post(client, "/webhooks/meta/", body, HTTP_X_HUB_SIGNATURE_256=sign_meta(body))
    # then
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert "1000 bytes" in response.json()["error"]["message"]
    assert deliveries() == []


def test_a_body_at_the_cap_is_accepted(client, webhook_settings, django_capture_on_commit_callbacks):
    # given
    head = b'{"object":"page","entry":[],"padding":"'
    body = head + b"x" * (1000 - len(head) - 2) + b'"}'
    webhook_settings.CHANNELS_WEBHOOK_MAX_BYTES = len(body)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = raw_post(client, "/webhooks/meta/", body, HTTP_X_HUB_SIGNATURE_256=sign_meta(body))
    # then
    assert response.status_code == 200
    assert len(deliveries()) == 1


@pytest.mark.parametrize("body", [b'{"object":"page","entry":[', b"\xff\xfe not json", b"[1, 2, 3]", b'"page"'])
def test_malformed_json_with_a_valid_signature_is_400(client, webhook_settings, body):
    # when
    response = raw_post(client, "/webhooks/meta/", body, HTTP_X_HUB_SIGNATURE_256=sign_meta(body))
    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert deliveries() == []


def test_deeply_nested_json_is_400_not_500(client, webhook_settings):
    # given
    body = b"[" * 100_000 + b"]" * 100_000
    webhook_settings.CHANNELS_WEBHOOK_MAX_BYTES = len(body)
    # when
    response = raw_post(client, "/webhooks/meta/", body, HTTP_X_HUB_SIGNATURE_256=sign_meta(body))
    # then
    assert response.status_code == 400


def test_other_methods_are_405_json(client, webhook_settings):
    # when
    response = client.put("/webhooks/meta/", data=b"{}", content_type="application/json")
    # then
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# --- stored ---------------------------------------------------------------------------------------


def test_an_accepted_delivery_is_stored_raw_once_and_answered_200(deliver, answers):
    # given: two entries, three messaging items, for pages nobody connected
    payload = meta_delivery([
        meta_entry("9001", [meta_message("9001", "PSID1", "one"), meta_message("9001", "PSID2", "two")]),
        meta_entry("9002", [meta_message("9002", "PSID3", "three")]),
    ])  # fmt: skip
    # when
    response = deliver("meta", payload)
    # then
    assert (response.status_code, response.json()) == (200, {"received": True})
    [stored] = deliveries()
    assert bytes(stored.body) == body_bytes(payload)
    assert stored.source == "meta"
    assert stored.signature == sign_meta(body_bytes(payload))
    assert stored.status == WebhookDelivery.Status.IGNORED  # processed after commit: no such pages
    assert stored.result == "unknown channel FACEBOOK_PAGE 9001: 2 events ignored; " \
                            "unknown channel FACEBOOK_PAGE 9002: 1 events ignored"  # fmt: skip
    assert stored.attempts == 1


def test_a_delivery_needs_no_session_and_no_csrf_token(webhook_settings, django_capture_on_commit_callbacks):
    # given: a client that enforces CSRF like a browser would
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    payload = x_dm("BIZ", "U1", "BIZ", "hello")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed("/webhooks/x/", "x", payload, client=strict)
    # then
    assert response.status_code == 200
    assert json.loads(bytes(deliveries()[0].body)) == payload
