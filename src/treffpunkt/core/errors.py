"""Domain errors: raised by services, turned into a message or status by views and consumers."""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """A rule of the product was not met. The message is shown to the user as it is."""

    def __init__(self, message: str | Promise, *, code: str = "invalid") -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code


class NotAllowed(DomainError):
    """The actor may not do this (views answer 404 for other organizations' data, 403 otherwise)."""

    def __init__(self, message: str | Promise = "", *, code: str = "not_allowed") -> None:
        super().__init__(message, code=code)
