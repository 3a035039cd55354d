"""Reading configuration from the environment (12-factor).

Every setting has a default that makes the embedded mode work with no variable at all;
production mode (``TREFFPUNKT_MODE=production``) refuses to start without the few that
must never be guessed (``SECRET_KEY``, ``ALLOWED_HOSTS``).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in TRUE_WORDS


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_key_from_file(path: Path) -> str:
    """Embedded mode: make a secret key once and keep it in var/ so sessions survive restarts."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Create with owner-only permissions: the key signs sessions and reset links.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


@dataclass(frozen=True)
class MailSettings:
    backend: str
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False
    file_path: str = ""


def parse_email_url(url: str, *, default_file_path: Path) -> MailSettings:
    """Turn ``EMAIL_URL`` into Django mail settings.

    Supported: ``smtp://user:pass@host:port`` (``?tls=1`` for STARTTLS), ``smtps://…`` for
    implicit TLS, ``file:///path`` (or ``file://`` for var/mail), ``console://``.
    """
    parts = urlparse(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme in {"smtp", "smtps"}:
        return MailSettings(
            backend="django.core.mail.backends.smtp.EmailBackend",
            host=parts.hostname or "localhost",
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            use_tls=query.get("tls", "").lower() in TRUE_WORDS,
            use_ssl=parts.scheme == "smtps",
        )
    if parts.scheme == "file":
        return MailSettings(
            backend="django.core.mail.backends.filebased.EmailBackend",
            file_path=unquote(parts.path) or str(default_file_path),
        )
    if parts.scheme == "console":
        return MailSettings(backend="django.core.mail.backends.console.EmailBackend")
    raise ImproperlyConfigured(
        f"EMAIL_URL has an unknown scheme {parts.scheme!r}; use smtp, smtps, file or console"
    )
