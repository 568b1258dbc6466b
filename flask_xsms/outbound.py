"""Outbound messages: an outbox, Twilio's REST client per account, delivery status.

Every message is stored before it is sent, so none is lost when Twilio or the network
fails; Twilio's errors become typed exceptions and are stored on the message.
"""
from __future__ import annotations

import collections.abc as c
import typing as t

from .models import Integration
from .models import Message


def send_message(
    integration: Integration,
    *,
    from_number: str,
    to: str,
    body: str = "",
    media_urls: c.Sequence[str] = (),
    application_id: str | None = None,
    conversation_id: int | None = None,
    in_reply_to_id: int | None = None,
) -> Message:
    """Store one outbound message and send it through Twilio's REST API.

    Sent with the integration's status-callback URL. Returns the stored message, whose
    ``status`` and ``sid`` tell what Twilio answered.
    """
    raise NotImplementedError


def record_status(integration: Integration, params: t.Mapping[str, str]) -> Message | None:
    """Apply a signed status callback (``MessageSid``, ``MessageStatus``, ``ErrorCode``).

    Never moves a status backwards. Returns the message, or ``None`` when no stored
    message has that sid.
    """
    raise NotImplementedError
