"""The errors a service raises, for every caller alike.

A service never answers a request itself (no ``abort``, no status codes): it
raises one of these, and each caller turns it into what its people read.
The web layer (:mod:`advocacy.security`) shows :class:`NotFound` as the 404
page and :class:`Forbidden` as the 403 page, and a view shows a
:class:`Refused` next to the form field it names (400); the partner API
answers with RFC 9457 problem details; a CLI command prints the message and
exits non-zero.  A worker records it on the row it was working on.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service raises on purpose."""


class Refused(DomainError):
    """What was asked was not done, and nothing changed.

    ``message`` is already translated for the person acting.  ``field``,
    when set, names the form field the message belongs next to.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BedsRefused(Refused):
    """A change of a board refused because of particular beds.

    ``beds`` names each bed in the way, as ``(label, state)``, so that the
    message can say what is actually wrong ("Bed 02A is occupied") and a
    caller other than a page (a test, a command) can tell which beds.
    """

    def __init__(self, message: str, beds: tuple[tuple[str, str], ...]) -> None:
        super().__init__(message)
        self.beds = beds


class NotFound(DomainError):
    """No such object for this actor: it does not exist, or belongs to another
    agency (the two are indistinguishable on purpose)."""


class Forbidden(DomainError):
    """The actor is known but may not do this (a role it does not hold)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or "forbidden")
        self.message = message
