"""Turns: the chatbot run that answers one stored inbound message, and its replies.

A turn's state is in its message's row: the status (``received`` → ``processing`` →
``handled`` or ``failed``), the runner that holds it (``claimed_by``, a random token) and
when that runner last said it was alive (``claimed_at``). A runner claims a turn with one
conditional ``UPDATE``, as the outbox claims messages, so two runners never answer one
message. A running chatbot's claim is renewed every third of
:data:`XSMS_TURN_CLAIM_TIMEOUT`; a turn whose runner stopped renewing it (its process
died) is handed over again after that time, at most :data:`XSMS_CHATBOT_MAX_ATTEMPTS`
runs in all, then given up with :data:`XSMS_APOLOGY_MESSAGE`.

The replies are stored in the transaction that ends the turn, and only by the runner
that still holds the claim: a chatbot may be called again for a message after a crash
(at least once), its replies are delivered at most once. They answer the Request URL as
TwiML while it still waits (the row's ``response_twiml`` is empty), otherwise they go
out through the outbox and Twilio's REST API.

This one implementation serves the Request URL, the chatbot threads, the Celery task
``xsms.answer``, the recovery sweeps and ``flask xsms retry``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
import typing as t

import sqlalchemy as sa
from flask import current_app
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from .. import _channels as channels
from .. import conversations
from .. import _message_store as message_store
from .. import _optouts as optouts
from .. import outbound
from .. import statuses
from ..errors import SendError
from ..models import Conversation
from ..models import Integration
from ..models import Message
from ..models import utcnow
from ..segments import segments_of
from ..signals import handoff_requested
from ..signals import notify
from ..signals import reply_sent
from .._state import get_state
from .._twiml import as_replies
from .._twiml import empty_response
from .._twiml import messaging_response
from .._values import Handoff
from .._values import InboundMessage
from .._values import Reply
from .chatbots import call_chatbots
from .chatbots import Outcome
from .chatbots import final_messages
from .store import message_of
from .store import reply_service

logger = logging.getLogger("flask_xsms")

_m = Message.__table__
_open = _m.c.status.in_(statuses.OPEN_TURN)

_CLAIM = (
    sa.update(_m)
    .where(
        _m.c.id == sa.bindparam("b_id"),
        _m.c.direction == "inbound",
        _m.c.turn_attempts < sa.bindparam("b_max"),
        sa.or_(
            _m.c.status == statuses.RECEIVED,
            sa.and_(
                _m.c.status == statuses.PROCESSING,
                _m.c.claimed_at < sa.bindparam("b_stale"),
            ),
        ),
    )
    .values(
        status=statuses.PROCESSING,
        claimed_by=sa.bindparam("b_token"),
        claimed_at=sa.bindparam("b_now"),
        turn_attempts=_m.c.turn_attempts + 1,
        updated_at=sa.bindparam("b_now"),
    )
)
_mine = sa.and_(_m.c.id == sa.bindparam("b_id"), _m.c.claimed_by == sa.bindparam("b_token"))
_END_VALUES = {
    "status": sa.bindparam("b_status"),
    # the chatbots' errors, or what was noted before (the Fallback URL's Twilio error)
    "error_message": sa.func.coalesce(sa.bindparam("b_error"), _m.c.error_message),
    "claimed_by": None,
    "updated_at": sa.bindparam("b_now"),
}
_END = sa.update(_m).where(_mine).values(**_END_VALUES)
_END_INLINE = (
    sa.update(_m)
    .where(_mine, _m.c.response_twiml.is_(None))
    .values(**_END_VALUES, response_twiml=sa.bindparam("b_twiml"))
)
_STOP_WAITING = (
    sa.update(_m)
    .where(_m.c.id == sa.bindparam("b_id"), _m.c.response_twiml.is_(None))
    .values(response_twiml=sa.bindparam("b_twiml"))
)
_RENEW = (
    sa.update(_m)
    .where(_m.c.claimed_by.in_(sa.bindparam("b_tokens", expanding=True)))
    .values(claimed_at=sa.bindparam("b_now"))
)
_STALE = (
    sa.select(_m.c.id)
    .where(_open, _m.c.claimed_at < sa.bindparam("b_stale"))
    .order_by(_m.c.claimed_at)
    .limit(sa.bindparam("b_limit"))
)
_stale_one = sa.and_(
    _m.c.id == sa.bindparam("b_id"),
    sa.or_(
        sa.and_(_m.c.status == statuses.RECEIVED, _m.c.claimed_at < sa.bindparam("b_stale")),
        # a runner renews its claim: never take a turn from one that did lately
        sa.and_(
            _m.c.status == statuses.PROCESSING,
            _m.c.claimed_at < sa.bindparam("b_stale_claim"),
        ),
    ),
)
_HAND_OVER = (
    sa.update(_m)
    .where(_stale_one, _m.c.turn_attempts < sa.bindparam("b_max"))
    .values(
        status=statuses.RECEIVED,
        claimed_by=None,
        claimed_at=sa.bindparam("b_now"),
        # whoever waited for the TwiML answer is gone: the replies go through the outbox
        response_twiml=sa.func.coalesce(_m.c.response_twiml, sa.bindparam("b_twiml")),
    )
)
_GIVE_UP = (
    sa.update(_m)
    .where(_stale_one, _m.c.turn_attempts >= sa.bindparam("b_max"))
    .values(
        status=statuses.FAILED,
        claimed_by=None,
        error_message=sa.bindparam("b_error"),
        response_twiml=sa.func.coalesce(_m.c.response_twiml, sa.bindparam("b_twiml")),
        updated_at=sa.bindparam("b_now"),
    )
)
_BACKLOG = (
    sa.select(_m.c.id)
    .where(_open, _m.c.status == statuses.RECEIVED)
    .order_by(_m.c.id)
    .limit(sa.bindparam("b_limit"))
)


@dataclasses.dataclass(frozen=True)
class Turn:
    """Everything a runner needs to answer one message, as plain values."""

    message_id: int
    #: The claim of the runner that holds the turn.
    token: str
    integration_id: int
    domain_id: str
    account_id: str
    application_id: str
    conversation_id: int | None
    message: InboundMessage
    keyword: str | None
    #: The bound number or Messaging Service SID that replies sent later go from.
    reply_from: str
    #: Their status-callback URL, when it was computed in the webhook request.
    reply_callback: str | None = None
    #: Whether the customer opted out of ``reply_from``; ``None``: look it up.
    opted_out: bool | None = None
    #: Whether the Request URL waits for the replies as TwiML.
    inline: bool = False
    #: Whether a person has the conversation (or was asked for): no chatbot is called.
    paused: bool = False
    #: Whether the person asked for stayed silent too long: the chatbot takes it back.
    handoff_expired: bool = False

    def signal_kwargs(self) -> dict[str, t.Any]:
        message = self.message
        if any(m.account_id != self.account_id for m in message.media):
            # the chatbot's Media.download() needs the account's credentials
            media = tuple(dataclasses.replace(m, account_id=self.account_id) for m in message.media)
            message = dataclasses.replace(message, media=media)
        return {
            "message": message,
            "domain_id": self.domain_id,
            "application_id": self.application_id,
            "conversation_id": self.conversation_id,
            "message_id": self.message_id,
            "keyword": self.keyword,
        }


def new_token() -> str:
    """A runner's claim on one turn."""
    return secrets.token_hex(16)


def claim(message_id: int, token: str) -> bool:
    """Take the turn of ``message_id`` for the runner ``token``: a turn that waits, or one
    whose runner stopped renewing its claim. ``False`` when another runner has it, the
    turn is over, or it has used up :data:`XSMS_CHATBOT_MAX_ATTEMPTS`."""
    config = current_app.config
    now = utcnow()
    session = get_state().session
    claimed = session.execute(
        _CLAIM,
        {
            "b_id": message_id,
            "b_token": token,
            "b_now": now,
            "b_stale": now - _claim_timeout(),
            "b_max": int(config["XSMS_CHATBOT_MAX_ATTEMPTS"]),
        },
    )
    session.commit()
    return bool(claimed.rowcount)


def load(message_id: int, token: str) -> Turn | None:
    """The turn of a stored message claimed by ``token``; ``None`` (and the turn ended as
    failed) when its IA Domain integration or application is gone."""
    session = get_state().session
    row = session.get(Message, message_id, populate_existing=True)
    if row is None:
        return None
    integration = (
        session.get(Integration, row.integration_id) if row.integration_id is not None else None
    )
    if integration is None or not row.application_id:
        session.execute(
            _END,
            _end_params(message_id, token, statuses.FAILED, "The IA Domain integration or"
                        " application of this message is gone."),
        )
        session.commit()
        return None
    message = message_of(row)
    conversation = (
        session.get(Conversation, row.conversation_id) if row.conversation_id else None
    )
    paused, expired = handoff_of(
        conversation.handoff if conversation is not None else None,
        conversation.handoff_at if conversation is not None else None,
    )
    return Turn(
        message_id=row.id,
        token=token,
        integration_id=integration.id,
        domain_id=integration.domain_id,
        account_id=integration.account_id,
        application_id=row.application_id,
        conversation_id=row.conversation_id,
        message=message,
        keyword=optouts.keyword_of(message.body, message.opt_out_type),
        reply_from=row.reply_from or reply_service(integration, message),
        reply_callback=row.reply_callback,
        paused=paused,
        handoff_expired=expired,
    )


def handoff_of(handoff: str | None, handoff_at: dt.datetime | None) -> tuple[bool, bool]:
    """(paused, expired) of a turn in a conversation in this hand-off state."""
    answers = conversations.chatbot_answers(handoff, handoff_at, utcnow())
    return not answers, answers and handoff not in (None, conversations.BOT)


def run(turn: Turn) -> str | None:
    """Call the application's chatbots for the turn (unless a person has the
    conversation) and deliver their replies; returns the TwiML answer when the Request
    URL waits for it (see :func:`finish`)."""
    # no transaction (and connection) held while a chatbot thinks for seconds
    get_state().session.rollback()
    if turn.paused:
        return finish(turn, Outcome())
    if turn.handoff_expired and turn.conversation_id is not None:
        conversations.expire(turn.conversation_id, turn.domain_id)
    return finish(turn, call_chatbots(turn.application_id, **turn.signal_kwargs()))


def finish(turn: Turn, outcome: Outcome) -> str | None:
    """End the turn with the chatbots' outcome, if ``turn.token`` still holds it.

    Returns the TwiML that answers the Request URL when it still waits (the replies are
    stored ``replied``); otherwise the replies go into the outbox in the same
    transaction and are sent, and ``None`` is returned. A runner that lost its claim
    (it was taken for dead) stores and sends nothing. A :class:`~flask_xsms.Handoff`
    asks for a person in the same transaction; its message goes first.
    """
    errors, handoff = outcome.errors, outcome.handoff
    replies = outcome.replies
    if handoff is not None and handoff.message:
        replies = [Reply(handoff.message), *replies]
    messages = [] if turn.paused else final_messages(
        replies,
        errors,
        keyword=turn.keyword,
        opted_out=_opted_out(turn),
        application_id=turn.application_id,
        message_sid=turn.message.sid,
        channel=turn.message.channel,
    )
    status = statuses.FAILED if errors else statuses.HANDLED
    params = _end_params(turn.message_id, turn.token, status, "\n".join(errors) or None)
    session = get_state().session
    try:
        connection = session.connection()
        if handoff is not None and turn.conversation_id is not None:
            conversations.request_handoff(
                connection, turn.conversation_id, handoff.reason, params["b_now"]
            )
        if turn.inline:
            twiml = messaging_response(messages)
            if connection.execute(_END_INLINE, {**params, "b_twiml": twiml}).rowcount:
                ids = message_store.insert_messages(
                    connection,
                    [_reply_values(turn, m, params["b_now"], twiml=True) for m in messages],
                )
                session.commit()
                _notify(turn, messages, ids, via="twiml", handoff=handoff)
                return twiml
        if not connection.execute(_END, params).rowcount:
            session.rollback()
            logger.warning(
                "The turn of message %s was taken over by another runner; the replies of"
                " this run are dropped.",
                turn.message.sid,
            )
            return None
        ids = message_store.insert_messages(
            connection, [_reply_values(turn, m, params["b_now"], twiml=False) for m in messages]
        )
        session.commit()
    except SQLAlchemyError:
        # The claim lapses and another runner answers the message again.
        logger.exception("Could not store the answer to message %s.", turn.message.sid)
        _rollback()
        return None
    _send(turn, messages, ids, handoff=handoff)
    return None


def stop_waiting(message_id: int, twiml: str | None = None) -> str | None:
    """Nobody waits for the turn's TwiML any more (the Request URL's time is up, or the
    Fallback URL answers ``twiml``): its replies will go through the outbox. Returns
    ``None``, or the TwiML the turn was answered with just before."""
    session = get_state().session
    stopped = session.execute(
        _STOP_WAITING, {"b_id": message_id, "b_twiml": twiml or empty_response()}
    )
    session.commit()
    if stopped.rowcount:
        return None
    return t.cast(str, session.scalar(sa.select(_m.c.response_twiml).where(_m.c.id == message_id)))


def renew(app: Flask, tokens: t.Collection[str]) -> None:
    """Confirm that the runners ``tokens`` are alive: their claims move on."""
    if not tokens:
        return
    with get_state(app).db.engine.begin() as connection:
        connection.execute(_RENEW, {"b_tokens": list(tokens), "b_now": utcnow()})


#: Outcomes of :func:`hand_over`.
HANDED_OVER, GIVEN_UP = "handed over", "given up"


def hand_over_stale(limit: int = 100) -> list[int]:
    """Hand over the turns whose runner stopped renewing its claim, and those handed
    to a runner that never claimed them (see :func:`hand_over`); returns the message ids
    of those now waiting for a runner again."""
    session = get_state().session
    stale = utcnow() - _claim_timeout()
    ids = session.scalars(_STALE, {"b_stale": stale, "b_limit": limit}).all()
    session.rollback()
    handed = [i for i in ids if hand_over(i) == HANDED_OVER]
    if handed:
        logger.warning(
            "%d turn(s) whose runner stopped (or never started) were handed over again.",
            len(handed),
        )
    return handed


def hand_over(message_id: int, *, older_than: float | None = None) -> str | None:
    """Make a stale turn wait for a runner again: :data:`HANDED_OVER`.

    Stale means handed to a runner more than ``older_than`` seconds ago (by default
    :data:`XSMS_TURN_CLAIM_TIMEOUT`) and never claimed, or claimed by a runner that has
    not renewed its claim for that long, and never less than
    :data:`XSMS_TURN_CLAIM_TIMEOUT`: a live runner keeps its turn.

    Whoever waited for its TwiML answer is gone, so its replies will go through the
    outbox. A turn that used up :data:`XSMS_CHATBOT_MAX_ATTEMPTS` is given up instead
    (:data:`GIVEN_UP`): it fails and the customer gets :data:`XSMS_APOLOGY_MESSAGE`.
    ``None`` when the turn is not stale (any more).
    """
    session = get_state().session
    now = utcnow()
    claim_timeout = _claim_timeout()
    age = claim_timeout if older_than is None else dt.timedelta(seconds=older_than)
    max_attempts = int(current_app.config["XSMS_CHATBOT_MAX_ATTEMPTS"])
    params = {
        "b_id": message_id,
        "b_stale": now - age,
        "b_stale_claim": now - max(age, claim_timeout),
        "b_now": now,
        "b_twiml": empty_response(),
        "b_max": max_attempts,
    }
    if session.execute(_HAND_OVER, params).rowcount:
        session.commit()
        return HANDED_OVER
    error = f"The chatbot did not finish in {max_attempts} run(s); answered with the apology."
    if session.execute(_GIVE_UP, {**params, "b_error": error}).rowcount:
        logger.error("Message %s: %s", message_id, error)
        _apologise(message_id)  # commits the give-up with the apology in the outbox
        return GIVEN_UP
    session.rollback()
    return None


def waiting(limit: int) -> list[int]:
    """Ids of the turns that wait for a runner, oldest first."""
    session = get_state().session
    ids = list(session.scalars(_BACKLOG, {"b_limit": limit}))
    session.rollback()
    return ids


# -- internals -------------------------------------------------------------------------


def _claim_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=float(current_app.config["XSMS_TURN_CLAIM_TIMEOUT"]))


def _end_params(message_id: int, token: str, status: str, error: str | None) -> dict[str, t.Any]:
    return {
        "b_id": message_id,
        "b_token": token,
        "b_status": status,
        "b_error": error,
        "b_now": utcnow(),
    }


def _opted_out(turn: Turn) -> bool:
    if turn.opted_out is not None:
        return turn.opted_out
    return optouts.is_opted_out(turn.account_id, turn.reply_from, turn.message.from_)


def _reply_values(turn: Turn, reply: Reply, now: dt.datetime, *, twiml: bool) -> dict[str, t.Any]:
    """The row of one reply: answered as TwiML (``replied``), or in the outbox."""
    if twiml:
        sender, status = turn.message.to, statuses.REPLIED
        details: dict[str, t.Any] = {}
    else:
        sender, status = turn.reply_from, statuses.PENDING
        details = {"status_callback": _reply_callback(turn), "attempts": 0}
        if turn.keyword == "stop" and turn.message.channel == channels.WHATSAPP:
            details["opt_out_confirmation"] = True
    return {
        "sid": None,
        "direction": "outbound",
        "integration_id": turn.integration_id,
        "conversation_id": turn.conversation_id,
        "application_id": turn.application_id,
        "account_sid": turn.message.account_sid if twiml else None,
        "from_number": sender,
        "to_number": turn.message.from_,
        "body": reply.body,
        "media": [{"url": url} for url in reply.media_urls],
        "num_segments": segments_of(reply.body, turn.message.from_),
        "status": status,
        "in_reply_to_id": turn.message_id,
        "details": details,
        "created_at": now,
        "updated_at": now,
    }


def _reply_callback(turn: Turn) -> str | None:
    if turn.reply_callback:
        return turn.reply_callback
    integration = get_state().session.get(Integration, turn.integration_id)
    return outbound.status_callback_or_none(integration) if integration is not None else None


def _send(
    turn: Turn, messages: list[Reply], ids: list[int], *, handoff: Handoff | None = None
) -> None:
    """Send the replies stored in the outbox (or hand them to Celery)."""
    if ids:
        try:
            outbound.send_stored(ids)
        except SendError as e:
            # send_stored keeps each message and its error in the outbox.
            logger.warning("A reply to message %s was not sent: %s", turn.message.sid, e)
    _notify(turn, messages, ids, via="rest", handoff=handoff)


def _notify(
    turn: Turn,
    messages: list[Reply],
    ids: list[int],
    *,
    via: str,
    handoff: Handoff | None = None,
) -> None:
    if handoff is not None:
        notify(
            handoff_requested,
            current_app._get_current_object(),  # type: ignore[attr-defined]
            conversation_id=turn.conversation_id,
            domain_id=turn.domain_id,
            application_id=turn.application_id,
            customer=turn.message.from_,
            reason=handoff.reason,
            message_id=turn.message_id,
        )
    for message, message_id in zip(messages, ids, strict=True):
        notify(
            reply_sent,
            turn.application_id,
            reply=message,
            message_id=message_id,
            in_reply_to=turn.message,
            domain_id=turn.domain_id,
            application_id=turn.application_id,
            conversation_id=turn.conversation_id,
            via=via,
        )


def _apologise(message_id: int) -> None:
    """Store and send the apology for a turn given up (unless the customer opted out)."""
    turn = load(message_id, token="")
    if turn is None:
        get_state().session.commit()
        return
    messages = final_messages(
        as_replies(current_app.config["XSMS_APOLOGY_MESSAGE"]),
        [],
        keyword=None,
        opted_out=_opted_out(turn),
        application_id=turn.application_id,
        message_sid=turn.message.sid,
        channel=turn.message.channel,
    )
    session = get_state().session
    now = utcnow()
    ids = message_store.insert_messages(
        session.connection(), [_reply_values(turn, m, now, twiml=False) for m in messages]
    )
    session.commit()
    _send(turn, messages, ids)


def _rollback() -> None:
    try:
        get_state().session.rollback()
    except SQLAlchemyError:
        logger.exception("Rollback failed.")
