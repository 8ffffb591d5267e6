"""Fixtures of the channel bot tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def _fake_platform_session():
    from tests.support.fake_platform import FakePlatform

    server = FakePlatform().start()
    yield server
    server.stop()


@pytest.fixture
def fake_platform(_fake_platform_session, settings):
    """The loopback Graph / Instagram / X / LinkedIn server (tests/support/fake_platform.py),
    started once per session and reset before each test. Every platform URL setting
    (META_GRAPH_URL, META_OAUTH_DIALOG_URL, INSTAGRAM_*_URL, X_AUTHORIZE_URL, X_API_URL,
    LINKEDIN_OAUTH_URL, LINKEDIN_API_URL) points at it, and the app credentials are test
    values (META_APP_ID/META_APP_SECRET/META_VERIFY_TOKEN, INSTAGRAM_APP_ID/SECRET,
    X_CLIENT_ID/X_CLIENT_SECRET/X_CONSUMER_SECRET, LINKEDIN_CLIENT_ID/SECRET: the constants
    of fake_platform). Script failures with `fake_platform.fail(endpoint, fixture, times=)`,
    read requests with `fake_platform.calls(endpoint)`."""
    _fake_platform_session.reset()
    _fake_platform_session.use_in(settings)
    yield _fake_platform_session
    _fake_platform_session.reset()
