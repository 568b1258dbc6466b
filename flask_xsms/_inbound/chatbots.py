"""Calling the chatbot receivers of an application, and what their outcome answers."""
from __future__ import annotations

import collections.abc as c
import dataclasses
import logging
import typing as t

from flask import current_app

from .. import _channels as channels
from ..segments import count_segments
from ..signals import message_received
from .._twiml import as_replies
from .._twiml import plan_messages
from .._values import Handoff
from .._values import Reply

logger = logging.getLogger("flask_xsms")


@dataclasses.dataclass
class Outcome:
    """What the chatbots of an application answered to one message."""

    replies: list[Reply] = dataclasses.field(default_factory=list)
    #: ``"<receiver>: <error>"`` of each receiver that raised.
    errors: list[str] = dataclasses.field(default_factory=list)
    #: The first :class:`~flask_xsms.Handoff` a receiver returned, if any.
    handoff: Handoff | None = None


def call_chatbots(application_id: str, /, **kwargs: t.Any) -> Outcome:
    """Call each receiver of :data:`~flask_xsms.signals.message_received` for the
    application with ``kwargs``; return their replies, the errors of those that raised,
    and a :class:`~flask_xsms.Handoff` one of them returned.

    blinker's ``send()`` stops at the first exception; calling each receiver on its own
    keeps one failing chatbot from hiding the others' replies.
    """
    outcome = Outcome()
    replies, errors = outcome.replies, outcome.errors
    message = kwargs.get("message")
    for receiver in message_received.receivers_for(application_id):
        try:
            value = receiver(application_id, **kwargs)
            if isinstance(value, Handoff):
                value = [value]
            if isinstance(value, c.Iterable) and not isinstance(value, (str, bytes, c.Mapping)):
                value = list(value)
                handoffs = [item for item in value if isinstance(item, Handoff)]
                outcome.handoff = outcome.handoff or next(iter(handoffs), None)
                value = [item for item in value if not isinstance(item, Handoff)]
            replies.extend(as_replies(value))
        except Exception as e:
            logger.exception(
                "Chatbot receiver %s failed on message %s (application %r).",
                _name(receiver),
                getattr(message, "sid", "?"),
                application_id,
            )
            errors.append(f"{_name(receiver)}: {type(e).__name__}: {e}")
    return outcome


def final_messages(
    replies: list[Reply],
    errors: list[str],
    *,
    keyword: str | None,
    opted_out: bool,
    application_id: str,
    message_sid: str,
    channel: str = channels.SMS,
) -> list[Reply]:
    """The messages that answer a chatbot's outcome, by the rules of the Request URL.

    Nothing to an opted-out customer (but HELP); :data:`XSMS_APOLOGY_MESSAGE` when a
    chatbot raised and none replied; :data:`XSMS_HELP_MESSAGE` for an unanswered HELP;
    :data:`XSMS_WHATSAPP_OPT_OUT_MESSAGE` for STOP on WhatsApp. Split by
    :func:`~flask_xsms._twiml.plan_messages` (within one SMS segment only on SMS); a
    ``replies_too_long`` warning is logged past :data:`XSMS_MAX_REPLY_SEGMENTS`.
    """
    config = current_app.config
    sms = channel != channels.WHATSAPP
    if opted_out and keyword != "help":
        if keyword == "stop" and not sms:
            # Twilio neither answers nor blocks STOP on WhatsApp: the confirmation is ours.
            return as_replies(config["XSMS_WHATSAPP_OPT_OUT_MESSAGE"])
        # Twilio answers STOP itself and blocks anything else to an opted-out customer.
        return []
    if errors and not replies:
        replies = as_replies(config["XSMS_APOLOGY_MESSAGE"])
    elif keyword == "help" and not replies:
        replies = as_replies(config["XSMS_HELP_MESSAGE"])
    messages = plan_messages(replies, one_segment=sms and config["XSMS_SPLIT_AT_SEGMENTS"])
    segments = sum(count_segments(m.body).segments for m in messages if m.body and sms)
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


def _name(receiver: c.Callable[..., t.Any]) -> str:
    return getattr(receiver, "__qualname__", None) or repr(receiver)
