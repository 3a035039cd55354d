from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from treffpunkt.accounts.models import User
from treffpunkt.messaging.files import MAX_PER_MESSAGE
from treffpunkt.messaging.models import InquiryTopic, MessagingPolicy
from treffpunkt.messaging.services import MAX_TEXT_CHARS

ACCEPTED_FILES = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (Django's documented pattern); cleans to a list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPTED_FILES}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[Any]]:
        items = data if isinstance(data, (list, tuple)) else [data]
        cleaned = [super(MultipleFileField, self).clean(item, initial) for item in items if item]
        return [item for item in cleaned if item]


class MessageForm(forms.Form):
    text = forms.CharField(
        label=_("Your message"),
        required=False,
        # The length is checked by the service (one rule for page and socket); the browser
        # only gets the hint.
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_TEXT_CHARS}),
    )
    attachments = MultipleFileField(
        label=_("Attach files"),
        required=False,
        help_text=_("PDF, JPEG or PNG, up to 10 MB each, at most %(count)d files.")
        % {"count": MAX_PER_MESSAGE},
    )


class InquiryForm(MessageForm):
    topic = forms.ModelChoiceField(
        label=_("Topic"), queryset=InquiryTopic.objects.none(), empty_label=_("Please choose")
    )
    field_order = ["topic", "text", "attachments"]

    def __init__(self, *args: Any, topics: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField[InquiryTopic], self.fields["topic"]).queryset = topics


class AssignForm(forms.Form):
    staff = forms.ModelChoiceField(
        label=_("Assigned to"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Nobody"),
    )

    def __init__(self, *args: Any, team: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Users show as their display name (``User.__str__``), never their e-mail.
        cast(forms.ModelChoiceField[User], self.fields["staff"]).queryset = team


class DigestForm(forms.Form):
    enabled = forms.BooleanField(required=False)

    def __init__(self, *args: Any, window_minutes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enabled"].label = _(
            "E-mail me when conversations in my inbox have new messages (at most one mail "
            "every %(minutes)d minutes, without any content)"
        ) % {"minutes": window_minutes}


class TopicForm(forms.ModelForm[InquiryTopic]):
    class Meta:
        model = InquiryTopic
        fields = ["name", "is_active"]


class RetentionForm(forms.ModelForm[MessagingPolicy]):
    class Meta:
        model = MessagingPolicy
        fields = ["retention_months"]
        help_texts = {
            "retention_months": _(
                "Messages and files of a closed conversation are deleted this many months "
                "after it was closed."
            )
        }
