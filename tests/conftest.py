from __future__ import annotations

import os
import secrets
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_xsms._extension import get_state
from flask_xsms.models import metadata

from .hostapp import CREATED
from .hostapp import create_host_app
from .hostapp import Directory
from .twilio_server import twilio_api  # noqa: F401 (fixture for every module)
from .webhooks_support import bound  # noqa: F401 (fixture for every module)
from .webhooks_support import subscribe  # noqa: F401 (fixture for every module)

DEFAULT_POSTGRESQL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _postgresql_url() -> str:
    return os.environ.get("XSMS_TEST_DATABASE_URL") or DEFAULT_POSTGRESQL_URL


@pytest.fixture(scope="session")
def postgresql_url() -> t.Iterator[str]:
    """A reachable PostgreSQL URL; skipped locally without a server, required in CI.

    Each test run works in a schema of its own, so runs in parallel don't meet.
    """
    url = _postgresql_url()
    engine = sa.create_engine(url)
    schema = f"xsms_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except Exception as e:  # any failure to connect means "no server here"
        reason = (
            f"PostgreSQL at {engine.url.render_as_string()} is not reachable ({type(e).__name__});"
            " set XSMS_TEST_DATABASE_URL to run the PostgreSQL variant"
        )
        engine.dispose()
        if IN_CI:
            pytest.fail(reason + " (required when CI=true)")
        pytest.skip(reason)
    try:
        isolated = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield isolated.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request: pytest.FixtureRequest, tmp_path: t.Any) -> str:
    """The test's database: a SQLite file, then the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'xsms.sqlite'}"
    return t.cast(str, request.getfixturevalue("postgresql_url"))


def reset_database(app: Flask, *metadatas: sa.MetaData) -> None:
    """Drop and create the tables of ``metadatas`` (and the extension's migration history)."""
    engine = get_state(app).db.engine
    for md in metadatas:
        md.drop_all(engine)
    drop_xsms_tables(engine)
    for md in reversed(metadatas):
        md.create_all(engine)


@pytest.fixture(autouse=True)
def _stop_turns_of_every_app() -> t.Iterator[None]:
    """No chatbot thread or sweep of a test's apps outlives the test."""
    yield
    while CREATED:
        stop_turns(CREATED.pop())


def stop_turns(app: Flask) -> None:
    """End the chatbot threads and the sweeps of ``app`` in this process."""
    state = app.extensions.get("xsms")  # None: its init_app refused the config
    runner = state.turn_runner if state is not None else None
    if runner is not None:
        assert runner.shutdown(timeout=10)


def drop_xsms_tables(engine: sa.Engine) -> None:
    """Drop the extension's tables and its migration history."""
    metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS xsms_alembic_version"))


@pytest.fixture
def app(database_url: str) -> t.Iterator[Flask]:
    app = create_host_app(database_url)
    with app.app_context():
        reset_database(app, metadata)
    yield app
    stop_turns(app)
    with app.app_context():
        db = get_state(app).db
        db.session.remove()
        drop_xsms_tables(db.engine)
        db.engine.dispose()


@pytest.fixture(params=["before", "after"])
def csrf_app(app: Flask, database_url: str, request: pytest.FixtureRequest) -> t.Iterator[Flask]:
    """A second host on ``app``'s database, with Flask-WTF's ``CSRFProtect`` on every form,
    set up before and after the extension."""
    protected = create_host_app(database_url, csrf_protect=request.param)
    yield protected
    stop_turns(protected)
    with protected.app_context():
        get_state(protected).db.session.remove()
        get_state(protected).db.engine.dispose()


@pytest.fixture
def example(database_url: str) -> t.Iterator[Flask]:
    """The example host, seeded, on the test's database, signing with the test credentials."""
    from example_app import create_app
    from example_app import init_database
    from example_app.models import db
    from flask_xsms._inbound import wait_for_chatbots

    from .signing import ACCOUNT_SID
    from .signing import AUTH_TOKEN

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False,
            "XSMS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "XSMS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            # a cheap hash keeps the tests quick; the app's default is scrypt
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )
    with app.app_context():
        drop_xsms_tables(db.engine)
        db.drop_all()
        init_database()
    yield app
    assert wait_for_chatbots(timeout=10)
    stop_turns(app)
    with app.app_context():
        db.session.remove()
        drop_xsms_tables(db.engine)
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def directory(app: Flask) -> Directory:
    return t.cast(Directory, app.extensions["test_directory"])
