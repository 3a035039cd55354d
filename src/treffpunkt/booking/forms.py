from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class SlotField(forms.CharField):
    """A slot's start as sent by the slot list: ISO 8601 with its UTC offset."""

    default_error_messages = {"invalid": _("This time slot is not valid. Please choose again.")}

    def clean(self, value: Any) -> datetime | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
        if moment.tzinfo is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return moment


class RequestForm(forms.Form):
    start = SlotField(widget=forms.HiddenInput)
    request_key = forms.UUIDField(widget=forms.HiddenInput)
    note = forms.CharField(
        label=_("Message to your adviser (optional)"),
        required=False,
        max_length=500,
        help_text=_("For example what you would like to talk about. At most 500 characters."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ChooseSlotForm(forms.Form):
    start = SlotField(widget=forms.HiddenInput)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        help_text=_("The member reads this reason."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class StaffCancelForm(forms.Form):
    """A staff member's cancellation: the member reads the reason. Labelled apart from the
    decline form's field, since both can stand on one page."""

    reason = forms.CharField(
        label=_("Reason for the cancellation"),
        max_length=500,
        help_text=_("The member reads this reason."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
