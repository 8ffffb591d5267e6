"""Experiments can be cancelled (seed 001 status `cancelled`) from the service, the
API and the admin: no winner, nothing activated, no more runs assigned to it."""

import pytest
from django.test import Client

from accounts.models import User
from aiplatform.errors import Conflict
from templates.models import PromptExperiment, PromptTemplate
from templates.services.experiments import (
    experiment_cancel,
    experiment_complete,
    experiment_pause,
    experiment_start,
    running_experiment,
)
from tests.accounts.factories import UserFactory
from tests.templates.factories import ExperimentFactory

pytestmark = pytest.mark.django_db


def _active(service_type: str) -> list[str]:
    return list(
        PromptTemplate.objects.filter(service_type=service_type, is_active=True).values_list("version", flat=True)
    )


@pytest.mark.parametrize("before", ["draft", "running", "paused"])
def test_a_draft_running_or_paused_experiment_is_cancelled_without_a_winner(chat_model, before):
    # given an experiment in `before`, whose B arm leads
    experiment = ExperimentFactory()
    if before != "draft":
        experiment_start(experiment=experiment)
    if before == "paused":
        experiment_pause(experiment=experiment)
    PromptExperiment.objects.filter(pk=experiment.pk).update(
        version_a_ratings=100, version_a_satisfied=40, version_b_ratings=100, version_b_satisfied=60
    )
    active_before = _active(experiment.service_type)

    # when it is cancelled
    done = experiment_cancel(experiment=experiment)

    # then it ended with no winner, nothing was activated, and it assigns no more runs
    stored = PromptExperiment.objects.get(pk=experiment.pk)
    assert (done.status, stored.status, stored.winner) == ("cancelled", "cancelled", "")
    assert stored.ended_at is not None
    assert (stored.version_b_ratings, stored.version_b_satisfied) == (100, 60)  # kept for the record
    assert _active(experiment.service_type) == active_before
    assert running_experiment(experiment.service_type) is None


def test_an_ended_experiment_cannot_be_cancelled_or_restarted(chat_model):
    # given a completed and a cancelled experiment
    completed = ExperimentFactory()
    experiment_start(experiment=completed)
    experiment_complete(experiment=completed)
    cancelled = ExperimentFactory(template_a=completed.template_a, template_b=completed.template_b)
    experiment_cancel(experiment=cancelled)

    # when they are cancelled (again) or started, then 409 and nothing changes
    for experiment in (completed, cancelled):
        with pytest.raises(Conflict) as err:
            experiment_cancel(experiment=experiment)
        assert err.value.code == "bad_status"
    with pytest.raises(Conflict):
        experiment_start(experiment=cancelled)
    assert PromptExperiment.objects.get(pk=completed.pk).status == "completed"
    assert PromptExperiment.objects.get(pk=cancelled.pk).status == "cancelled"


def test_a_cancelled_experiment_frees_its_service_for_another(chat_model):
    # given a running experiment
    first = ExperimentFactory()
    experiment_start(experiment=first)
    second = ExperimentFactory(template_a=first.template_a, template_b=first.template_b)

    # when it is cancelled, then another one can run for the same service
    experiment_cancel(experiment=first)
    assert experiment_start(experiment=second).status == "running"


def test_operators_cancel_through_the_api_and_tenants_cannot(api_client, alice_api, chat_model):
    # given a running experiment
    experiment = ExperimentFactory()
    experiment_start(experiment=experiment)

    # when a tenant tries, then it does not exist for them
    assert alice_api.post(f"/api/v1/experiments/{experiment.pk}/cancel/").status_code == 404
    assert PromptExperiment.objects.get(pk=experiment.pk).status == "running"

    # when an operator cancels it
    api_client.force_login(UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN))
    response = api_client.post(f"/api/v1/experiments/{experiment.pk}/cancel/")

    # then it is cancelled; a second cancel is a 409 in the documented shape
    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    again = api_client.post(f"/api/v1/experiments/{experiment.pk}/cancel/")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "bad_status")


def test_operators_cancel_from_the_admin(chat_model):
    # given an operator and a running experiment
    operator = Client()
    operator.force_login(UserFactory(email="ops@example.com", role=User.PlatformRole.ADMIN, is_superuser=True))
    experiment = ExperimentFactory()
    experiment_start(experiment=experiment)

    # when they pick the cancel action
    response = operator.post(
        "/admin/templates/promptexperiment/", {"action": "cancel", "_selected_action": [str(experiment.pk)]}
    )

    # then it is cancelled
    assert response.status_code == 302
    assert PromptExperiment.objects.get(pk=experiment.pk).status == "cancelled"
