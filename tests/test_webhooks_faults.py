"""The database goes away in the middle of a webhook (PostgreSQL): the server really ends
the connection (``pg_terminate_backend``, from a second engine, just before a chosen
statement), and the driver's real error reaches the extension."""

from __future__ import annotations

import collections.abc as c
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms.extension import get_state

from .signing import inbound_params
from .signing import new_sid
from .signing import Sent
from .signing import signed_post
from .signing import twiml_messages
from .webhooks_support import Bound
from .webhooks_support import Subscribe

Kill = t.Callable[[t.Callable[[str], bool]], None]

pytestmark = pytest.mark.postgresql


@pytest.fixture
def kill_before(
    app: Flask, bound: Bound, database_url: str, postgresql_url: str
) -> c.Iterator[Kill]:
    """``kill_before(when)``: end the connection before each statement ``when`` accepts."""
    if database_url != postgresql_url:
        pytest.skip("pg_terminate_backend needs PostgreSQL")
    admin = sa.create_engine(postgresql_url)
    engine = get_state(app).db.engine
    chosen: list[t.Callable[[str], bool]] = []

    def terminate(conn: sa.Connection, cursor: t.Any, statement: str, *args: t.Any) -> None:
        if chosen and chosen[0](statement):
            pid = conn.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
            with admin.begin() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    sa.event.listen(engine, "before_cursor_execute", terminate)
    yield chosen.append
    chosen.clear()
    sa.event.remove(engine, "before_cursor_execute", terminate)
    get_state(app).session.remove()
    admin.dispose()


def stored(app: Flask, sid: str) -> list[tuple[str, str]]:
    session = get_state(app).session
    session.rollback()
    query = sa.text("SELECT body, status FROM xsms_message WHERE sid = :sid")
    rows = session.execute(query, {"sid": sid})
    return [(r[0], r[1]) for r in rows]


def test_database_down_before_the_request(
    app: Flask, client: FlaskClient, bound: Bound, kill_before: Kill
) -> None:
    kill_before(lambda statement: True)
    params = inbound_params(Body="anyone?")
    response = signed_post(client, bound.urls.request_url, params)
    assert response.status_code == 503 and response.data == b""  # Twilio tries the Fallback URL
    fallback = signed_post(client, bound.urls.fallback_url, {**params, "ErrorCode": "11200"})
    assert twiml_messages(fallback) == [Sent(app.config["XSMS_FALLBACK_MESSAGE"])]
    forged = signed_post(client, bound.urls.fallback_url, params, token="forged")
    assert forged.status_code == 403


def test_database_down_on_the_status_callback(
    client: FlaskClient, bound: Bound, kill_before: Kill
) -> None:
    kill_before(lambda statement: True)
    params = {"AccountSid": "AC" + "1" * 32, "MessageSid": new_sid(), "MessageStatus": "sent"}
    assert signed_post(client, bound.urls.status_callback_url, params).status_code == 503


def test_database_dies_after_the_message_was_stored(
    app: Flask, client: FlaskClient, bound: Bound, subscribe: Subscribe, kill_before: Kill
) -> None:
    """The message is committed before the chatbot runs; storing the answer fails. The
    answer still goes out (webhooks.py and inbound.py: "answered anyway"), and the stored
    message is kept."""
    answered: list[bool] = []
    once: list[bool] = []

    def at_the_answer(statement: str) -> bool:
        # the chatbot runs only once the message is committed
        if once or not answered:
            return False
        once.append(True)
        return True

    def bot(sender: str, *, message: t.Any, **kw: t.Any) -> str:
        answered.append(True)
        return f"echo: {message.body}"

    subscribe(bot)
    kill_before(at_the_answer)
    params = inbound_params(Body="keep me")
    response = signed_post(client, bound.urls.request_url, params)
    assert once, "no statement ran after the chatbot"
    assert twiml_messages(response) == [Sent("echo: keep me")]
    assert [body for body, _ in stored(app, params["MessageSid"])] == ["keep me"]
