"""Forms of the account pages. They parse input; the rules live in accounts.services."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts import throttle
from accounts.models import Role, TokenScope


class LoginForm(AuthenticationForm):
    """Email and password (the username field of User is its email)."""

    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account.",
        "throttled": "Too many failed attempts. Wait 15 minutes, then try again.",
    }

    def clean(self):
        email = self.cleaned_data.get("username") or ""
        address = throttle.client_address(self.request)
        if email and throttle.login_blocked(email=email, address=address):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if email:
                throttle.login_failed(email=email, address=address)
            raise
        throttle.login_succeeded(email=email)
        return cleaned


class AdminLoginForm(LoginForm):
    """The admin site's login: the app's form with its limits (the same counters, so failures
    on either page count together), for staff accounts only."""

    error_messages = {
        **LoginForm.error_messages,
        "invalid_login": "That email and password do not match a staff account.",
    }
    required_css_class = "required"

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.is_staff:
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )


class WorkspaceSwitchForm(forms.Form):
    workspace_id = forms.IntegerField(min_value=1)


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class AcceptSignupForm(forms.Form):
    """Create the invited person's account. The email is the invitation's and is not asked."""

    display_name = forms.CharField(
        label="Your name",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name", "autofocus": True}),
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        return cleaned


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=80, help_text="What it is for, e.g. “Jira sync”.", label="Token name"
    )
    scope = forms.ChoiceField(
        choices=TokenScope.choices, initial=TokenScope.READ, help_text="Read, or read and write."
    )
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="Expires after (days)",
        help_text="Leave empty for a token that does not expire.",
    )
