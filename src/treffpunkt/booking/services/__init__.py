"""Every way an appointment changes (P-BOOK-1 … P-BOOK-8).

Each function is atomic, writes an audit entry, and queues its mails and live events so that
they leave only after commit. A slot is never given twice (P-BOOK-6): on PostgreSQL an
exclusion constraint over (staff member, blocked time range) refuses the second holder; on
SQLite every write transaction starts with BEGIN IMMEDIATE, so the check and the insert of
one request cannot interleave with another's.

What lives where (callers import from this package, not from its modules):

- ``requests``: a member's request and staff booking for a member (P-BOOK-2, P-BOOK-3), and
  the holding of slots that every change of time goes through (P-BOOK-6): the free slot at a
  time, the alternatives offered when it was just taken (``SlotTaken``), moving a hold.
- ``answers``: the organization's answer to a request and the member's answer to a proposed
  time (P-BOOK-4); an answer after the deadline expires the request instead.
- ``changes``: cancelling and moving (P-BOOK-5).
- ``jobs``: the periodic jobs: expiring unanswered requests, sending reminders (P-BOOK-4,
  P-BOOK-8).
- ``setup``: the organization's settings: consultation types, weekly hours and their
  exceptions, the booking policy (P-BOOK-1).
- ``_common``: what several of them share: the row lock on an appointment for either side,
  confirming, and the mails (with their calendar part) and live events.

The modules import one another in one direction only, so there is no cycle: ``_common`` is
used by all; ``answers`` and ``changes`` use ``requests``; ``answers`` uses ``jobs``.
"""

from treffpunkt.booking.services.answers import (
    RequestExpired,
    accept_proposal,
    confirm_appointment,
    decline_appointment,
    decline_proposal,
    propose_other_time,
)
from treffpunkt.booking.services.changes import (
    cancel_appointment,
    cancel_for_deleted_account,
    move_appointment,
)
from treffpunkt.booking.services.jobs import expire_unanswered_requests, send_due_reminders
from treffpunkt.booking.services.requests import (
    ALTERNATIVES_SHOWN,
    CALENDAR,
    SlotTaken,
    StaffBusy,
    book_for_member,
    request_appointment,
)
from treffpunkt.booking.services.setup import (
    TypeFields,
    add_hours_exception,
    remove_hours_exception,
    save_consultation_type,
    set_weekly_hours,
    update_policy,
)

__all__ = [
    "ALTERNATIVES_SHOWN",
    "CALENDAR",
    "RequestExpired",
    "SlotTaken",
    "StaffBusy",
    "TypeFields",
    "accept_proposal",
    "add_hours_exception",
    "book_for_member",
    "cancel_appointment",
    "cancel_for_deleted_account",
    "confirm_appointment",
    "decline_appointment",
    "decline_proposal",
    "expire_unanswered_requests",
    "move_appointment",
    "propose_other_time",
    "remove_hours_exception",
    "request_appointment",
    "save_consultation_type",
    "send_due_reminders",
    "set_weekly_hours",
    "update_policy",
]
