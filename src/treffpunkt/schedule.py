"""What runs when: the one declared schedule of periodic jobs.

``manage.py run_scheduler`` reads this list. Later features add their jobs here (reminders,
expiry of requests, retention, billing runs), so this file is the place to read all of them.

``when`` says when a job runs, in one of these cadences (``treffpunkt.core.scheduler``):

- ``Every(timedelta(minutes=1))``: once per interval, slots counted from the Unix epoch in UTC
  (so ``Every(timedelta(days=1))`` is midnight UTC);
- ``Daily(at=time(3), zone="Europe/Berlin")``: every day at 03:00 Berlin time;
- ``Weekly(weekday=calendar.MONDAY, at=time(6), zone="Europe/Berlin")``;
- ``Monthly(day=1, at=time(2), zone="Europe/Berlin")``: day 29 to 31 means the month's last day
  in shorter months.

A job runs once per occurrence. After downtime it runs once for the latest missed occurrence,
and a job new here runs its latest past occurrence at the scheduler's first check, so a task
must work out what is left to do from the data, not from the time it runs. A wall time the
daylight-saving change skips runs that much later (02:30 at 03:30), one it repeats runs the
first time.
"""

from __future__ import annotations

from datetime import timedelta

from treffpunkt.booking.tasks import expire_unanswered_requests, send_due_reminders
from treffpunkt.calls.tasks import end_abandoned_calls
from treffpunkt.core.scheduler import Every, PeriodicJob
from treffpunkt.core.tasks import prune_scheduler_history
from treffpunkt.messaging.tasks import (
    delete_expired_messages,
    send_member_notices,
    send_staff_digests,
)
from treffpunkt.notifications.tasks import send_due_mail

SCHEDULE: list[PeriodicJob] = [
    PeriodicJob(
        name="notifications.send_due_mail",
        task=send_due_mail,
        when=Every(timedelta(minutes=1)),
        description="Send mails that are due: retries after a failure, and any missed task.",
    ),
    PeriodicJob(
        name="booking.expire_unanswered_requests",
        task=expire_unanswered_requests,
        when=Every(timedelta(minutes=1)),
        description="Expire requests nobody answered in time, free their slots, tell members.",
    ),
    PeriodicJob(
        name="booking.send_due_reminders",
        task=send_due_reminders,
        when=Every(timedelta(minutes=1)),
        description="Send the reminder mails before confirmed appointments.",
    ),
    PeriodicJob(
        name="calls.end_abandoned_calls",
        task=end_abandoned_calls,
        when=Every(timedelta(minutes=1)),
        description="End calls whose window closed or whose pages all went away.",
    ),
    PeriodicJob(
        name="messaging.send_member_notices",
        task=send_member_notices,
        when=Every(timedelta(minutes=1)),
        description="Tell members by mail (without content) that a message waits, once per "
        "batching window and only if still unread.",
    ),
    PeriodicJob(
        name="messaging.send_staff_digests",
        task=send_staff_digests,
        when=Every(timedelta(minutes=1)),
        description="Send the opt-in digest to staff whose inbox has new member messages.",
    ),
    PeriodicJob(
        name="messaging.delete_expired_messages",
        task=delete_expired_messages,
        when=Every(timedelta(hours=6)),
        description="Delete messages and files of conversations closed longer ago than the "
        "organization keeps them.",
    ),
    PeriodicJob(
        name="core.prune_scheduler_history",
        task=prune_scheduler_history,
        when=Every(timedelta(days=1)),
        description="Forget scheduler bookkeeping older than a week.",
    ),
]
