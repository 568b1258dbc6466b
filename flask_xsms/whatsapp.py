"""WhatsApp's rules on Twilio: the 24-hour customer service window, templates, and what
its errors mean.

A business may send free-form WhatsApp messages to a customer only within 24 hours of
the customer's last message to that sender; outside that window only an approved
template, sent with a Content SID, is delivered (Twilio error 63016 otherwise).
"""
from __future__ import annotations

__all__ = [
    "WINDOW",
    "OUTSIDE_WINDOW_CODE",
    "window_closes_at",
]

import collections.abc as c
import datetime as dt
import json
import re
import typing as t

import sqlalchemy as sa

from .errors import InvalidMessage
from .errors import WhatsAppWindowClosed
from .models import as_utc
from .models import Conversation
from .models import utcnow
from ._state import get_state

#: How long after the customer's last message free-form messages are allowed.
WINDOW = dt.timedelta(hours=24)

#: Twilio's error for a free-form message outside the window.
OUTSIDE_WINDOW_CODE = 63016

#: What Twilio's WhatsApp error codes mean, and what to do; shown on the messages page
#: and logged.
ERROR_HELP: dict[str, str] = {
    str(OUTSIDE_WINDOW_CODE): (
        "Outside WhatsApp's 24-hour customer service window: the customer last wrote"
        " more than 24 hours ago, so only an approved template (a Content SID) can reach"
        " them until they write again."
    ),
    "21910": (
        "WhatsApp and SMS don't mix: a message from a whatsapp: sender must go to a"
        " whatsapp: address, and an SMS number to a phone number."
    ),
    "63007": (
        "Twilio has no WhatsApp sender with this From address in the account: register the"
        " number as a WhatsApp sender in the Twilio console."
    ),
}

_CONTENT_SID = re.compile(r"^HX[0-9a-f]{32}$", re.IGNORECASE)


def window_closes_at(integration_id: int, sender: str, customer: str) -> dt.datetime | None:
    """When the customer service window with ``customer`` closes (or closed): 24 hours
    after their last message to ``sender`` (a bound address, or Messaging Service);
    ``None`` when the customer never wrote."""
    return windows(integration_id, [(sender, customer)]).get((sender, customer))


def windows(
    integration_id: int, pairs: c.Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dt.datetime]:
    """:func:`window_closes_at` of many ``(sender, customer)`` pairs in one query;
    pairs whose customer never wrote are left out."""
    pairs = set(pairs)
    if not pairs:
        return {}
    rows = get_state().session.execute(
        sa.select(
            Conversation.service_number,
            Conversation.customer_number,
            sa.func.max(Conversation.last_message_at),
        )
        .where(
            Conversation.integration_id == integration_id,
            Conversation.customer_number.in_({customer for _, customer in pairs}),
        )
        .group_by(Conversation.service_number, Conversation.customer_number)
    )
    return {
        (sender, customer): as_utc(last) + WINDOW
        for sender, customer, last in rows
        if (sender, customer) in pairs and last is not None
    }


def check_window(integration_id: int, sender: str, customer: str) -> None:
    """Refuse a free-form message to ``customer`` outside the window.

    :raises WhatsAppWindowClosed: with when the window closed (or that it never opened).
    """
    closes = window_closes_at(integration_id, sender, customer)
    if closes is not None and utcnow() < closes:
        return
    if closes is None:
        since = f"{customer} has not written to {sender} yet"
    else:
        since = (
            f"the window with {customer} closed at {closes:%Y-%m-%d %H:%M} UTC, 24 hours"
            " after their last message"
        )
    raise WhatsAppWindowClosed(
        f"WhatsApp allows free-form messages only within 24 hours of the customer's last"
        f" message, and {since}. Send an approved template instead: send(...,"
        f" content_sid=\"HX…\", content_variables={{…}}).",
        code=OUTSIDE_WINDOW_CODE,
        closed_at=closes,
    )


def template_details(
    content_sid: str, content_variables: t.Mapping[str, t.Any] | None
) -> dict[str, str]:
    """The stored form of a template message: its Content SID and variables as JSON.

    :raises InvalidMessage: when the SID is not ``HX`` and 32 hexadecimal digits, or a
        variable is not text or a number.
    """
    if not isinstance(content_sid, str) or not _CONTENT_SID.match(content_sid.strip()):
        raise InvalidMessage(
            f"{content_sid!r} is not a Content SID: it is HX followed by 32 hexadecimal digits."
        )
    details = {"content_sid": "HX" + content_sid.strip()[2:].lower()}
    if content_variables:
        if not isinstance(content_variables, c.Mapping):
            raise InvalidMessage("content_variables must be a mapping, such as {\"1\": \"Ana\"}.")
        for key, value in content_variables.items():
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise InvalidMessage(
                    f"Template variable {key!r} must be text or a number, not {value!r}."
                )
        details["content_variables"] = json.dumps(
            {str(k): str(v) for k, v in content_variables.items()}, ensure_ascii=False
        )
    return details


def explain(error_code: str | int | None) -> str | None:
    """What a WhatsApp error code means and what to do, or ``None`` when it is not one."""
    return ERROR_HELP.get(str(error_code)) if error_code is not None else None
