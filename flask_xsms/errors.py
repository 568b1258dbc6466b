"""Exceptions raised by flask-xsms."""
from __future__ import annotations

__all__ = [
    "XSMSError",
    "RowError",
    "BindingError",
    "NumberError",
    "DomainNotFound",
    "PermissionDenied",
    "InvalidWebhookRequest",
    "SendError",
    "CredentialsMissing",
    "AuthenticationFailed",
    "OptedOut",
    "InvalidNumber",
    "RateLimited",
    "TwilioUnavailable",
    "InvalidMessage",
    "WhatsAppWindowClosed",
    "NumberNotBound",
    "SimulationError",
    "TwilioSetupError",
    "ConversationTaken",
    "NotTakenOver",
    "MediaError",
    "MediaCredentialsMissing",
]

import dataclasses
import typing as t

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


class SendError(XSMSError):
    """An outbound message could not be sent. The message is stored with the reason.

    :param message: what went wrong, ready to log (never holds credentials).
    :param code: Twilio's error code (``21211``…), or ``None`` when Twilio never answered.
    :param status: the HTTP status Twilio answered, or ``None``.
    :param sent_message: the stored :class:`~flask_xsms.models.Message`, when there is one.
    :param retryable: overrides the class's :attr:`retryable`.

    :attr:`retryable` tells whether the message was kept ``"pending"`` so that
    :func:`flask_xsms.outbound.send_pending` tries it again.
    """

    #: Whether the stored message stays ``"pending"`` for another attempt.
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: int | None = None,
        sent_message: t.Any = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.sent_message = sent_message
        if retryable is not None:
            self.retryable = retryable


class CredentialsMissing(SendError):
    """No Twilio credentials are configured for the message's account."""


class AuthenticationFailed(SendError):
    """Twilio refused the account's credentials (error 20003)."""


class OptedOut(SendError):
    """The customer opted out of messages from this number (STOP, or Twilio error 21610)."""


class InvalidNumber(SendError):
    """Twilio says the ``To`` number is not valid or cannot get SMS (21211, 21614)."""


class RateLimited(SendError):
    """Twilio asked to slow down (HTTP 429, error 20429). Kept pending; safe to retry."""

    retryable = True


class TwilioUnavailable(SendError):
    """Twilio could not be reached, or answered with a server error (5xx).

    Kept pending when nothing was sent for sure (no connection, or an error answer);
    stored as failed when the answer never came (a read time-out), since Twilio may
    have sent the message and trying again could send it twice.
    """

    retryable = True


class InvalidMessage(XSMSError, ValueError):
    """A message to send breaks a rule (no body and no media, too many media…).

    Raised before anything is stored.
    """


class WhatsAppWindowClosed(InvalidMessage):
    """A free-form WhatsApp message outside the 24-hour customer service window.

    Raised before anything is stored; send an approved template (``content_sid``)
    instead.

    :param code: ``63016``, Twilio's error for the same mistake.
    :param closed_at: when the window closed, or ``None`` when the customer never wrote.
    """

    def __init__(
        self, message: str, *, code: int = 63016, closed_at: t.Any = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.closed_at = closed_at


class NumberNotBound(XSMSError, LookupError):
    """The sending number is not bound to an application of the IA Domain."""


class SimulationError(XSMSError):
    """The SMS simulator could not play Twilio's part; the message says why."""


class TwilioSetupError(XSMSError):
    """Checking or configuring a number through Twilio's API failed.

    :param message: what went wrong, ready to show (never holds credentials).
    :param reason: a short key: ``"credentials"`` (missing or refused),
        ``"not_found"``, ``"rate_limited"``, ``"unavailable"`` (5xx, no connection,
        time-out), ``"url"`` (the public URL is unknown), ``"messaging_service"`` (a
        Messaging Service, configured in the Twilio console instead), ``"whatsapp"`` (a
        WhatsApp sender, also configured in the Twilio console) or ``"error"``.
    :param code: Twilio's error code, or ``None`` when Twilio never answered.
    :param status: the HTTP status Twilio answered, or ``None``.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str = "error",
        code: int | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.code = code
        self.status = status


class ConversationTaken(XSMSError):
    """Another operator has the conversation; :attr:`agent_name` says who."""

    def __init__(self, message: str, *, agent_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.agent_name = agent_name


class NotTakenOver(XSMSError):
    """An operator reply or hand-back to a conversation that the operator does not have."""


class MediaError(XSMSError):
    """Inbound media could not be fetched (:func:`flask_xsms.media.fetch`).

    :param message: what went wrong, ready to log (never holds credentials).
    :param reason: a short key: ``"credentials"`` (no account, or no credentials for it),
        ``"not_twilio"`` (not a media URL of the account on Twilio's API: refused before
        any request, so the credentials were not sent), ``"unauthorized"`` (Twilio
        refused the credentials: 401 or 403), ``"not_found"`` (404: the media was deleted
        or never existed), ``"too_large"``, ``"redirect"`` (too many redirects, or one to
        a URL that is not http or https), ``"timeout"``, ``"unavailable"`` (no
        connection, a network error, 429 or 5xx) or ``"error"`` (another HTTP status).
    :param url: the media URL that was asked for.
    :param status: the HTTP status of the answer, or ``None`` when none came.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str = "error",
        url: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.url = url
        self.status = status


class MediaCredentialsMissing(MediaError, CredentialsMissing):
    """No X-Platform account, or no Twilio credentials for it, to fetch media with.

    Its :attr:`~MediaError.reason` is ``"credentials"``; it is also a
    :class:`CredentialsMissing`. Nothing was requested.
    """
