"""Blinker signals sent by flask-xsms.

Receivers should accept ``**extra`` so that new keyword arguments don't break them.
blinker holds receivers weakly unless ``weak=False`` is passed to ``connect``.
"""
from __future__ import annotations

__all__ = [
    "numbers_saved",
    "message_received",
    "reply_sent",
    "fallback_used",
    "unrouted_message",
    "message_sent",
    "message_failed",
    "delivery_status_changed",
    "handoff_requested",
    "conversation_taken_over",
    "conversation_handed_back",
]

import logging
import typing as t

from blinker import NamedSignal
from blinker import Namespace

_signals = Namespace()

#: Sent after a domain's number bindings were saved.
#: Sender: the Flask app. Keyword arguments: ``domain`` (:class:`~flask_xsms.Domain`),
#: ``bindings`` (list of :class:`~flask_xsms.models.NumberBinding`, as saved).
numbers_saved = _signals.signal("numbers-saved")

#: Sent for each inbound message to a bound number, after it was stored; the receivers'
#: return values are the replies.
#: Sender: the bound application's id (a string), so a chatbot subscribes to its own
#: messages with ``connect(receiver, sender="<application id>")``.
#: Keyword arguments: ``message`` (:class:`~flask_xsms.InboundMessage`), ``domain_id``,
#: ``application_id``, ``conversation_id`` (int), ``message_id`` (int, the stored row),
#: ``keyword`` (``"stop"``, ``"start"``, ``"help"`` or ``None``).
#: A receiver returns ``None``, a string, a :class:`~flask_xsms.Reply`, or a list of them.
message_received = _signals.signal("message-received")

#: Sent for each reply answered to Twilio (as TwiML, or later through the REST API).
#: Sender: the application's id (a string). Keyword arguments: ``reply``
#: (:class:`~flask_xsms.Reply`, one message as sent), ``message_id`` (int, the stored
#: outbound row, or ``None``), ``in_reply_to`` (:class:`~flask_xsms.InboundMessage`),
#: ``domain_id``, ``application_id``, ``conversation_id``, ``via`` (``"twiml"`` or ``"rest"``).
reply_sent = _signals.signal("reply-sent")

#: Sent when Twilio called the Fallback URL because the Request URL failed.
#: Sender: the Flask app. Keyword arguments: ``message``
#: (:class:`~flask_xsms.InboundMessage`), ``domain_id``, ``application_id`` (or ``None``),
#: ``message_id`` (int, or ``None`` when the database was unavailable), ``error_code`` and
#: ``error_url`` (Twilio's ``ErrorCode`` and ``ErrorUrl``, or ``None``).
fallback_used = _signals.signal("fallback-used")

#: Sent when a message arrives for a number that no binding of the domain knows.
#: Sender: the Flask app. Keyword arguments: ``message``
#: (:class:`~flask_xsms.InboundMessage`), ``domain_id``, ``message_id`` (int).
unrouted_message = _signals.signal("unrouted-message")

#: Sent after Twilio accepted an outbound message.
#: Sender: the Flask app. Keyword arguments: ``message``
#: (:class:`~flask_xsms.models.Message`, with ``sid``, ``status`` and ``num_segments``
#: as Twilio answered).
message_sent = _signals.signal("message-sent")

#: Sent when an outbound message could not be sent.
#: Sender: the Flask app. Keyword arguments: ``message``
#: (:class:`~flask_xsms.models.Message`, with ``error_code`` and ``error_message``),
#: ``error`` (the :class:`~flask_xsms.errors.SendError`), ``will_retry`` (``True`` when the
#: message stays pending for another attempt).
message_failed = _signals.signal("message-failed")

#: Sent when a status callback moved an outbound message to a later status.
#: Sender: the Flask app. Keyword arguments: ``message``
#: (:class:`~flask_xsms.models.Message`), ``previous_status``, ``status`` and
#: ``error_code`` (Twilio's ``ErrorCode``, or ``None``).
delivery_status_changed = _signals.signal("delivery-status-changed")


#: Sent when a chatbot asked for a person (it returned a :class:`~flask_xsms.Handoff`).
#: Sender: the Flask app. Keyword arguments: ``conversation_id``, ``domain_id``,
#: ``application_id``, ``customer`` (the customer's number), ``reason``, ``message_id``
#: (the inbound message it answered).
handoff_requested = _signals.signal("handoff-requested")

#: Sent when an operator took a conversation over. Sender: the Flask app. Keyword
#: arguments: ``conversation_id``, ``domain_id``, ``operator`` (:class:`~flask_xsms.Operator`).
conversation_taken_over = _signals.signal("conversation-taken-over")

#: Sent when a conversation went back to its chatbot. Sender: the Flask app. Keyword
#: arguments: ``conversation_id``, ``domain_id``, ``operator``
#: (:class:`~flask_xsms.Operator`, or ``None`` after :data:`XSMS_HANDOFF_TIMEOUT` of
#: silence), ``reason`` (``"handed_back"`` or ``"timeout"``).
conversation_handed_back = _signals.signal("conversation-handed-back")


def notify(signal: NamedSignal, sender: t.Any, **kwargs: t.Any) -> None:
    """Send ``signal`` to each of its receivers; one that raises is logged, never raised.

    What flask-xsms uses for every notification, so that a failing receiver can't undo
    or repeat work already done (a message already sent, numbers already saved).
    """
    for receiver in signal.receivers_for(sender):
        try:
            receiver(sender, **kwargs)
        except Exception:
            logging.getLogger("flask_xsms").exception(
                "Receiver %s of signal %r failed.",
                getattr(receiver, "__qualname__", None) or repr(receiver),
                signal.name,
            )
