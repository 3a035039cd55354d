"""The only way messages, conversations and their state change (P-MSG-1 … P-MSG-3).

Every function is atomic; events and mails leave only after commit. Reading (``mark_read``) and
page presence change state but are not audited: they are not decisions anybody needs to trace,
and the audit log would otherwise grow with every glance at a page.

What lives where (callers import from this package, not from its modules):

- ``posting``: writing: a new message with its files, a member's inquiry, the conversation
  that comes with an appointment.
- ``reading``: read markers, and which conversation pages are open (presence).
- ``handling``: the team's handling: assigning, closing, reopening.
- ``notices``: the notification mails (P-MSG-2, P-MSG-3): members' notices of new messages,
  batched, and the staff digest.
- ``retention``: deleting the contents of conversations closed longer than their organization
  keeps them.
- ``setup``: the org admin's setup: inquiry topics and the retention time.
- ``_common``: what a message shares with reading and handling: moving a read marker,
  announcing an assignment, a conversation's audit entry.

The modules import one another in one direction only, so there is no cycle: ``_common`` is
used by several; ``posting`` uses ``notices`` (a message opens a batching window), which uses
``reading`` (no mail while the member has the page open).
"""

from treffpunkt.messaging.services.handling import (
    assign,
    close,
    close_for_deleted_account,
    reopen,
)
from treffpunkt.messaging.services.notices import (
    RECHECK_WHILE_PRESENT,
    batching_window,
    send_member_notices,
    send_staff_digests,
    set_digest,
)
from treffpunkt.messaging.services.posting import (
    CHANGED_BY_A_MESSAGE,
    MAX_TEXT_CHARS,
    Posted,
    open_for_appointment,
    post_message,
    start_inquiry,
)
from treffpunkt.messaging.services.reading import (
    PRESENCE_TIMEOUT,
    enter_page,
    leave_page,
    mark_read,
    still_on_page,
)
from treffpunkt.messaging.services.retention import delete_expired_messages, months_before
from treffpunkt.messaging.services.setup import add_topic, change_topic, set_retention

__all__ = [
    "CHANGED_BY_A_MESSAGE",
    "MAX_TEXT_CHARS",
    "PRESENCE_TIMEOUT",
    "RECHECK_WHILE_PRESENT",
    "Posted",
    "add_topic",
    "assign",
    "batching_window",
    "change_topic",
    "close",
    "close_for_deleted_account",
    "delete_expired_messages",
    "enter_page",
    "leave_page",
    "mark_read",
    "months_before",
    "open_for_appointment",
    "post_message",
    "reopen",
    "send_member_notices",
    "send_staff_digests",
    "set_digest",
    "set_retention",
    "start_inquiry",
    "still_on_page",
]
