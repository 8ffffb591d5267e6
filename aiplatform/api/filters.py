"""The API's filter backend: a query parameter a list cannot use is a 400 naming it.

django-filter already refuses a value its form cannot parse (`?created_from=notadate`);
it silently ignores a parameter it does not know (`?created_after=...`), so a typo
answers the unfiltered list. This backend refuses both, through the one error handler."""

from datetime import UTC, datetime

from django.forms import NullBooleanField
from django_filters import rest_framework as filters
from django_filters import utils
from rest_framework.exceptions import ValidationError
from rest_framework.settings import api_settings


def _param_names(name: str, widget) -> set[str]:
    """The query parameters one form field reads: its name, or its widgets' suffixed names."""
    suffixes = getattr(widget, "suffixes", None)  # django-filter's SuffixedMultiWidget
    if suffixes:
        return {f"{name}_{suffix}" if suffix else name for suffix in suffixes}
    subnames = getattr(widget, "widgets_names", None)  # Django's MultiWidget
    if subnames:
        return {f"{name}{subname}" for subname in subnames}
    return {name}


class DjangoFilterBackend(filters.DjangoFilterBackend):
    """On list routes. Views may accept parameters of their own beside the filters with
    `extra_query_params = ("lang",)`; pagination and `format` are always accepted."""

    raise_exception = True

    def known_params(self, view, filterset) -> set[str]:
        known = {api_settings.URL_FORMAT_OVERRIDE, *getattr(view, "extra_query_params", ())}
        paginator = getattr(view, "paginator", None)
        for attr in ("page_query_param", "page_size_query_param", "limit_query_param", "offset_query_param"):
            if value := getattr(paginator, attr, None):
                known.add(value)
        for name, field in filterset.form.fields.items():
            known |= _param_names(name, field.widget)
        return known

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        # Lists only: a detail route (retrieve, rate/) is no search and ignores what it does not read.
        known = self.known_params(view, filterset)
        is_list = not getattr(view, "detail", False)
        unknown = [name for name in request.query_params if name not in known] if is_list else []
        if unknown:
            usable = ", ".join(sorted(filterset.form.fields))
            raise ValidationError({name: [f"Unknown filter. Filters here: {usable}."] for name in unknown})
        if not filterset.is_valid():
            raise utils.translate_validation(filterset.errors)
        _booleans(filterset.form, request.query_params)
        _datetimes_in_utc(filterset.form.cleaned_data)
        return filterset.qs


_TRUE, _FALSE = {"true", "1"}, {"false", "0"}


def _booleans(form, params) -> None:
    """Django's boolean widgets read a word they do not know as "no filter" (`?is_public=maybe`
    answered everything): true/false/1/0 in any case, or a 400 naming the parameter."""
    for name, field in form.fields.items():
        raw = params.get(name, "")
        if not isinstance(field, NullBooleanField) or raw == "":
            continue
        if raw.lower() not in _TRUE | _FALSE:
            raise ValidationError({name: ["Enter true or false."]})
        form.cleaned_data[name] = raw.lower() in _TRUE


def _in_utc(name: str, value):
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError({name: ["Enter a date and time within years 1 to 9999 (UTC)."]}) from None
    if isinstance(value, slice):  # a from/to range filter
        return slice(_in_utc(name, value.start), _in_utc(name, value.stop), value.step)
    return value


def _datetimes_in_utc(cleaned: dict) -> None:
    """Datetime filters in UTC: Python takes offsets up to ±23:59 but PostgreSQL only
    ±15:59 (`created_to=…-16:34` was a 500); one that leaves the years a datetime can
    hold once in UTC is a 400 naming the parameter."""
    for name, value in cleaned.items():
        cleaned[name] = _in_utc(name, value)
