"""A tiny host app for the tests: domains and applications kept in a dict."""
from __future__ import annotations

import dataclasses
import typing as t

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from flask_xsms import Application
from flask_xsms import Domain
from flask_xsms import XSMS

CUSTOMER = "Customer Assistant"
AGENT = "Agent Assistant"
WIDGET = "Web Widget"


@dataclasses.dataclass
class Directory:
    """The host's view of the world, shaped like the example app's seed data."""

    domains: dict[str, Domain] = dataclasses.field(default_factory=dict)
    applications: dict[str, list[Application]] = dataclasses.field(default_factory=dict)
    #: ids of the domains the current user may manage; None: all of them.
    allowed: set[str] | None = None

    def add(self, domain: Domain, *apps: Application) -> Domain:
        self.domains[domain.id] = domain
        self.applications[domain.id] = list(apps)
        return domain


def seeded_directory() -> Directory:
    d = Directory()
    d.add(
        Domain("1", "Customer Care", "acme", "production"),
        Application("11", "Care Assistant", CUSTOMER),
        Application("12", "Care Agent Helper", AGENT),
        Application("13", "Care Widget", WIDGET),
    )
    d.add(
        Domain("2", "Sales", "acme", "production"),
        Application("21", "Sales Assistant", CUSTOMER),
        Application("22", "Sales Agent Helper", AGENT),
        Application("23", "Sales Widget", WIDGET),
    )
    d.add(
        Domain("3", "Customer Care", "acme", "staging"),
        Application("31", "Care Assistant Staging", CUSTOMER),
        Application("32", "Care Agent Helper Staging", AGENT),
        Application("33", "Care Widget Staging", WIDGET),
    )
    d.add(
        Domain("4", "Helpdesk", "globex", "production"),
        Application("41", "Helpdesk Assistant", CUSTOMER),
    )
    return d


#: The apps made by :func:`create_host_app` during the current test (see conftest).
CREATED: list[Flask] = []


def create_host_app(
    database_url: str, *, csrf_protect: t.Literal["before", "after"] | None = None, **config: t.Any
) -> Flask:
    """The test host; ``csrf_protect`` sets up ``CSRFProtect`` before or after the extension."""
    app = Flask(__name__)
    app.config.update(
        TESTING=True,
        SECRET_KEY="test",
        SQLALCHEMY_DATABASE_URI=database_url,
        XSMS_TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        XSMS_TWILIO_AUTH_TOKEN="test-auth-token",
        # Nothing reaches the internet: a closed local port unless a test sets its stand-in.
        XSMS_TWILIO_API_BASE_URL="http://127.0.0.1:9",
    )
    app.config.update(config)
    CREATED.append(app)
    db = SQLAlchemy(app)
    if csrf_protect == "before":
        CSRFProtect(app)
    xsms = XSMS(app, db=db)
    if csrf_protect == "after":
        CSRFProtect(app)
    directory = seeded_directory()
    app.extensions["test_directory"] = directory

    @xsms.domain_loader
    def load_domain(domain_id: str) -> Domain | None:
        return directory.domains.get(domain_id)

    @xsms.applications_loader
    def load_applications(domain: Domain) -> list[Application]:
        return directory.applications.get(domain.id, [])

    @xsms.permission_handler
    def may_manage(domain: Domain) -> bool:
        return directory.allowed is None or domain.id in directory.allowed

    return app
