from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils import timezone

from ..core.forms import model_choice_field
from .models import TokenScope, User


class LoginForm(AuthenticationForm):
    def clean(self):
        if not settings.PASSWORD_LOGIN_ENABLED:
            raise forms.ValidationError(
                "Password sign-in is switched off: sign in with single sign-on.",
                code="password_login_off")
        return super().clean()

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if user.is_service_account:
            raise forms.ValidationError(
                "Service accounts act only through API tokens.", code="service_account")


class TokenForm(forms.Form):
    """A new API token. Admins may also make one for a service account."""

    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “CI pipeline”.")
    scopes = forms.MultipleChoiceField(choices=TokenScope.choices,
                                       widget=forms.CheckboxSelectMultiple)
    expires_in_days = forms.IntegerField(label="Expires in (days)", min_value=1, max_value=366,
                                         initial=90)
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False,
                                  label="For service account",
                                  help_text="Leave empty for a token of your own.")

    def __init__(self, *args, for_service_accounts: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if for_service_accounts:
            model_choice_field(self, "user").queryset = User.objects.filter(
                is_service_account=True, is_active=True).order_by("username")
        else:
            del self.fields["user"]

    def expires_at(self):
        return timezone.now() + timedelta(days=self.cleaned_data["expires_in_days"])


class ResetForm(PasswordResetForm):
    """Django's reset by e-mail, never for service accounts (they have no password to reset)."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if not user.is_service_account)

    def send_mail(self, subject_template_name, email_template_name, context, from_email,
                  to_email, html_email_template_name=None) -> None:
        """Queue the e-mail in the outbox: the worker sends it, the request never waits on the
        mail server."""
        from django.template import loader

        from .outbox import email_queue

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        email_queue(to=[to_email], subject=subject, body=body)


class CodeForm(forms.Form):
    code = forms.CharField(label="Code", max_length=20, widget=forms.TextInput(attrs={
        "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text="The six digits your authenticator app shows, or a recovery code.")
