"""Inbound messages: store first, once per ``MessageSid``, then let the chatbot answer.

:func:`handle_inbound` is what the Request URL runs for a signed message:

1. a message already stored under its ``MessageSid`` gets its stored answer (waiting a
   little if the first copy is still being handled) and never reaches the chatbot again;
2. otherwise it is stored and committed before any chatbot code runs (the unique ``sid``
   decides which of two simultaneous copies wins);
3. STOP-family and START-family keywords update the opt-out record;
4. a number no binding of the domain knows is ``unrouted``: signalled, empty answer;
5. the message joins the open conversation of (application, customer), or starts one;
6. the receivers of :data:`~flask_xsms.signals.message_received` for the application run
   in a worker thread under ``XSMS_REPLY_TIMEOUT``; each is guarded on its own;
7. their replies are answered as TwiML and stored; late replies go out through the REST
   API when the chatbot finishes.
"""

from __future__ import annotations

import collections.abc as c
import dataclasses
import datetime as dt
import logging
import threading
import time
import types
import typing as t

import sqlalchemy as sa
from flask import current_app
from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.test import EnvironBuilder

from . import message_store
from . import optouts
from . import outbound
from .errors import InvalidWebhookRequest
from .extension import get_state
from .models import Integration
from .models import Message
from .models import utcnow
from .segments import count_segments
from .signals import fallback_used
from .signals import notify
from .signals import message_received
from .signals import reply_sent
from .signals import unrouted_message
from .twiml import as_replies
from .twiml import empty_response
from .twiml import has_messages
from .twiml import messaging_response
from .twiml import plan_messages
from .types import InboundMessage
from .types import Media
from .types import Reply

logger = logging.getLogger("flask_xsms")

#: Status of an inbound message whose chatbot is still running.
PROCESSING = "processing"
#: Status of an inbound message the chatbot answered in time (maybe with no reply).
HANDLED = "handled"
#: Status of an inbound message whose chatbot missed ``XSMS_REPLY_TIMEOUT``; its
#: replies are sent through the REST API when it finishes.
LATE = "late"
#: Status of an inbound message whose chatbot raised; ``error_message`` says what.
FAILED = "failed"
#: Status of an inbound message to a number that no binding of the domain knows.
UNROUTED = "unrouted"
#: Status of an inbound message that only the Fallback URL received.
FALLBACK = "fallback"
#: Status of an outbound message answered as TwiML to an inbound one.
REPLIED = "replied"

# How often a repeated MessageSid looks whether the first copy has been answered.
_POLL_SECONDS = 0.05
# Longest value stored in the string columns of the message table.
_MAX_ID_LENGTH = 64

_CLEAN = str.maketrans({"\x00": "\ufffd"})


@dataclasses.dataclass(frozen=True)
class InboundResult:
    """What the Request URL (or Fallback URL) answers, and what became of the message.

    :param twiml: the TwiML answer.
    :param message_id: id of the stored inbound message, or ``None`` if it couldn't be.
    :param status: the message's status (one of the constants of this module).
    :param duplicate: whether the ``MessageSid`` had been stored before.
    """

    twiml: str
    message_id: int | None
    status: str
    duplicate: bool = False


def parse_inbound(params: t.Mapping[str, str]) -> InboundMessage:
    """Parse Twilio's form parameters into an :class:`~flask_xsms.InboundMessage`.

    Unknown parameters are kept in ``params``; NUL characters, which databases refuse,
    become U+FFFD.

    :raises InvalidWebhookRequest: when ``MessageSid``, ``From`` or ``To`` is missing or
        too long.
    """
    values = clean_parameters(params)
    sid = values.get("MessageSid") or values.get("SmsMessageSid") or values.get("SmsSid") or ""
    required = {"MessageSid": sid, "From": values.get("From", ""), "To": values.get("To", "")}
    missing = [name for name, value in required.items() if not value.strip()]
    if missing:
        raise InvalidWebhookRequest(f"Missing parameter: {', '.join(missing)}.")
    for name, value in [*required.items(), ("AccountSid", values.get("AccountSid", ""))]:
        if len(value) > _MAX_ID_LENGTH:
            raise InvalidWebhookRequest(f"Parameter too long: {name}.")
    num_media = _int(values.get("NumMedia")) or 0
    media = tuple(
        Media(values[f"MediaUrl{i}"], values.get(f"MediaContentType{i}") or None)
        for i in range(min(num_media, 100))
        if values.get(f"MediaUrl{i}")
    )
    return InboundMessage(
        sid=sid.strip(),
        account_sid=values.get("AccountSid") or None,
        from_=required["From"].strip(),
        to=required["To"].strip(),
        body=values.get("Body", ""),
        media=media,
        num_segments=_int(values.get("NumSegments")),
        opt_out_type=values.get("OptOutType") or None,
        messaging_service_sid=values.get("MessagingServiceSid") or None,
        params=types.MappingProxyType(values),
    )


def clean_parameters(params: t.Mapping[str, t.Any]) -> dict[str, str]:
    """Twilio's form parameters as strings, with NUL (which databases refuse) as U+FFFD."""
    return {str(k): _clean(v) for k, v in params.items()}


def handle_inbound(
    integration: Integration, message: InboundMessage, *, url_root: str | None = None
) -> InboundResult:
    """Store ``message``, run the bound application's chatbot and return the answer.

    See the module's description for the steps. Database errors while storing propagate
    (:class:`sqlalchemy.exc.SQLAlchemyError`): the message could not be kept, and the
    caller answers as the Fallback URL would.

    :param url_root: the root URL of the webhook request (``request.url_root``). Late
        replies are sent after the request has ended; they build the status-callback
        URL from it when ``XSMS_PUBLIC_BASE_URL`` is not set.
    """
    integration_id, domain_id, account_id = (
        integration.id,
        integration.domain_id,
        integration.account_id,
    )
    keyword = optouts.keyword_of(message.body, message.opt_out_type)
    stored = _store(integration, message, status=PROCESSING)
    if stored is None:
        return _replay(message.sid)  # another copy of the same MessageSid won
    message_id, route, conversation_id = stored
    application_id = route.application_id if route is not None else None
    _record_keyword(account_id, message, keyword, route)
    opted_out = keyword != "start" and (keyword == "stop" or bool(route and route.opted_out))

    if application_id is None:
        logger.warning(
            "Message %s to %s: no binding in IA Domain %r knows this number; stored as unrouted.",
            message.sid,
            message.to,
            domain_id,
        )
        notify(
            unrouted_message,
            _app(),
            message=message,
            domain_id=domain_id,
            message_id=message_id,
        )
        return InboundResult(empty_response(), message_id, UNROUTED)

    job = _Job(
        app=_app(),
        integration_id=integration_id,
        domain_id=domain_id,
        application_id=application_id,
        message_id=message_id,
        message=message,
        keyword=keyword,
        conversation_id=conversation_id,
        url_root=url_root,
        opted_out=opted_out,
        service=route.service if route is not None else message.to,
    )
    return _run_chatbot(job)


def handle_fallback(
    integration: Integration | None,
    message: InboundMessage,
    *,
    error_code: str | None = None,
    error_url: str | None = None,
) -> InboundResult:
    """What the Fallback URL does with a signed message: keep it, then answer politely.

    Stores the message if the Request URL never did (status ``fallback``, or
    ``unrouted``), records Twilio's ``ErrorCode``/``ErrorUrl`` on it, updates opt-outs and
    sends :data:`~flask_xsms.signals.fallback_used`. The chatbot doesn't run. When the
    Request URL had stored an answer with messages, that answer is repeated; otherwise
    the answer is ``XSMS_FALLBACK_MESSAGE``. Database errors are logged, and the polite
    answer is still given.

    :param integration: the domain's integration; ``None`` when the database is
        unavailable (nothing is stored then, the signal is still sent).
    """
    polite = fallback_twiml()
    error = f"Twilio error {error_code or '?'} at {error_url or 'the Request URL'}"
    domain_id = integration.domain_id if integration is not None else None
    result, application_id = InboundResult(polite, None, FALLBACK), None
    if integration is not None:
        try:
            result, application_id = _keep_fallback(
                integration, message, polite, error, error_code, error_url
            )
        except SQLAlchemyError:
            logger.exception(
                "The Fallback URL of IA Domain %r could not store message %s; answered politely.",
                domain_id,
                message.sid,
            )
            _rollback()
    logger.warning(
        "Fallback URL used for message %s (IA Domain %r): %s.", message.sid, domain_id, error
    )
    notify(
        fallback_used,
        _app(),
        message=message,
        domain_id=domain_id,
        application_id=application_id,
        message_id=result.message_id,
        error_code=error_code,
        error_url=error_url,
    )
    return result


def _keep_fallback(
    integration: Integration,
    message: InboundMessage,
    polite: str,
    error: str,
    error_code: str | None,
    error_url: str | None,
) -> tuple[InboundResult, str | None]:
    """Store a message the Fallback URL received, or note the error on the stored one."""
    session = get_state().session
    known = session.scalar(sa.select(Message).filter_by(sid=message.sid))
    if known is None:
        stored = _store(
            integration,
            message,
            status=FALLBACK,
            error_code=(error_code or "")[:32] or None,
            error_message=error,
            response_twiml=polite,
        )
        if stored is not None:
            message_id, route, _ = stored
            _record_keyword(
                integration.account_id,
                message,
                optouts.keyword_of(message.body, message.opt_out_type),
                route,
            )
            status = FALLBACK if route is not None else UNROUTED
            application_id = route.application_id if route is not None else None
            return InboundResult(polite, message_id, status), application_id
        # the Request URL stored it at the same moment
        known = session.scalar(sa.select(Message).filter_by(sid=message.sid))
        application_id = known.application_id if known is not None else None
    else:
        application_id = known.application_id
    assert known is not None
    known.error_code = (error_code or "")[:32] or known.error_code
    known.error_message = known.error_message or error
    known.details = {
        **(known.details or {}),
        "fallback": {"ErrorCode": error_code, "ErrorUrl": error_url},
    }
    # The Request URL's replies never reached the customer: give them again.
    answer = known.response_twiml if has_messages(known.response_twiml) else polite
    result = InboundResult(t.cast(str, answer), known.id, known.status, duplicate=True)
    session.commit()
    return result, application_id


def fallback_twiml() -> str:
    """The polite TwiML answer of the Fallback URL (``XSMS_FALLBACK_MESSAGE``)."""
    return messaging_response(
        plan_messages(as_replies(current_app.config["XSMS_FALLBACK_MESSAGE"]))
    )


def wait_for_chatbots(timeout: float | None = None) -> bool:
    """Wait until every chatbot still running in this process has finished.

    Chatbots that miss ``XSMS_REPLY_TIMEOUT`` keep running in a background thread and
    send their replies when done; call this before a process exits (or in tests) so that
    none is cut off. Returns whether all finished within ``timeout`` seconds.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        with _workers_lock:
            workers = list(_workers)
        if not workers:
            return True
        for worker in workers:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            worker.join(left)
            if worker.is_alive():
                return False


# -- the chatbot run -------------------------------------------------------------------

_workers: set[threading.Thread] = set()
_workers_lock = threading.Lock()


@dataclasses.dataclass
class _Job:
    """Everything the chatbot's thread needs, as plain values (no ORM objects)."""

    app: Flask
    integration_id: int
    domain_id: str
    application_id: str
    message_id: int
    message: InboundMessage
    keyword: str | None
    conversation_id: int | None
    #: The bound number, or Messaging Service SID, that late replies are sent from.
    service: str
    url_root: str | None = None
    opted_out: bool = False
    replies: list[Reply] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)
    late: bool = False
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    late_recorded: threading.Event = dataclasses.field(default_factory=threading.Event)

    def signal_kwargs(self) -> dict[str, t.Any]:
        return {
            "message": self.message,
            "domain_id": self.domain_id,
            "application_id": self.application_id,
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "keyword": self.keyword,
        }


def _run_chatbot(job: _Job) -> InboundResult:
    timeout = float(current_app.config["XSMS_REPLY_TIMEOUT"])
    worker = threading.Thread(
        target=_chatbot_thread, args=(job,), name=f"xsms-chatbot-{job.message.sid}", daemon=True
    )
    with _workers_lock:
        _workers.add(worker)
    worker.start()
    job.done.wait(timeout)
    with job.lock:
        if not job.done.is_set():
            job.late = True
    if job.late:
        try:
            return _record_late(job, timeout)
        finally:
            job.late_recorded.set()
    return _answer(job)


def _chatbot_thread(job: _Job) -> None:
    try:
        with job.app.app_context():
            replies, errors = call_chatbots(job.application_id, **job.signal_kwargs())
            with job.lock:
                job.replies, job.errors = replies, errors
                late = job.late
                job.done.set()
        if late:
            # Let the request thread record "late" first, then send through REST.
            job.late_recorded.wait(30)
            with _request_like_context(job):
                _deliver_late(job)
    except Exception:  # a background thread has no one else to tell
        logger.exception("Handling message %s failed in the background.", job.message.sid)
    finally:
        job.done.set()
        with _workers_lock:
            _workers.discard(threading.current_thread())


def _request_like_context(job: _Job) -> t.ContextManager[t.Any]:
    """A context like the webhook request's, so that URLs built for late replies (their
    status callback) are the same as the request would have built."""
    if job.url_root is None:
        return job.app.app_context()
    builder = EnvironBuilder(base_url=job.url_root)
    try:
        return job.app.request_context(builder.get_environ())
    finally:
        builder.close()


def call_chatbots(application_id: str, /, **kwargs: t.Any) -> tuple[list[Reply], list[str]]:
    """Call each receiver of :data:`~flask_xsms.signals.message_received` for the
    application with ``kwargs``; return their replies and the errors of those that raised.

    blinker's ``send()`` stops at the first exception; calling each receiver on its own
    keeps one failing chatbot from hiding the others' replies.
    """
    replies: list[Reply] = []
    errors: list[str] = []
    message = kwargs.get("message")
    for receiver in message_received.receivers_for(application_id):
        try:
            replies.extend(as_replies(receiver(application_id, **kwargs)))
        except Exception as e:
            logger.exception(
                "Chatbot receiver %s failed on message %s (application %r).",
                _name(receiver),
                getattr(message, "sid", "?"),
                application_id,
            )
            errors.append(f"{_name(receiver)}: {type(e).__name__}: {e}")
    return replies, errors


def final_messages(
    replies: list[Reply],
    errors: list[str],
    *,
    keyword: str | None,
    opted_out: bool,
    application_id: str,
    message_sid: str,
) -> list[Reply]:
    """The messages that answer a chatbot's outcome, by the rules of the Request URL.

    Nothing to an opted-out customer (but HELP); :data:`XSMS_APOLOGY_MESSAGE` when a
    chatbot raised and none replied; :data:`XSMS_HELP_MESSAGE` for an unanswered HELP.
    Split by :func:`~flask_xsms.twiml.plan_messages`; a ``replies_too_long`` warning is
    logged past :data:`XSMS_MAX_REPLY_SEGMENTS`.
    """
    if opted_out and keyword != "help":
        # Twilio answers STOP itself and blocks anything else to an opted-out customer.
        return []
    config = current_app.config
    if errors and not replies:
        replies = as_replies(config["XSMS_APOLOGY_MESSAGE"])
    elif keyword == "help" and not replies:
        replies = as_replies(config["XSMS_HELP_MESSAGE"])
    messages = plan_messages(replies, one_segment=config["XSMS_SPLIT_AT_SEGMENTS"])
    segments = sum(count_segments(m.body).segments for m in messages if m.body)
    if segments > config["XSMS_MAX_REPLY_SEGMENTS"]:
        logger.warning(
            "replies_too_long: the answer of application %r to message %s takes %d SMS"
            " segments (XSMS_MAX_REPLY_SEGMENTS is %d).",
            application_id,
            message_sid,
            segments,
            config["XSMS_MAX_REPLY_SEGMENTS"],
            extra={"xsms_event": "replies_too_long", "segments": segments},
        )
    return messages


def _final_messages(job: _Job) -> list[Reply]:
    return final_messages(
        list(job.replies),
        job.errors,
        keyword=job.keyword,
        opted_out=job.opted_out,
        application_id=job.application_id,
        message_sid=job.message.sid,
    )


def _answer(job: _Job) -> InboundResult:
    """The chatbot finished in time: store its replies and answer them as TwiML."""
    messages = _final_messages(job)
    twiml = messaging_response(messages)
    status = FAILED if job.errors else HANDLED
    session = get_state().session
    stored: list[int | None] = [None] * len(messages)
    try:
        connection = session.connection()
        now = utcnow()
        message_store.store_answer(
            connection,
            job.message_id,
            status=status,
            error_message="\n".join(job.errors) or None,
            response_twiml=twiml,
            now=now,
        )
        ids = message_store.insert_messages(connection, [_reply_values(job, m, now) for m in messages])
        session.commit()
        stored = list(ids)
    except SQLAlchemyError:
        logger.exception(
            "Could not store the answer to message %s; answered anyway.", job.message.sid
        )
        _rollback()
    for message, message_id in zip(messages, stored, strict=True):
        _notify_reply(job, message, message_id, via="twiml")
    return InboundResult(twiml, job.message_id, status)


def _record_late(job: _Job, timeout: float) -> InboundResult:
    logger.warning(
        "The chatbot of application %r did not answer message %s within %s s; it will be"
        " answered through the REST API when it does.",
        job.application_id,
        job.message.sid,
        timeout,
    )
    twiml = empty_response()
    session = get_state().session
    try:
        row = session.get(Message, job.message_id)
        assert row is not None
        row.status = LATE
        row.response_twiml = twiml
        session.commit()
    except SQLAlchemyError:
        logger.exception("Could not mark message %s as late.", job.message.sid)
        _rollback()
    return InboundResult(twiml, job.message_id, LATE)


def _deliver_late(job: _Job) -> None:
    """In the chatbot's thread: send the late replies through the REST API."""
    messages = _final_messages(job)
    session = get_state().session
    row = session.get(Message, job.message_id)
    if row is not None:
        if job.errors:
            row.status = FAILED
            row.error_message = "\n".join(job.errors)
        row.details = {**(row.details or {}), "late_replies": len(messages)}
        session.commit()
    integration = session.get(Integration, job.integration_id)
    if integration is None:
        return
    for message in messages:
        try:
            sent = outbound.send_message(
                integration,
                from_number=job.service,
                to=job.message.from_,
                body=message.body,
                media_urls=message.media_urls,
                application_id=job.application_id,
                conversation_id=job.conversation_id,
                in_reply_to_id=job.message_id,
            )
        except Exception:
            # send_message keeps the message and its error in the outbox; log the rest.
            logger.exception("Could not send a late reply to message %s.", job.message.sid)
            _rollback()
            continue
        _notify_reply(job, message, sent.id, via="rest")


def _notify_reply(job: _Job, message: Reply, message_id: int | None, *, via: str) -> None:
    notify(
        reply_sent,
        job.application_id,
        reply=message,
        message_id=message_id,
        in_reply_to=job.message,
        domain_id=job.domain_id,
        application_id=job.application_id,
        conversation_id=job.conversation_id,
        via=via,
    )


def _reply_values(job: _Job, message: Reply, now: dt.datetime) -> dict[str, t.Any]:
    return {
        "sid": None,
        "direction": "outbound",
        "integration_id": job.integration_id,
        "conversation_id": job.conversation_id,
        "application_id": job.application_id,
        "account_sid": job.message.account_sid,
        "from_number": job.message.to,
        "to_number": job.message.from_,
        "body": message.body,
        "media": [{"url": url} for url in message.media_urls],
        "num_segments": count_segments(message.body).segments if message.body else None,
        "status": REPLIED,
        "in_reply_to_id": job.message_id,
        "details": {},
        "created_at": now,
        "updated_at": now,
    }


# -- storage ---------------------------------------------------------------------------


def _store(
    integration: Integration, message: InboundMessage, *, status: str, **values: t.Any
) -> tuple[int, message_store.Route | None, int | None] | None:
    """Store ``message`` in its conversation and commit: (id, route, conversation id).

    ``status`` is the message's status when a binding of the domain knows ``To``; it is
    ``unrouted`` otherwise. ``None`` means another copy of its ``MessageSid`` was stored
    first. The unique open conversation decides between two messages of one customer
    at once: the loser files its message again.
    """
    session = get_state().session
    timeout = dt.timedelta(seconds=float(current_app.config["XSMS_CONVERSATION_TIMEOUT"]))
    for attempt in (1, 2):
        now = utcnow()
        try:
            connection = session.connection()
            route = message_store.route(
                connection,
                integration_id=integration.id,
                account_id=integration.account_id,
                number=message.to,
                customer=message.from_,
                service=message.messaging_service_sid,
            )
            conversation_id = None
            outcome = {"status": status, **values}
            if route is not None:
                conversation_id = message_store.file_in_conversation(
                    connection,
                    route,
                    integration_id=integration.id,
                    customer=message.from_,
                    service_number=route.service,
                    now=now,
                    timeout=timeout,
                )
            else:
                outcome = {"response_twiml": empty_response(), **values, "status": UNROUTED}
            row = _inbound_values(integration.id, message, route, conversation_id, now)
            message_id = message_store.insert_message(connection, {**row, **outcome})
            session.commit()
            return message_id, route, conversation_id
        except IntegrityError:
            session.rollback()
            if attempt == 2 or _stored(message.sid) is not None:
                return None
    raise AssertionError("unreachable")


def _stored(sid: str) -> tuple[int, str, str | None] | None:
    """(id, status, response_twiml) of the message stored under ``sid``, read afresh."""
    return message_store.stored(get_state().session.connection(), sid)


def _replay(sid: str) -> InboundResult:
    """The stored answer of a repeated MessageSid; waits while the first copy is handled."""
    session = get_state().session
    deadline = time.monotonic() + float(current_app.config["XSMS_REPLY_TIMEOUT"])
    while True:
        known = _stored(sid)
        session.rollback()  # no open read transaction while the first copy writes (SQLite)
        if known is None:  # cannot happen after an IntegrityError on sid; be safe
            return InboundResult(empty_response(), None, PROCESSING, duplicate=True)
        message_id, status, twiml = known
        if twiml is not None:
            logger.info("Repeated MessageSid %s: answered with the stored answer.", sid)
            return InboundResult(twiml, message_id, status, duplicate=True)
        if time.monotonic() >= deadline:
            logger.warning(
                "Repeated MessageSid %s: the first copy is still being handled; answered empty.",
                sid,
            )
            return InboundResult(empty_response(), message_id, status, duplicate=True)
        time.sleep(_POLL_SECONDS)


def _inbound_values(
    integration_id: int,
    message: InboundMessage,
    route: message_store.Route | None,
    conversation_id: int | None,
    now: dt.datetime,
) -> dict[str, t.Any]:
    return {
        "sid": message.sid,
        "direction": "inbound",
        "integration_id": integration_id,
        "conversation_id": conversation_id,
        "application_id": route.application_id if route is not None else None,
        "account_sid": message.account_sid,
        "from_number": message.from_,
        "to_number": message.to,
        "body": message.body,
        "media": [{"url": m.url, "content_type": m.content_type or ""} for m in message.media],
        "num_segments": (
            message.num_segments
            if message.num_segments is not None
            else count_segments(message.body).segments if message.body else None
        ),
        "details": dict(message.params),
        "created_at": now,
        "updated_at": now,
    }


def reply_service(integration: Integration, message: InboundMessage) -> str:
    """What replies sent later through the REST API go from: the binding the message
    is routed to now (its Messaging Service, or the number), else the number it was
    sent to."""
    route = message_store.route(
        get_state().session.connection(),
        integration_id=integration.id,
        account_id=integration.account_id,
        number=message.to,
        customer=message.from_,
        service=message.messaging_service_sid,
    )
    return route.service if route is not None else message.to


def _record_keyword(
    account_id: str,
    message: InboundMessage,
    keyword: str | None,
    route: message_store.Route | None,
) -> None:
    """Record a STOP-family or START-family keyword as the customer's opt-out."""
    if keyword not in ("stop", "start"):
        return
    if keyword == "start" and route is not None and not route.opted_out:
        return  # not opted out: nothing to opt back in to
    reason = "OptOutType" if message.opt_out_type else message.body.strip().upper()[:64]
    scope = route.service if route is not None else message.to
    optouts.set_opted_out(account_id, scope, message.from_, keyword == "stop", reason)
    logger.info(
        "%s opted %s of messages from %s (%s).",
        message.from_,
        "out" if keyword == "stop" else "back in",
        scope,
        reason,
    )


# -- small utilities -------------------------------------------------------------------


def _app() -> Flask:
    return t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]


def _rollback() -> None:
    try:
        get_state().session.rollback()
    except SQLAlchemyError:
        logger.exception("Rollback failed.")


def _clean(value: t.Any) -> str:
    return str(value).translate(_CLEAN)


def _int(value: str | None) -> int | None:
    """A small count Twilio sent (``NumMedia``, ``NumSegments``), or ``None``."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    # Anything larger is not a real count and would not fit the database column.
    return number if number is None or 0 <= number <= 100_000 else None


def _name(receiver: c.Callable[..., t.Any]) -> str:
    return getattr(receiver, "__qualname__", None) or repr(receiver)
