"""Domain errors: raised by services, turned into a message or status by views and consumers.

Two kinds of "no", both ``Refusal``s with a message and a code:

- ``DomainError``: a rule of the product was not met. Views show the message (a form error, a
  flash message); consumers answer with an error frame.
- ``NotAllowed``: the actor may not do this, or the thing is not theirs to see. Views do not
  catch it: one middleware (``core.middleware.NotAllowedIsNotFound``) answers 404, so nobody
  learns whether another organization's object exists. Consumers close or answer with a code.
"""

from __future__ import annotations

from django.utils.functional import Promise


class Refusal(Exception):
    """A service said no. The message is shown to the user as it is."""

    def __init__(self, message: str | Promise = "", *, code: str = "invalid") -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code


class DomainError(Refusal):
    """A rule of the product was not met."""

    def __init__(self, message: str | Promise, *, code: str = "invalid") -> None:
        super().__init__(message, code=code)


class NotAllowed(Refusal):
    """The actor may not do this (views answer 404 through the middleware)."""

    def __init__(self, message: str | Promise = "", *, code: str = "not_allowed") -> None:
        super().__init__(message, code=code)
