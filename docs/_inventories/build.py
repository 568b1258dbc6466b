"""Write the Sphinx inventories that link the docs to the libraries they name.

The docs build offline, so intersphinx reads these files instead of each project's
``objects.inv``. Each one holds only the objects our pages and docstrings name, with the
address of that object on its project's documentation site (relative to the base URL
that ``docs/conf.py`` gives the project in ``intersphinx_mapping``).

Run ``python docs/_inventories/build.py`` after changing :data:`INVENTORIES`, and commit
the ``.inv`` files with it. ``python -m sphinx.ext.intersphinx docs/_inventories/flask.inv``
prints one back.
"""
from __future__ import annotations

import dataclasses
import pathlib
import sys
import zlib

HERE = pathlib.Path(__file__).resolve().parent
HEADER = (
    "# Sphinx inventory version 2\n"
    "# Project: {project}\n"
    "# Version: {version}\n"
    "# The remainder of this file is compressed using zlib.\n"
)


@dataclasses.dataclass(frozen=True)
class Inventory:
    """One project's objects: ``(name, domain:role, uri)``, the uri relative to its docs."""

    project: str
    version: str
    objects: tuple[tuple[str, str, str], ...]


def entries(page: str, role: str, *names: str) -> tuple[tuple[str, str, str], ...]:
    """Objects documented on one page under their own names as anchors."""
    return tuple((name, role, f"{page}#{name}") for name in names)


def module(page: str, name: str) -> tuple[tuple[str, str, str], ...]:
    """A module, whose anchor Sphinx prefixes with ``module-``."""
    return ((name, "py:module", f"{page}#module-{name}"),)


def alias(name: str, role: str, uri: str) -> tuple[tuple[str, str, str], ...]:
    """Another name of a documented object (the one autodoc finds in annotations)."""
    return ((name, role, uri),)


STDTYPES = "library/stdtypes.html"
FUNCTIONS = "library/functions.html"
EXCEPTIONS = "library/exceptions.html"
ABC = "library/collections.abc.html"
FLASK_API = "api/"
CONNECTIONS = "core/connections.html"
TWILIO = "docs/source/_rst/"

INVENTORIES = {
    "python": Inventory(
        "Python",
        "3",
        entries(STDTYPES, "py:class", "bytes", "dict", "frozenset", "list", "set", "str", "tuple")
        + entries(FUNCTIONS, "py:class", "bool", "float", "int", "object")
        + entries("library/constants.html", "py:data", "None")
        + entries(EXCEPTIONS, "py:exception", "Exception", "RuntimeError", "UserWarning")
        + entries(EXCEPTIONS, "py:exception", "ValueError")
        + entries(ABC, "py:class", "collections.abc.Iterable", "collections.abc.Sequence")
        + module("library/dataclasses.html", "dataclasses")
        + entries("library/dataclasses.html", "py:function", "dataclasses.dataclass")
        + entries("library/datetime.html", "py:class", "datetime.datetime", "datetime.timedelta")
        + module("library/logging.html", "logging")
        + entries("library/logging.html", "py:class", "logging.Logger")
        + entries("library/typing.html", "py:class", "typing.Protocol")
        + entries("library/typing.html", "py:data", "typing.Any"),
    ),
    "flask": Inventory(
        "Flask",
        "3",
        entries(FLASK_API, "py:class", "flask.Flask", "flask.Blueprint", "flask.Config")
        + alias("flask.app.Flask", "py:class", f"{FLASK_API}#flask.Flask")
        + entries(FLASK_API, "py:attribute", "flask.Flask.config", "flask.Flask.extensions")
        + entries(FLASK_API, "py:method", "flask.Config.from_prefixed_env")
        + entries(FLASK_API, "py:data", "flask.current_app", "flask.g", "flask.request")
        + entries("config/", "py:data", "SECRET_KEY", "SERVER_NAME"),
    ),
    "werkzeug": Inventory(
        "Werkzeug",
        "3",
        entries("middleware/proxy_fix/", "py:class", "werkzeug.middleware.proxy_fix.ProxyFix")
        + entries("exceptions/", "py:exception", "werkzeug.exceptions.Forbidden"),
    ),
    "flask_sqlalchemy": Inventory(
        "Flask-SQLAlchemy",
        "3.1",
        entries(FLASK_API, "py:class", "flask_sqlalchemy.SQLAlchemy")
        + entries(FLASK_API, "py:attribute", "flask_sqlalchemy.SQLAlchemy.session")
        + entries(FLASK_API, "py:method", "flask_sqlalchemy.SQLAlchemy.create_all")
        + entries(FLASK_API, "py:class", "flask_sqlalchemy.pagination.Pagination")
        + entries("config/", "py:data", "flask_sqlalchemy.config.SQLALCHEMY_ENGINE_OPTIONS"),
    ),
    "sqlalchemy": Inventory(
        "SQLAlchemy",
        "2.0",
        entries("orm/session_api.html", "py:class", "sqlalchemy.orm.Session")
        + entries(CONNECTIONS, "py:class", "sqlalchemy.engine.Connection")
        + alias(
            "sqlalchemy.engine.base.Connection",
            "py:class",
            f"{CONNECTIONS}#sqlalchemy.engine.Connection",
        )
        + entries(
            "core/exceptions.html",
            "py:exception",
            "sqlalchemy.exc.IntegrityError",
            "sqlalchemy.exc.SQLAlchemyError",
        ),
    ),
    "celery": Inventory(
        "Celery",
        "5",
        entries("reference/celery.html", "py:class", "celery.Celery")
        + entries("reference/celery.app.task.html", "py:class", "celery.app.task.Task")
        + entries(
            "reference/celery.app.task.html",
            "py:attribute",
            "celery.app.task.Task.acks_late",
            "celery.app.task.Task.reject_on_worker_lost",
        ),
    ),
    "blinker": Inventory(
        "Blinker",
        "1",
        entries("", "py:class", "blinker.Signal", "blinker.NamedSignal")
        + alias("blinker.base.NamedSignal", "py:class", "#blinker.NamedSignal")
        + entries("", "py:method", "blinker.Signal.connect", "blinker.Signal.connected_to"),
    ),
    "twilio": Inventory(
        "twilio-python",
        "9.10.4",
        entries(f"{TWILIO}twilio.rest.html", "py:class", "twilio.rest.Client")
        + entries(f"{TWILIO}twilio.html", "py:class", "twilio.request_validator.RequestValidator")
        + entries(
            f"{TWILIO}twilio.html",
            "py:method",
            "twilio.request_validator.RequestValidator.compute_signature",
        )
        + entries(
            f"{TWILIO}twilio.twiml.html",
            "py:class",
            "twilio.twiml.messaging_response.MessagingResponse",
        )
        + entries(
            f"{TWILIO}twilio.base.html",
            "py:exception",
            "twilio.base.exceptions.TwilioRestException",
        ),
    ),
    # python-phonenumbers has no Sphinx site: the module links to the front page of its docs
    "phonenumbers": Inventory("phonenumbers", "9", (("phonenumbers", "py:module", ""),)),
    "pytest": Inventory(
        "pytest",
        "8",
        entries("reference/reference.html", "py:function", "pytest.fixture"),
    ),
}


def render(inventory: Inventory) -> bytes:
    """The inventory file: the header, then the zlib-compressed object lines."""
    lines = []
    for name, role, uri in sorted(inventory.objects):
        priority = 0 if role == "py:module" else 1
        if uri.endswith(f"#{name}"):
            uri = uri.removesuffix(name) + "$"  # the format's shorthand, as Sphinx writes it
        lines.append(f"{name} {role} {priority} {uri} -\n")
    header = HEADER.format(project=inventory.project, version=inventory.version)
    return header.encode() + zlib.compress("".join(lines).encode(), 9)


def write_all(directory: pathlib.Path = HERE) -> list[pathlib.Path]:
    """Write every inventory as ``<key>.inv`` into ``directory``; return the paths."""
    paths = []
    for key, inventory in INVENTORIES.items():
        path = directory / f"{key}.inv"
        path.write_bytes(render(inventory))
        paths.append(path)
    return paths


if __name__ == "__main__":
    target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for written in write_all(target):
        print(written.name)
