"""Twilio's form parameters of an inbound message, parsed and cleaned."""
from __future__ import annotations

import types
import typing as t

from .. import _channels as channels
from ..errors import InvalidWebhookRequest
from .._values import InboundMessage
from .._values import Location
from .._values import Media

# Longest value stored in the string columns of the message table.
_MAX_ID_LENGTH = 64

_CLEAN = str.maketrans({"\x00": "\ufffd"})


def parse_inbound(params: t.Mapping[str, str], *, account_id: str | None = None) -> InboundMessage:
    """Parse Twilio's form parameters into an :class:`~flask_xsms.InboundMessage`.

    Unknown parameters are kept in ``params``; NUL characters, which databases refuse,
    become U+FFFD. ``account_id`` (the X-Platform account) goes with the media, whose
    download needs the account's credentials.

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
        Media(values[f"MediaUrl{i}"], values.get(f"MediaContentType{i}") or None, account_id)
        for i in range(min(num_media, 100))
        if values.get(f"MediaUrl{i}")
    )
    from_ = required["From"].strip()
    return InboundMessage(
        sid=sid.strip(),
        account_sid=values.get("AccountSid") or None,
        from_=from_,
        to=required["To"].strip(),
        body=values.get("Body", ""),
        media=media,
        num_segments=_int(values.get("NumSegments")),
        opt_out_type=values.get("OptOutType") or None,
        messaging_service_sid=values.get("MessagingServiceSid") or None,
        params=types.MappingProxyType(values),
        channel=channels.channel_of(from_),
        profile_name=values.get("ProfileName") or None,
        wa_id=values.get("WaId") or None,
        button_text=values.get("ButtonText") or None,
        button_payload=values.get("ButtonPayload") or None,
        original_replied_message_sid=values.get("OriginalRepliedMessageSid") or None,
        location=_location(values),
    )


def clean_parameters(params: t.Mapping[str, t.Any]) -> dict[str, str]:
    """Twilio's form parameters as strings, with NUL (which databases refuse) as U+FFFD."""
    return {str(k): str(v).translate(_CLEAN) for k, v in params.items()}


def _location(values: t.Mapping[str, str]) -> Location | None:
    """A shared location, when ``Latitude`` and ``Longitude`` are numbers on the globe."""
    try:
        latitude, longitude = float(values["Latitude"]), float(values["Longitude"])
    except (KeyError, ValueError):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return Location(
        latitude, longitude, values.get("Address") or None, values.get("Label") or None
    )


def _int(value: str | None) -> int | None:
    """A small count Twilio sent (``NumMedia``, ``NumSegments``), or ``None``."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    # Anything larger is not a real count and would not fit the database column.
    return number if number is None or 0 <= number <= 100_000 else None
