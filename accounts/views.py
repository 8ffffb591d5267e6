"""Server-rendered pages: dashboard, account switcher, settings, invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views import View
from django.views.decorators.http import require_POST

from aiplatform.errors import InvalidInput, ServiceError
from aiplatform.flash import run_and_report

from . import forms
from .models import Account, ApiKey, Invitation, Membership, Role, UserPreferences, UserProfile
from .selectors import api_keys_of, invitation_by_token, invitations_of, member_count, members_of, memberships_for_user
from .services.accounts import account_create, account_settings_update
from .services.api_keys import api_key_create, api_key_revoke
from .services.invitations import invitation_accept, invitation_create, invitation_revoke
from .services.members import membership_change_role, membership_remove
from .tenancy.middleware import SESSION_KEY
from .tenancy.views import TenantViewMixin


def _back(request, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return redirect(default)


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "accounts/home.html")


@login_required
def dashboard(request):
    context = {}
    if request.account is not None:
        context = {
            "member_count": member_count(request.account),
            "pending_invitations": invitations_of(request.account).filter(status=Invitation.Status.PENDING).count(),
            "api_key_count": api_keys_of(request.account).filter(revoked_at__isnull=True).count(),
        }
    return render(request, "accounts/dashboard.html", context)


@login_required
@require_POST
def account_switch(request):
    account_id = request.POST.get("account_id", "")
    membership = memberships_for_user(request.user).filter(account_id=account_id).first() if account_id else None
    if membership is None:
        messages.error(request, gettext("You are not a member of that account."))
    else:
        request.session[SESSION_KEY] = str(membership.account_id)
        messages.success(request, gettext("Switched to %(account)s.") % {"account": membership.account.name})
    return _back(request, "dashboard")


class AccountCreateView(View):
    def get(self, request):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        return render(request, "accounts/account_new.html", {"form": forms.AccountCreateForm()})

    def post(self, request):
        if not request.user.is_authenticated:
            return redirect("account_login")
        form = forms.AccountCreateForm(request.POST)
        if form.is_valid():
            account = account_create(owner=request.user, **form.cleaned_data)
            request.session[SESSION_KEY] = str(account.id)
            messages.success(request, gettext("Account %(account)s created.") % {"account": account.name})
            return redirect("dashboard")
        return render(request, "accounts/account_new.html", {"form": form}, status=400)


class ProfileView(View):
    def _forms(self, request, data=None):
        profile, _ = UserProfile.objects.get_or_create(user=request.user)
        prefs, _ = UserPreferences.objects.get_or_create(user=request.user)
        return (
            forms.UserForm(data, instance=request.user, prefix="user"),
            forms.ProfileForm(data, instance=profile, prefix="profile"),
            forms.PreferencesForm(data, instance=prefs, prefix="prefs"),
        )

    def get(self, request):
        if not request.user.is_authenticated:
            return redirect("account_login")
        return render(request, "accounts/settings_profile.html", {"forms": self._forms(request)})

    def post(self, request):
        if not request.user.is_authenticated:
            return redirect("account_login")
        bound = self._forms(request, request.POST)
        if all(f.is_valid() for f in bound):
            with transaction.atomic():
                for f in bound:
                    f.save()
            messages.success(request, gettext("Profile saved."))
            return redirect("settings_profile")
        return render(request, "accounts/settings_profile.html", {"forms": bound}, status=400)


class AccountSettingsView(TenantViewMixin, View):
    def get(self, request):
        form = forms.AccountForm(instance=self.account)
        return render(request, "accounts/settings_account.html", {"form": form})

    def error_url(self) -> str:
        return reverse("settings_account")

    def post(self, request):
        form = forms.AccountForm(request.POST, instance=Account(name=self.account.name))
        if form.is_valid():
            try:
                account_settings_update(account=self.account, actor=self.membership, **form.cleaned_data)
            except InvalidInput as exc:  # on the form, next to its fields; Forbidden: the 403 page
                for name, errors in (exc.fields or {}).items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                messages.success(request, gettext("Account saved."))
                return redirect("settings_account")
        return render(request, "accounts/settings_account.html", {"form": form}, status=400)


class MembersView(TenantViewMixin, View):
    def get(self, request, invite_form=None):
        can_manage = request.account_role.at_least(Role.ADMIN)
        members = list(members_of(self.account))
        for member in members:  # admins and owners act on nobody ranked above them
            member.manageable = can_manage and request.account_role.at_least(member.role_enum)
        context = {
            "members": members,
            "invitations": invitations_of(self.account).filter(status=Invitation.Status.PENDING) if can_manage else [],
            "invite_form": invite_form or forms.InviteForm(),
            "roles": Role.choices,
            "can_manage": can_manage,
        }
        return render(request, "accounts/settings_members.html", context)

    def post(self, request):
        form = forms.InviteForm(request.POST)
        if not form.is_valid():
            return self.get(request, invite_form=form)
        email = form.cleaned_data["email"]
        ok = run_and_report(
            request,
            lambda: invitation_create(account=self.account, actor=self.membership, **form.cleaned_data),
            gettext("Invitation sent to %(email)s.") % {"email": email},
        )
        return redirect("settings_members") if ok else self.get(request, invite_form=form)


class MemberRoleView(TenantViewMixin, View):
    def post(self, request, pk):
        membership = self.get_scoped_object(Membership, pk=pk)
        form = forms.RoleForm(request.POST)
        if form.is_valid():
            run_and_report(
                request,
                lambda: membership_change_role(
                    account=self.account, actor=self.membership, membership=membership, role=form.cleaned_data["role"]
                ),
                gettext("%(email)s is now %(role)s.")
                % {"email": membership.user.email, "role": form.cleaned_data["role"]},
            )
        else:
            messages.error(request, gettext("Choose a valid role."))
        return redirect("settings_members")


class MemberRemoveView(TenantViewMixin, View):
    def post(self, request, pk):
        membership = self.get_scoped_object(Membership, pk=pk)
        leaving = membership.pk == self.membership.pk
        ok = run_and_report(
            request,
            lambda: membership_remove(account=self.account, actor=self.membership, membership=membership),
            "You left the account." if leaving else f"{membership.user.email} was removed.",
        )
        if ok and leaving:
            request.session.pop(SESSION_KEY, None)
            return redirect("dashboard")
        return redirect("settings_members")


class InvitationRevokeView(TenantViewMixin, View):
    required_role = Role.ADMIN

    def post(self, request, pk):
        invitation = self.get_scoped_object(Invitation, pk=pk)
        run_and_report(
            request,
            lambda: invitation_revoke(account=self.account, actor=self.membership, invitation=invitation),
            gettext("Invitation to %(email)s revoked.") % {"email": invitation.email},
        )
        return redirect("settings_members")


class ApiKeysView(TenantViewMixin, View):
    required_role = Role.ADMIN

    def get(self, request, form=None, new_key=None):
        context = {"keys": api_keys_of(self.account), "form": form or forms.ApiKeyForm(), "new_key": new_key}
        return render(request, "accounts/settings_api_keys.html", context)

    def post(self, request):
        form = forms.ApiKeyForm(request.POST)
        if not form.is_valid():
            return self.get(request, form=form)
        try:
            key, raw = api_key_create(account=self.account, actor=self.membership, **form.cleaned_data)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return self.get(request, form=form)
        # Rendered, not redirected: the secret must never land in a URL or the session.
        return self.get(request, new_key={"name": key.name, "secret": raw})


class ApiKeyRevokeView(TenantViewMixin, View):
    required_role = Role.ADMIN

    def post(self, request, pk):
        key = self.get_scoped_object(ApiKey, pk=pk)
        run_and_report(
            request,
            lambda: api_key_revoke(account=self.account, actor=self.membership, api_key=key),
            gettext("Key %(key)s revoked.") % {"key": key.name},
        )
        return redirect("settings_api_keys")


class InvitationAcceptView(View):
    """The link from the invitation email."""

    def get(self, request, token):
        invitation = invitation_by_token(token)
        if not request.user.is_authenticated:
            request.session["invitation_next"] = request.path
            if invitation is not None and invitation.is_usable:
                # The mail reached this address: signing up with it needs no second verification.
                from allauth.account.adapter import get_adapter

                get_adapter(request).stash_verified_email(request, invitation.email)
        return render(request, "accounts/invitation_accept.html", {"invitation": invitation, "token": token})

    def post(self, request, token):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        invitation = invitation_by_token(token)
        try:
            membership = invitation_accept(invitation=invitation, user=request.user)
        except ServiceError as exc:
            messages.error(request, exc.message)
            return render(
                request,
                "accounts/invitation_accept.html",
                {"invitation": invitation, "token": token},
                status=exc.status,
            )
        request.session[SESSION_KEY] = str(membership.account_id)
        messages.success(request, gettext("Welcome to %(account)s.") % {"account": membership.account.name})
        return redirect("dashboard")
