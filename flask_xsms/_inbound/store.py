"""Storing inbound messages: once per ``MessageSid``, in their conversation, committed
before any chatbot code runs."""
from __future__ import annotations

import datetime as dt
import logging
import time
import typing as t

from flask import current_app
from sqlalchemy.exc import IntegrityError

from .. import _message_store as message_store
from .. import _optouts as optouts
from .. import statuses
from ..models import Integration
from ..models import Message
from ..models import utcnow
from ..segments import segments_of
from .._state import get_state
from .._twiml import empty_response
from .._values import InboundMessage
from .parse import parse_inbound

logger = logging.getLogger("flask_xsms")

# How often a repeated MessageSid looks whether the first copy has been answered.
_POLL_SECONDS = 0.05


def store(
    integration: Integration,
    message: InboundMessage,
    *,
    turn: dict[str, t.Any],
    **values: t.Any,
) -> tuple[int, message_store.Route | None, int | None] | None:
    """Store ``message`` in its conversation and commit: (id, route, conversation id).

    ``turn`` are the columns of a routed message (its status and claim); a message to a
    number that no binding of the domain knows is stored ``unrouted`` instead, with no
    turn. ``values`` are further columns of either. ``None`` means another copy of its
    ``MessageSid`` was stored first. The unique open conversation decides between two
    messages of one customer at once: the loser files its message again.
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
                outcome = {**turn, "reply_from": route.service, **values}
            else:
                outcome = {
                    "response_twiml": empty_response(),
                    **values,
                    "status": statuses.UNROUTED,
                }
            row = inbound_values(integration.id, message, route, conversation_id, now)
            message_id = message_store.insert_message(connection, {**row, **outcome})
            session.commit()
            return message_id, route, conversation_id
        except IntegrityError:
            session.rollback()
            if attempt == 2 or stored(message.sid) is not None:
                return None
    raise AssertionError("unreachable")


def stored(sid: str) -> tuple[int, str, str | None] | None:
    """(id, status, response_twiml) of the message stored under ``sid``, read afresh."""
    return message_store.stored(get_state().session.connection(), sid)


def replay(sid: str) -> tuple[str, int | None, str]:
    """(TwiML, id, status): the stored answer of a repeated MessageSid; waits while the
    Request URL that received the first copy is still answering it."""
    session = get_state().session
    deadline = time.monotonic() + float(current_app.config["XSMS_REPLY_TIMEOUT"])
    while True:
        known = stored(sid)
        session.rollback()  # no open read transaction while the first copy writes (SQLite)
        if known is None:  # cannot happen after an IntegrityError on sid; be safe
            return empty_response(), None, statuses.RECEIVED
        message_id, status, twiml = known
        if twiml is not None:
            logger.info("Repeated MessageSid %s: answered with the stored answer.", sid)
            return twiml, message_id, status
        if time.monotonic() >= deadline:
            logger.warning(
                "Repeated MessageSid %s: the first copy is still being handled; answered empty.",
                sid,
            )
            return empty_response(), message_id, status
        time.sleep(_POLL_SECONDS)


def inbound_values(
    integration_id: int,
    message: InboundMessage,
    route: message_store.Route | None,
    conversation_id: int | None,
    now: dt.datetime,
) -> dict[str, t.Any]:
    """The columns of a new inbound message row."""
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
            else segments_of(message.body, message.from_)
        ),
        "details": dict(message.params),
        "created_at": now,
        "updated_at": now,
    }


def message_of(row: Message) -> InboundMessage:
    """The message as Twilio posted it (its stored parameters), or rebuilt from columns."""
    params = {str(k): str(v) for k, v in (row.details or {}).items() if isinstance(v, str)}
    params.setdefault("MessageSid", row.sid or f"stored-{row.id}")
    params.setdefault("From", row.from_number)
    params.setdefault("To", row.to_number)
    params.setdefault("Body", row.body or "")
    if row.account_sid:
        params.setdefault("AccountSid", row.account_sid)
    return parse_inbound(params)


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


def record_keyword(
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
