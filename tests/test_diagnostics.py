"""Refused webhooks are recorded with their likely cause, shown on the settings page, and
checked again with the Test webhook button and ``flask xsms doctor``."""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from flask_xsms import _diagnostics as diagnostics
from flask_xsms._extension import get_state
from flask_xsms.models import Integration
from flask_xsms.models import utcnow
from flask_xsms.models import WebhookRejection

from .pages import parse
from .signing import AUTH_TOKEN
from .signing import inbound_params
from .signing import sign
from .signing import signed_post
from .webhooks_support import Bound
from .webhooks_support import Subscribe

SETTINGS = "/xsms/domains/1/twilio-sms"


def rejections(app: Flask) -> list[WebhookRejection]:
    session = get_state(app).session
    session.commit()
    return list(session.scalars(sa.select(WebhookRejection).order_by(WebhookRejection.id)))


def only_rejection(app: Flask) -> WebhookRejection:
    (row,) = rejections(app)
    return row


@pytest.fixture(autouse=True)
def _no_csrf_token(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


def test_a_wrong_auth_token_is_recorded_and_explained(
    app: Flask, client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    called: list[t.Any] = []
    subscribe(lambda sender, **kw: called.append(kw))
    params = inbound_params()
    response = signed_post(client, bound.urls.request_url, params, token="an-old-auth-token")
    assert response.status_code == 403 and called == [] and bound.messages() == []
    row = only_rejection(app)
    assert (row.integration_id, row.endpoint, row.reason) == (bound.integration_id, "sms", "bad_signature")
    assert row.validated_url == bound.urls.request_url and row.matched_url is None
    assert row.headers == {"Host": "localhost"}
    stored = json.dumps([row.validated_url, row.headers, row.details])
    assert sign(bound.urls.request_url, params, "an-old-auth-token") not in stored
    assert AUTH_TOKEN not in stored
    assert "Auth Token" in diagnostics.explain(row).fix


def test_https_ended_at_a_proxy_is_named_with_its_fix(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    twilio_url = bound.urls.request_url.replace("http://", "https://")
    response = signed_post(
        client,
        bound.urls.request_url,
        inbound_params(),
        sign_url=twilio_url,
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "54.172.60.1"},
    )
    assert response.status_code == 403
    row = only_rejection(app)
    assert row.matched_url == twilio_url
    assert row.headers["X-Forwarded-Proto"] == "https"
    diagnosis = diagnostics.explain(row)
    assert f"Twilio signed {twilio_url}" in diagnosis.summary
    assert "XSMS_PUBLIC_BASE_URL=https://localhost" in diagnosis.fix
    assert "ProxyFix (x_proto=1)" in diagnosis.fix


def test_another_host_behind_a_proxy_is_named_with_its_fix(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    path = bound.urls.request_url.removeprefix("http://localhost")
    twilio_url = "https://sms.example.com" + path
    signed_post(
        client,
        bound.urls.request_url,
        inbound_params(),
        sign_url=twilio_url,
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sms.example.com"},
    )
    row = only_rejection(app)
    assert row.matched_url == twilio_url
    diagnosis = diagnostics.explain(row)
    assert "sms.example.com" in diagnosis.summary
    assert "XSMS_PUBLIC_BASE_URL=https://sms.example.com" in diagnosis.fix
    assert "x_host=1" in diagnosis.fix


def test_a_wrong_public_base_url_names_the_url_twilio_used(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    app.config["XSMS_PUBLIC_BASE_URL"] = "https://old.example.com"
    path = bound.urls.request_url.removeprefix("http://localhost")
    response = signed_post(
        client, "http://localhost" + path, inbound_params(), sign_url="http://localhost" + path
    )
    assert response.status_code == 403
    row = only_rejection(app)
    assert row.validated_url == "https://old.example.com" + path
    assert row.matched_url == "http://localhost" + path
    fix = diagnostics.explain(row).fix
    assert fix == "Set XSMS_PUBLIC_BASE_URL=http://localhost (it is https://old.example.com now)."


def test_a_trailing_slash_in_the_console_is_named(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    url = bound.urls.fallback_url
    signed_post(client, url, inbound_params(), sign_url=url + "/")
    row = only_rejection(app)
    assert (row.endpoint, row.matched_url) == ("fallback", url + "/")
    assert "trailing slash" in diagnostics.explain(row).fix


def test_a_missing_signature_header_is_named(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    assert client.post(bound.urls.status_callback_url, data=inbound_params()).status_code == 403
    row = only_rejection(app)
    assert (row.endpoint, row.reason, row.matched_url) == ("status", "missing_signature", None)
    assert "X-Twilio-Signature" in diagnostics.explain(row).fix


def test_another_accounts_sid_is_named(app: Flask, client: FlaskClient, bound: Bound) -> None:
    response = signed_post(client, bound.urls.request_url, inbound_params(AccountSid="AC" + "2" * 32))
    assert response.status_code == 403
    row = only_rejection(app)
    assert row.reason == "wrong_account"
    assert "XSMS_TWILIO_ACCOUNT_SID" in diagnostics.explain(row).fix


def test_missing_credentials_are_named(app: Flask, client: FlaskClient, bound: Bound) -> None:
    app.config["XSMS_TWILIO_AUTH_TOKEN"] = None
    assert signed_post(client, bound.urls.request_url, inbound_params()).status_code == 403
    row = only_rejection(app)
    assert row.reason == "no_credentials"
    assert "credentials loader" in diagnostics.explain(row).fix


def test_the_settings_page_shows_recent_rejections_and_the_fix(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    page = parse(client.get(SETTINGS).text)
    assert "have not been refused lately" in page.by_id("xsms-webhook-check").text
    assert client.post(bound.urls.request_url, data=inbound_params()).status_code == 403
    twilio_url = bound.urls.request_url.replace("http://", "https://")
    signed_post(
        client,
        bound.urls.request_url,
        inbound_params(),
        sign_url=twilio_url,
        headers={"X-Forwarded-Proto": "https"},
    )
    section = parse(client.get(SETTINGS).text).by_id("xsms-webhook-check")
    text = " ".join(section.text.split())
    assert "Webhook problems" in text
    assert f"URL the app checked {bound.urls.request_url}" in text
    assert f"URL Twilio most likely signed {twilio_url}" in text
    assert "Fix: Set XSMS_PUBLIC_BASE_URL=https://localhost" in text
    rows = [" ".join(r.text.split()) for r in section.find_all("tr")[1:]]
    assert [r.split()[2:4] for r in rows] == [["sms", "bad"], ["sms", "missing"]]


def test_other_domains_rejections_are_not_shown(app: Flask, client: FlaskClient, bound: Bound) -> None:
    client.post(bound.urls.request_url, data=inbound_params())
    assert "Webhook problems" not in client.get("/xsms/domains/2/twilio-sms").text


def test_only_the_newest_rejections_are_kept(
    app: Flask, client: FlaskClient, bound: Bound
) -> None:
    app.config["XSMS_WEBHOOK_REJECTIONS_KEPT"] = 3
    for endpoint in ("sms", "fallback", "status", "sms", "fallback"):
        client.post(bound.urls.request_url.replace("/sms", f"/{endpoint}"), data=inbound_params())
    assert [r.endpoint for r in rejections(app)] == ["status", "sms", "fallback"]
    # Those three are now two hours old; the limit is one hour.
    with get_state(app).db.engine.begin() as connection:
        connection.execute(
            sa.update(WebhookRejection).values(
                created_at=utcnow() - dt.timedelta(hours=2)
            )
        )
    app.config["XSMS_WEBHOOK_REJECTIONS_MAX_AGE"] = 3600
    client.post(bound.urls.request_url, data=inbound_params())
    assert len(rejections(app)) <= 1
    assert [r.endpoint for r in rejections(app)] == ["sms"]


def test_a_failing_record_still_refuses(
    app: Flask, client: FlaskClient, bound: Bound, caplog: pytest.LogCaptureFixture
) -> None:
    with get_state(app).db.engine.begin() as connection:
        WebhookRejection.__table__.drop(connection)
    try:
        with caplog.at_level(logging.ERROR, logger="flask_xsms"):
            response = client.post(bound.urls.request_url, data=inbound_params())
        assert response.status_code == 403 and response.data == b""
        assert "Could not record a refused webhook request" in caplog.text
        assert bound.messages() == []
    finally:
        with get_state(app).db.engine.begin() as connection:
            WebhookRejection.__table__.create(connection)


def test_the_test_parameter_is_answered_empty_without_a_chatbot(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    called: list[t.Any] = []
    subscribe(lambda sender, **kw: called.append(kw) or "hi")
    params = inbound_params(**{diagnostics.TEST_PARAMETER: "abc"})
    response = signed_post(client, bound.urls.request_url, params)
    assert response.status_code == 200
    assert response.data.strip() in (b'<?xml version="1.0" encoding="UTF-8"?><Response />',
                                      b'<?xml version="1.0" encoding="UTF-8"?><Response/>')
    assert called == [] and bound.messages() == []
    # unsigned, it is refused like any other request
    assert client.post(bound.urls.request_url, data=params).status_code == 403


def test_doctor_passes_and_fails(app: Flask, client: FlaskClient, bound: Bound) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["xsms", "doctor"])
    assert result.exit_code == 0, result.output
    assert "ok       IA Domain 1 credentials" in result.output
    assert "XSMS_PUBLIC_BASE_URL: not set" in result.output
    client.post(bound.urls.request_url, data=inbound_params())
    result = runner.invoke(args=["xsms", "doctor", "--domain", "1"])
    assert result.exit_code == 1
    assert "PROBLEM  IA Domain 1 rejections: 1 refused in the last 24 hours" in result.output
    assert "IA Domain 2" not in result.output
    app.config["XSMS_VALIDATE_SIGNATURES"] = False
    result = runner.invoke(args=["xsms", "doctor", "--domain", "2"])
    assert result.exit_code == 1
    assert "PROBLEM  XSMS_VALIDATE_SIGNATURES: off" in result.output


@pytest.fixture
def live(app: Flask) -> t.Iterator[str]:
    """``app`` served by Werkzeug in a thread, its public base URL set to the server's."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["XSMS_PUBLIC_BASE_URL"] = url
    yield url
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_the_test_webhook_validates_against_a_live_server(
    app: Flask, live: str, bound: Bound, subscribe: Subscribe
) -> None:
    called: list[t.Any] = []
    subscribe(lambda sender, **kw: called.append(kw) or "hi")
    integration = get_state(app).session.get(Integration, bound.integration_id)
    result = diagnostics.send_test_webhook(integration)
    assert result.ok, result.message
    assert result.url == f"{live}/xsms/hooks/{bound.webhook_id}/sms"
    assert result.message == f"The Request URL {result.url} validates Twilio's signature."
    assert called == [] and bound.messages() == [] and rejections(app) == []

    result = runner_output(app, "doctor", "--domain", "1")
    assert result.exit_code == 0, result.output
    assert f"ok       IA Domain 1 Request URL: The Request URL {live}" in result.output


def test_the_test_webhook_says_when_the_url_cannot_be_reached(
    app: Flask, live: str, bound: Bound
) -> None:
    app.config["XSMS_PUBLIC_BASE_URL"] = "http://127.0.0.1:9"  # discard port: nothing listens
    integration = get_state(app).session.get(Integration, bound.integration_id)
    result = diagnostics.send_test_webhook(integration, timeout=2)
    assert not result.ok
    assert result.message.startswith(f"Could not reach http://127.0.0.1:9/xsms/hooks/{bound.webhook_id}/sms: ")
    output = runner_output(app, "doctor", "--domain", "1")
    assert output.exit_code == 1 and "PROBLEM  IA Domain 1 Request URL: Could not reach" in output.output


def test_the_test_webhook_button_shows_the_result_beside_itself(
    app: Flask, client: FlaskClient, live: str, bound: Bound
) -> None:
    response = client.post(f"{SETTINGS}/test-webhook")
    assert response.status_code == 302 and response.location.endswith("#xsms-webhook-check")
    check = parse(client.get(SETTINGS).text).by_id("xsms-webhook-check")
    result = check.find("p", data_xsms_webhook_result=True)
    assert result["role"] == "status" and result["data-xsms-result"] == "ok"
    assert result.text.startswith(f"The Request URL {live}/xsms/hooks/{bound.webhook_id}/sms validates")
    # shown once, like a flash message
    again = parse(client.get(SETTINGS).text).by_id("xsms-webhook-check")
    assert again.find("p", data_xsms_webhook_result=True).text.strip() == ""


def test_the_test_webhook_button_needs_the_csrf_token(
    app: Flask, client: FlaskClient, live: str, bound: Bound
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client.post(f"{SETTINGS}/test-webhook")
    assert "Nothing was tested" in client.get(SETTINGS).text
    token = parse(client.get(SETTINGS).text).by_id("xsms-webhook-check").find(
        "input", name="csrf_token"
    )["value"]
    assert token
    client.post(f"{SETTINGS}/test-webhook", data={"csrf_token": token})
    assert f"The Request URL {live}/xsms/hooks/{bound.webhook_id}/sms validates" in client.get(
        SETTINGS
    ).text


def runner_output(app: Flask, *args: str) -> t.Any:
    return app.test_cli_runner().invoke(args=["xsms", *args])
