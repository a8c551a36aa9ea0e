from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from studio import throttle
from studio.models import Role
from studio.throttle import Verdict


class SignUpForm(forms.Form):
    """Step one of signing up: where to send the confirmation link. Whether the address has an
    account already is never said here (the mail says it)."""

    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    shop_name = forms.CharField(
        max_length=120,
        required=False,
        label="Shop name",
        help_text="Optional; you can rename it later.",
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].lower()


class ChoosePasswordForm(forms.Form):
    """Step two (from the emailed link, or an invitation): the password of the new account."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        min_length=8,
        help_text="At least 8 characters, not a common password.",
    )

    def __init__(self, *args: Any, email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = get_user_model()(username=self.email, email=self.email)
        password_validation.validate_password(password, user)
        return password


class LoginForm(AuthenticationForm):
    """Django's log-in form, throttled per account and per client address (studio/throttle.py).
    A locked account or address is refused before the password is even checked."""

    throttled: Verdict | None = None

    def clean(self) -> dict[str, Any]:
        username = (self.cleaned_data.get("username") or "").strip()
        if self.request is not None:
            verdict = throttle.login_blocked(self.request, username)
            if not verdict.allowed:
                self._refuse(verdict)
        try:
            data = super().clean()
        except forms.ValidationError:
            if self.request is not None:
                verdict = throttle.login_failed(self.request, username)
                if not verdict.allowed:
                    self._refuse(verdict)
            raise
        if self.get_user() is not None:  # only a real log-in clears the account's count
            throttle.login_succeeded(username)
        return data

    def _refuse(self, verdict: Verdict) -> None:
        self.throttled = verdict
        raise forms.ValidationError(
            f"Too many failed log-in attempts. Try again in {verdict.wait_words}, or reset "
            "your password.",
            code="throttled",
        )


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form; past `password-reset-email` mails an hour an address gets no more.
    The page answers the same either way, so it never tells whether an address exists."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        email = self.cleaned_data["email"]
        if not throttle.hit(throttle.rule("password-reset-email"), email).allowed:
            return
        super().save(*args, **kwargs)


class InviteForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.ChoiceField(choices=Role.choices, initial=Role.DESIGNER)


class ShopForm(forms.Form):
    name = forms.CharField(max_length=120)


class ShopSettingsForm(forms.Form):
    """What an owner sets for the whole shop: its name, the model used when a request names
    none (pages and every API family), and the per-key API rate limit."""

    name = forms.CharField(max_length=120)
    default_model = forms.ChoiceField(
        required=False,
        label="Default model",
        help_text="Used when a prompt, preset or API request names no model.",
    )
    api_rate_limit_per_minute = forms.IntegerField(
        min_value=0,
        max_value=100_000,
        label="API requests per minute per key",
        help_text="0 uses the server default.",
    )

    def __init__(
        self, *args: Any, server_default_model: str = "", current_model: str = "", **kwargs: Any
    ) -> None:
        from generations.forms import model_choices

        super().__init__(*args, **kwargs)
        field = self.fields["default_model"]
        choices = model_choices(f"Server default ({server_default_model})")
        if current_model and current_model not in {value for value, _ in choices}:
            # Kept (and saveable) so that changing the name does not force a model change, but
            # shown for what it is: generating with it fails until its engine is configured.
            choices.append((current_model, f"{current_model} · not configured on this server"))
        field.choices = choices  # type: ignore[attr-defined]
        default_limit = settings.API_RATE_LIMIT_PER_MINUTE
        self.fields[
            "api_rate_limit_per_minute"
        ].help_text = f"0 uses the server default ({default_limit} a minute)."
        field.error_messages["invalid_choice"] = (
            "Unknown or unconfigured model %(value)s: choose one of the listed models."
        )
