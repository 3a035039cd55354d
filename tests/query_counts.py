"""Counting the statements an action sends to the database (the hot-path tests of issue 15)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def queries_of(action: Callable[[], object]) -> int:
    """How many statements ``action`` sends, savepoints included."""
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured.captured_queries)
