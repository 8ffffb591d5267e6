"""The beat sweep closes answers left streaming by a process that went away."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from accounts.tenancy.context import account_context
from aiplatform.ai.pricing import estimate_tokens
from chats.models import Message
from chats.services import streaming
from chats.services.messages import answer_request
from chats.services.ratelimits import limit_keys, redis_client
from chats.tasks import orphans_close
from tests.chats.conftest import balance, burns, holds, messages_of, usage

pytestmark = pytest.mark.django_db

PARTIAL = "Start with the cross-dock playbook, then "


def dead_answer(tenants, chat, *, minutes_ago: int, snapshot: str | None, beat_ago: float = 120):
    """An answer prepared (rows stored, credits held, slot taken) whose process then died."""
    prepared = answer_request(account=tenants.a, user=tenants.alice, session_id=chat.pk, content="Plan lane 4")
    with account_context(tenants.a.id):
        Message.objects.filter(pk=prepared.answer.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    if snapshot is not None:
        redis_client().hset(streaming.live_key(prepared.answer_id), mapping={
            "text": snapshot, "beat": f"{time.time() - beat_ago:.3f}", "prompt_tokens": prepared.prompt.tokens,
        })  # fmt: skip
    return prepared


def answer_of(chat) -> Message:
    [answer] = [m for m in messages_of(chat) if m.sender == "bot"]
    return answer


def running_slots(tenants) -> tuple[int, int]:
    """Answers in progress counted for alice, and for her account."""
    user_key, account_key = limit_keys(tenants.a.id, tenants.alice.pk)[2:]
    return redis_client().zcard(user_key), redis_client().zcard(account_key)


def test_an_orphan_is_closed_with_its_last_snapshot_and_charged_for_it(tenants, chat, model_server):
    # given an answer two minutes old whose process last wrote "PARTIAL" two minutes ago
    prepared = dead_answer(tenants, chat, minutes_ago=2, snapshot=PARTIAL)
    [(_, held)] = holds(tenants.a)

    # when the beat task runs
    closed = orphans_close.apply().get()

    # then it is closed as interrupted, keeps the snapshot, and is charged for that text
    tokens_in, tokens_out = prepared.prompt.tokens, estimate_tokens(PARTIAL)
    price = ((Decimal(tokens_in) + 2 * Decimal(tokens_out)) / 1000).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    assert closed == 1
    answer = answer_of(chat)
    assert (answer.status, answer.error_code, answer.content, answer.credits_charged) == (
        "error", "interrupted", PARTIAL, price)  # fmt: skip
    assert (answer.tokens_in, answer.tokens_out) == (tokens_in, tokens_out)
    assert holds(tenants.a) == [("settled", held)]
    assert burns(tenants.a) == [-price]
    assert balance(tenants.a) == (Decimal("100") - price, Decimal("0"))
    assert usage(tenants.a) == [("error", tokens_in, tokens_out, price)]
    # and its answer slot and live state are gone
    assert running_slots(tenants) == (0, 0)
    assert redis_client().exists(streaming.live_key(prepared.answer_id)) == 0
    # and a second run finds nothing
    assert orphans_close.apply().get() == 0


def test_an_orphan_that_never_wrote_is_closed_and_charged_nothing(tenants, chat, model_server):
    # given an answer whose process died before its first snapshot
    dead_answer(tenants, chat, minutes_ago=2, snapshot=None)

    # when
    closed = orphans_close.apply().get()

    # then
    answer = answer_of(chat)
    assert (closed, answer.status, answer.content, answer.credits_charged) == (1, "error", "", Decimal("0"))
    assert [status for status, _ in holds(tenants.a)] == ["released"]
    assert burns(tenants.a) == []
    assert balance(tenants.a) == (Decimal("100"), Decimal("0"))


@pytest.mark.parametrize(("minutes_ago", "beat_ago"), [(5, 1.0), (0, 120)], ids=["still-writing", "young"])
def test_a_live_or_young_answer_is_left_alone(tenants, chat, model_server, minutes_ago, beat_ago):
    # given an old answer whose process wrote a second ago, or one started just now
    dead_answer(tenants, chat, minutes_ago=minutes_ago, snapshot=PARTIAL, beat_ago=beat_ago)

    # when
    closed = orphans_close.apply().get()

    # then
    assert closed == 0
    assert answer_of(chat).status == "streaming"
    assert [status for status, _ in holds(tenants.a)] == ["held"]
    assert running_slots(tenants) == (1, 1)
