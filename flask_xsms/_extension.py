"""The :class:`XSMS` extension object."""
from __future__ import annotations

import logging
import typing as t
import warnings

from flask import Blueprint
from flask import Flask

from . import _config as _config
from .models import metadata
from ._state import _State
from ._state import get_state
from ._values import ApplicationsLoader
from ._values import CredentialsLoader
from ._values import DomainLoader
from ._values import Operator
from ._values import PermissionCallback

if t.TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

logger = logging.getLogger("flask_xsms")

F = t.TypeVar("F", bound=t.Callable[..., t.Any])

__all__ = ["XSMS", "get_state"]


class XSMS:
    """Twilio SMS integration for X-Platform applications.

    Use ``XSMS(app)``, or ``xsms = XSMS()`` then ``xsms.init_app(app)`` in an app factory.
    The tables are used through the host's Flask-SQLAlchemy instance: pass it as ``db``, or
    call ``db.init_app(app)`` before ``init_app`` and it is found in ``app.extensions``.

    The host tells the extension about its domains and applications through the
    :meth:`domain_loader`, :meth:`applications_loader`, :meth:`permission_handler` and
    (optionally) :meth:`credentials_loader` decorators.

    :param app: the Flask app to set up now.
    :param db: the host's :class:`flask_sqlalchemy.SQLAlchemy` instance.
    """

    def __init__(self, app: Flask | None = None, *, db: SQLAlchemy | None = None) -> None:
        self._db = db
        self._domain_loader: DomainLoader | None = None
        self._applications_loader: ApplicationsLoader | None = None
        self._permission_callback: PermissionCallback | None = None
        self._credentials_loader: CredentialsLoader | None = None
        self._operator_loader: t.Callable[[], Operator | None] | None = None
        if app is not None:
            self.init_app(app)

    #: The metadata of the extension's tables, for Alembic's ``target_metadata``.
    metadata = metadata

    def init_app(self, app: Flask, *, db: SQLAlchemy | None = None) -> None:
        """Set config defaults, register the blueprint and the CLI group on ``app``."""
        if "xsms" in app.extensions:
            raise RuntimeError(
                "An XSMS instance is already registered on this Flask app."
                " Import and use that instance instead."
            )
        _config.apply_defaults(app.config)
        db = db or self._db or app.extensions.get("sqlalchemy")
        if db is None:
            raise RuntimeError(
                "flask-xsms keeps its tables in the host's database through Flask-SQLAlchemy."
                " Call db.init_app(app) before xsms.init_app(app), or pass db=... ."
            )
        _check_config(app)
        app.extensions["xsms"] = _State(self, db)

        from ._api import create_api_blueprint
        from ._conversation_views import create_conversations_blueprint
        from ._conversations_api import add_conversation_routes
        from ._simulator_views import create_simulator_blueprint
        from ._twilio_setup_views import create_twilio_setup_blueprint
        from ._views import create_blueprint
        from ._webhooks import create_webhooks_blueprint

        prefix = app.config["XSMS_URL_PREFIX"]
        webhooks, api = create_webhooks_blueprint(), create_api_blueprint()
        add_conversation_routes(api)
        for blueprint in (
            create_blueprint(),
            webhooks,
            api,
            create_simulator_blueprint(),
            create_twilio_setup_blueprint(),
            create_conversations_blueprint(),
        ):
            app.register_blueprint(blueprint, url_prefix=prefix)
        # Twilio signs the webhooks; the JSON API checks the CSRF token itself, only on
        # requests with cookies, so that scripts with an API token need none.
        _exempt_from_csrf(app, webhooks, api)

        if app.config["XSMS_CHATBOT_VIA"] == "process":
            _start_turn_sweeps_on_first_request(app)

        from ._cli import xsms_cli

        app.cli.add_command(xsms_cli, name=app.config["XSMS_CLI_GROUP"])

    # -- host callbacks -------------------------------------------------------------

    def domain_loader(self, callback: F) -> F:
        """Register the function that loads a domain.

        It gets a domain id (a string) and returns a :class:`~flask_xsms.Domain`, or
        ``None`` when there is no such domain. It must not raise for unknown ids.
        Usable as a decorator.
        """
        self._domain_loader = callback
        return callback

    def applications_loader(self, callback: F) -> F:
        """Register the function that lists the applications of a domain.

        It gets a :class:`~flask_xsms.Domain` and returns an iterable of
        :class:`~flask_xsms.Application`, every channel type included: the extension
        picks the bindable ones itself. Usable as a decorator.
        """
        self._applications_loader = callback
        return callback

    def permission_handler(self, callback: F) -> F:
        """Register the function that decides who may manage a domain's integration.

        It gets a :class:`~flask_xsms.Domain` and returns ``True`` when the current user
        (the host's notion, e.g. Flask-Login's ``current_user``) may open and change its
        Twilio SMS settings. Without one, every settings page answers 403.
        Usable as a decorator.
        """
        self._permission_callback = callback
        return callback

    def credentials_loader(self, callback: F) -> F:
        """Register the function that gives the Twilio credentials of an account.

        It gets an X-Platform account id (a string) and returns
        :class:`~flask_xsms.Credentials` or ``None``. Without one, every account uses
        ``XSMS_TWILIO_ACCOUNT_SID`` and ``XSMS_TWILIO_AUTH_TOKEN``. Usable as a decorator.
        """
        self._credentials_loader = callback
        return callback

    def operator_loader(self, callback: F) -> F:
        """Register the function that tells who the current operator is.

        It takes no argument and returns an :class:`~flask_xsms.Operator` (the host's
        user id and a name to show, e.g. from Flask-Login's ``current_user``) or
        ``None``. It names who took a conversation over and who replied. Without one,
        every operator is the same anonymous "Operator". Usable as a decorator.
        """
        self._operator_loader = callback
        return callback

    # -- tables ---------------------------------------------------------------------

    def create_all(self) -> None:
        """Create the extension's tables in the host's database, if they are missing.

        Needs an app context. Hosts that manage their schema with Alembic include
        :attr:`metadata` in ``target_metadata`` instead.
        """
        metadata.create_all(get_state().db.engine)

    def drop_all(self) -> None:
        """Drop the extension's tables. Needs an app context."""
        metadata.drop_all(get_state().db.engine)


def _exempt_from_csrf(app: Flask, *blueprints: Blueprint) -> None:
    """Exempt ``blueprints`` from the host's ``CSRFProtect``, set up before or after us."""

    def exempt() -> bool:
        csrf = app.extensions.get("csrf")
        for name in blueprints if csrf is not None else ():
            csrf.exempt(name)
        return csrf is not None

    if exempt():
        return
    pending = True

    # Registered before a later CSRFProtect's own hook, so it runs first.
    @app.before_request
    def exempt_late() -> None:
        nonlocal pending
        if pending:
            pending = not exempt()


def _start_turn_sweeps_on_first_request(app: Flask) -> None:
    """Each serving process recovers the turns of dead ones from its first request on
    (a load balancer's health check will do), with nothing for the host to call."""
    from ._inbound.runner import runner_for

    @app.before_request
    def start_turn_sweeps() -> None:
        runner_for(app).ensure_started()


def _check_config(app: Flask) -> None:
    prefix = app.config["XSMS_URL_PREFIX"]
    if not isinstance(prefix, str) or not prefix.startswith("/"):
        raise ValueError(f"XSMS_URL_PREFIX must be a path that starts with '/', not {prefix!r}.")
    base = app.config["XSMS_PUBLIC_BASE_URL"]
    if base is not None and not (
        isinstance(base, str) and base.startswith(("http://", "https://"))
    ):
        raise ValueError(
            "XSMS_PUBLIC_BASE_URL must be an absolute URL such as 'https://sms.example.com',"
            f" not {base!r}."
        )
    sid = app.config["XSMS_TWILIO_ACCOUNT_SID"]
    if sid and not str(sid).startswith("AC"):
        raise ValueError("XSMS_TWILIO_ACCOUNT_SID must be an account SID that starts with 'AC'.")
    timeout = app.config["XSMS_TWILIO_TIMEOUT"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(
            "XSMS_TWILIO_TIMEOUT must be a number of seconds above 0 (without a time-out a"
            f" hung connection to Twilio holds a worker forever), not {timeout!r}."
        )
    attempts = app.config["XSMS_SEND_MAX_ATTEMPTS"]
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValueError(
            f"XSMS_SEND_MAX_ATTEMPTS must be a whole number of at least 1, not {attempts!r}."
        )
    api = app.config["XSMS_TWILIO_API_BASE_URL"]
    if api is not None and not (isinstance(api, str) and api.startswith(("http://", "https://"))):
        raise ValueError(
            "XSMS_TWILIO_API_BASE_URL must be an absolute URL such as 'http://127.0.0.1:8765',"
            f" or None for Twilio's own API, not {api!r}."
        )
    via = app.config["XSMS_SEND_VIA"]
    if via not in ("process", "celery"):
        raise ValueError(f"XSMS_SEND_VIA must be 'process' or 'celery', not {via!r}.")
    chatbot_via = app.config["XSMS_CHATBOT_VIA"]
    if chatbot_via not in ("process", "celery"):
        raise ValueError(f"XSMS_CHATBOT_VIA must be 'process' or 'celery', not {chatbot_via!r}.")
    for key in ("XSMS_CHATBOT_THREADS", "XSMS_CHATBOT_MAX_ATTEMPTS", "XSMS_MEDIA_MAX_BYTES"):
        value = app.config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a whole number of at least 1, not {value!r}.")
    for key in (
        "XSMS_SEND_RETRY_DELAY",
        "XSMS_SEND_CLAIM_TIMEOUT",
        "XSMS_TURN_CLAIM_TIMEOUT",
        "XSMS_TURN_SWEEP_INTERVAL",
        "XSMS_MEDIA_TIMEOUT",
    ):
        value = app.config[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{key} must be a positive number of seconds, not {value!r}.")
    if app.config["XSMS_SEND_CLAIM_TIMEOUT"] <= timeout:
        raise ValueError(
            "XSMS_SEND_CLAIM_TIMEOUT must be longer than XSMS_TWILIO_TIMEOUT, or a slow send"
            " would be taken for a dead worker's and sent twice."
        )
    _check_webhook_config(app)


UNSIGNED_WEBHOOKS_WARNING = (
    "XSMS_VALIDATE_SIGNATURES is False: flask-xsms accepts webhook requests without"
    " checking Twilio's signature, so anyone can post messages as any customer. Use this"
    " for local development only, never in production."
)


def _check_webhook_config(app: Flask) -> None:
    timeout = app.config["XSMS_REPLY_TIMEOUT"]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(
            f"XSMS_REPLY_TIMEOUT must be a positive number of seconds, not {timeout!r}."
        )
    if app.config["XSMS_TURN_CLAIM_TIMEOUT"] <= timeout:
        raise ValueError(
            "XSMS_TURN_CLAIM_TIMEOUT must be longer than XSMS_REPLY_TIMEOUT, or a turn would"
            " be taken from the Request URL that still waits for it."
        )
    if timeout >= 15:
        warnings.warn(
            f"XSMS_REPLY_TIMEOUT is {timeout} s but Twilio gives up on a webhook after 15 s;"
            " choose a value well below 15.",
            stacklevel=4,
        )
    for key in (
        "XSMS_MAX_REQUEST_SIZE",
        "XSMS_CONVERSATION_TIMEOUT",
        "XSMS_HANDOFF_TIMEOUT",
        "XSMS_WEBHOOK_REJECTIONS_KEPT",
        "XSMS_WEBHOOK_REJECTIONS_MAX_AGE",
    ):
        value = app.config[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{key} must be a positive number, not {value!r}.")
    if not app.config["XSMS_VALIDATE_SIGNATURES"]:
        logger.warning(UNSIGNED_WEBHOOKS_WARNING)
        warnings.warn(UNSIGNED_WEBHOOKS_WARNING, stacklevel=4)
