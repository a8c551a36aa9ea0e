from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model, password_validation

from studio.models import Role


class SignUpForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        min_length=8,
        help_text="At least 8 characters, not a common password.",
    )
    shop_name = forms.CharField(
        max_length=120,
        required=False,
        label="Shop name",
        help_text="Optional; you can rename it later.",
    )

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if get_user_model().objects.filter(username=email).exists():
            raise forms.ValidationError(
                "An account with this email already exists; log in instead."
            )
        return email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password"):
            user = get_user_model()(username=data.get("email", ""), email=data.get("email", ""))
            try:
                password_validation.validate_password(data["password"], user)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


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
