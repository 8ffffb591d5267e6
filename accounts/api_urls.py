"""Routes this app adds to the one API router (see aiplatform/api/urls.py)."""

from django.urls import path

from . import api

routes = [
    ("accounts", api.MyAccountViewSet, "my-account"),
    ("members", api.MemberViewSet, "member"),
    ("invitations", api.InvitationViewSet, "invitation"),
    ("api-keys", api.ApiKeyViewSet, "api-key"),
]

# Plain paths go before the router so that e.g. invitations/accept/ is not read as an id.
paths = [
    path("me/", api.MeView.as_view(), name="me"),
    path("invitations/accept/", api.InvitationAcceptView.as_view(), name="invitation-accept"),
]
