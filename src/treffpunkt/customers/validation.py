"""Checks of a customer's tax and routing numbers, with messages for the form fields."""

from __future__ import annotations

from django.utils.translation import gettext as _
from stdnum.de import leitweg
from stdnum.de import vat as de_vat
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

from treffpunkt.core.errors import DomainError


def clean_vat_id(raw: str) -> str:
    """The VAT identification number in its compact form ("DE136695976"), or ``DomainError``
    (code ``vat_id``). The country prefix is required; a German number must also pass the
    German check digit."""
    try:
        number = eu_vat.compact(raw)
    except StdnumError:
        number = ""
    if not number:
        raise DomainError(_("Please enter the VAT ID."), code="vat_id")
    if not eu_vat.is_valid(number) or (number.startswith("DE") and not de_vat.is_valid(number)):
        raise DomainError(
            _(
                "This VAT ID is not valid. It starts with the country code and is followed by "
                "the number, for example DE123456789. Please check the digits."
            ),
            code="vat_id",
        )
    return number


def clean_leitweg_id(raw: str) -> str:
    """The Leitweg-ID of a public body's e-invoices, compact, or ``DomainError`` (code
    ``leitweg_id``)."""
    try:
        number = leitweg.compact(raw)
    except StdnumError:
        number = ""
    if not number:
        raise DomainError(_("Please enter the Leitweg-ID."), code="leitweg_id")
    if not leitweg.is_valid(number):
        raise DomainError(
            _(
                "This Leitweg-ID is not valid. It has a coarse address, an optional fine "
                "address and two check digits, separated by hyphens, for example "
                "04011000-1234512345-06. Please check the digits."
            ),
            code="leitweg_id",
        )
    return number
