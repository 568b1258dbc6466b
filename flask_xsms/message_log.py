"""The message log of an IA Domain: its recent inbound and outbound messages."""
from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import current_app

from .errors import NumberError
from .state import get_state
from .integrations import integration_for
from .models import Message
from .numbers import normalize_number
from .types import Domain

if t.TYPE_CHECKING:
    from flask_sqlalchemy.pagination import Pagination



def number_filter(raw: str | None) -> str:
    """What a number filter matches: E.164 when ``raw`` parses, else ``raw`` stripped."""
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        return normalize_number(text)
    except NumberError:
        return text


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
    :param page: the page, from 1; past the last page the page is empty.
    :param per_page: messages per page; default ``XSMS_MESSAGES_PER_PAGE``.
    :return: a Flask-SQLAlchemy :class:`~flask_sqlalchemy.pagination.Pagination` of
        :class:`~flask_xsms.models.Message`.
    """
    state = get_state()
    per_page = per_page or current_app.config["XSMS_MESSAGES_PER_PAGE"]
    integration = integration_for(domain, create=False)
    query = sa.select(Message).order_by(Message.created_at.desc(), Message.id.desc())
    if integration is None:
        query = query.where(sa.false())
    else:
        query = query.where(Message.integration_id == integration.id)
    wanted = number_filter(number)
    if wanted:
        query = query.where(sa.or_(Message.from_number == wanted, Message.to_number == wanted))
    return state.db.paginate(
        query, page=max(page, 1), per_page=per_page, max_per_page=per_page, error_out=False
    )


def application_names(domain: Domain) -> dict[str, str]:
    """The names of the domain's applications (every channel type), by id."""
    return {a.id: a.name for a in get_state().applications(domain)}
