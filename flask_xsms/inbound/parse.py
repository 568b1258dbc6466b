"""Twilio's form parameters of an inbound message, parsed and cleaned."""
from __future__ import annotations

import types
import typing as t

from ..errors import InvalidWebhookRequest
from ..types import InboundMessage
from ..types import Media

# Longest value stored in the string columns of the message table.
_MAX_ID_LENGTH = 64

_CLEAN = str.maketrans({"\x00": "\ufffd"})


def parse_inbound(params: t.Mapping[str, str]) -> InboundMessage:
    """Parse Twilio's form parameters into an :class:`~flask_xsms.InboundMessage`.

    Unknown parameters are kept in ``params``; NUL characters, which databases refuse,
    become U+FFFD.

    :raises InvalidWebhookRequest: when ``MessageSid``, ``From`` or ``To`` is missing or
        too long.
    """
    values = clean_parameters(params)
    sid = values.get("MessageSid") or values.get("SmsMessageSid") or values.get("SmsSid") or ""
    required = {"MessageSid": sid, "From": values.get("From", ""), "To": values.get("To", "")}
    missing = [name for name, value in required.items() if not value.strip()]
    if missing:
        raise InvalidWebhookRequest(f"Missing parameter: {', '.join(missing)}.")
    for name, value in [*required.items(), ("AccountSid", values.get("AccountSid", ""))]:
        if len(value) > _MAX_ID_LENGTH:
            raise InvalidWebhookRequest(f"Parameter too long: {name}.")
    num_media = _int(values.get("NumMedia")) or 0
    media = tuple(
        Media(values[f"MediaUrl{i}"], values.get(f"MediaContentType{i}") or None)
        for i in range(min(num_media, 100))
        if values.get(f"MediaUrl{i}")
    )
    return InboundMessage(
        sid=sid.strip(),
        account_sid=values.get("AccountSid") or None,
        from_=required["From"].strip(),
        to=required["To"].strip(),
        body=values.get("Body", ""),
        media=media,
        num_segments=_int(values.get("NumSegments")),
        opt_out_type=values.get("OptOutType") or None,
        messaging_service_sid=values.get("MessagingServiceSid") or None,
        params=types.MappingProxyType(values),
    )


def clean_parameters(params: t.Mapping[str, t.Any]) -> dict[str, str]:
    """Twilio's form parameters as strings, with NUL (which databases refuse) as U+FFFD."""
    return {str(k): str(v).translate(_CLEAN) for k, v in params.items()}


def _int(value: str | None) -> int | None:
    """A small count Twilio sent (``NumMedia``, ``NumSegments``), or ``None``."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    # Anything larger is not a real count and would not fit the database column.
    return number if number is None or 0 <= number <= 100_000 else None
