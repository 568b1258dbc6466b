"""Outbound messages: an outbox, Twilio's REST client per account, delivery status.

Every message is stored before it is sent, so none is lost when Twilio or the network
fails; Twilio's errors become typed exceptions and are stored on the message.

A message moves through these statuses: ``"pending"`` (in the outbox), ``"sending"``
(claimed by one worker, the request to Twilio is under way), then Twilio's own
(``"queued"``, ``"sent"``, ``"delivered"``…), or ``"failed"``.
"""
from __future__ import annotations

__all__ = [
    "send",
    "send_pending",
    "deliver",
    "pending_ids",
    "release_stale_claims",
    "STATUS_RANK",
    "TERMINAL_STATUSES",
]

import collections.abc as c
import datetime as dt
import logging
import typing as t

import requests
import sqlalchemy as sa
from flask import current_app
from flask import Flask
from twilio.base import values
from twilio.base.exceptions import TwilioException

from . import _optouts as optouts
from . import _channels as channels
from . import statuses
from . import _twilio_api as twilio_api
from . import whatsapp
from .errors import AuthenticationFailed
from .errors import CredentialsMissing
from .errors import InvalidMessage
from .errors import InvalidNumber
from .errors import NumberError
from .errors import NumberNotBound
from .errors import OptedOut
from .errors import RateLimited
from .errors import SendError
from .errors import TwilioUnavailable
from ._state import get_state
from .integrations import webhook_urls
from .models import Integration
from .models import is_messaging_service_sid
from .models import Message
from .models import utcnow
from .numbers import describe
from .numbers import find_binding
from .numbers import normalize_number
from .signals import delivery_status_changed
from .signals import notify
from .signals import message_failed
from .signals import message_sent
from ._twiml import MAX_BODY
from ._twiml import MAX_MEDIA
from .segments import segments_of
from ._twiml import split_body
from ._twiml import text_length
from ._values import Domain
from ._values import Operator

logger = logging.getLogger("flask_xsms")

#: Order of delivery statuses: a status callback only ever moves a message to a higher
#: rank. ``"pending"`` is the outbox; the rest are Twilio's ``MessageStatus`` values.
STATUS_RANK: dict[str, int] = {
    statuses.PENDING: 0,
    "accepted": 1,
    "scheduled": 1,
    "queued": 2,
    statuses.SENDING: 3,
    "sent": 4,
    "partially_delivered": 5,
    "delivered": 6,
    "undelivered": 6,
    statuses.FAILED: 6,
    "canceled": 6,
    "read": 7,
}
#: Statuses that never change again.
TERMINAL_STATUSES = frozenset({"undelivered", statuses.FAILED, "canceled", "read"})

#: Twilio error code of a recipient who opted out (texted STOP).
OPTED_OUT_CODE = 21610
_INVALID_NUMBER_CODES = frozenset({21211, 21614})
_ERRORS_BY_KIND: dict[str, type[SendError]] = {
    twilio_api.CREDENTIALS: AuthenticationFailed,
    twilio_api.RATE_LIMITED: RateLimited,
    twilio_api.UNAVAILABLE: TwilioUnavailable,
}


# -- public API ---------------------------------------------------------------------


def send(
    domain: Domain | str,
    *,
    from_number: str | None = None,
    to: str,
    body: str = "",
    media_urls: c.Sequence[str] = (),
    conversation_id: int | None = None,
    in_reply_to_id: int | None = None,
    messaging_service_sid: str | None = None,
    operator: Operator | None = None,
    content_sid: str | None = None,
    content_variables: t.Mapping[str, t.Any] | None = None,
) -> list[Message]:
    """Send a message from a Twilio number (or Messaging Service) bound in ``domain``
    to a customer.

    The message is stored first, then sent through Twilio's REST API (at once, or by
    :func:`send_pending` when :data:`XSMS_SEND_IMMEDIATELY` is off). A body longer than
    1600 characters is split on word boundaries into several messages; the media go
    with the first one.

    :param domain: the IA Domain, or its id.
    :param from_number: a number bound to an application of the domain.
    :param messaging_service_sid: instead of ``from_number``, a Messaging Service bound
        in the domain; Twilio picks the sender from the service's pool. (A service SID
        given as ``from_number`` works the same.)
    :param to: the customer's number, in E.164; ``whatsapp:+…`` from a WhatsApp sender.
    :param body: the text; may be empty when there are media.
    :param media_urls: at most 10 public URLs of images or other media.
    :param conversation_id: the conversation the message belongs to, if any.
    :param operator: the person who wrote it (an operator's reply in a conversation).
    :param content_sid: instead of ``body`` and ``media_urls``, an approved template
        (``HX…``), e.g. for WhatsApp outside the 24-hour window (see :doc:`whatsapp`).
    :param content_variables: the template's variables, e.g. ``{"1": "Ana"}``.
    :returns: the stored messages, one per part, in order.
    :raises NumberError: when ``from_number`` or ``to`` is not a valid number, or one is
        a WhatsApp address and the other is not.
    :raises NumberNotBound: when ``from_number`` is not bound in the domain.
    :raises InvalidMessage: when there is nothing to send, or more than 10 media.
    :raises WhatsAppWindowClosed: for a free-form WhatsApp message outside the 24-hour
        customer service window; nothing is stored.
    :raises SendError: (a subclass of it) when sending failed; the messages are stored.
    """
    state = get_state()
    _warn_of_pending_changes(state.session)
    domain = state.require_domain(domain)
    if (from_number is None) == (messaging_service_sid is None):
        raise TypeError("send() needs exactly one of from_number and messaging_service_sid.")
    from_number = normalize_number(from_number or messaging_service_sid)
    to = normalize_number(to)
    if is_messaging_service_sid(to):
        raise NumberError(f"{to} is a Messaging Service, not a customer's phone number.")
    _check_channels(from_number, to)
    binding = find_binding(domain.account_id, from_number)
    if binding is None or binding.domain_id != domain.id:
        raise NumberNotBound(
            f"{describe(from_number)} is not bound to an application of the IA Domain"
            f" {domain.label}."
        )
    template: dict[str, str] = {}
    if content_sid is not None:
        if body or media_urls:
            raise InvalidMessage(
                "A template message (content_sid) has no body or media of its own: Twilio"
                " takes them from the template."
            )
        template = whatsapp.template_details(content_sid, content_variables)
    elif content_variables:
        raise InvalidMessage("content_variables need a content_sid (the template's SID).")
    else:
        _check_content(body, media_urls, max_length=None)
    integration = binding.integration
    if channels.is_whatsapp(to) and not template:
        whatsapp.check_window(integration.id, from_number, to)
    # WhatsApp has no segments: a long text is only split at Twilio's 1600 characters.
    one_segment = current_app.config["XSMS_SPLIT_AT_SEGMENTS"] and not channels.is_whatsapp(to)
    parts = split_body(body, one_segment=one_segment) or [""]
    messages = [
        _store(
            integration,
            from_number=from_number,
            to=to,
            body=part,
            media_urls=media_urls if i == 0 else (),
            application_id=binding.application_id,
            conversation_id=conversation_id,
            in_reply_to_id=in_reply_to_id,
            operator=operator,
            template=template,
        )
        for i, part in enumerate(parts)
    ]
    send_stored(messages)
    return messages


def send_message(
    integration: Integration,
    *,
    from_number: str,
    to: str,
    body: str = "",
    media_urls: c.Sequence[str] = (),
    application_id: str | None = None,
    conversation_id: int | None = None,
    in_reply_to_id: int | None = None,
    status_callback: str | None = None,
) -> Message:
    """Store one outbound message and send it through Twilio's REST API.

    Sent with the integration's status-callback URL (or ``status_callback``, e.g. computed
    earlier inside a request, for a thread that has none). Returns the stored message, whose
    ``status`` and ``sid`` tell what Twilio answered. With :data:`XSMS_SEND_IMMEDIATELY`
    off, it is only stored (``"pending"``) for :func:`send_pending`.

    The numbers are used as given (Twilio's own ``From``/``To`` of an inbound message,
    for a reply). Use :func:`send` for a message from host code.

    :raises InvalidMessage: when there is nothing to send, the body is over 1600
        characters, or there are more than 10 media. Nothing is stored then.
    :raises SendError: (a subclass of it) when sending failed; the message is stored
        with the error.
    """
    _check_content(body, media_urls, max_length=MAX_BODY)
    message = _store(
        integration,
        from_number=from_number,
        to=to,
        body=body,
        media_urls=media_urls,
        application_id=application_id,
        conversation_id=conversation_id,
        in_reply_to_id=in_reply_to_id,
        status_callback=status_callback,
    )
    send_stored([message])
    return message


def deliver(message: Message | int) -> Message:
    """Send one stored ``"pending"`` message, if no other worker has claimed it.

    The claim is a conditional update (``pending`` → ``sending``), so two workers never
    send the same message. Returns the message; a message that was not pending is
    returned unchanged. A Celery task can call this with the message id.

    :raises SendError: (a subclass of it) when sending failed; the error is stored.
    """
    found = _stored_message(message)
    if not _claim(found):
        return found
    return _deliver_claimed(found)


def pending_ids(limit: int | None = None) -> list[int]:
    """Ids of the messages waiting in the outbox, oldest first (at most ``limit``)."""
    return list(
        get_state().session.scalars(
            sa.select(Message.id)
            .where(Message.direction == "outbound", Message.status == statuses.PENDING)
            .order_by(Message.id)
            .limit(limit)
        )
    )


def send_pending(limit: int = 100) -> list[Message]:
    """Send up to ``limit`` messages that wait in the outbox, oldest first.

    Run it from a worker (a CLI command, a Celery beat task…) to send what was queued
    with :data:`XSMS_SEND_IMMEDIATELY` off and to retry what a retryable error
    (rate limit, Twilio unreachable) left pending. Errors are stored and logged, not
    raised. Returns the messages this call sent or tried to send.
    """
    session = get_state().session
    done = []
    for message_id in pending_ids(limit):
        message = session.get(Message, message_id)
        if message is None or not _claim(message):
            continue
        try:
            _deliver_claimed(message)
        except SendError as e:
            logger.warning("Outbound message %s was not sent: %s", message_id, e)
        done.append(message)
    return done


def record_status(integration: Integration, params: t.Mapping[str, str]) -> Message | None:
    """Apply a signed status callback (``MessageSid``, ``MessageStatus``, ``ErrorCode``).

    Never moves a status backwards (see :data:`STATUS_RANK`); a terminal status
    (:data:`TERMINAL_STATUSES`) never changes. Sends
    :data:`~flask_xsms.signals.delivery_status_changed` when the status changed. Error
    21610 marks the customer opted out. Returns the message, or ``None`` when no stored
    outbound message of the integration has that sid.
    """
    sid = params.get("MessageSid") or params.get("SmsSid")
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    if not sid:
        return None
    session = get_state().session
    message = session.scalar(
        sa.select(Message).filter_by(sid=sid, integration_id=integration.id, direction="outbound")
    )
    if message is None:
        return None
    error_code = (params.get("ErrorCode") or "").strip() or None
    if error_code == str(OPTED_OUT_CODE):
        _mark_opted_out(integration.account_id, message)
    help_text = whatsapp.explain(error_code)
    if help_text is not None:
        logger.warning(
            "Message %s to %s failed with Twilio error %s. %s",
            sid,
            message.to_number,
            error_code,
            help_text,
            extra={"xsms_event": "whatsapp_error", "error_code": error_code},
        )
    rank = STATUS_RANK.get(status)
    if rank is None:
        logger.warning("Ignored unknown MessageStatus %r for message %s.", status, sid)
        return message
    earlier = [s for s, r in STATUS_RANK.items() if r < rank and s not in TERMINAL_STATUSES]
    changes: dict[str, t.Any] = {"status": status, "updated_at": utcnow()}
    if error_code:
        changes["error_code"] = error_code
        if help_text and not message.error_message:
            changes["error_message"] = help_text
    previous = message.status
    # One conditional UPDATE, so that two callbacks racing in two workers still
    # leave the later status.
    result = session.execute(
        sa.update(Message)
        .where(Message.id == message.id, Message.status.in_(earlier))
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if result.rowcount:
        notify(
            delivery_status_changed,
            _app(),
            message=message,
            previous_status=previous,
            status=status,
            error_code=error_code,
        )
    return message


def status_callback_url(integration: Integration) -> str:
    """The status-callback URL given to Twilio with each message of ``integration``.

    Outside a request (a worker, a thread, the CLI) it needs :data:`XSMS_PUBLIC_BASE_URL`
    (or Flask's ``SERVER_NAME``); without either it raises ``RuntimeError``.
    """
    return webhook_urls(integration).status_callback_url


# -- internals ----------------------------------------------------------------------


def _check_content(body: str, media_urls: c.Sequence[str], *, max_length: int | None) -> None:
    if isinstance(media_urls, str):
        raise InvalidMessage("media_urls must be a list of URLs, not one string.")
    if not (body or "").strip() and not media_urls:
        raise InvalidMessage("A message needs a body or media.")
    if len(media_urls) > MAX_MEDIA:
        raise InvalidMessage(
            f"A message can carry at most {MAX_MEDIA} media, not {len(media_urls)}."
        )
    for url in media_urls:
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise InvalidMessage(f"Media must be absolute http(s) URLs, not {url!r}.")
    if max_length is not None and text_length(body) > max_length:
        raise InvalidMessage(
            f"A message body can have at most {max_length} characters,"
            f" not {text_length(body)}."
        )


def _warn_of_pending_changes(session: t.Any) -> None:
    """send() commits the shared session (see docs/database.rst): say so when the host
    has changes pending in it."""
    pending = [*session.new, *session.dirty, *session.deleted]
    if pending:
        logger.warning(
            "outbound.send() commits the database session, and with it %d pending"
            " change(s) of the caller (%s): commit or roll back your own work first.",
            len(pending),
            ", ".join(sorted({type(o).__name__ for o in pending})),
            extra={"xsms_event": "send_commits_pending_changes"},
        )


def _check_channels(sender: str, to: str) -> None:
    """Refuse what Twilio refuses with error 21910: a WhatsApp sender and an SMS
    customer, or the other way round (a Messaging Service may hold both)."""
    if is_messaging_service_sid(sender) or channels.is_whatsapp(sender) == channels.is_whatsapp(to):
        return
    if channels.is_whatsapp(sender):
        raise NumberError(
            f"{sender} is a WhatsApp sender: it sends to WhatsApp addresses such as"
            f" whatsapp:{to}, not to {to}."
        )
    raise NumberError(
        f"{sender} sends SMS: it cannot reach the WhatsApp address {to}. Send from a"
        " whatsapp:+… sender bound in the IA Domain."
    )


def _store(
    integration: Integration,
    *,
    from_number: str,
    to: str,
    body: str,
    media_urls: c.Sequence[str],
    application_id: str | None,
    conversation_id: int | None,
    in_reply_to_id: int | None,
    status_callback: str | None = None,
    operator: Operator | None = None,
    template: dict[str, str] | None = None,
) -> Message:
    callback = status_callback or status_callback_or_none(integration)
    details: dict[str, t.Any] = {"status_callback": callback, "attempts": 0, **(template or {})}
    if operator is not None:
        details["operator"] = {"id": operator.id, "name": operator.name}
    message = Message(
        direction="outbound",
        integration_id=integration.id,
        application_id=application_id,
        conversation_id=conversation_id,
        in_reply_to_id=in_reply_to_id,
        from_number=from_number,
        to_number=to,
        body=body or "",
        media=[{"url": url} for url in media_urls],
        num_segments=segments_of(body, to),
        status=statuses.PENDING,
        details=details,
    )
    session = get_state().session
    session.add(message)
    session.commit()
    return message


def status_callback_or_none(integration: Integration) -> str | None:
    """:func:`status_callback_url`, or ``None`` (logged) when it can't be told here."""
    try:
        return status_callback_url(integration)
    except RuntimeError as e:
        # Keep and send the message anyway: losing it would be worse than not
        # hearing about its delivery.
        logger.warning("Outbound message sent without a status callback: %s", e)
        return None


def send_stored(messages: c.Sequence[Message | int]) -> None:
    """Send stored outbound messages (the parts of one text, in order), as configured.

    A customer who opted out is refused at once (the messages fail). Otherwise they are
    sent now (:data:`XSMS_SEND_VIA` ``"process"``), handed to Celery (``"celery"``), or
    left in the outbox for :func:`send_pending` (:data:`XSMS_SEND_IMMEDIATELY` off).

    :raises SendError: (a subclass of it) when sending failed; the error is stored.
    """
    if not messages:
        return
    messages = [_stored_message(m) for m in messages]
    first = messages[0]
    integration = get_state().session.get(Integration, first.integration_id)
    if integration is not None and _refused_as_opted_out(integration, first):
        error = _opted_out_error()
        for message in messages:
            _record_failure(message, error, retry=False)
        error.sent_message = first
        raise error
    if not current_app.config["XSMS_SEND_IMMEDIATELY"]:
        return
    if current_app.config["XSMS_SEND_VIA"] == "celery":
        _enqueue([m.id for m in messages])
        return
    deliver_in_order(messages)


def deliver_in_order(messages: c.Sequence[Message | int]) -> list[Message]:
    """Deliver stored messages (the parts of one text) one after the other.

    A message that is no longer pending is skipped, so running this again after a
    retryable error sends only what is left. A final error marks the parts after it
    failed too, since the same error would stop them.

    :raises SendError: from the first part that failed.
    """
    found = [_stored_message(m) for m in messages]
    for i, message in enumerate(found):
        try:
            deliver(message)
        except SendError as error:
            if not error.retryable:
                for rest in found[i + 1 :]:
                    if rest.status == statuses.PENDING:
                        _record_failure(rest, error, retry=False)
            raise
    return found


def release_stale_claims(older_than: float) -> int:
    """Put back in the outbox the messages claimed more than ``older_than`` seconds ago
    and never sent (their worker died); returns how many."""
    session = get_state().session
    cutoff = utcnow() - dt.timedelta(seconds=older_than)
    result = session.execute(
        sa.update(Message)
        .where(
            Message.direction == "outbound",
            Message.status == statuses.SENDING,
            Message.updated_at < cutoff,
        )
        .values(status=statuses.PENDING, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if result.rowcount:
        logger.warning(
            "%d outbound message(s) claimed more than %s s ago were never sent; back in the"
            " outbox.",
            result.rowcount,
            older_than,
        )
    return int(result.rowcount or 0)


def _enqueue(ids: list[int]) -> None:
    """Hand stored messages to the Celery tasks of :func:`flask_xsms.celery_tasks.init_celery`."""
    tasks = current_app.extensions.get("xsms_celery")
    if tasks is None:
        raise RuntimeError(
            "XSMS_SEND_VIA is 'celery' but no Celery app was set up: call"
            " flask_xsms.celery_tasks.init_celery(celery_app, flask_app)."
        )
    tasks.enqueue(ids)


def _stored_message(message: Message | int) -> Message:
    if not isinstance(message, int):
        return message
    found = get_state().session.get(Message, message)
    if found is None:
        raise LookupError(f"There is no stored message with id {message}.")
    return found


def _claim(message: Message) -> bool:
    """Take ``message`` from the outbox for this worker; ``False`` if another has it."""
    session = get_state().session
    result = session.execute(
        sa.update(Message)
        .where(Message.id == message.id, Message.status == statuses.PENDING)
        .values(status=statuses.SENDING, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(result.rowcount)


def _deliver_claimed(message: Message) -> Message:
    state = get_state()
    integration = (
        state.session.get(Integration, message.integration_id)
        if message.integration_id is not None
        else None
    )
    if integration is None:
        error = SendError("The message's IA Domain integration no longer exists.")
        return _fail(message, error)
    credentials = state.credentials(integration.account_id)
    if credentials is None:
        return _fail(
            message,
            CredentialsMissing(
                f"No Twilio credentials for account {integration.account_id!r}: set"
                " XSMS_TWILIO_ACCOUNT_SID and XSMS_TWILIO_AUTH_TOKEN, or register"
                " @xsms.credentials_loader."
            ),
        )
    if _refused_as_opted_out(integration, message):
        return _fail(message, _opted_out_error())

    if "status_callback" in message.details:
        callback = message.details["status_callback"]
    else:
        callback = status_callback_or_none(integration)
    try:
        with twilio_api.client(credentials) as client:
            # A Messaging Service picks the sender from its pool.
            sender = (
                {"messaging_service_sid": message.from_number}
                if is_messaging_service_sid(message.from_number)
                else {"from_": message.from_number}
            )
            sent = client.messages.create(
                to=message.to_number,
                **sender,
                body=message.body or values.unset,
                media_url=[m["url"] for m in message.media] or values.unset,
                content_sid=message.details.get("content_sid") or values.unset,
                content_variables=message.details.get("content_variables") or values.unset,
                status_callback=callback or values.unset,
            )
    except (TwilioException, requests.RequestException) as e:
        return _fail(message, _error_from_twilio(e), integration)
    except Exception as e:
        # Whatever else broke (an answer that is not JSON…) must not leave the message
        # claimed forever; Twilio may have sent it, so it is not tried again.
        logger.exception("Unexpected error while sending outbound message %s.", message.id)
        return _fail(message, SendError(f"Unexpected error while sending ({type(e).__name__})."))

    message.sid = sent.sid
    message.account_sid = sent.account_sid or credentials.account_sid
    message.status = sent.status or "queued"
    message.num_segments = _int_or_none(sent.num_segments)
    message.error_code = None
    message.error_message = None
    message.details = {**message.details, "attempts": message.details.get("attempts", 0) + 1}
    state.session.commit()
    notify(message_sent, _app(), message=message)
    return message


def _fail(message: Message, error: SendError, integration: Integration | None = None) -> t.NoReturn:
    """Store ``error`` on the message (pending again when retryable), signal, raise."""
    if isinstance(error, OptedOut) and integration is not None:
        _mark_opted_out(integration.account_id, message)
    attempts = message.details.get("attempts", 0) + 1
    retry = error.retryable and attempts < current_app.config["XSMS_SEND_MAX_ATTEMPTS"]
    _record_failure(message, error, retry=retry, attempts=attempts)
    error.sent_message = message
    raise error


def _record_failure(
    message: Message, error: SendError, *, retry: bool, attempts: int | None = None
) -> None:
    details = dict(message.details)
    if attempts is not None:
        details["attempts"] = attempts
    message.details = details
    message.status = statuses.PENDING if retry else statuses.FAILED
    message.error_code = str(error.code) if error.code is not None else None
    message.error_message = error.message
    get_state().session.commit()
    notify(message_failed, _app(), message=message, error=error, will_retry=retry)


def _refused_as_opted_out(integration: Integration, message: Message) -> bool:
    """Whether the customer opted out; the confirmation of a WhatsApp STOP still goes."""
    if message.details.get("opt_out_confirmation"):
        return False
    return optouts.is_opted_out(integration.account_id, message.from_number, message.to_number)


def _opted_out_error() -> OptedOut:
    return OptedOut(
        "The customer opted out of messages from this number (texted STOP).",
        code=OPTED_OUT_CODE,
    )


def _mark_opted_out(account_id: str, message: Message) -> None:
    optouts.set_opted_out(
        account_id, message.from_number, message.to_number, True, f"error {OPTED_OUT_CODE}"
    )


def _error_from_twilio(e: TwilioException | requests.RequestException) -> SendError:
    failure = twilio_api.failure_of(e)
    if isinstance(e, requests.RequestException):
        if failure.nothing_sent:
            return TwilioUnavailable(f"Twilio could not be reached ({failure.text}).")
        if failure.timed_out:
            timeout = current_app.config["XSMS_TWILIO_TIMEOUT"]
            return TwilioUnavailable(
                f"Twilio did not answer within {timeout} s; the message may have been sent,"
                " so it is not sent again.",
                retryable=False,
            )
        return TwilioUnavailable(
            f"The connection to Twilio broke ({failure.text}); the message may have been"
            " sent, so it is not sent again.",
            retryable=False,
        )
    kwargs = {"code": failure.code, "status": failure.status}
    text = failure.text or f"Twilio answered HTTP {failure.status}."
    if failure.code == OPTED_OUT_CODE:
        return OptedOut(text, **kwargs)
    if failure.code in _INVALID_NUMBER_CODES:
        return InvalidNumber(text, **kwargs)
    error_class = _ERRORS_BY_KIND.get(failure.kind, SendError)
    return error_class(text, **kwargs)


def _int_or_none(value: t.Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _app() -> Flask:
    """The real app object, the sender of every signal (never the proxy)."""
    return t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
