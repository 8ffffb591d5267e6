from django.urls import path

from . import views, views_library

app_name = "templates"
urlpatterns = [
    path("", views.CatalogView.as_view(), name="catalog"),
    path("history/", views.HistoryView.as_view(), name="history"),
    path("results/<uuid:pk>/", views.ResultView.as_view(), name="result"),
    path("results/<uuid:pk>/files/<str:kind>/<int:index>/", views.ResultFileView.as_view(), name="result_file"),
    path("results/<uuid:pk>/status/", views.ResultStatusView.as_view(), name="result_status"),
    path("results/<uuid:pk>/share/", views.ResultShareView.as_view(), name="result_share"),
    path("results/<uuid:pk>/unshare/", views.ResultUnshareView.as_view(), name="result_unshare"),
    path("results/<uuid:pk>/rate/", views.ResultRateView.as_view(), name="result_rate"),
    # The public page of a shared result: no sign-in, the link's token is the only key.
    path("share/<str:token>/", views.shared_page, name="shared"),
    path("library/", views_library.LibraryView.as_view(), name="library"),
    path("library/<uuid:pk>/", views_library.ComponentView.as_view(), name="library_component"),
    path("<slug:code>/", views.ServiceView.as_view(), name="service"),
]
