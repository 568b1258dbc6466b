"""Opt-out: who asked not to get messages from which Twilio number.

Twilio blocks messages to a customer who texted a STOP-family keyword to a number until
they text a START-family keyword; it still delivers the keyword to the webhook. This
module keeps the same record, so the extension refuses to send instead of failing.
"""
from __future__ import annotations

import typing as t

import sqlalchemy as sa

from ._state import get_state
from .models import OptOut

#: Single-word bodies (any case) that opt a customer out, as Twilio handles them.
STOP_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
#: Single-word bodies that opt a customer back in.
START_KEYWORDS = frozenset({"START", "YES", "UNSTOP"})
#: Single-word bodies that ask for help.
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

Keyword = t.Literal["stop", "start", "help"]


def keyword_of(body: str | None, opt_out_type: str | None = None) -> Keyword | None:
    """What an inbound message asks for: ``"stop"``, ``"start"``, ``"help"`` or ``None``.

    Twilio's ``OptOutType`` parameter wins when present; otherwise only a body that is
    one keyword (surrounding spaces and case ignored) counts, as with Twilio.
    """
    if opt_out_type:
        kind = opt_out_type.strip().lower()
        if kind in ("stop", "start", "help"):
            return t.cast(Keyword, kind)
    word = (body or "").strip().upper()
    if word in STOP_KEYWORDS:
        return "stop"
    if word in START_KEYWORDS:
        return "start"
    if word in HELP_KEYWORDS:
        return "help"
    return None


def is_opted_out(account_id: str, service_number: str, customer_number: str) -> bool:
    """Whether ``customer_number`` opted out of messages from ``service_number``."""
    row = _row(account_id, service_number, customer_number)
    return row is not None and row.opted_out


def set_opted_out(
    account_id: str, service_number: str, customer_number: str, opted_out: bool, reason: str
) -> OptOut:
    """Record that a customer opted out (or back in), and why. Commits."""
    session = get_state().session
    row = _row(account_id, service_number, customer_number)
    if row is None:
        row = OptOut(
            account_id=account_id,
            service_number=service_number,
            customer_number=customer_number,
        )
        session.add(row)
    row.opted_out = opted_out
    row.reason = reason
    try:
        session.commit()
    except sa.exc.IntegrityError:  # recorded at the same moment by another request
        session.rollback()
        row = t.cast(OptOut, _row(account_id, service_number, customer_number))
        row.opted_out = opted_out
        row.reason = reason
        session.commit()
    return row


def opt_outs_of(account_id: str, service_numbers: t.Iterable[str]) -> list[OptOut]:
    """Opt-out records of customers of ``service_numbers`` (opted out or back in), newest
    change first: who, from which number, when and why."""
    numbers = list(service_numbers)
    if not numbers:
        return []
    return list(
        get_state().session.scalars(
            sa.select(OptOut)
            .where(OptOut.account_id == account_id, OptOut.service_number.in_(numbers))
            .order_by(OptOut.updated_at.desc(), OptOut.id.desc())
        )
    )


def _row(account_id: str, service_number: str, customer_number: str) -> OptOut | None:
    return get_state().session.scalar(
        sa.select(OptOut).filter_by(
            account_id=account_id, service_number=service_number, customer_number=customer_number
        )
    )
