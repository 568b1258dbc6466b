"""Exceptions raised by flask-xsms."""
from __future__ import annotations

import dataclasses

from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import NotFound


class XSMSError(Exception):
    """Base class of every flask-xsms error."""


@dataclasses.dataclass(frozen=True)
class RowError:
    """What is wrong with one row of a save.

    :param row: index of the row in the list that was saved (0-based).
    :param field: ``"phone_number"`` or ``"application"``.
    :param message: the rule's words, ready to show.
    """

    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


class BindingError(XSMSError):
    """A save of a domain's number bindings broke a rule; nothing was saved.

    :attr:`errors` holds one :class:`RowError` per problem.
    """

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"row {e.row + 1}: {e.message}" for e in errors))


class NumberError(XSMSError, ValueError):
    """A phone number is missing, malformed or invalid. The message says which."""


class DomainNotFound(XSMSError, NotFound):
    """The host's domain loader knows no such domain."""

    description = "There is no such IA Domain."


class PermissionDenied(XSMSError, Forbidden):
    """The host's permission callback refused access to a domain."""

    description = "You may not manage the integrations of this IA Domain."


class InvalidWebhookRequest(XSMSError, BadRequest):
    """A signed webhook request lacks a parameter it needs (``From``, ``To``, ...).

    Answered with 400 and the short reason in :attr:`description`.
    """
