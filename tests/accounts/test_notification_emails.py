"""Notification emails about an account reach the members who want them, each in
their own language: spend alerts, a channel that needs reconnecting, the bot's
hand-over alert (accounts/services/notifications.py)."""

import pytest
from django.core import mail
from django.utils import translation

from accounts.models import Role
from billing.services.controls import cost_control_update
from billing.services.usage import usage_record
from channels_bot.services.bot import _alert_admins
from channels_bot.services.connect import channel_mark_needs_reconnect
from tests.accounts.factories import MembershipFactory, UserFactory, UserPreferencesFactory
from tests.channels_bot.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def korean_admin(tenants):
    """Account A's admin who reads Korean (alice, the owner, reads English)."""
    user = UserFactory(email="jiwoo@example.com", locale="ko")
    MembershipFactory(account=tenants.a, user=user, role=Role.ADMIN)
    return user


def _by_recipient() -> dict[str, mail.EmailMessage]:
    return {address: message for message in mail.outbox for address in message.to}


def test_a_spend_alert_is_written_in_each_owners_language(tenants, django_capture_on_commit_callbacks):
    # given A's two owners: alice reads English, minji Korean
    minji = UserFactory(email="minji@example.com", locale="ko")
    MembershipFactory(account=tenants.a, user=minji, role=Role.OWNER)
    cost_control_update(account=tenants.a, actor=tenants.alice_membership, daily_limit="10", auto_shutoff=True)

    # when spending passes the daily limit (in a request that speaks English)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        usage_record(account=tenants.a, user=tenants.alice, feature="chat", model="m", provider="p", credits="11")

    # then each owner got one email in their own language
    emails = _by_recipient()
    assert sorted(emails) == ["alice@example.com", "minji@example.com"]
    assert emails["alice@example.com"].subject == "[aiplatform] Daily spend limit reached"
    assert "over its daily limit of 10.0000" in emails["alice@example.com"].body
    assert "AI features are paused" in emails["alice@example.com"].body
    assert emails["minji@example.com"].subject == "[aiplatform] 일일 지출 한도에 도달했습니다"
    assert "일일 한도" in emails["minji@example.com"].body and "AI 기능이 일시 중지" in emails["minji@example.com"].body


def test_a_reconnect_email_skips_admins_who_turned_notifications_off(
    tenants, korean_admin, django_capture_on_commit_callbacks
):
    # given alice (owner) turned notification emails off
    UserPreferencesFactory(user=tenants.alice, email_notifications=False)
    channel = ChannelFactory(account=tenants.a, channel_name="Corner Shop")

    # when the platform refuses the channel's token
    with django_capture_on_commit_callbacks(execute=True):
        assert channel_mark_needs_reconnect(channel, "token expired")

    # then only the Korean admin was told, in Korean
    [email] = mail.outbox
    assert email.to == ["jiwoo@example.com"]
    assert email.subject == "[aiplatform] Corner Shop 다시 연결하기"
    assert "작동을 멈췄습니다: token expired" in email.body and "/channels/connect/" in email.body


def test_the_hand_over_alert_goes_to_owners_and_admins_in_their_language(
    tenants, korean_admin, django_capture_on_commit_callbacks
):
    # given bob, a plain member, wants every email
    UserPreferencesFactory(user=tenants.bob, email_notifications=True)

    # when the bot hands a customer over
    with django_capture_on_commit_callbacks(execute=True):
        _alert_admins(tenants.a, "out of credits")

    # then alice (English) and the Korean admin are told; bob is not an admin
    emails = _by_recipient()
    assert sorted(emails) == ["alice@example.com", "jiwoo@example.com"]
    assert emails["alice@example.com"].subject.endswith("Your channel bot handed customers to your team")
    assert "could not answer a customer (out of credits)" in emails["alice@example.com"].body
    assert emails["jiwoo@example.com"].subject.endswith("채널 봇이 고객을 팀에 넘겼습니다")
    assert "고객에게 답하지 못해(out of credits)" in emails["jiwoo@example.com"].body
