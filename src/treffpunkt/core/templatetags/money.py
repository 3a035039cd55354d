"""``{% load money %}{{ amount|money }}``: an amount in euros as the active language writes it."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings
from django.utils.translation import get_language

from treffpunkt.core.money import format_money

register = template.Library()


@register.filter(name="money")
def money(amount: Decimal | int | str | None) -> str:
    """``format_money`` in the active language ("1.234,56 €", "€1,234.56").

    Nothing for no amount: None, or the empty string a template passes for a variable it cannot
    find. Anything else that is not an amount (a float, a text) raises instead of being shown:
    a wrong amount on a page is worse than a page that fails its test."""
    if amount is None or amount == "":
        return ""
    if isinstance(amount, str):
        raise TypeError(f"the money filter takes an amount, not the text {amount!r}")
    return format_money(amount, language=get_language() or settings.LANGUAGE_CODE)
