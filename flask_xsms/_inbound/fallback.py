"""The Fallback URL's work: keep the message, answer politely, let its turn go on."""
from __future__ import annotations

import logging
import typing as t

import sqlalchemy as sa
from flask import current_app
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from .. import _optouts as optouts
from .. import statuses
from ..models import Integration
from ..models import Message
from ..models import utcnow
from ..signals import fallback_used
from ..signals import notify
from .._state import get_state
from .._twiml import as_replies
from .._twiml import has_messages
from .._twiml import messaging_response
from .._twiml import plan_messages
from .._values import InboundMessage
from . import turns
from .receive import InboundResult
from .receive import reply_callback
from .runner import dispatch
from .store import record_keyword
from .store import store

logger = logging.getLogger("flask_xsms")


def handle_fallback(
    integration: Integration | None,
    message: InboundMessage,
    *,
    error_code: str | None = None,
    error_url: str | None = None,
) -> InboundResult:
    """What the Fallback URL does with a signed message: keep it, then answer politely.

    Twilio calls it when the Request URL failed (an error, 15 s without an answer, a
    dropped connection). The customer gets ``XSMS_FALLBACK_MESSAGE`` at once, or the
    Request URL's stored answer again when it had replies; the chatbot's answer still
    follows through the REST API: a message the Request URL never stored is stored now
    and becomes a turn, and a turn still running sends its replies through the outbox.
    Twilio's ``ErrorCode``/``ErrorUrl`` are recorded on the message, opt-outs updated and
    :data:`~flask_xsms.signals.fallback_used` sent. Database errors are logged, and the
    polite answer is still given.

    :param integration: the domain's integration; ``None`` when the database is
        unavailable (nothing is stored then, the signal is still sent).
    """
    polite = fallback_twiml()
    error = f"Twilio error {error_code or '?'} at {error_url or 'the Request URL'}"
    domain_id = integration.domain_id if integration is not None else None
    result, application_id = InboundResult(polite, None, statuses.RECEIVED), None
    if integration is not None:
        try:
            result, application_id = _keep(integration, message, polite, error, error_code, error_url)
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
        t.cast(Flask, current_app._get_current_object()),  # type: ignore[attr-defined]
        message=message,
        domain_id=domain_id,
        application_id=application_id,
        message_id=result.message_id,
        error_code=error_code,
        error_url=error_url,
    )
    return result


def fallback_twiml() -> str:
    """The polite TwiML answer of the Fallback URL (``XSMS_FALLBACK_MESSAGE``)."""
    return messaging_response(
        plan_messages(as_replies(current_app.config["XSMS_FALLBACK_MESSAGE"]))
    )


def _keep(
    integration: Integration,
    message: InboundMessage,
    polite: str,
    error: str,
    error_code: str | None,
    error_url: str | None,
) -> tuple[InboundResult, str | None]:
    """Store a message the Fallback URL received as a turn, or note the error on the
    stored one and take its TwiML answer away from the Request URL."""
    session = get_state().session
    code = (error_code or "")[:32] or None
    known = session.scalar(sa.select(Message).filter_by(sid=message.sid))
    if known is None:
        turn = {
            "status": statuses.RECEIVED,
            "claimed_at": utcnow(),
            "reply_callback": reply_callback(integration),
        }
        stored = store(
            integration,
            message,
            turn=turn,
            error_code=code,
            error_message=error,
            response_twiml=polite,
        )
        if stored is not None:
            message_id, route, _ = stored
            record_keyword(
                integration.account_id,
                message,
                optouts.keyword_of(message.body, message.opt_out_type),
                route,
            )
            if route is None:
                return InboundResult(polite, message_id, statuses.UNROUTED), None
            dispatch(message_id)
            return InboundResult(polite, message_id, statuses.RECEIVED), route.application_id
        # the Request URL stored it at the same moment
        known = session.scalar(sa.select(Message).filter_by(sid=message.sid))
        assert known is not None
    earlier = turns.stop_waiting(known.id, polite) if known.response_twiml is None else None
    answer = earlier or known.response_twiml
    known.error_code = code or known.error_code
    known.error_message = known.error_message or error
    known.details = {
        **(known.details or {}),
        "fallback": {"ErrorCode": error_code, "ErrorUrl": error_url},
    }
    status, application_id = known.status, known.application_id
    result = InboundResult(
        # The Request URL's replies never reached the customer: give them again.
        t.cast(str, answer) if has_messages(answer) else polite,
        known.id,
        status,
        duplicate=True,
    )
    session.commit()
    if status == statuses.RECEIVED:
        dispatch(known.id)  # the process that stored it never started it
    return result, application_id


def _rollback() -> None:
    try:
        get_state().session.rollback()
    except SQLAlchemyError:
        logger.exception("Rollback failed.")
