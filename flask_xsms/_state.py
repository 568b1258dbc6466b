"""Per-app state of the extension: what one Flask app knows of it.

``app.extensions["xsms"]`` holds a :class:`_State`; every module reaches it through
:func:`get_state`, so that none needs the extension object itself.
"""
from __future__ import annotations

import logging
import threading
import typing as t

from flask import current_app
from flask import Flask

from .errors import DomainNotFound
from .errors import PermissionDenied
from ._values import Application
from ._values import Credentials
from ._values import Domain
from ._values import Operator

if t.TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

    from ._extension import XSMS

logger = logging.getLogger("flask_xsms")

#: Who operates when the host registered no ``operator_loader``.
ANONYMOUS_OPERATOR = Operator(id="", name="Operator")

PERMISSION_HELP = (
    "flask-xsms refused access to the integration settings of IA Domain %r because no "
    "permission callback is registered. Register one with @xsms.permission_handler: a "
    "function that takes a flask_xsms.Domain and returns True when the current user may "
    "manage it."
)


class _State:
    """What one app knows of the extension: the XSMS object and the host's ``db``."""

    def __init__(self, xsms: XSMS, db: SQLAlchemy) -> None:
        self.xsms = xsms
        self.db = db
        self.warned_no_permission = False
        #: The chatbot threads of this app in this process (flask_xsms._inbound.runner).
        self.turn_runner: t.Any = None
        self.lock = threading.Lock()

    @property
    def session(self) -> t.Any:
        return self.db.session

    def load_domain(self, domain_id: str) -> Domain | None:
        loader = self.xsms._domain_loader
        if loader is None:
            raise RuntimeError(
                "flask-xsms needs to load IA Domains. Register a loader with"
                " @xsms.domain_loader (see the docs, 'Host integration')."
            )
        return loader(str(domain_id))

    def applications(self, domain: Domain) -> list[Application]:
        loader = self.xsms._applications_loader
        if loader is None:
            raise RuntimeError(
                "flask-xsms needs the applications of each IA Domain. Register a loader"
                " with @xsms.applications_loader (see the docs, 'Host integration')."
            )
        return list(loader(domain))

    def may_manage(self, domain: Domain) -> bool:
        callback = self.xsms._permission_callback
        if callback is None:
            if not self.warned_no_permission:
                logger.warning(PERMISSION_HELP, domain.id)
                self.warned_no_permission = True
            return False
        return bool(callback(domain))

    def require_domain(self, domain: Domain | str) -> Domain:
        """``domain`` itself, or the domain of that id; :class:`DomainNotFound` if none."""
        if isinstance(domain, Domain):
            return domain
        loaded = self.load_domain(domain)
        if loaded is None:
            raise DomainNotFound()
        return loaded

    def manageable_domain(self, domain_id: str) -> Domain:
        """The domain, if it exists and the current user may manage it."""
        domain = self.require_domain(domain_id)
        if not self.may_manage(domain):
            raise PermissionDenied()
        return domain

    def operator(self) -> Operator:
        """The current operator, as the host's ``operator_loader`` tells."""
        loader = self.xsms._operator_loader
        found = loader() if loader is not None else None
        return found if found is not None else ANONYMOUS_OPERATOR

    def credentials(self, account_id: str) -> Credentials | None:
        loader = self.xsms._credentials_loader
        if loader is not None:
            return loader(str(account_id))
        sid = current_app.config["XSMS_TWILIO_ACCOUNT_SID"]
        token = current_app.config["XSMS_TWILIO_AUTH_TOKEN"]
        if sid and token:
            return Credentials(account_sid=sid, auth_token=token)
        return None


def get_state(app: Flask | None = None) -> _State:
    """The extension state of ``app`` (default: the current app)."""
    app = app or current_app
    try:
        return t.cast(_State, app.extensions["xsms"])
    except KeyError:
        raise RuntimeError(
            "flask-xsms is not set up on this app. Did you forget to call"
            " 'xsms.init_app(app)'?"
        ) from None
