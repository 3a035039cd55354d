"""Provider switches on the contract's page in the back office: record one (coming in with the
agreed day and time frame, or going out with the expected day) and record it done."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from treffpunkt.accounts.models import User
from treffpunkt.backoffice.listing import FormPage
from treffpunkt.contracts.models import ProviderSwitch, SwitchDirection
from treffpunkt.contracts.services import switching
from treffpunkt.contracts.views_backoffice import CONTRACTS, WRITES, _ContractAction, contract_url
from treffpunkt.core.errors import DomainError


class SwitchForm(forms.Form):
    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"),
        choices=SwitchDirection.choices,
        widget=forms.RadioSelect,
    )
    other_provider = forms.CharField(label=gettext_lazy("Other provider"), max_length=200)
    agreed_on = forms.DateField(
        label=gettext_lazy("Agreed day (switch in) or expected day (switch away)"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    window_from = forms.TimeField(
        label=gettext_lazy("Time frame from (switch in)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    window_until = forms.TimeField(
        label=gettext_lazy("Time frame until (switch in)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("direction") == SwitchDirection.IN:
            for name in ("window_from", "window_until"):
                if not data.get(name):
                    self.add_error(name, _("A switch in needs the agreed time frame."))
        return data


@method_decorator(WRITES, name="dispatch")
class RecordSwitch(_ContractAction):
    form_class = SwitchForm
    submit_text = gettext_lazy("Record the provider switch")
    intro = gettext_lazy(
        "Coming in: the service goes on on the agreed day within the agreed time frame (§ 5 (II) "
        "of the terms). Going away: the service stays on until the new provider's is active, "
        "then the contract ends (§ 19 (I))."
    )

    def get_title(self) -> str:
        return self.title_for(_("Provider switch for contract %(number)s (%(product)s)"))

    def act(self, form: forms.Form) -> str:
        data = form.cleaned_data
        actor = cast(User, self.request.user)
        if data["direction"] == SwitchDirection.IN:
            switching.record_switch_in(
                actor=actor,
                contract=self.contract,
                other_provider=data["other_provider"],
                agreed_on=data["agreed_on"],
                window_from=data["window_from"],
                window_until=data["window_until"],
            )
        else:
            switching.record_switch_out(
                actor=actor,
                contract=self.contract,
                other_provider=data["other_provider"],
                expected_on=data["agreed_on"],
            )
        messages.success(self.request, _("The provider switch was recorded."))
        return contract_url(self.contract)


class DoneForm(forms.Form):
    on = forms.DateField(
        label=gettext_lazy("The new provider's service is active since"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


@method_decorator(WRITES, name="dispatch")
class SwitchDone(FormPage):
    form_class = DoneForm
    part_of = CONTRACTS
    switch: ProviderSwitch

    def load(self, **kwargs: Any) -> None:
        self.switch = get_object_or_404(
            ProviderSwitch.objects.select_related("contract__product"), pk=kwargs["pk"]
        )

    @property
    def submit_text(self) -> Any:
        if self.switch.direction == SwitchDirection.IN:
            return _("The service is on now")
        return _("End the contract: the switch is done")

    def get_title(self) -> str:
        return _("Provider switch of contract %(number)s done") % {
            "number": self.switch.contract.number
        }

    def back(self) -> tuple[str, str]:
        return contract_url(self.switch.contract), _("Back to the contract")

    def act(self, form: forms.Form) -> str:
        actor = cast(User, self.request.user)
        if self.switch.direction == SwitchDirection.IN:
            switching.switch_in_done(actor=actor, switch=self.switch)
        else:
            on = form.cleaned_data.get("on")
            if on is None:
                raise DomainError(
                    _("Say since when the new provider's service is active."), code="on"
                )
            switching.switch_out_done(actor=actor, switch=self.switch, on=on)
        messages.success(self.request, _("The provider switch is done."))
        return contract_url(self.switch.contract)
