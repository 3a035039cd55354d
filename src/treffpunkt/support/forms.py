"""The forms of fault tickets. They only shape input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from treffpunkt.billing.models import HardwareDelivery
from treffpunkt.customers.models import Customer
from treffpunkt.messaging.files import MAX_PER_MESSAGE
from treffpunkt.support.models import TicketChannel


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Up to five files (PDF, JPEG, PNG); the service checks what they really are."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Files (optional)"))
        kwargs.setdefault(
            "help_text",
            _("Up to %(count)s screenshots or documents: PDF, JPEG or PNG, 10 MB each.")
            % {"count": MAX_PER_MESSAGE},
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if isinstance(data, list | tuple):
            return [super(FilesField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


# django-stubs types ModelChoiceField by a parameter Django itself does not take at runtime.
class DeviceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A delivered device of the customer, by product and delivery day."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.order_line.product.name} ({obj.delivered_on:%d.%m.%Y})"


class ReportForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("What does not work?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Since when, what you see, who is affected. Please no passwords."),
    )
    hardware = DeviceField(
        label=_("About a device (optional)"),
        queryset=HardwareDelivery.objects.none(),
        required=False,
        empty_label=_("No device"),
    )
    attachments = FilesField()

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["hardware"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101  # declared above
        field.queryset = (
            HardwareDelivery.objects.filter(
                order_line__order__customer=customer, delivered_on__isnull=False
            )
            .select_related("order_line__product")
            .order_by("-delivered_on")
        )


class MessageForm(forms.Form):
    text = forms.CharField(
        label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    attachments = FilesField()


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Answer to the customer"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    attachments = FilesField()
    wait_for_customer = forms.BooleanField(
        label=_("Wait for the customer's answer (the clock stops until they answer)"),
        required=False,
    )


class TextForm(forms.Form):
    text = forms.CharField(
        label=_("Text"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class NothingForm(forms.Form):
    """A button alone."""


class RecordForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.order_by("legal_name")
    )
    channel = forms.ChoiceField(
        label=_("Reported by"),
        choices=[
            (TicketChannel.PHONE, TicketChannel.PHONE.label),
            (TicketChannel.EMAIL, TicketChannel.EMAIL.label),
        ],
    )
    reporter_name = forms.CharField(label=_("Name of the person who reported it"), max_length=200)
    reported_at = forms.DateTimeField(
        label=_("Reported at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Empty: now. The clock starts when the fault was reported."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
