"""``{% load local_time %}{{ appointment.start|wall_time }}``: a time of day in the viewer's
time zone, with the zone's offset where the time alone is ambiguous.

On the day the clocks go back, one wall time happens twice; a slot list would show 02:30 and
then 02:20 with nothing to tell them apart. There the time carries "summer time, UTC+2" or
"winter time, UTC+1"; everywhere else it is the plain time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from treffpunkt.core.clock import wall_time_repeats

register = template.Library()


def _utc_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def which_of_two(local: datetime) -> str:
    """The words that tell a repeated wall time apart, e.g. "summer time, UTC+2"."""
    offset = local.utcoffset() or timedelta(0)
    dst = local.dst()
    if dst is None:
        return _utc_offset(offset)
    season = _("summer time") if dst else _("winter time")
    return f"{season}, {_utc_offset(offset)}"


@register.filter
def wall_time(value: datetime | None) -> str:
    """The time of day in the active time zone ("02:30"), marked where it happens twice."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    text = formats.time_format(local, "TIME_FORMAT")
    if wall_time_repeats(local):
        return f"{text} ({which_of_two(local)})"
    return text
