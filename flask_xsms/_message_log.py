"""The message log of an IA Domain: its recent inbound and outbound messages."""
from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa
from flask import current_app

from . import _channels as channels
from . import whatsapp
from .errors import NumberError
from ._state import get_state
from .integrations import integration_for
from .models import Message
from .numbers import normalize_number
from .numbers import PLUS_SIGN_REQUIRED
from ._values import Domain

if t.TYPE_CHECKING:
    from flask_sqlalchemy.pagination import Pagination

#: The largest row offset the databases take (a signed 64-bit integer).
_MAX_OFFSET = 2**63 - 1

def number_filter(raw: str | None) -> str:
    """What a number filter matches: ``raw`` normalised like on the settings page.

    ``+1 (415) 555-0100`` gives ``+14155550100``, ``WhatsApp:+1 415 523 8886`` gives
    ``whatsapp:+14155238886``, a Messaging Service SID is kept in Twilio's spelling; empty
    text gives ``""`` (no filter).

    :raises NumberError: when ``raw`` is none of these, with a message to show.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        return normalize_number(text)
    except NumberError as e:
        if str(e) == PLUS_SIGN_REQUIRED:
            raise NumberError(f"{_shortened(text)} is not a phone number. {e}") from None
        raise


def _shortened(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def recent_messages(
    domain: Domain,
    *,
    number: str | None = None,
    page: int = 1,
    per_page: int | None = None,
) -> Pagination:
    """A page of the domain's messages, newest first.

    :param number: only messages from or to this number (normalised with
        :func:`number_filter`).
    :param page: the page, from 1 (a lower page is page 1); past the last page the page
        is empty, however far past.
    :param per_page: messages per page; default ``XSMS_MESSAGES_PER_PAGE``.
    :return: a Flask-SQLAlchemy :class:`~flask_sqlalchemy.pagination.Pagination` of
        :class:`~flask_xsms.models.Message`.
    :raises NumberError: when ``number`` is not a phone number (see :func:`number_filter`).
    """
    state = get_state()
    per_page = per_page or current_app.config["XSMS_MESSAGES_PER_PAGE"]
    # A page past any offset the database takes is as empty as the page after the last.
    page = min(max(page, 1), _MAX_OFFSET // max(per_page, 1))
    integration = integration_for(domain)
    query = sa.select(Message).order_by(Message.created_at.desc(), Message.id.desc())
    if integration is None:
        query = query.where(sa.false())
    else:
        query = query.where(Message.integration_id == integration.id)
    wanted = number_filter(number)
    if wanted:
        query = query.where(sa.or_(Message.from_number == wanted, Message.to_number == wanted))
    return state.db.paginate(
        query, page=page, per_page=per_page, max_per_page=per_page, error_out=False
    )


def application_names(domain: Domain) -> dict[str, str]:
    """The names of the domain's applications (every channel type), by id."""
    return {a.id: a.name for a in get_state().applications(domain)}


def whatsapp_windows(messages: t.Iterable[Message]) -> dict[int, dt.datetime]:
    """When the WhatsApp customer service window of each WhatsApp message's customer
    closes (or closed), by message id; see :mod:`flask_xsms.whatsapp`."""
    pairs: dict[int, tuple[int, str, str]] = {}
    for message in messages:
        if message.integration_id is None:
            continue
        if message.direction == "inbound" and channels.is_whatsapp(message.from_number):
            pairs[message.id] = (message.integration_id, message.to_number, message.from_number)
        elif message.direction == "outbound" and channels.is_whatsapp(message.to_number):
            pairs[message.id] = (message.integration_id, message.from_number, message.to_number)
    closes: dict[tuple[int, str, str], dt.datetime] = {}
    for integration_id in {p[0] for p in pairs.values()}:
        found = whatsapp.windows(
            integration_id, [p[1:] for p in pairs.values() if p[0] == integration_id]
        )
        closes.update({(integration_id, *pair): when for pair, when in found.items()})
    return {mid: closes[pair] for mid, pair in pairs.items() if pair in closes}
