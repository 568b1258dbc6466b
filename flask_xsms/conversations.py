"""Conversations: a customer's thread with an application, and who answers it.

A conversation is ``"bot"`` (its chatbot answers), ``"needs_agent"`` (the chatbot asked
for a person by returning a :class:`~flask_xsms.Handoff`) or ``"agent"`` (an operator
took it over and answers through the outbox); ``"closed"`` once inactivity closed it.
While a person is asked for or has it, the chatbot is not called: the customer's
messages are stored and answered with an empty ``<Response/>``. An operator hands it
back, or :data:`XSMS_HANDOFF_TIMEOUT` seconds pass without an operator acting, and the
chatbot answers again.

Every change of hands is one conditional ``UPDATE``: of two operators taking a
conversation over at once, one wins and the other learns who has it.
"""
from __future__ import annotations

__all__ = [
    "conversations",
    "conversation",
    "thread",
    "take_over",
    "hand_back",
    "reply",
    "state_of",
    "Summary",
    "ConversationNotFound",
    "BOT",
    "NEEDS_AGENT",
    "AGENT",
    "CLOSED",
    "STATES",
]

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa
from flask import current_app
from flask import Flask

from . import outbound
from .errors import ConversationTaken
from .errors import NotTakenOver
from .errors import XSMSError
from .integrations import integration_for
from .models import as_utc
from .models import Conversation
from .models import Message
from .models import utcnow
from .signals import conversation_handed_back
from .signals import conversation_taken_over
from .signals import notify
from ._state import get_state
from ._values import Domain
from ._values import Operator

if t.TYPE_CHECKING:
    from flask_sqlalchemy.pagination import Pagination

#: The chatbot answers.
BOT = "bot"
#: The chatbot asked for a person; nobody has taken it over yet.
NEEDS_AGENT = "needs_agent"
#: An operator has it.
AGENT = "agent"
#: Closed after :data:`XSMS_CONVERSATION_TIMEOUT` of inactivity.
CLOSED = "closed"
#: Every state, in the order the pages list them.
STATES = (NEEDS_AGENT, AGENT, BOT, CLOSED)

_c = Conversation.__table__
#: The largest row offset the databases take (a signed 64-bit integer).
_MAX_OFFSET = 2**63 - 1


class ConversationNotFound(XSMSError, LookupError):
    """No conversation of that id in the IA Domain."""


@dataclasses.dataclass(frozen=True)
class Summary:
    """One row of a domain's conversation list."""

    conversation: Conversation
    #: ``"bot"``, ``"needs_agent"``, ``"agent"`` or ``"closed"``.
    state: str
    last_message: Message | None


def chatbot_answers(handoff: str | None, handoff_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether the chatbot answers a conversation in this state: it is ``"bot"``, or the
    person asked for stayed silent for :data:`XSMS_HANDOFF_TIMEOUT`."""
    if handoff in (None, BOT):
        return True
    return handoff_at is None or as_utc(handoff_at) + _timeout() < now


def state_of(conversation: Conversation, now: dt.datetime | None = None) -> str:
    """The state of ``conversation`` as the pages show it."""
    if conversation.closed_at is not None:
        return CLOSED
    if chatbot_answers(conversation.handoff, conversation.handoff_at, now or utcnow()):
        return BOT
    return conversation.handoff


def conversations(
    domain: Domain,
    *,
    page: int = 1,
    per_page: int | None = None,
    number: str = "",
    state: str = "",
) -> Pagination:
    """A page of the domain's conversations, newest activity first; each item a
    :class:`Summary`.

    :param number: only the conversations of this customer number (normalised).
    :param state: only the conversations in this state (one of :data:`STATES`).
    """
    integration = integration_for(domain)
    query = sa.select(Conversation).where(
        Conversation.integration_id == integration.id if integration else sa.false()
    )
    if number:
        query = query.where(Conversation.customer_number == number)
    if state:
        query = query.where(_in_state(state, utcnow()))
    query = query.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    per_page = per_page or current_app.config["XSMS_MESSAGES_PER_PAGE"]
    # a page past any offset the database takes is as empty as the page after the last
    page = min(max(page, 1), _MAX_OFFSET // per_page)
    pagination = get_state().db.paginate(
        query, page=page, per_page=per_page, max_per_page=per_page, error_out=False
    )
    rows = list(pagination.items)
    last = _last_messages([r.id for r in rows])
    now = utcnow()
    pagination.items = [Summary(r, state_of(r, now), last.get(r.id)) for r in rows]
    return pagination


def conversation(domain: Domain, conversation_id: int) -> Conversation:
    """The conversation ``conversation_id`` of ``domain``.

    :raises ConversationNotFound: when the domain has no such conversation.
    """
    session = get_state().session
    integration = integration_for(domain)
    found = session.get(Conversation, conversation_id, populate_existing=True)
    if integration is None or found is None or found.integration_id != integration.id:
        raise ConversationNotFound("There is no such conversation in this IA Domain.")
    return found


def thread(domain: Domain, conversation_id: int, *, after: int = 0) -> list[Message]:
    """The messages of a conversation, oldest first (those with an id above ``after``)."""
    found = conversation(domain, conversation_id)
    return list(
        get_state().session.scalars(
            sa.select(Message)
            .where(Message.conversation_id == found.id, Message.id > after)
            .order_by(Message.id)
        )
    )


def take_over(domain: Domain, conversation_id: int, operator: Operator) -> Conversation:
    """Give the conversation to ``operator``: the chatbot is no longer called for it.

    :raises ConversationTaken: when another operator has it (it names them).
    :raises ConversationNotFound: when there is no such open conversation.
    """
    found = conversation(domain, conversation_id)
    now = utcnow()
    taken = _update(
        sa.and_(
            _c.c.closed_at.is_(None),
            sa.or_(
                _c.c.handoff != AGENT,
                _c.c.agent_id == operator.id,
                _c.c.handoff_at < now - _timeout(),
            ),
        ),
        found.id,
        handoff=AGENT,
        agent_id=operator.id,
        agent_name=operator.name,
        handoff_at=now,
    )
    found = conversation(domain, conversation_id)
    if not taken:
        if found.closed_at is not None:
            raise ConversationNotFound("This conversation is closed.")
        raise ConversationTaken(
            f"{found.agent_name or 'Another operator'} has this conversation.",
            agent_name=found.agent_name,
        )
    notify(conversation_taken_over, _app(), conversation_id=found.id, domain_id=domain.id,
           operator=operator)
    return found


def hand_back(domain: Domain, conversation_id: int, operator: Operator) -> Conversation:
    """Give the conversation back to its chatbot.

    :raises ConversationTaken: when another operator has it.
    """
    found = conversation(domain, conversation_id)
    handed = _update(
        sa.or_(_c.c.handoff == NEEDS_AGENT, _c.c.agent_id == operator.id),
        found.id,
        **_TO_BOT,
    )
    found = conversation(domain, conversation_id)
    if not handed and found.handoff == AGENT:
        raise ConversationTaken(
            f"{found.agent_name or 'Another operator'} has this conversation.",
            agent_name=found.agent_name,
        )
    if handed:
        notify(conversation_handed_back, _app(), conversation_id=found.id, domain_id=domain.id,
               operator=operator, reason="handed_back")
    return found


def reply(domain: Domain, conversation_id: int, operator: Operator, body: str) -> list[Message]:
    """Send ``body`` to the customer as ``operator``, through the outbox.

    :raises NotTakenOver: when ``operator`` has not taken the conversation over.
    :raises ConversationTaken: when another operator has it.
    :raises SendError: (a subclass of it, e.g. :class:`~flask_xsms.OptedOut`) when
        sending failed; the message is stored with the error.
    :raises NumberError: when the conversation's numbers can't be used to send (its
        Twilio number was unbound since, or a channel address the REST API sends to
        only through its own channel).
    """
    found = conversation(domain, conversation_id)
    if state_of(found) != AGENT or found.agent_id != operator.id:
        if state_of(found) == AGENT:
            raise ConversationTaken(
                f"{found.agent_name or 'Another operator'} has this conversation.",
                agent_name=found.agent_name,
            )
        raise NotTakenOver("Take the conversation over to reply.")
    # an operator who writes is not silent
    _update(_c.c.agent_id == operator.id, found.id, handoff_at=utcnow())
    return outbound.send(
        domain,
        from_number=found.service_number,
        to=found.customer_number,
        body=body,
        conversation_id=found.id,
        operator=operator,
    )


def request_handoff(
    connection: sa.Connection, conversation_id: int, reason: str, now: dt.datetime
) -> bool:
    """In the transaction that ends a turn: ask for a person, unless one has it."""
    result = connection.execute(
        sa.update(_c)
        .where(_c.c.id == conversation_id, _c.c.handoff != AGENT)
        .values(handoff=NEEDS_AGENT, handoff_reason=reason[:2000] or None, handoff_at=now)
    )
    return bool(result.rowcount)


def expire(conversation_id: int, domain_id: str) -> None:
    """The person asked for stayed silent for :data:`XSMS_HANDOFF_TIMEOUT`: the chatbot
    answers again."""
    if _update(
        sa.and_(_c.c.handoff != BOT, _c.c.handoff_at < utcnow() - _timeout()),
        conversation_id,
        **_TO_BOT,
    ):
        notify(conversation_handed_back, _app(), conversation_id=conversation_id,
               domain_id=domain_id, operator=None, reason="timeout")


# -- internals -------------------------------------------------------------------------

_TO_BOT: dict[str, t.Any] = {
    "handoff": BOT,
    "agent_id": None,
    "agent_name": None,
    "handoff_at": None,
    "handoff_reason": None,
}


def _update(condition: t.Any, conversation_id: int, **values: t.Any) -> bool:
    session = get_state().session
    result = session.execute(sa.update(_c).where(_c.c.id == conversation_id, condition).values(**values))
    session.commit()
    return bool(result.rowcount)


def _in_state(state: str, now: dt.datetime) -> t.Any:
    expired = sa.or_(_c.c.handoff_at.is_(None), _c.c.handoff_at < now - _timeout())
    open_ = _c.c.closed_at.is_(None)
    if state == CLOSED:
        return _c.c.closed_at.is_not(None)
    if state == BOT:
        return sa.and_(open_, sa.or_(_c.c.handoff == BOT, expired))
    if state in (AGENT, NEEDS_AGENT):
        return sa.and_(open_, _c.c.handoff == state, sa.not_(expired))
    raise ValueError(f"Unknown conversation state {state!r}.")


def _last_messages(conversation_ids: list[int]) -> dict[int, Message]:
    if not conversation_ids:
        return {}
    session = get_state().session
    last_ids = (
        sa.select(sa.func.max(Message.id))
        .where(Message.conversation_id.in_(conversation_ids))
        .group_by(Message.conversation_id)
    )
    rows = session.scalars(sa.select(Message).where(Message.id.in_(last_ids)))
    return {m.conversation_id: m for m in rows if m.conversation_id is not None}


def _timeout() -> dt.timedelta:
    return dt.timedelta(seconds=float(current_app.config["XSMS_HANDOFF_TIMEOUT"]))


def _app() -> Flask:
    return t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
