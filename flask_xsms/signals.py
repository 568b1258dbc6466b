"""Blinker signals sent by flask-xsms.

Receivers should accept ``**extra`` so that new keyword arguments don't break them.
blinker holds receivers weakly unless ``weak=False`` is passed to ``connect``.
"""
from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent after a domain's number bindings were saved.
#: Sender: the Flask app. Keyword arguments: ``domain`` (:class:`~flask_xsms.Domain`),
#: ``bindings`` (list of :class:`~flask_xsms.models.NumberBinding`, as saved).
numbers_saved = _signals.signal("numbers-saved")

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
