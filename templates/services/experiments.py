"""A/B experiments between two versions of a service's template.

Assignment: sha256(experiment id : user id) picks one of 10,000 buckets; the
first `traffic_split` percent of buckets are arm A. The same user always lands
in the same arm (while the split does not change), and users spread evenly.

The winner rule (stated once, here, and shown in the admin):
    Among rated results, compare the share of ratings of 4 or 5 ("satisfied")
    in A and B with a two-sided two-proportion z-test. An arm wins when both
    arms have at least MIN_RATINGS_PER_ARM ratings and p < ALPHA; the winner is
    the arm with the higher share. Otherwise there is no winner yet.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, Value
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext

from aiplatform.errors import Conflict, InvalidInput
from templates.models import PromptExperiment, PromptTemplate

from .versions import template_activate

BUCKETS = 10_000
MIN_RATINGS_PER_ARM = 30
ALPHA = 0.05
SATISFIED_FROM = 4
WINNER_RULE = (
    f"Two-sided two-proportion z-test on the share of ratings ≥ {SATISFIED_FROM}; "
    f"a winner needs at least {MIN_RATINGS_PER_ARM} ratings per arm and p < {ALPHA}."
)

Status = PromptExperiment.Status


def arm_for_user(experiment: PromptExperiment, user_id) -> str:
    digest = hashlib.sha256(f"{experiment.id}:{user_id}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % BUCKETS
    return "A" if bucket < experiment.traffic_split * BUCKETS // 100 else "B"


def running_experiment(service_type: str) -> PromptExperiment | None:
    return (
        PromptExperiment.objects.select_related("template_a", "template_b")
        .filter(service_type=service_type, status=Status.RUNNING)
        .first()
    )


# --- counters, kept in single UPDATE statements ------------------------------------------


def experiment_record_result(*, experiment_id, arm: str) -> None:
    """One more completed result served by `arm`."""
    column = f"version_{arm.lower()}_count"
    PromptExperiment.objects.filter(pk=experiment_id).update(**{column: F(column) + 1})


def experiment_record_rating(*, experiment_id, arm: str, rating: int, previous: int | None) -> None:
    """Add a rating to `arm`, or replace the `previous` one of the same result."""
    p = f"version_{arm.lower()}"
    added = 0 if previous is not None else 1
    delta_sum = rating - (previous or 0)
    delta_satisfied = int(rating >= SATISFIED_FROM) - int(previous is not None and previous >= SATISFIED_FROM)
    ratings = F(f"{p}_ratings") + Value(added)
    total = F(f"{p}_rating_sum") + Value(delta_sum)
    decimal = DecimalField(max_digits=12, decimal_places=4)
    PromptExperiment.objects.filter(pk=experiment_id).update(
        **{
            f"{p}_ratings": ratings,
            f"{p}_rating_sum": total,
            f"{p}_satisfied": F(f"{p}_satisfied") + Value(delta_satisfied),
            # Every column on the right is the value before this UPDATE: the average of the new totals.
            f"{p}_avg_rating": Cast(total, decimal) / Cast(ratings, decimal),
        }
    )


# --- the winner rule -----------------------------------------------------------------------


@dataclass(frozen=True)
class ArmStats:
    arm: str
    results: int
    ratings: int
    satisfied: int
    avg_rating: Decimal | None

    @property
    def satisfied_rate(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None


@dataclass(frozen=True)
class Evaluation:
    a: ArmStats
    b: ArmStats
    z: float | None
    p_value: float | None
    winner: str | None  # "A", "B" or None
    verdict: str


def two_proportion_p_value(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """(z, two-sided p) of H0: both proportions are equal, with the pooled standard error."""
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0  # both arms all satisfied or all not: no evidence of a difference
    z = (k1 / n1 - k2 / n2) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def experiment_evaluate(experiment: PromptExperiment) -> Evaluation:
    e = experiment
    a = ArmStats("A", e.version_a_count, e.version_a_ratings, e.version_a_satisfied, e.version_a_avg_rating)
    b = ArmStats("B", e.version_b_count, e.version_b_ratings, e.version_b_satisfied, e.version_b_avg_rating)
    if min(a.ratings, b.ratings) < MIN_RATINGS_PER_ARM:
        z, p = (
            (None, None)
            if not (a.ratings and b.ratings)
            else two_proportion_p_value(a.satisfied, a.ratings, b.satisfied, b.ratings)
        )
        verdict = f"No winner yet: each arm needs {MIN_RATINGS_PER_ARM} ratings (A {a.ratings}, B {b.ratings})."
        return Evaluation(a, b, z, p, None, verdict)
    z, p = two_proportion_p_value(a.satisfied, a.ratings, b.satisfied, b.ratings)
    if p >= ALPHA:
        return Evaluation(a, b, z, p, None, f"No winner yet: the difference is not significant (p = {p:.3f}).")
    winner = "A" if a.satisfied_rate > b.satisfied_rate else "B"
    return Evaluation(a, b, z, p, winner, f"{winner} wins (p = {p:.4f}).")


# --- status changes ------------------------------------------------------------------------


def arms_check(service_type: str, template_a: PromptTemplate, template_b: PromptTemplate) -> None:
    """Both arms serve `service_type`, differ, and take the same parameters (InvalidInput otherwise)."""
    fields = {}
    for name, template in (("template_a", template_a), ("template_b", template_b)):
        if template.service_type != service_type:
            fields[name] = [f"This template serves '{template.service_type}', not '{service_type}'."]
    if template_a.pk == template_b.pk:
        fields["template_b"] = ["Choose two different templates."]
    elif not fields and {p["name"] for p in template_a.parameters} != {p["name"] for p in template_b.parameters}:
        # One form and one API request serve both arms.
        fields["template_b"] = ["Both templates must take the same parameters."]
    if fields:
        raise InvalidInput(gettext("The experiment's templates do not fit."), fields=fields)


def experiment_create(
    *, actor, service_type: str, template_a: PromptTemplate, template_b: PromptTemplate, traffic_split: int = 50,
    name: str = "",
) -> PromptExperiment:  # fmt: skip
    if not 1 <= traffic_split <= 99:
        raise InvalidInput(gettext("Split between 1 and 99 percent."), fields={"traffic_split": ["Between 1 and 99."]})
    arms_check(service_type, template_a, template_b)
    return PromptExperiment.objects.create(
        name=name, service_type=service_type, template_a=template_a, template_b=template_b,
        traffic_split=traffic_split, created_by=actor,
    )  # fmt: skip


def _locked(experiment: PromptExperiment) -> PromptExperiment:
    return PromptExperiment.objects.select_for_update().select_related("template_a", "template_b").get(pk=experiment.pk)


def experiment_start(*, experiment: PromptExperiment, actor=None) -> PromptExperiment:
    """Draft or paused -> running. Never two running experiments for one service."""
    try:
        with transaction.atomic():
            e = _locked(experiment)
            if e.status not in (Status.DRAFT, Status.PAUSED):
                raise Conflict(
                    gettext("A %(lower)s experiment cannot start.") % {"lower": e.get_status_display().lower()},
                    code="bad_status",
                )
            arms_check(e.service_type, e.template_a, e.template_b)
            other = PromptExperiment.objects.filter(service_type=e.service_type, status=Status.RUNNING)
            if other.exclude(pk=e.pk).exists():
                raise Conflict(
                    gettext("Another experiment is running for %(service_type)s; pause or complete it first.")
                    % {"service_type": e.service_type},
                    code="experiment_running",
                )
            e.status = Status.RUNNING
            e.started_at = e.started_at or timezone.now()
            e.save(update_fields=["status", "started_at", "updated_at"])
    except IntegrityError:  # the partial unique index, when two starts race
        raise Conflict(
            gettext("Another experiment is running for %(service_type)s.") % {"service_type": experiment.service_type},
            code="experiment_running",
        )
    return e


def experiment_pause(*, experiment: PromptExperiment, actor=None) -> PromptExperiment:
    with transaction.atomic():
        e = _locked(experiment)
        if e.status != Status.RUNNING:
            raise Conflict(gettext("Only a running experiment can be paused."), code="bad_status")
        e.status = Status.PAUSED
        e.save(update_fields=["status", "updated_at"])
    return e


def experiment_complete(*, experiment: PromptExperiment, actor=None) -> PromptExperiment:
    """End it. The winner is recorded by the rule ("tie" when there is none); nothing is activated."""
    with transaction.atomic():
        e = _locked(experiment)
        if e.status in (Status.COMPLETED, Status.CANCELLED):
            raise Conflict(gettext("This experiment has ended already."), code="bad_status")
        e.status = Status.COMPLETED
        e.ended_at = timezone.now()
        e.winner = experiment_evaluate(e).winner or PromptExperiment.Winner.TIE
        e.save(update_fields=["status", "ended_at", "winner", "updated_at"])
    return e


def experiment_cancel(*, experiment: PromptExperiment, actor=None) -> PromptExperiment:
    """Abandon it (seed 001 status `cancelled`): a draft, running or paused experiment
    ends with no winner and nothing activated; its results stay for the record. Runs
    stop being assigned to it at once (only running experiments assign)."""
    with transaction.atomic():
        e = _locked(experiment)
        if e.status in (Status.COMPLETED, Status.CANCELLED):
            raise Conflict(gettext("This experiment has ended already."), code="bad_status")
        e.status = Status.CANCELLED
        e.ended_at = timezone.now()
        e.winner = ""
        e.save(update_fields=["status", "ended_at", "winner", "updated_at"])
    return e


def experiment_declare_winner(*, experiment: PromptExperiment, actor=None) -> PromptExperiment:
    """End it with the winner by the rule and make the winning template the active version."""
    with transaction.atomic():
        e = _locked(experiment)
        if e.status not in (Status.RUNNING, Status.PAUSED):
            raise Conflict(
                gettext("Only a running or paused experiment can have a winner declared."), code="bad_status"
            )
        evaluation = experiment_evaluate(e)
        if evaluation.winner is None:
            raise Conflict(evaluation.verdict, code="no_winner_yet")
        template_activate(template=e.template_of(evaluation.winner), actor=actor)
        e.status = Status.COMPLETED
        e.ended_at = timezone.now()
        e.winner = evaluation.winner
        e.save(update_fields=["status", "ended_at", "winner", "updated_at"])
    return e
