"""Test settings: the real settings with the immediate task backend, in-memory mail and a fast
password hasher. The database is the real one: SQLite by default, PostgreSQL with DATABASE_URL."""

import os

# A settings module is a flat namespace: the tests take every real setting and override a few.
from treffpunkt.settings import *  # noqa: F403
from treffpunkt.settings import DATABASES, VAR_DIR

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Argon2 is what production uses (a test checks the real settings); hashing with it in every
# test would only make the suite slow.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SITE_URL = "http://testserver"
CALL_TEST_HOOKS = True
# Attachments of one test run in their own directory (removed at the end of the run).
PRIVATE_FILES_DIR = VAR_DIR / f"test_private_{os.getpid()}"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: live-server tests serve pages from another thread, which must see
    # the same database. The process id keeps two test runs on one checkout apart.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_treffpunkt_{os.getpid()}.sqlite3")}

# Every HTML page the suite receives is checked for ids used twice (tests/html_checks.py).
MIDDLEWARE = ["tests.html_checks.DuplicateIdWatch", *MIDDLEWARE]  # noqa: F405

# Every audit code a test writes must be registered by its app (with its sentence).
AUDIT_CODES_STRICT = True

# Test processes running side by side (pytest -n) share one Redis: each gets its own channel
# prefix, or a page in one would hear events of another's conversation with the same id.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
_layer_config = CHANNEL_LAYERS["default"].get("CONFIG")  # noqa: F405
if _worker and isinstance(_layer_config, dict) and "prefix" in _layer_config:
    _layer_config["prefix"] = f"{_layer_config['prefix']}-{_worker}"
