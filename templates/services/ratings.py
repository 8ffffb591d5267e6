"""Users rate their results (1-5); ratings feed the experiment arm that served them."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext

from accounts.tenancy.context import account_context
from aiplatform.errors import Conflict, Forbidden, InvalidInput
from templates.models import ServiceResult

from .experiments import experiment_record_rating

MAX_FEEDBACK = 2000


def result_rate(*, result: ServiceResult, user, rating, feedback: str = "") -> ServiceResult:
    """Rate (or re-rate) a completed result. Only the person who ran it rates it:
    the rating measures how well the answer served them."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(gettext("Rate from 1 to 5."), fields={"rating": ["A whole number from 1 to 5."]})
    feedback = (feedback or "").strip()
    if len(feedback) > MAX_FEEDBACK:
        raise InvalidInput(
            gettext("Feedback is too long."), fields={"feedback": [f"At most {MAX_FEEDBACK} characters."]}
        )
    with account_context(result.account_id):
        row = ServiceResult.objects.select_for_update().get(pk=result.pk, account_id=result.account_id)
        if row.user_id != user.pk:
            raise Forbidden(gettext("Only the person who ran this service can rate its result."))
        if row.status != ServiceResult.Status.COMPLETED:
            raise Conflict(gettext("Only a completed result can be rated."), code="result_not_completed")
        previous = row.rating
        row.rating, row.feedback, row.rated_at = rating, feedback, timezone.now()
        row.save(update_fields=["rating", "feedback", "rated_at", "updated_at"])
        if row.experiment_id and row.experiment_arm:
            experiment_record_rating(
                experiment_id=row.experiment_id, arm=row.experiment_arm, rating=rating, previous=previous
            )
    return row
