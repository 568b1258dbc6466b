"""Retry what was stored but never went out: the service behind ``flask xsms retry``.

Two kinds of work:

* **Outbound messages still** ``"pending"``: queued with :data:`XSMS_SEND_IMMEDIATELY`
  off, or left pending by a retryable error (rate limit, Twilio unreachable). Each is
  sent with :func:`flask_xsms.outbound.deliver`, the claim :func:`~flask_xsms.outbound.send_pending`
  uses, so a message is never sent twice.
* **Inbound messages never answered**: turns still ``"received"`` or ``"processing"``
  whose runner has not confirmed it is alive for longer than a cutoff. Each is handed
  over and answered in this process by the turn service that the Request URL, the
  chatbot threads and Celery use (:mod:`flask_xsms._inbound.turns`), its replies sent
  through the REST API. The sweeps of :data:`XSMS_CHATBOT_VIA` do the same on their own;
  this command is for when no process runs them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import typing as t

import sqlalchemy as sa

from . import outbound
from . import statuses
from .errors import SendError
from ._inbound import turns
from ._inbound.runner import ANSWERED
from ._inbound.runner import runner_for
from .models import Message
from .models import utcnow
from ._state import get_state

logger = logging.getLogger("flask_xsms")

#: Default age, in seconds, past which an unanswered inbound message is retried.
DEFAULT_INBOUND_CUTOFF = 600.0

#: Outcomes of :func:`run`.
SENT, PENDING, FAILED_OUTCOME = "sent", "pending", "failed"
SKIPPED = "skipped"


@dataclasses.dataclass(frozen=True)
class RetryItem:
    """One message to retry: ``direction`` is ``"outbound"`` or ``"inbound"``."""

    message_id: int
    direction: str


@dataclasses.dataclass(frozen=True)
class RetryResult:
    """What became of one :class:`RetryItem`.

    :param outcome: ``"sent"`` (Twilio accepted it), ``"pending"`` (a retryable error
        kept it in the outbox), ``"failed"``, ``"answered"`` (an inbound message's
        chatbot ran and every reply was sent) or ``"skipped"`` (another worker had it).
    :param detail: why, for ``"pending"`` and ``"failed"``.
    """

    item: RetryItem
    outcome: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Whether nothing is left to do for this message."""
        return self.outcome in (SENT, ANSWERED, SKIPPED)


def plan(
    *, limit: int | None = None, older_than: float = DEFAULT_INBOUND_CUTOFF
) -> list[RetryItem]:
    """The messages to retry, oldest first: pending outbound ones, then unanswered
    inbound turns whose runner has given no sign of life (or that were handed to one
    and never claimed) for more than ``older_than`` seconds.

    :param limit: at most this many of each kind.
    """
    session = get_state().session
    outbound_ids = outbound.pending_ids(limit)
    cutoff = utcnow() - dt.timedelta(seconds=older_than)
    inbound_ids = session.scalars(
        sa.select(Message.id)
        .where(
            Message.direction == "inbound",
            Message.status.in_(statuses.OPEN_TURN),
            Message.claimed_at < cutoff,
        )
        .order_by(Message.id)
        .limit(limit)
    ).all()
    return [RetryItem(i, "outbound") for i in outbound_ids] + [
        RetryItem(i, "inbound") for i in inbound_ids
    ]


def run(item: RetryItem, *, older_than: float = DEFAULT_INBOUND_CUTOFF) -> RetryResult:
    """Retry one message of :func:`plan`. Errors are stored and returned, not raised."""
    if item.direction == "outbound":
        return _resend(item)
    return _answer_again(item, older_than)


def summary(results: t.Iterable[RetryResult]) -> str:
    """One line that counts the outcomes of :func:`run`."""
    counts: dict[tuple[str, str], int] = {}
    for result in results:
        key = (result.item.direction, result.outcome)
        counts[key] = counts.get(key, 0) + 1

    def n(direction: str, outcome: str) -> int:
        return counts.get((direction, outcome), 0)

    parts = [
        f"outbound: {n('outbound', SENT)} sent, {n('outbound', PENDING)} still pending,"
        f" {n('outbound', FAILED_OUTCOME)} failed",
        f"inbound: {n('inbound', ANSWERED)} answered, {n('inbound', FAILED_OUTCOME)} failed",
    ]
    skipped = n("outbound", SKIPPED) + n("inbound", SKIPPED)
    if skipped:
        parts.append(f"{skipped} skipped (handled elsewhere)")
    return "Retried " + "; ".join(parts) + "."


# -- outbound -------------------------------------------------------------------------


def _resend(item: RetryItem) -> RetryResult:
    try:
        message = outbound.deliver(item.message_id)
    except LookupError:
        return RetryResult(item, SKIPPED)
    except SendError as e:
        stored = e.sent_message
        still_pending = stored is not None and stored.status == statuses.PENDING
        return RetryResult(item, PENDING if still_pending else FAILED_OUTCOME, e.message)
    if message.status in (statuses.PENDING, statuses.SENDING):
        return RetryResult(item, SKIPPED)  # another worker holds it
    if message.status == statuses.FAILED:
        return RetryResult(item, FAILED_OUTCOME, message.error_message or "")
    return RetryResult(item, SENT)


# -- inbound --------------------------------------------------------------------------

def _answer_again(item: RetryItem, older_than: float) -> RetryResult:
    session = get_state().session
    outcome = turns.hand_over(item.message_id, older_than=older_than)
    if outcome is None:
        return RetryResult(item, SKIPPED)  # a runner has it, or it is over
    if outcome == turns.HANDED_OVER and runner_for().answer(item.message_id) != ANSWERED:
        return RetryResult(item, SKIPPED)
    row = session.get(Message, item.message_id, populate_existing=True)
    assert row is not None
    replies = session.scalars(
        sa.select(Message).where(Message.in_reply_to_id == row.id, Message.direction == "outbound")
    ).all()
    problems = [row.error_message] if row.status == statuses.FAILED else []
    problems += [r.error_message for r in replies if r.status == statuses.FAILED]
    if problems:
        return RetryResult(item, FAILED_OUTCOME, "; ".join(p or "failed" for p in problems))
    return RetryResult(item, ANSWERED)
