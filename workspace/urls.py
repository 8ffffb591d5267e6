from django.urls import path

from . import views

app_name = "workspace"

urlpatterns = [
    path("", views.SearchView.as_view(), name="search"),
    path("suggest.json", views.SearchSuggestView.as_view(), name="search_suggest"),
]
