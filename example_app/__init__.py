"""A small X-Platform host that shows flask-xsms at work.

``flask --app example_app init-db`` creates and seeds its database;
``flask --app example_app run`` serves it. Config comes from ``FLASK_*`` environment
variables, e.g. ``FLASK_XSMS_TWILIO_AUTH_TOKEN``. The SMS simulator is on, with demo
Twilio credentials, so the demo bot can be tried without a Twilio account.
"""
from __future__ import annotations

import typing as t

import click
from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

import flask_xsms

from . import bot
from . import views
from .host import row_id
from .host import xsms
from .models import db
from .models import User
from .seed import DEMO_EMAIL
from .seed import DEMO_PASSWORD
from .seed import seed

#: Demo Twilio credentials: requests signed with them (by the SMS simulator) validate
#: locally; Twilio itself never accepts them. Override with FLASK_XSMS_TWILIO_ACCOUNT_SID
#: and FLASK_XSMS_TWILIO_AUTH_TOKEN.
DEMO_ACCOUNT_SID = "AC" + "de30" * 8
DEMO_AUTH_TOKEN = "demo-auth-token"

login_manager = LoginManager()
login_manager.login_view = "login"
# The login form speaks for itself: no warning on the way there.
login_manager.login_message = None
csrf = CSRFProtect()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    key = row_id(user_id)
    return db.session.get(User, key) if key is not None else None


def create_app(config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """Build the example host. ``config`` overrides everything else (used by tests)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        SECRET_KEY="dev-only-secret-change-me",
        SQLALCHEMY_DATABASE_URI="sqlite:///example.sqlite",
        XSMS_BASE_TEMPLATE="layout.html",
        XSMS_TWILIO_ACCOUNT_SID=DEMO_ACCOUNT_SID,
        XSMS_TWILIO_AUTH_TOKEN=DEMO_AUTH_TOKEN,
        # The SMS simulator page, for trying the demo bot without a phone.
        XSMS_SIMULATOR=True,
    )
    app.config.from_prefixed_env()
    if config:
        app.config.update(config)
    # Twilio refuses the demo credentials: the settings page points to the simulator instead.
    app.config.setdefault(
        "XSMS_TWILIO_CHECKS", app.config["XSMS_TWILIO_AUTH_TOKEN"] != DEMO_AUTH_TOKEN
    )

    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    xsms.init_app(app)
    views.register(app)
    bot.connect()
    if "celery" in (app.config["XSMS_CHATBOT_VIA"], app.config["XSMS_SEND_VIA"]):
        from .tasks import make_celery

        make_celery(app)

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create the tables and the demo data (safe to run again)."""
        init_database()
        click.echo(f"Database ready: {db.engine.url.render_as_string()}")
        click.echo(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")

    return app


def init_database() -> None:
    """Create the host's and the extension's tables, then the demo data. Idempotent."""
    db.create_all()
    xsms.create_all()
    seed()


__all__ = ["create_app", "flask_xsms", "init_database"]
