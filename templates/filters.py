import django_filters
from django.utils.translation import gettext_lazy as _

from templates.models import ServiceResult


class ResultFilter(django_filters.FilterSet):
    service = django_filters.CharFilter(field_name="service__service_type", label=_("Service code"))
    status = django_filters.MultipleChoiceFilter(choices=ServiceResult.Status.choices)
    is_public = django_filters.BooleanFilter()
    rated = django_filters.BooleanFilter(field_name="rating", lookup_expr="isnull", exclude=True)
    created_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = ServiceResult
        fields = ["service", "status", "is_public", "rated", "created_from", "created_to"]
