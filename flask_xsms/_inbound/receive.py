"""The Request URL's work for a signed message: store it, start its turn, answer."""
from __future__ import annotations

import dataclasses
import logging
import typing as t

from flask import current_app
from flask import Flask

from .. import _optouts as optouts
from .. import statuses
from ..integrations import public_url
from .._message_store import Route
from ..models import Integration
from ..models import utcnow
from ..signals import notify
from ..signals import unrouted_message
from .._twiml import empty_response
from .._values import InboundMessage
from . import turns
from .runner import dispatch
from .runner import Pending
from .runner import runner_for
from .store import record_keyword
from .store import replay
from .store import store

logger = logging.getLogger("flask_xsms")


@dataclasses.dataclass(frozen=True)
class InboundResult:
    """What the Request URL (or Fallback URL) answers, and what became of the message.

    :param twiml: the TwiML answer.
    :param message_id: id of the stored inbound message, or ``None`` if it couldn't be.
    :param status: the message's status when answered (see :mod:`flask_xsms.statuses`).
    :param duplicate: whether the ``MessageSid`` had been stored before.
    """

    twiml: str
    message_id: int | None
    status: str
    duplicate: bool = False


def handle_inbound(integration: Integration, message: InboundMessage) -> InboundResult:
    """Store ``message``, start its turn and return the Request URL's answer.

    1. A message already stored under its ``MessageSid`` gets its stored answer (waiting
       a little if the first copy is still being answered) and never reaches the chatbot
       again.
    2. Otherwise it is stored and committed, with its turn, before any chatbot code runs
       (the unique ``sid`` decides which of two simultaneous copies wins).
    3. STOP-family and START-family keywords update the opt-out record.
    4. A number no binding of the domain knows is ``unrouted``: signalled, empty answer.
    5. With :data:`XSMS_CHATBOT_VIA` ``"process"`` and a free chatbot thread, the
       chatbots answer within :data:`XSMS_REPLY_TIMEOUT` as TwiML; otherwise (no free
       thread, a slower chatbot, or ``"celery"``) the answer is an empty ``<Response/>``
       and the replies go out through the REST API when the turn ends.

    Database errors while storing propagate (:class:`sqlalchemy.exc.SQLAlchemyError`):
    the message could not be kept, and the caller answers so that Twilio calls the
    Fallback URL.
    """
    app = t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    # read now: the commit that stores the message expires the integration
    integration_id, domain_id, account_id = (
        integration.id,
        integration.domain_id,
        integration.account_id,
    )
    runner = runner_for(app) if app.config["XSMS_CHATBOT_VIA"] == "process" else None
    inline = runner is not None and runner.reserve()
    token = turns.new_token() if inline else ""
    columns: dict[str, t.Any] = {"claimed_at": utcnow(), "reply_callback": reply_callback(integration)}
    if inline:
        columns.update(status=statuses.PROCESSING, claimed_by=token, turn_attempts=1)
    else:
        columns.update(status=statuses.RECEIVED, response_twiml=empty_response())
    try:
        stored = store(integration, message, turn=columns)
        if stored is None or stored[1] is None:
            if runner is not None and inline:
                runner.release()
            inline = False
    except BaseException:
        if runner is not None and inline:
            runner.release()
        raise
    if stored is None:  # another copy of the same MessageSid won
        return InboundResult(*replay(message.sid), duplicate=True)
    message_id, route, conversation_id = stored
    keyword = optouts.keyword_of(message.body, message.opt_out_type)
    record_keyword(account_id, message, keyword, route)
    if route is None:
        logger.warning(
            "Message %s to %s: no binding in IA Domain %r knows this number; stored as unrouted.",
            message.sid,
            message.to,
            domain_id,
        )
        notify(
            unrouted_message,
            app,
            message=message,
            domain_id=domain_id,
            message_id=message_id,
        )
        return InboundResult(empty_response(), message_id, statuses.UNROUTED)

    if not inline:
        dispatch(message_id)
        return InboundResult(empty_response(), message_id, statuses.RECEIVED)
    assert runner is not None
    turn = turns.Turn(
        message_id=message_id,
        token=token,
        integration_id=integration_id,
        domain_id=domain_id,
        account_id=account_id,
        application_id=route.application_id,
        conversation_id=conversation_id,
        message=message,
        keyword=keyword,
        reply_from=route.service,
        reply_callback=columns["reply_callback"],
        opted_out=keyword != "start" and (keyword == "stop" or route.opted_out),
        inline=True,
        # the route's hand-off state is that of the conversation the message joined
        **_handoff(route, conversation_id),
    )
    pending = Pending()
    runner.start(turn, pending)
    timeout = float(app.config["XSMS_REPLY_TIMEOUT"])
    if pending.done.wait(timeout) and pending.twiml is not None:
        return InboundResult(pending.twiml, message_id, statuses.HANDLED)
    twiml = turns.stop_waiting(message_id)
    if twiml is not None:  # answered at the very moment the wait ended
        return InboundResult(twiml, message_id, statuses.HANDLED)
    if not pending.done.is_set():
        logger.warning(
            "The chatbot of application %r did not answer message %s within %s s; it will be"
            " answered through the REST API when it does.",
            route.application_id,
            message.sid,
            timeout,
        )
    return InboundResult(empty_response(), message_id, statuses.PROCESSING)


def reply_callback(integration: Integration) -> str | None:
    """The status-callback URL of replies sent later, computed in the webhook request;
    ``None`` when :data:`XSMS_PUBLIC_BASE_URL` tells it anywhere."""
    if current_app.config["XSMS_PUBLIC_BASE_URL"]:
        return None
    return public_url("xsms_webhooks.status", webhook_id=integration.webhook_id)


def _handoff(route: Route, conversation_id: int | None) -> dict[str, bool]:
    if route.conversation_id is None or route.conversation_id != conversation_id:
        return {}  # a new conversation: its chatbot answers
    paused, expired = turns.handoff_of(route.handoff, route.handoff_at)
    return {"paused": paused, "handoff_expired": expired}
