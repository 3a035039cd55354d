"""Template helpers of the back office's pages."""

from __future__ import annotations

import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_AFTER_SEPARATOR = re.compile(r"(?<=[./_])")


@register.filter
def code_breaks(value: object) -> SafeString:
    """A code such as ``accounts.member.email_revealed`` with line-break opportunities after
    its dots, slashes and underscores: in a narrow column it wraps between its words instead
    of in the middle of one."""
    parts = _AFTER_SEPARATOR.split(str(value))
    # Each part is escaped; only the <wbr> between them is markup.
    return mark_safe("<wbr>".join(str(conditional_escape(part)) for part in parts))  # noqa: S308
