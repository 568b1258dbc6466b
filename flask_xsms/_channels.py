"""Channel addresses as Twilio writes them: ``+14155550100`` is SMS,
``whatsapp:+14155550100`` the same number on WhatsApp."""
from __future__ import annotations

import re

SMS = "sms"
WHATSAPP = "whatsapp"

# A channel address such as "whatsapp:+14155238886": the channel, then a phone number.
_CHANNEL_ADDRESS = re.compile(r"^([a-z]+):(.*)$", re.IGNORECASE | re.DOTALL)
_CHANNEL_NAMES = {WHATSAPP: "WhatsApp", "messenger": "Messenger", SMS: "SMS", "mms": "SMS"}


def split_address(address: str) -> tuple[str, str]:
    """``(channel, rest)`` of an address: ``("whatsapp", "+1…")`` for ``whatsapp:+1…``
    (any case), ``("sms", address)`` for a plain number. ``rest`` is not checked."""
    found = _CHANNEL_ADDRESS.match(address)
    if found is None:
        return SMS, address
    return found.group(1).lower(), found.group(2)


def channel_of(address: str) -> str:
    """``"whatsapp"`` for a ``whatsapp:`` address, else ``"sms"``."""
    return WHATSAPP if split_address(address)[0] == WHATSAPP else SMS


def is_whatsapp(address: str | None) -> bool:
    """Whether ``address`` is a ``whatsapp:`` address."""
    return bool(address) and channel_of(address or "") == WHATSAPP


def on_channel(channel: str, number: str) -> str:
    """The address of ``number`` on ``channel``: ``whatsapp:+1…``, or the number for SMS."""
    return number if channel == SMS else f"{channel}:{number}"


def display(address: str) -> tuple[str, str]:
    """``(number, channel name)`` to show: ``("+1…", "WhatsApp")`` for ``whatsapp:+1…``."""
    channel, rest = split_address(address)
    return rest, _CHANNEL_NAMES.get(channel, channel.capitalize())
