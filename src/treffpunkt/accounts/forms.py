from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.models import Role, TermsKind

PASSWORD_HELP = _("At least 10 characters; not only digits and not a common password.")


class RegistrationForm(forms.Form):
    display_name = forms.CharField(
        label=_("Your name"),
        max_length=80,
        help_text=_("Staff see this name. Your e-mail address stays private."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        help_text=PASSWORD_HELP,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_repeat = forms.CharField(
        label=_("Repeat password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_repeat"):
            self.add_error("password_repeat", _("The two passwords differ."))
        return data


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        "invalid_login": _(
            "E-mail address or password is wrong. After several failed attempts the login "
            "is paused for a while."
        ),
        "inactive": _("This account is switched off. Please contact your organization."),
        "unconfirmed": _(
            "Please confirm your e-mail address first: open the link in the mail we sent you."
        ),
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if user.email_confirmed_at is None:
            raise forms.ValidationError(self.error_messages["unconfirmed"], code="unconfirmed")


class AcceptTermsForm(forms.Form):
    version_ids = forms.CharField(widget=forms.HiddenInput)
    agree = forms.BooleanField(
        label=_("I have read and accept these terms of use and the privacy notice."),
        error_messages={"required": _("Please tick the box to accept.")},
    )

    def clean_version_ids(self) -> list[int]:
        raw = self.cleaned_data["version_ids"]
        try:
            return [int(part) for part in raw.split(",") if part]
        except ValueError as exc:
            raise forms.ValidationError(_("The form was changed. Please reload the page.")) from exc


def time_zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone.replace("_", " ")) for zone in sorted(available_timezones()) if "/" in zone]


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Your name"), max_length=80)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        help_text=_("Times of appointments are shown in this zone."),
    )


class InvitationForm(forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=80)
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            (Role.STAFF.value, Role.STAFF.label),
            (Role.ORG_ADMIN.value, Role.ORG_ADMIN.label),
        ],
    )


class AcceptInvitationForm(forms.Form):
    display_name = forms.CharField(label=_("Your name"), max_length=80)
    password = forms.CharField(
        label=_("Password"),
        help_text=PASSWORD_HELP,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_repeat = forms.CharField(
        label=_("Repeat password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_repeat"):
            self.add_error("password_repeat", _("The two passwords differ."))
        return data


class PublishTermsForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=TermsKind.choices)
    label = forms.CharField(
        label=_("Version label"), max_length=60, help_text=_("For example “2026-12” or “3.1”.")
    )
    effective_at = forms.DateTimeField(
        label=_("In force from"),
        help_text=_("Date and time in your organization's time zone."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M"],
    )
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 14}))


class RevealEmailForm(forms.Form):
    reason = forms.CharField(
        label=_("Why do you need this member's e-mail address?"),
        min_length=10,
        max_length=500,
        help_text=_("Your reason is written to the audit log."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AppCodeForm(forms.Form):
    """The first code from a newly set-up authenticator app."""

    code = forms.CharField(
        label=_("Code from the app"),
        max_length=10,
        help_text=_("The 6 digits the app shows now."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


class SecondFactorCodeForm(forms.Form):
    """A code from the app, or one of the recovery codes (letters and digits)."""

    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6 digits your app shows now, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )
