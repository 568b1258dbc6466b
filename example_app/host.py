"""How the example host tells flask-xsms about its domains, applications and users."""
from __future__ import annotations

import re

from flask_login import current_user

import flask_xsms

from . import models
from .models import db

xsms = flask_xsms.XSMS()

#: The largest id of the host's tables (an INTEGER column on PostgreSQL).
MAX_ID = 2**31 - 1

_ID = re.compile(r"[1-9][0-9]{0,9}")


def row_id(text: str) -> int | None:
    """The row id that ``text`` (from a URL or a cookie) spells, or None when it spells no
    id of the tables: not digits, zero, or too large for the column."""
    if not _ID.fullmatch(text) or int(text) > MAX_ID:
        return None
    return int(text)


def as_xsms_domain(domain: models.Domain) -> flask_xsms.Domain:
    return flask_xsms.Domain(
        id=str(domain.id),
        name=domain.name,
        account_id=str(domain.environment.account_id),
        environment=domain.environment.name,
    )


@xsms.domain_loader
def load_domain(domain_id: str) -> flask_xsms.Domain | None:
    key = row_id(domain_id)
    domain = db.session.get(models.Domain, key) if key is not None else None
    return as_xsms_domain(domain) if domain is not None else None


@xsms.applications_loader
def load_applications(domain: flask_xsms.Domain) -> list[flask_xsms.Application]:
    host_domain = db.session.get(models.Domain, int(domain.id))
    if host_domain is None:  # deleted since it was loaded
        return []
    return [
        flask_xsms.Application(id=str(a.id), name=a.name, channel_type=a.channel_type)
        for a in host_domain.applications
    ]


@xsms.permission_handler
def may_manage(domain: flask_xsms.Domain) -> bool:
    """Signed-in users manage the domains of the accounts they belong to."""
    if not current_user.is_authenticated:
        return False
    return any(str(account.id) == domain.account_id for account in current_user.accounts)


@xsms.operator_loader
def current_operator() -> flask_xsms.Operator | None:
    """The signed-in user answers conversations under their email address."""
    if not current_user.is_authenticated:
        return None
    return flask_xsms.Operator(id=str(current_user.id), name=current_user.email)
