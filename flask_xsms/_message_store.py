"""The Request URL's reads and writes, as SQLAlchemy Core statements.

Every Twilio message goes through these, so they skip the ORM's unit of work: one
statement finds the binding of the ``To`` number (or of the Messaging Service it came
through) together with the customer's opt-out and open conversation, and the message,
its conversation and (later) its answer are
written with plain ``INSERT``/``UPDATE`` statements built once, on the session's own
connection and transaction. Other code keeps using the ORM models of the same tables.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

import sqlalchemy as sa

from .models import Conversation
from .models import Message
from .models import NumberBinding
from .models import OptOut
from .models import as_utc

_bindings = NumberBinding.__table__
_opt_outs = OptOut.__table__
_conversations = Conversation.__table__
_messages = Message.__table__

_ROUTE = (
    sa.select(
        _bindings.c.application_id,
        _opt_outs.c.opted_out,
        _conversations.c.id,
        _conversations.c.last_message_at,
        _bindings.c.phone_number,
        _conversations.c.handoff,
        _conversations.c.handoff_at,
    )
    .select_from(_bindings)
    .outerjoin(
        _opt_outs,
        sa.and_(
            _opt_outs.c.account_id == _bindings.c.account_id,
            _opt_outs.c.service_number == _bindings.c.phone_number,
            _opt_outs.c.customer_number == sa.bindparam("customer"),
        ),
    )
    .outerjoin(
        _conversations,
        sa.and_(
            _conversations.c.integration_id == _bindings.c.integration_id,
            _conversations.c.application_id == _bindings.c.application_id,
            _conversations.c.customer_number == sa.bindparam("customer"),
            _conversations.c.closed_at.is_(None),
        ),
    )
    .where(
        _bindings.c.account_id == sa.bindparam("account_id"),
        _bindings.c.phone_number.in_([sa.bindparam("service"), sa.bindparam("number")]),
        _bindings.c.integration_id == sa.bindparam("integration_id"),
    )
    # A bound Messaging Service wins over the number it sent from.
    .order_by(sa.case((_bindings.c.phone_number == sa.bindparam("service"), 0), else_=1))
    .limit(1)
)
# The columns to set are the other keys of the parameters given with these.
_UPDATE_CONVERSATION = sa.update(_conversations).where(
    _conversations.c.id == sa.bindparam("conversation_id")
)
_NEW_CONVERSATION = sa.insert(_conversations)
_NEW_MESSAGE = sa.insert(_messages)
_STORED = sa.select(_messages.c.id, _messages.c.status, _messages.c.response_twiml).where(
    _messages.c.sid == sa.bindparam("sid")
)


@dataclasses.dataclass(frozen=True)
class Route:
    """Where an inbound message goes: the bound number (or Messaging Service SID) and its
    application, and what is known of the customer there (opted out; the open
    conversation and its last message)."""

    application_id: str
    opted_out: bool
    conversation_id: int | None
    last_message_at: dt.datetime | None
    service: str
    #: Who answers the open conversation (``"bot"``, ``"needs_agent"``, ``"agent"``) and
    #: since when a person was asked for or last acted.
    handoff: str | None = None
    handoff_at: dt.datetime | None = None


def route(
    connection: sa.Connection,
    *,
    integration_id: int,
    account_id: str,
    number: str,
    customer: str,
    service: str | None = None,
) -> Route | None:
    """The route of a message to ``number`` from ``customer`` in one integration, or
    ``None`` when no binding of that integration holds ``number`` (or ``service``).

    :param service: the Messaging Service the message came through; when the
        integration binds it, it wins over ``number``. The opt-outs that apply are the
        bound number's, or the service's.
    """
    row = connection.execute(
        _ROUTE,
        {
            "account_id": account_id,
            "number": number,
            "service": service or number,
            "integration_id": integration_id,
            "customer": customer,
        },
    ).first()
    if row is None:
        return None
    return Route(row[0], bool(row[1]), row[2], row[3], row[4], row[5], row[6])


def file_in_conversation(
    connection: sa.Connection,
    route: Route,
    *,
    integration_id: int,
    customer: str,
    service_number: str,
    now: dt.datetime,
    timeout: dt.timedelta,
) -> int:
    """The id of the conversation a message of ``route`` joins: the open one, touched,
    unless inactive for longer than ``timeout`` (then closed and a new one started).

    A new open conversation can collide with one started at the same moment
    (:class:`sqlalchemy.exc.IntegrityError` on the unique open-conversation index).
    """
    if route.conversation_id is not None:
        last = route.last_message_at
        if last is not None and as_utc(last) + timeout >= now:
            connection.execute(
                _UPDATE_CONVERSATION,
                {"conversation_id": route.conversation_id, "last_message_at": now},
            )
            return route.conversation_id
        connection.execute(
            _UPDATE_CONVERSATION, {"conversation_id": route.conversation_id, "closed_at": now}
        )
    result = connection.execute(
        _NEW_CONVERSATION,
        {
            "integration_id": integration_id,
            "application_id": route.application_id,
            "customer_number": customer,
            "service_number": service_number,
            "started_at": now,
            "last_message_at": now,
        },
    )
    return t.cast(int, result.inserted_primary_key[0])


def insert_message(connection: sa.Connection, values: dict[str, t.Any]) -> int:
    """Insert one message row; returns its id. A repeated ``sid`` raises
    :class:`sqlalchemy.exc.IntegrityError`."""
    result = connection.execute(_NEW_MESSAGE, values)
    return t.cast(int, result.inserted_primary_key[0])


def insert_messages(connection: sa.Connection, rows: list[dict[str, t.Any]]) -> list[int]:
    """Insert message rows in order; returns their ids."""
    return [insert_message(connection, row) for row in rows]


def stored(connection: sa.Connection, sid: str) -> tuple[int, str, str | None] | None:
    """(id, status, response_twiml) of the message stored under ``sid``."""
    row = connection.execute(_STORED, {"sid": sid}).first()
    return None if row is None else (row[0], row[1], row[2])
