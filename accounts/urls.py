from django.urls import path

from . import language, views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("i18n/setlang/", language.set_language, name="set_language"),
    path("accounts/switch/", views.account_switch, name="account_switch"),
    path("accounts/new/", views.AccountCreateView.as_view(), name="account_new"),
    path("settings/profile/", views.ProfileView.as_view(), name="settings_profile"),
    path("settings/account/", views.AccountSettingsView.as_view(), name="settings_account"),
    path("settings/members/", views.MembersView.as_view(), name="settings_members"),
    path("settings/members/<uuid:pk>/role/", views.MemberRoleView.as_view(), name="member_role"),
    path("settings/members/<uuid:pk>/remove/", views.MemberRemoveView.as_view(), name="member_remove"),
    path("settings/invitations/<uuid:pk>/revoke/", views.InvitationRevokeView.as_view(), name="invitation_revoke"),
    path("settings/api-keys/", views.ApiKeysView.as_view(), name="settings_api_keys"),
    path("settings/api-keys/<uuid:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api_key_revoke"),
    path("invitations/<str:token>/", views.InvitationAcceptView.as_view(), name="invitation_accept"),
]
