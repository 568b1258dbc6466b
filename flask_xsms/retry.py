"""Retry what was stored but never went out: the service behind ``flask xsms retry``.

Two kinds of work:

* **Outbound messages still** ``"pending"``: queued with :data:`XSMS_SEND_IMMEDIATELY`
  off, or left pending by a retryable error (rate limit, Twilio unreachable). Each is
  sent with :func:`flask_xsms.outbound.deliver`, the claim :func:`~flask_xsms.outbound.send_pending`
  uses, so a message is never sent twice.
* **Inbound messages never answered**: status ``"processing"`` (the process stopped
  while the chatbot ran) or ``"late"`` without any reply (the chatbot missed
  :data:`XSMS_REPLY_TIMEOUT` and its late replies never went out), last changed longer
  ago than a cutoff. The chatbot runs again for each, and its replies are sent through
  the REST API, since Twilio's webhook request is long over. Messages answered by the
  Fallback URL, unrouted messages and messages whose chatbot failed (the customer got
  :data:`XSMS_APOLOGY_MESSAGE`) are left alone.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import typing as t

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from . import optouts
from . import outbound
from .errors import SendError
from .extension import get_state
from .inbound import call_chatbots
from .inbound import FAILED
from .inbound import final_messages
from .inbound import HANDLED
from .inbound import LATE
from .inbound import parse_inbound
from .inbound import PROCESSING
from .inbound import reply_service
from .models import Integration
from .models import Message
from .models import utcnow
from .signals import notify
from .signals import reply_sent
from .types import InboundMessage

logger = logging.getLogger("flask_xsms")

#: Default age, in seconds, past which an unanswered inbound message is retried.
DEFAULT_INBOUND_CUTOFF = 600.0

#: Outcomes of :func:`run`.
SENT, PENDING, FAILED_OUTCOME = "sent", "pending", "failed"
ANSWERED, SKIPPED = "answered", "skipped"


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
    inbound ones last changed more than ``older_than`` seconds ago.

    :param limit: at most this many of each kind.
    """
    session = get_state().session
    outbound_ids = outbound.pending_ids(limit)
    cutoff = utcnow() - dt.timedelta(seconds=older_than)
    reply = aliased(Message)
    has_reply = sa.select(reply.id).where(reply.in_reply_to_id == Message.id).exists()
    inbound_ids = session.scalars(
        sa.select(Message.id)
        .where(
            Message.direction == "inbound",
            Message.status.in_((PROCESSING, LATE)),
            Message.updated_at < cutoff,
            ~has_reply,
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
        still_pending = stored is not None and stored.status == "pending"
        return RetryResult(item, PENDING if still_pending else FAILED_OUTCOME, e.message)
    if message.status in ("pending", "sending"):
        return RetryResult(item, SKIPPED)  # another worker holds it
    if message.status == "failed":
        return RetryResult(item, FAILED_OUTCOME, message.error_message or "")
    return RetryResult(item, SENT)


# -- inbound --------------------------------------------------------------------------


def _answer_again(item: RetryItem, older_than: float) -> RetryResult:
    state = get_state()
    session = state.session
    cutoff = utcnow() - dt.timedelta(seconds=older_than)
    # The claim: only one retry moves the message on, and only while it is still stale.
    claimed = session.execute(
        sa.update(Message)
        .where(
            Message.id == item.message_id,
            Message.direction == "inbound",
            Message.status.in_((PROCESSING, LATE)),
            Message.updated_at < cutoff,
        )
        .values(status=PROCESSING, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if not claimed.rowcount:
        return RetryResult(item, SKIPPED)
    row = session.get(Message, item.message_id)
    assert row is not None
    integration = (
        session.get(Integration, row.integration_id) if row.integration_id is not None else None
    )
    if integration is None or not row.application_id:
        return _finish(row, item, [], ["the IA Domain integration or application is gone"])

    message = _inbound_of(row)
    application_id = row.application_id
    service = reply_service(integration, message)
    keyword = optouts.keyword_of(message.body, message.opt_out_type)
    kwargs = {
        "message": message,
        "domain_id": integration.domain_id,
        "application_id": application_id,
        "conversation_id": row.conversation_id,
        "message_id": row.id,
        "keyword": keyword,
    }
    replies, errors = call_chatbots(application_id, **kwargs)
    messages = final_messages(
        replies,
        errors,
        keyword=keyword,
        opted_out=optouts.is_opted_out(integration.account_id, service, message.from_),
        application_id=application_id,
        message_sid=message.sid,
    )
    send_errors: list[str] = []
    for reply in messages:
        try:
            sent = outbound.send_message(
                integration,
                from_number=service,
                to=message.from_,
                body=reply.body,
                media_urls=reply.media_urls,
                application_id=application_id,
                conversation_id=row.conversation_id,
                in_reply_to_id=row.id,
            )
        except SendError as e:
            send_errors.append(e.message)
            continue
        notify(
            reply_sent,
            application_id,
            reply=reply,
            message_id=sent.id,
            in_reply_to=message,
            domain_id=integration.domain_id,
            application_id=application_id,
            conversation_id=row.conversation_id,
            via="rest",
        )
    row = session.get(Message, item.message_id)
    assert row is not None
    return _finish(row, item, errors, send_errors, replies=len(messages))


def _finish(
    row: Message,
    item: RetryItem,
    errors: list[str],
    send_errors: list[str] | None = None,
    *,
    replies: int = 0,
) -> RetryResult:
    row.status = FAILED if errors else HANDLED
    if errors:
        row.error_message = "\n".join(errors)
    row.details = {
        **(row.details or {}),
        "retried_at": utcnow().isoformat(),
        "retry_replies": replies,
    }
    get_state().session.commit()
    problems = [*errors, *(send_errors or [])]
    if problems:
        return RetryResult(item, FAILED_OUTCOME, "; ".join(problems))
    return RetryResult(item, ANSWERED)


def _inbound_of(row: Message) -> InboundMessage:
    """The message as Twilio posted it (its stored parameters), or rebuilt from columns."""
    params = {str(k): str(v) for k, v in (row.details or {}).items() if isinstance(v, str)}
    params.setdefault("MessageSid", row.sid or f"stored-{row.id}")
    params.setdefault("From", row.from_number)
    params.setdefault("To", row.to_number)
    params.setdefault("Body", row.body or "")
    if row.account_sid:
        params.setdefault("AccountSid", row.account_sid)
    return parse_inbound(params)
