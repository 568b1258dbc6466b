"""The Fallback URL answers politely and keeps the message, with or without a database;
the status-callback URL records delivery statuses."""

from __future__ import annotations

import logging
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import signals
from flask_xsms._extension import get_state
from flask_xsms._inbound import wait_for_chatbots
from flask_xsms.models import Message
from flask_xsms.models import metadata
from flask_xsms._optouts import is_opted_out

from .hostapp import create_host_app
from .signing import ACCOUNT_SID
from .signing import CUSTOMER
from .signing import inbound_params
from .signing import new_sid
from .signing import Sent
from .signing import signed_post
from .signing import twiml_messages
from .twilio_server import TwilioStandIn
from .webhooks_support import Bound
from .webhooks_support import CARE_APP
from .webhooks_support import CARE_NUMBER
from .webhooks_support import Subscribe
from .webhooks_support import UNKNOWN_NUMBER

ERROR_URL = "https://sms.example.com/xsms/hooks/x/sms"


def fallback_params(**fields: str | None) -> dict[str, str]:
    return inbound_params(ErrorCode="11205", ErrorUrl=ERROR_URL, **fields)


def polite(app: Flask) -> list[Sent]:
    return [Sent(app.config["XSMS_FALLBACK_MESSAGE"])]


def test_a_message_the_request_url_never_stored_is_kept_and_answered_later(
    app: Flask,
    client: FlaskClient,
    bound: Bound,
    subscribe: Subscribe,
    twilio_api: TwilioStandIn,
) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    events: list[dict[str, t.Any]] = []
    calls: list[str] = []
    subscribe(lambda sender, *, message, **kw: calls.append(message.body) or "the answer")
    subscribe(
        lambda sender, **kw: events.append({"sender": sender, **kw}), signal=signals.fallback_used
    )
    params = fallback_params(Body="anyone there?")
    response = signed_post(client, bound.urls.fallback_url, params)
    # the customer gets the apology at once...
    assert twiml_messages(response) == polite(app)
    row = bound.inbound(params["MessageSid"])
    assert (row.application_id, row.body) == (CARE_APP, "anyone there?")
    assert row.error_code == "11205" and ERROR_URL in (row.error_message or "")
    assert row.details["ErrorUrl"] == ERROR_URL and row.conversation_id is not None
    (event,) = events
    assert event["sender"] is app and event["message"].sid == params["MessageSid"]
    assert (event["domain_id"], event["application_id"], event["message_id"]) == (
        "1",
        CARE_APP,
        row.id,
    )
    assert (event["error_code"], event["error_url"]) == ("11205", ERROR_URL)

    # ...and the chatbot's answer through the REST API
    assert wait_for_chatbots(timeout=10)
    assert calls == ["anyone there?"]
    assert [(r.form["To"], r.form["From"], r.form["Body"]) for r in twilio_api.messages] == [
        (CUSTOMER, CARE_NUMBER, "the answer")
    ]
    assert bound.inbound(params["MessageSid"]).status == "handled"

    # Twilio retries the Request URL later: same answer, no second chatbot call
    again = signed_post(
        client, bound.urls.request_url, inbound_params(MessageSid=params["MessageSid"])
    )
    assert twiml_messages(again) == polite(app)
    assert wait_for_chatbots(timeout=10) and calls == ["anyone there?"]


def test_the_message_only_the_fallback_saw_is_configurable(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    app.config["XSMS_FALLBACK_MESSAGE"] = "We'll be right back."
    response = signed_post(client, bound.urls.fallback_url, fallback_params())
    assert twiml_messages(response) == [Sent("We'll be right back.")]


def test_after_a_primary_answer_the_fallback_repeats_it(
    app: Flask, client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    calls = []
    subscribe(lambda sender, **kw: calls.append(1) or "the real answer")
    params = inbound_params()
    signed_post(client, bound.urls.request_url, params)
    response = signed_post(
        client, bound.urls.fallback_url, {**params, "ErrorCode": "11200", "ErrorUrl": ERROR_URL}
    )
    assert twiml_messages(response) == [Sent("the real answer")]
    assert calls == [1]
    row = bound.inbound(params["MessageSid"])
    assert (row.status, row.error_code) == ("handled", "11200")
    assert row.details["fallback"] == {"ErrorCode": "11200", "ErrorUrl": ERROR_URL}
    assert len(bound.messages(sid=params["MessageSid"])) == 1


def test_after_an_empty_primary_answer_the_fallback_is_polite(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    params = inbound_params()
    signed_post(client, bound.urls.request_url, params)
    response = signed_post(client, bound.urls.fallback_url, {**params, "ErrorCode": "11200"})
    assert twiml_messages(response) == polite(app)


def test_the_fallback_signature_is_checked_against_the_fallback_url(
    client: FlaskClient, bound: Bound
) -> None:
    response = signed_post(
        client, bound.urls.fallback_url, fallback_params(), sign_url=bound.urls.request_url
    )
    assert response.status_code == 403 and response.data == b""
    assert bound.messages() == []


def test_a_fallback_to_an_unknown_number_is_stored_unrouted(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    params = fallback_params(To=UNKNOWN_NUMBER)
    assert twiml_messages(signed_post(client, bound.urls.fallback_url, params)) == polite(app)
    row = bound.inbound(params["MessageSid"])
    assert (row.status, row.application_id, row.error_code) == ("unrouted", None, "11205")


def test_stop_through_the_fallback_still_opts_out(client: FlaskClient, bound: Bound) -> None:
    signed_post(client, bound.urls.fallback_url, fallback_params(Body="STOP"))
    assert is_opted_out("acme", CARE_NUMBER, CUSTOMER)


def test_a_fallback_without_message_fields_is_still_answered(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    params = {"AccountSid": "AC" + "1" * 32, "ErrorCode": "11205", "ErrorUrl": ERROR_URL}
    assert twiml_messages(signed_post(client, bound.urls.fallback_url, params)) == polite(app)
    assert bound.messages() == []


@pytest.mark.parametrize("route", ["request_url", "fallback_url"])
def test_without_its_tables_the_database_is_down_and_answers_stay_polite(
    app: Flask,
    client: FlaskClient,
    bound: Bound,
    subscribe: Subscribe,
    caplog: pytest.LogCaptureFixture,
    route: str,
) -> None:
    events: list[dict[str, t.Any]] = []
    subscribe(lambda sender, **kw: events.append(kw), signal=signals.fallback_used)
    get_state(app).session.remove()
    metadata.drop_all(get_state(app).db.engine)  # every query now fails
    url = getattr(bound.urls, route)
    with caplog.at_level(logging.ERROR, logger="flask_xsms"):
        response = signed_post(client, url, fallback_params())
    if route == "request_url":  # 503: Twilio turns to the Fallback URL
        assert response.status_code == 503 and response.data == b""
    else:
        assert twiml_messages(response) == polite(app)
    assert "database is unavailable" in caplog.text
    if route == "fallback_url":
        ((event),) = events
        assert event["message_id"] is None and event["error_code"] == "11205"
    # a forged request still gets nothing
    forged = signed_post(client, url, fallback_params(), token="not-the-token")
    assert forged.status_code == 403 and forged.data == b""
    metadata.create_all(get_state(app).db.engine)  # for the fixture's teardown


def test_a_database_on_a_closed_port_still_gets_a_polite_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_host_app("postgresql+psycopg://postgres@127.0.0.1:9/nowhere")
    url = f"http://localhost/xsms/hooks/{'ab' * 16}/fallback"
    client = app.test_client()
    try:
        response = signed_post(client, url, fallback_params())
        assert twiml_messages(response) == polite(app)
        response = signed_post(client, url.replace("/fallback", "/sms"), inbound_params())
        assert response.status_code == 503 and response.data == b""
        assert signed_post(client, url, fallback_params(), token="forged").status_code == 403
        status = signed_post(
            client,
            url.replace("/fallback", "/status"),
            {"MessageSid": new_sid(), "MessageStatus": "sent", "AccountSid": ACCOUNT_SID},
        )
        assert status.status_code == 503
    finally:
        with app.app_context():
            get_state(app).db.engine.dispose()


def test_without_app_wide_credentials_a_database_outage_is_403(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = create_host_app(
        "postgresql+psycopg://postgres@127.0.0.1:9/nowhere", XSMS_TWILIO_AUTH_TOKEN=None
    )
    url = f"http://localhost/xsms/hooks/{'ab' * 16}/fallback"
    try:
        response = signed_post(app.test_client(), url, fallback_params())
        assert response.status_code == 403
        assert "can only be checked with" in caplog.text
    finally:
        with app.app_context():
            get_state(app).db.engine.dispose()


def test_status_callbacks_update_the_stored_status_without_going_back(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    session = get_state(app).session
    sid = new_sid()
    session.add(
        Message(
            sid=sid,
            direction="outbound",
            integration_id=bound.integration_id,
            from_number=CARE_NUMBER,
            to_number=CUSTOMER,
            body="hi",
            status="queued",
        )
    )
    session.commit()
    changes: list[tuple[str, str]] = []

    def on_change(sender: t.Any, *, previous_status: str, status: str, **kw: t.Any) -> None:
        changes.append((previous_status, status))

    with signals.delivery_status_changed.connected_to(on_change):
        for status in ("sent", "delivered", "sent"):
            params = {"AccountSid": "AC" + "1" * 32, "MessageSid": sid, "MessageStatus": status}
            response = signed_post(client, bound.urls.status_callback_url, params)
            assert response.status_code == 204
    (row,) = bound.messages(sid=sid)
    assert row.status == "delivered"
    assert changes == [("queued", "sent"), ("sent", "delivered")]
    missing = signed_post(
        client, bound.urls.status_callback_url, {"AccountSid": "AC" + "1" * 32, "MessageSid": sid}
    )
    assert missing.status_code == 400 and b"MessageStatus" in missing.data
    assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1
