"""Settings for the booking benchmark's server (``booking_http.py``): the settings of
``$BOOKING_FLOOR_BASE_SETTINGS`` (default ``treffpunkt.settings``; ``--settings`` of the
benchmark) with the URLconf of ``booking_floor_urls``: the app's URLs plus one bench-only page,
the floor the booking request is measured against. Nothing in the app changes.
"""

from __future__ import annotations

import importlib
import os

_base = importlib.import_module(
    os.environ.get("BOOKING_FLOOR_BASE_SETTINGS", "treffpunkt.settings")
)
globals().update({name: getattr(_base, name) for name in dir(_base) if name.isupper()})

ROOT_URLCONF = "booking_floor_urls"
