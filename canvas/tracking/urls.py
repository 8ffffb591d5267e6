"""Public tracking endpoints, mounted at /t/ by aiplatform/urls.py (see
canvas/views_tracking.py). Short paths: they are in every hosted page and email."""

from django.urls import path

from canvas import views_tracking as views

app_name = "tracking"

urlpatterns = [
    path("e/", views.collect, name="collect"),
    path("f/", views.lead, name="lead"),
    path("o/<str:token>/", views.email_open, name="email_open"),
    path("l/<str:token>/", views.email_click, name="email_click"),
]
