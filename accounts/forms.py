from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

from .models import Account, Role, User, UserPreferences, UserProfile


class UserForm(forms.ModelForm):
    avatar_url = forms.URLField(max_length=500, required=False, assume_scheme="https")

    class Meta:
        model = User
        fields = ["full_name", "username", "avatar_url", "locale", "business_name"]


class ProfileForm(forms.ModelForm):
    class Meta:
        model = UserProfile
        fields = ["brand_name", "brand_description", "persona_description", "target_audience"]
        widgets = {
            f: forms.Textarea(attrs={"rows": 3})
            for f in ["brand_description", "persona_description", "target_audience"]
        }


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = UserPreferences
        fields = ["timezone", "theme", "email_notifications", "marketing_emails"]


class AccountForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = ["name", "billing_email"]


class AccountCreateForm(forms.Form):
    name = forms.CharField(max_length=255)
    plan_type = forms.ChoiceField(choices=Account.PlanType.choices, initial=Account.PlanType.TEAM)


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=255)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class SignupForm(AllauthSignupForm):
    """Sign-up that says so when the address is taken.

    allauth's default (enumeration prevention) silently mails the owner instead;
    here a duplicate address, in any letter case, is a form error on `email`.
    """

    def validate_unique_email(self, value):
        email = super().validate_unique_email(value)
        if self.account_already_exists:
            raise get_adapter().validation_error("email_taken")
        return email
