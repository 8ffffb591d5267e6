"""A/B experiments: stable assignment within tolerance, counters, the winner rule, status rules."""

import uuid
from collections import Counter
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from aiplatform.errors import Conflict, InvalidInput
from templates.models import PromptExperiment, PromptTemplate
from templates.services.experiments import (
    arm_for_user,
    experiment_complete,
    experiment_create,
    experiment_declare_winner,
    experiment_evaluate,
    experiment_pause,
    experiment_record_rating,
    experiment_record_result,
    experiment_start,
    two_proportion_p_value,
)
from tests.templates.factories import ExperimentFactory, PromptTemplateFactory

pytestmark = pytest.mark.django_db

USERS = [uuid.UUID(int=i * 7919 + 13) for i in range(2000)]


def _split(experiment) -> Counter:
    return Counter(arm_for_user(experiment, user_id) for user_id in USERS)


@pytest.mark.parametrize("split", [50, 80, 20])
def test_assignment_follows_the_split_within_three_percent(split):
    # given an experiment that sends `split` percent of users to A
    experiment = PromptExperiment(id=uuid.UUID(int=42), traffic_split=split)
    # when 2,000 users are assigned
    counts = _split(experiment)
    # then each arm's share is within ±3 points of what was asked
    assert counts["A"] + counts["B"] == 2000
    assert abs(counts["A"] / 2000 * 100 - split) <= 3
    assert abs(counts["B"] / 2000 * 100 - (100 - split)) <= 3


def test_assignment_is_stable_per_user_and_differs_per_experiment():
    first, second = PromptExperiment(id=uuid.UUID(int=1), traffic_split=50), PromptExperiment(id=uuid.UUID(int=2))
    assert [arm_for_user(first, u) for u in USERS[:200]] == [arm_for_user(first, u) for u in USERS[:200]]
    # a new experiment reshuffles: the same users do not all land in the same arms again
    same = sum(arm_for_user(first, u) == arm_for_user(second, u) for u in USERS)
    assert 850 <= same <= 1150


def test_two_proportion_test_matches_known_values():
    z, p = two_proportion_p_value(60, 100, 45, 100)
    assert (round(z, 3), round(p, 4)) == (2.124, 0.0337)
    assert two_proportion_p_value(30, 30, 30, 30) == (0.0, 1.0)


def _experiment(a_ratings, a_satisfied, b_ratings, b_satisfied):
    return PromptExperiment(
        version_a_ratings=a_ratings, version_a_satisfied=a_satisfied, version_b_ratings=b_ratings,
        version_b_satisfied=b_satisfied, version_a_count=a_ratings, version_b_count=b_ratings,
    )  # fmt: skip


def test_winner_rule():
    # significant, enough ratings: the arm with more satisfied ratings wins
    assert experiment_evaluate(_experiment(100, 60, 100, 45)).winner == "A"
    assert experiment_evaluate(_experiment(100, 40, 100, 58)).winner == "B"
    # the same rates but fewer than 30 ratings in an arm: no winner yet
    small = experiment_evaluate(_experiment(29, 25, 100, 45))
    assert (small.winner, small.verdict) == (None, "No winner yet: each arm needs 30 ratings (A 29, B 100).")
    # enough ratings but no significant difference
    close = experiment_evaluate(_experiment(100, 52, 100, 48))
    assert (close.winner, close.verdict) == (None, "No winner yet: the difference is not significant (p = 0.572).")


def test_counters_and_ratings_are_kept_per_arm():
    experiment = ExperimentFactory()
    experiment_record_result(experiment_id=experiment.pk, arm="A")
    experiment_record_result(experiment_id=experiment.pk, arm="A")
    experiment_record_result(experiment_id=experiment.pk, arm="B")
    experiment_record_rating(experiment_id=experiment.pk, arm="A", rating=5, previous=None)
    experiment_record_rating(experiment_id=experiment.pk, arm="A", rating=2, previous=None)
    # a re-rating replaces the earlier rating of the same result: 2 -> 4
    experiment_record_rating(experiment_id=experiment.pk, arm="A", rating=4, previous=2)
    experiment_record_rating(experiment_id=experiment.pk, arm="B", rating=3, previous=None)
    experiment.refresh_from_db()
    assert (experiment.version_a_count, experiment.version_b_count) == (2, 1)
    assert (experiment.version_a_ratings, experiment.version_a_rating_sum, experiment.version_a_satisfied) == (2, 9, 2)
    assert (experiment.version_a_avg_rating, experiment.version_b_avg_rating) == (Decimal("4.50"), Decimal("3.00"))
    assert experiment.version_b_satisfied == 0


def test_never_two_running_experiments_for_one_service(chat_model):
    first, second = ExperimentFactory(), None
    second = ExperimentFactory(template_a=first.template_a, template_b=first.template_b)
    experiment_start(experiment=first)
    with pytest.raises(Conflict) as err:
        experiment_start(experiment=second)
    assert err.value.code == "experiment_running"
    # the database refuses it too, whatever code path writes it
    with pytest.raises(IntegrityError), transaction.atomic():
        PromptExperiment.objects.filter(pk=second.pk).update(status="running")
    # pausing the first lets the second start
    experiment_pause(experiment=first)
    assert experiment_start(experiment=second).status == "running"


def test_arms_must_fit_the_service(chat_model):
    a = PromptTemplateFactory(service_type="horoscope", version="v1")
    other = PromptTemplateFactory(service_type="palmistry", version="v1")
    with pytest.raises(InvalidInput) as err:
        experiment_create(actor=None, service_type="horoscope", template_a=a, template_b=other)
    assert err.value.fields == {"template_b": ["This template serves 'palmistry', not 'horoscope'."]}
    different = PromptTemplateFactory(service_type="horoscope", version="v2", parameters=[], system_prompt="",
                                      user_prompt_template="Hi")  # fmt: skip
    with pytest.raises(InvalidInput) as err:
        experiment_create(actor=None, service_type="horoscope", template_a=a, template_b=different)
    assert err.value.fields == {"template_b": ["Both templates must take the same parameters."]}


def test_declaring_the_winner_activates_its_template(chat_model):
    # given a running experiment where B is clearly better
    a = PromptTemplateFactory(service_type="horoscope", version="v1", is_active=True)
    b = PromptTemplateFactory(service_type="horoscope", version="v2")
    experiment = experiment_create(actor=None, service_type="horoscope", template_a=a, template_b=b)
    experiment_start(experiment=experiment)
    PromptExperiment.objects.filter(pk=experiment.pk).update(
        version_a_ratings=100, version_a_satisfied=40, version_b_ratings=100, version_b_satisfied=60
    )
    # when
    done = experiment_declare_winner(experiment=experiment)
    # then
    assert (done.status, done.winner) == ("completed", "B")
    assert list(PromptTemplate.objects.filter(service_type="horoscope", is_active=True)) == [b]


def test_no_winner_yet_refuses_to_declare_and_complete_records_a_tie(chat_model):
    experiment = ExperimentFactory()
    experiment_start(experiment=experiment)
    with pytest.raises(Conflict) as err:
        experiment_declare_winner(experiment=experiment)
    assert (err.value.code, err.value.message) == (
        "no_winner_yet",
        "No winner yet: each arm needs 30 ratings (A 0, B 0).",
    )
    done = experiment_complete(experiment=experiment)
    assert (done.status, done.winner) == ("completed", "tie")
    with pytest.raises(Conflict):
        experiment_start(experiment=done)
