"""Running a service end to end against the loopback model server: hold, call,
validate (with a corrective retry), settle or release, in the task."""

from decimal import Decimal

import pytest

from accounts.actors import system_actor
from accounts.tenancy.context import account_context
from aiplatform.errors import ServiceError
from billing.models import (
    AccountDailyUsage,
    CreditTransaction,
    DailyProviderCost,
    Reservation,
    UsageRecord,
    UserMonthlyUsage,
    Wallet,
)
from billing.services.controls import shutoff_engage
from billing.services.reservations import reservations_expire
from templates.models import PromptTemplate, ServiceResult
from templates.services.experiments import arm_for_user, experiment_create, experiment_start
from templates.services.ratings import result_rate
from templates.services.run import result_process, service_run
from tests.templates.factories import VALID_READING, PromptTemplateFactory

pytestmark = pytest.mark.django_db

PARAMS = {"name": "Minji", "birth_date": "1990-04-01"}


def _run(t, captured, **kw):
    with captured(execute=True):
        result = service_run(account=t.a, user=t.alice, service_code="weekly-reading", params=PARAMS, **kw)
    return _fresh(t, result.pk)


def _fresh(t, pk) -> ServiceResult:
    with account_context(t.a.id):
        return ServiceResult.objects.select_related("charge").get(pk=pk)


def _wallet(t) -> tuple[Decimal, Decimal]:
    with account_context(t.a.id):
        wallet = Wallet.objects.get(account=t.a)
    return wallet.balance, wallet.reserved


def _uses(t) -> list[tuple]:
    with account_context(t.a.id):
        return list(
            CreditTransaction.objects.filter(account=t.a, type="use").values_list(
                "amount", "reference_type", "reference_id"
            )
        )


def _words(body) -> int:
    return sum(len(m["content"].split()) for m in body["messages"])


def test_success_charges_the_price_once_and_stores_what_ran(funded, reading, model_server, on_commit):
    # given 100 credits and a model that answers valid JSON
    model_server.reply(VALID_READING)
    # when alice runs the service
    result = _run(funded, on_commit)
    # then the result is complete with what ran
    assert result.status == "completed"
    assert result.result_data == {"summary": "A bright week ahead.", "lucky_number": 7}
    assert (result.template_version, result.ai_model, result.provider, result.attempts) == (
        "v1",
        "test-model",
        "openai",
        1,
    )
    request = model_server.requests[0]
    assert (result.tokens_in, result.tokens_out, result.tokens_used) == (_words(request), 7, _words(request) + 7)
    assert result.processing_time_ms is not None and result.error == ""
    # the prompt was rendered from the parameters (the optional mood took its default)
    assert [(m["role"], m["content"].split("\n")[0]) for m in request["messages"]] == [
        ("system", "You are a fortune teller. The reader is Minji."),
        ("user", "Read the week of Minji, born 1990-04-01, who feels calm."),
    ]
    assert request["model"] == "loopback-1" and request["response_format"]["type"] == "json_schema"
    # one ledger row of the price, referencing the result; nothing left on hold
    assert _uses(funded) == [(Decimal("-10.0000"), "service_result", str(result.pk))]
    assert result.credits_charged == Decimal("10.0000") and result.charge.amount == Decimal("-10.0000")
    assert _wallet(funded) == (Decimal("90.0000"), Decimal("0.0000"))
    with account_context(funded.a.id):
        assert list(UsageRecord.objects.values_list("feature", "credits", "reference_id")) == [
            ("service", Decimal("10.0000"), str(result.pk))
        ]
    template = PromptTemplate.objects.get(service_type="weekly-reading", version="v1")
    assert (template.usage_count, template.avg_tokens) == (1, result.tokens_used)


def _charged_everywhere(t) -> dict:
    """Credits as every usage table shows them for account A (records, per user per
    month, per account per day), and the provider cost kept beside them."""
    with account_context(t.a.id):
        return {
            "records": sorted(UsageRecord.objects.values_list("status", "credits")),
            "user_month": list(UserMonthlyUsage.objects.values_list("ai_credits_used", flat=True)),
            "account_day": list(AccountDailyUsage.objects.values_list("total_credits_used", flat=True)),
        }


def test_usage_and_every_aggregate_carry_the_charged_price_of_a_run(funded, reading, model_server, on_commit):
    # given a model that first answers prose, then valid JSON (two calls for one run)
    model_server.reply("Your week looks bright!")
    model_server.reply(VALID_READING)
    # when alice runs the service
    result = _run(funded, on_commit)
    # then the charge is on the first call's record and in every aggregate, once
    assert result.status == "completed"
    with account_context(funded.a.id):
        records = list(UsageRecord.objects.order_by("created_at").values_list("credits", "provider_cost"))
        cost = sum(c for _, c in records)
    assert [c for c, _ in records] == [Decimal("10.0000"), Decimal("0.0000")]
    assert _charged_everywhere(funded) == {
        "records": [("ok", Decimal("0.0000")), ("ok", Decimal("10.0000"))],
        "user_month": [Decimal("10.0000")],
        "account_day": [Decimal("10.0000")],
    }
    with account_context(funded.a.id):
        assert UserMonthlyUsage.objects.get().provider_cost == cost
        assert AccountDailyUsage.objects.get().provider_cost == cost


@pytest.mark.parametrize("failure", ["provider_error", "invalid_output"])
def test_a_failed_run_leaves_every_aggregates_credits_unchanged(
    funded, reading, model_server, fast_provider, on_commit, failure
):
    # given a model that fails, or answers invalid JSON twice
    if failure == "provider_error":
        model_server.fail(500)
    else:
        model_server.reply('{"summary": "Hi"}')
        model_server.reply('{"summary": "Hi"}')
    # when alice runs the service
    result = _run(funded, on_commit)
    # then nothing was charged and no usage table counts credits for it
    assert (result.status, result.error_code) == ("failed", failure)
    assert _uses(funded) == []
    status = "error" if failure == "provider_error" else "ok"
    calls = 1 if failure == "provider_error" else 2
    assert _charged_everywhere(funded) == {
        "records": [(status, Decimal("0.0000"))] * calls,
        "user_month": [Decimal("0.0000")],
        "account_day": [Decimal("0.0000")],
    }
    # and a run is one generation at most: none when the provider failed, one for the first answer
    with account_context(funded.a.id):
        generations = 0 if failure == "provider_error" else 1
        assert list(DailyProviderCost.objects.values_list("generations_count", flat=True)) == [generations]
        assert list(AccountDailyUsage.objects.values_list("ai_calls", "generations")) == [(calls, generations)]


def test_provider_error_charges_nothing_and_explains(funded, reading, model_server, fast_provider, on_commit):
    model_server.fail(500)
    result = _run(funded, on_commit)
    assert (result.status, result.error_code) == ("failed", "provider_error")
    assert result.error == (
        "The AI provider answered with an error. Nothing was charged; please try again in a few minutes."
    )
    assert _uses(funded) == []
    assert _wallet(funded) == (Decimal("100.0000"), Decimal("0.0000"))
    with account_context(funded.a.id):
        assert Reservation.objects.get(pk=result.reservation_id).status == "released"


def test_invalid_output_is_retried_once_with_the_error_shown_to_the_model(funded, reading, model_server, on_commit):
    # given a model that first answers prose, then valid JSON
    model_server.reply("Your week looks bright!")
    model_server.reply("```json\n" + VALID_READING + "\n```")
    # when
    result = _run(funded, on_commit)
    # then the second request carried the first answer and what was wrong with it
    first, second = model_server.requests
    assert second["messages"][:-2] == first["messages"]
    assert second["messages"][-2:] == [
        {"role": "assistant", "content": "Your week looks bright!"},
        {"role": "user", "content": "Your previous answer could not be used: it is not valid JSON (Expecting value "
         "at line 1, column 1).\nReply again with only the corrected JSON object, valid against the schema, and "
         "nothing else."},
    ]  # fmt: skip
    assert (result.status, result.attempts, result.result_data["lucky_number"]) == ("completed", 2, 7)
    assert result.tokens_out == 4 + 9  # both answers' tokens count
    assert _uses(funded) == [(Decimal("-10.0000"), "service_result", str(result.pk))]


def test_output_invalid_twice_fails_and_charges_nothing(funded, reading, model_server, on_commit):
    model_server.reply('{"summary": "Hi"}')
    model_server.reply('{"summary": "Hi", "lucky_number": 0}')
    result = _run(funded, on_commit)
    assert (result.status, result.error_code, result.attempts) == ("failed", "invalid_output", 2)
    assert "Nothing was charged" in result.error
    assert len(model_server.requests) == 2
    assert model_server.requests[1]["messages"][-1]["content"].startswith(
        "Your previous answer could not be used: it does not match the schema: "
        "$: 'lucky_number' is a required property."
    )
    assert _uses(funded) == [] and _wallet(funded) == (Decimal("100.0000"), Decimal("0.0000"))
    assert _fresh(funded, result.pk).result_text == '{"summary": "Hi", "lucky_number": 0}'


def test_a_pinned_version_runs_even_when_another_is_active(funded, reading, model_server, on_commit):
    PromptTemplateFactory(service_type="weekly-reading", version="v2", system_prompt="Version two for {{name}}.")
    model_server.reply(VALID_READING)
    result = _run(funded, on_commit, template_version="v2")
    assert (result.template_version, result.version_pinned, result.status) == ("v2", True, "completed")
    assert model_server.requests[0]["messages"][0]["content"].startswith("Version two for Minji.")


def test_a_running_experiment_serves_the_users_arm_and_ratings_feed_it(funded, reading, model_server, on_commit):
    a = PromptTemplate.objects.get(service_type="weekly-reading", version="v1")
    b = PromptTemplateFactory(service_type="weekly-reading", version="v2", system_prompt="Arm B for {{name}}.")
    experiment = experiment_create(actor=None, service_type="weekly-reading", template_a=a, template_b=b)
    experiment_start(experiment=experiment)
    arm = arm_for_user(experiment, funded.alice.pk)
    model_server.reply(VALID_READING)
    result = _run(funded, on_commit)
    assert (result.experiment_id, result.experiment_arm) == (experiment.pk, arm)
    assert result.template_version == ("v1" if arm == "A" else "v2")
    result_rate(result=result, user=funded.alice, rating=5, feedback="Spot on")
    experiment.refresh_from_db()
    counts = (experiment.version_a_count, experiment.version_b_count)
    ratings = (experiment.version_a_avg_rating, experiment.version_b_avg_rating)
    assert counts == ((1, 0) if arm == "A" else (0, 1))
    assert ratings == ((Decimal("5.00"), None) if arm == "A" else (None, Decimal("5.00")))


def test_processing_twice_is_harmless(funded, reading, model_server, on_commit):
    model_server.reply(VALID_READING)
    result = _run(funded, on_commit)
    # when the task is delivered again (late acknowledgement after a worker restart)
    result_process(result_id=str(result.pk), account_id=str(funded.a.id))
    # then nothing is called or charged again
    assert len(model_server.requests) == 1
    assert len(_uses(funded)) == 1 and _fresh(funded, result.pk).status == "completed"


def test_a_run_whose_hold_expired_in_the_queue_is_cancelled_without_a_call(funded, reading, model_server, on_commit):
    # given a run queued but not yet picked up, whose hold the sweep released
    with on_commit(execute=False) as callbacks:
        result = service_run(account=funded.a, user=funded.alice, service_code="weekly-reading", params=PARAMS)
    with account_context(funded.a.id):
        Reservation.objects.filter(pk=result.reservation_id).update(expires_at="2000-01-01T00:00:00Z")
    assert reservations_expire() == 1
    # when the worker finally runs it
    for callback in callbacks:
        callback()
    # then it fails clearly, nothing was called or charged
    result = _fresh(funded, result.pk)
    assert (result.status, result.error_code) == ("failed", "queue_timeout")
    assert model_server.requests == [] and _uses(funded) == []
    assert _wallet(funded) == (Decimal("100.0000"), Decimal("0.0000"))


def test_the_ai_shutoff_refuses_before_holding_anything(funded, reading, model_server):
    shutoff_engage(account=funded.a, actor=system_actor("test"), reason="budget")
    with pytest.raises(ServiceError) as err:
        service_run(account=funded.a, user=funded.alice, service_code="weekly-reading", params=PARAMS)
    assert err.value.status == 403
    with account_context(funded.a.id):
        assert (ServiceResult.objects.count(), Reservation.objects.count()) == (0, 0)


def test_the_price_held_at_the_start_is_the_price_charged(funded, reading, model_server, on_commit):
    model_server.reply(VALID_READING)
    with on_commit(execute=False) as callbacks:
        result = service_run(account=funded.a, user=funded.alice, service_code="weekly-reading", params=PARAMS)
    # when the operator raises the price while the run waits in the queue
    reading.credit_cost = Decimal("50")
    reading.save()
    for callback in callbacks:
        callback()
    # then the user pays what they were shown
    assert _fresh(funded, result.pk).credits_charged == Decimal("10.0000")
    assert _uses(funded) == [(Decimal("-10.0000"), "service_result", str(result.pk))]
