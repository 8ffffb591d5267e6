import django_filters

from .models import CreditTransaction


class TransactionFilter(django_filters.FilterSet):
    type = django_filters.MultipleChoiceFilter(choices=CreditTransaction.Type.choices)
    created_from = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_to = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    date_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = CreditTransaction
        fields = ["type"]
