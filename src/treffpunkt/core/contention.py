"""Writes that race other writers for the same rows or ranges.

``take_turns`` makes writers of the same thing (one staff member's calendar) go one after the
other: on PostgreSQL through transaction-level advisory locks, taken in ascending order so that
two transactions never wait on each other in a circle; SQLite needs none, since every write
transaction there starts with BEGIN IMMEDIATE. A writer that checks for a conflict after its
turn has come sees every rival's committed row, so it can answer "taken" before it writes.

As a second line, for writers that do not take turns: PostgreSQL checks an exclusion
constraint after inserting the new row; two transactions that insert overlapping ranges at the
same moment can each wait for the other, and the database then aborts one of them with
"deadlock detected" (SQLSTATE 40P01). Django raises that as ``OperationalError``, not
``IntegrityError``. For the loser it means the same as a plain constraint violation: a rival
wanted the same time. ``write_against_rivals`` runs such a write in a savepoint, tries once more
after the database broke a deadlock (by then the rival has finished or holds its row, so the
retry gets a clear answer), and reports a race still lost as ``IntegrityError``, so callers
handle every lost race in one place.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import IntegrityError, OperationalError, transaction

T = TypeVar("T")

# deadlock_detected, serialization_failure: the database gave up on one of two rivals.
LOST_RACE_SQLSTATES = frozenset({"40P01", "40001"})
RETRIES_AFTER_DEADLOCK = 2
# exclusion_violation: an exclusion constraint refused a range that overlaps a rival's.
EXCLUSION_VIOLATION = "23P01"


def take_turns(scope: str, keys: Iterable[int]) -> None:
    """Wait until no other transaction holds a turn for ``scope`` and any of ``keys``; keep the
    turns until this transaction ends. Call it inside a transaction, before the first write."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("take_turns needs a transaction: the turn ends with it")
    # pg_advisory_xact_lock(int4, int4): the scope becomes the first key, a stable 32-bit number.
    scope_key = zlib.crc32(scope.encode()) - 2**31
    ordered = sorted(set(keys))
    if not ordered:
        return
    # One round trip for all keys. PostgreSQL evaluates a volatile function in the select list
    # after the ORDER BY, so the locks are taken one by one in ascending order.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, key) FROM unnest(%s::integer[]) AS key ORDER BY key",
            [scope_key, ordered],
        )


def lost_a_race(error: OperationalError) -> bool:
    """Did the database abort this statement to let a concurrent transaction go on?"""
    return getattr(error.__cause__, "sqlstate", None) in LOST_RACE_SQLSTATES


def a_rival_holds_the_range(error: IntegrityError) -> bool:
    """Was a write refused because a rival's row overlaps it (an exclusion constraint, or a
    deadlock the database broke in the rival's favour), rather than for a unique key?"""
    cause = error.__cause__
    if isinstance(cause, OperationalError):
        return lost_a_race(cause)
    return getattr(cause, "sqlstate", None) == EXCLUSION_VIOLATION


def write_against_rivals(write: Callable[[], T]) -> T:
    """Run ``write`` in a savepoint of the current transaction. Raises ``IntegrityError`` when a
    rival holds a conflicting row, whether the database said so directly or broke a deadlock."""
    for attempt in range(RETRIES_AFTER_DEADLOCK + 1):
        try:
            with transaction.atomic():
                return write()
        except OperationalError as exc:
            if not lost_a_race(exc):
                raise
            if attempt == RETRIES_AFTER_DEADLOCK:
                raise IntegrityError("lost a race to a concurrent writer") from exc
    raise AssertionError("unreachable")  # pragma: no cover
