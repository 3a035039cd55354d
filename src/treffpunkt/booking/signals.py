"""What booking announces to the apps above it, which it must not import (messaging, calls,
billing). Each signal is sent inside the transaction of the change it announces, so what a
receiver writes commits or rolls back with it; side effects outside the database belong in
``transaction.on_commit``."""

from __future__ import annotations

from django.dispatch import Signal

# An appointment came into being: requested by a member, or booked by staff for a member.
# Sent once, with ``appointment``, by the transaction that inserted it. Messaging opens the
# appointment's conversation.
appointment_created = Signal()
