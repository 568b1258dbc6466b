"""The database goes away before or during a webhook request: real faults, no mocks.

On PostgreSQL the app's backend is terminated (``pg_terminate_backend`` from a second
connection) just before a chosen statement, or the app points at a port where nothing
listens; on SQLite another connection holds an exclusive lock while the app waits only
a moment for it. Either way it is the real driver that fails.
"""

from __future__ import annotations

import collections.abc as c
import contextlib
import socket
import sqlite3
import time
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_xsms import signals
from flask_xsms._extension import get_state
from flask_xsms._inbound import turns
from flask_xsms._inbound import wait_for_chatbots
from flask_xsms._inbound.runner import runner_for

from .conftest import stop_turns
from .hostapp import create_host_app
from .signing import inbound_params
from .signing import Sent
from .signing import signed_post
from .signing import twiml_messages
from .twilio_server import TwilioStandIn
from .webhooks_support import Bound
from .webhooks_support import Subscribe

#: How long the SQLite app waits for a lock before "database is locked".
BUSY_TIMEOUT = 0.2


def fallback_params(**fields: str | None) -> dict[str, str]:
    return inbound_params(ErrorCode="11205", ErrorUrl="https://sms.example.com/sms", **fields)


class Fault:
    """Makes the database fail for ``app``: now (SQLite: another connection locks the
    file), or at a chosen statement (PostgreSQL: the app's backend is terminated)."""

    def __init__(self, app: Flask, database_url: str) -> None:
        self.app = app
        self.url = sa.make_url(database_url)
        self.sqlite = self.url.get_backend_name() == "sqlite"
        self._lock: sqlite3.Connection | None = None
        self.fired: list[str] = []

    def now(self) -> None:
        """Another connection locks the SQLite file (until :meth:`heal`)."""
        self._lock = sqlite3.connect(
            t.cast(str, self.url.database), isolation_level=None, check_same_thread=False
        )
        self._lock.execute("BEGIN EXCLUSIVE")

    def at(self, starts_with: str) -> None:
        """Fail the app's first statement that starts with ``starts_with``."""

        def before(conn: sa.Connection, cursor: t.Any, statement: str, *args: t.Any) -> None:
            if self.fired or not statement.lstrip().upper().startswith(starts_with.upper()):
                return
            self.fired.append(statement)
            if self.sqlite:
                self.now()
                return
            pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
            engine = sa.create_engine(self.url)
            with engine.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
            engine.dispose()

        with self.app.app_context():
            sa.event.listen(get_state(self.app).db.engine, "before_cursor_execute", before)

    def heal(self) -> None:
        if self._lock is not None:
            self._lock.rollback()
            self._lock.close()
            self._lock = None


@pytest.fixture
def faulty(app: Flask, bound: Bound, database_url: str) -> c.Iterator[tuple[Flask, Fault]]:
    """A second host on the test's database (waiting briefly for SQLite locks)."""
    sqlite = database_url.startswith("sqlite")
    options = {"connect_args": {"timeout": BUSY_TIMEOUT}} if sqlite else {}
    host = create_host_app(database_url, SQLALCHEMY_ENGINE_OPTIONS=options, XSMS_REPLY_TIMEOUT=2)
    fault = Fault(host, database_url)
    yield host, fault
    fault.heal()
    stop_turns(host)
    with host.app_context():
        get_state(host).db.session.remove()
        get_state(host).db.engine.dispose()


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def down(faulty: tuple[Flask, Fault], database_url: str) -> c.Iterator[Flask]:
    """A host whose database is down before the request arrives: nothing listens at
    its PostgreSQL port; its SQLite file is locked."""
    host, fault = faulty
    if fault.sqlite:
        fault.now()
        yield host
        fault.heal()
        return
    url = sa.make_url(database_url).set(port=free_port()).render_as_string(hide_password=False)
    unreachable = create_host_app(url)
    yield unreachable
    stop_turns(unreachable)
    with unreachable.app_context():
        get_state(unreachable).db.engine.dispose()


ROUTES = ("request_url", "fallback_url", "status_callback_url")


@pytest.mark.parametrize("route", ROUTES)
def test_with_the_database_down_before_the_request(
    down: Flask, bound: Bound, subscribe: Subscribe, route: str, caplog: pytest.LogCaptureFixture
) -> None:
    chatbot: list[str] = []
    fallbacks: list[t.Any] = []
    subscribe(lambda sender, *, message, **kw: chatbot.append(message.sid))
    subscribe(lambda sender, **kw: fallbacks.append(kw), signal=signals.fallback_used)
    url = getattr(bound.urls, route)
    if route == "status_callback_url":
        params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
        params["AccountSid"] = inbound_params()["AccountSid"]
    else:
        params = fallback_params() if route == "fallback_url" else inbound_params()
    client = down.test_client()

    unsigned = client.post(url, data=params)
    assert unsigned.status_code == 403 and unsigned.data == b""

    response = signed_post(client, url, params)
    if route == "fallback_url":
        assert twiml_messages(response) == [Sent(down.config["XSMS_FALLBACK_MESSAGE"])]
        (event,) = fallbacks
        assert event["message"].sid == params["MessageSid"] and event["message_id"] is None
    else:  # 503: Twilio turns to the Fallback URL, or its debugger notes the status lost
        assert response.status_code == 503 and response.data == b""
        assert fallbacks == []
    assert chatbot == []
    assert "database is unavailable" in caplog.text


def test_a_message_the_database_refused_is_kept_by_the_fallback_url(
    faulty: tuple[Flask, Fault], bound: Bound, subscribe: Subscribe
) -> None:
    host, fault = faulty
    chatbot: list[str] = []
    subscribe(lambda sender, *, message, **kw: chatbot.append(message.sid))
    client = host.test_client()
    params = inbound_params(Body="are you there?")
    fault.at("INSERT INTO xsms_message")
    response = signed_post(client, bound.urls.request_url, params)
    assert fault.fired and response.status_code == 503
    assert bound.messages() == [] and chatbot == []

    fault.heal()
    # Twilio calls the Fallback URL with the same message
    polite = [Sent(host.config["XSMS_FALLBACK_MESSAGE"])]
    fallback = {**params, "ErrorCode": "11200", "ErrorUrl": bound.urls.request_url}
    response = signed_post(client, bound.urls.fallback_url, fallback)
    assert twiml_messages(response) == polite
    row = bound.inbound(params["MessageSid"])
    assert (row.body, row.error_code) == ("are you there?", "11200")
    # the message became a turn: the chatbot answers it after the apology
    assert wait_for_chatbots(timeout=10)
    assert chatbot == [params["MessageSid"]]
    assert bound.inbound(params["MessageSid"]).status == "handled"


def test_when_the_database_dies_after_the_message_is_stored_it_is_answered_later(
    faulty: tuple[Flask, Fault], bound: Bound, subscribe: Subscribe, twilio_api: TwilioStandIn
) -> None:
    host, fault = faulty
    host.config.update(
        XSMS_TWILIO_API_BASE_URL=twilio_api.url, XSMS_REPLY_TIMEOUT=0.5, XSMS_TURN_CLAIM_TIMEOUT=1
    )
    chatbot: list[str] = []
    subscribe(lambda sender, *, message, **kw: chatbot.append(message.sid) or "On it!")
    client = host.test_client()
    params = inbound_params(Body="my order?")
    fault.at("UPDATE xsms_message")  # the end of the turn, written after the chatbot ran
    response = signed_post(client, bound.urls.request_url, params)
    assert fault.fired
    # An answer that could not be stored is not given: it would be given twice when the
    # turn is answered again. Twilio gets an empty answer (or, while the database is
    # still down, 503 and then calls the Fallback URL).
    assert response.status_code == 503 or twiml_messages(response) == []
    fault.heal()
    row = bound.inbound(params["MessageSid"])
    assert (row.body, row.status) == ("my order?", "processing")
    assert bound.replies_to(row) == []  # the reply rows were in the failed transaction
    assert chatbot == [params["MessageSid"]]

    # Twilio's retry finds the message; the chatbot does not run twice
    again = signed_post(client, bound.urls.request_url, params)
    assert again.status_code == 200 and twiml_messages(again) == []
    assert chatbot == [params["MessageSid"]]
    # the Fallback URL answers politely, keeping the one row
    fallback = {**params, "ErrorCode": "11200"}
    polite = [Sent(host.config["XSMS_FALLBACK_MESSAGE"])]
    assert twiml_messages(signed_post(client, bound.urls.fallback_url, fallback)) == polite
    assert len(bound.messages(sid=params["MessageSid"])) == 1
    assert twilio_api.messages == []

    # once its claim has lapsed, the turn is answered again, through the REST API
    time.sleep(1.1)
    with host.app_context():
        assert turns.hand_over(row.id) == turns.HANDED_OVER
        assert runner_for(host).answer(row.id) == "answered"
    assert chatbot == [params["MessageSid"]] * 2
    assert [r.form["Body"] for r in twilio_api.messages] == ["On it!"]
    assert bound.inbound(params["MessageSid"]).status == "handled"


def test_a_status_callback_the_database_refused_is_a_503(
    faulty: tuple[Flask, Fault], bound: Bound
) -> None:
    host, fault = faulty
    fault.at("SELECT")
    params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    params["AccountSid"] = inbound_params()["AccountSid"]
    response = signed_post(host.test_client(), bound.urls.status_callback_url, params)
    assert fault.fired and response.status_code == 503
    fault.heal()
    again = signed_post(host.test_client(), bound.urls.status_callback_url, params)
    assert again.status_code == 204  # no such message: nothing to record
