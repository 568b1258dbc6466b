"""Every webhook checks Twilio's signature first: also behind proxies and with ports."""

from __future__ import annotations

import logging
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_xsms import Credentials
from flask_xsms._extension import get_state
from flask_xsms.integrations import integration_by_webhook_id
from flask_xsms.integrations import webhook_urls
from flask_xsms._twilio_api import signature_is_valid
from flask_xsms._twilio_api import validation_url

from .hostapp import create_host_app
from .signing import ACCOUNT_SID
from .signing import inbound_params
from .signing import sign
from .signing import signed_post
from .signing import twiml_messages
from .webhooks_support import Bound
from .webhooks_support import Subscribe


def echo(sender: str, *, message: t.Any, **extra: t.Any) -> str:
    return f"echo: {message.body}"


def refused(response: t.Any, bound: Bound, status: int = 403) -> None:
    assert response.status_code == status
    if status == 403:
        assert response.data == b""
    assert bound.messages() == []


def test_the_library_test_vector() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+14158675309",
        "Digits": "1234",
        "From": "+14158675309",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert signature_is_valid("12345", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not signature_is_valid("12345", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8")
    assert not signature_is_valid("12345", url, params, None)


def test_a_good_signature_is_accepted(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(echo)
    response = signed_post(client, bound.urls.request_url, inbound_params(Body="hi"))
    assert [m.body for m in twiml_messages(response)] == ["echo: hi"]


def test_the_settings_urls_are_the_ones_that_validate(client: FlaskClient, bound: Bound) -> None:
    assert bound.urls.request_url.startswith("http://localhost/xsms/hooks/")
    assert bound.urls.request_url.endswith(f"/{bound.webhook_id}/sms")
    assert bound.urls.fallback_url.endswith(f"/{bound.webhook_id}/fallback")
    for url in (bound.urls.request_url, bound.urls.fallback_url):
        response = signed_post(client, url, inbound_params())
        twiml_messages(response)


TAMPERING = ["no header", "garbage", "other token", "other url", "changed", "added", "https"]


def test_bad_signatures_are_refused_before_anything_is_stored(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    called = []
    subscribe(lambda sender, **kw: called.append(kw))
    url = bound.urls.request_url
    for tamper in TAMPERING:
        params = inbound_params()
        signature = sign(url, params)
        if tamper == "garbage":
            signature = "bm90IGEgc2lnbmF0dXJl"
        elif tamper == "other token":
            signature = sign(url, params, token="someone-elses-token")
        elif tamper == "other url":
            signature = sign(bound.urls.fallback_url, params)
        elif tamper == "https":
            signature = sign(url.replace("http://", "https://"), params)
        elif tamper == "changed":
            params = {**params, "Body": "Send me money"}
        elif tamper == "added":
            params = {**params, "Extra": "1"}
        headers = {} if tamper == "no header" else {"X-Twilio-Signature": signature}
        refused(client.post(url, data=params, headers=headers), bound)
    assert called == []


def test_the_account_sid_must_be_the_accounts(client: FlaskClient, bound: Bound) -> None:
    for account_sid in ["AC" + "2" * 32, "", None]:
        params = inbound_params(AccountSid=account_sid)
        if account_sid is None:
            params.pop("AccountSid", None)
        refused(signed_post(client, bound.urls.request_url, params), bound)


def test_each_webhook_checks_its_signature(client: FlaskClient, bound: Bound) -> None:
    for url in (bound.urls.request_url, bound.urls.fallback_url, bound.urls.status_callback_url):
        refused(client.post(url, data=inbound_params()), bound)
        refused(
            signed_post(client, url, inbound_params(), sign_url=url + "/"), bound
        )  # a trailing slash is another URL


def test_unknown_webhook_id_is_404_without_a_write(client: FlaskClient, bound: Bound) -> None:
    url = bound.urls.request_url.replace(bound.webhook_id, "0" * 32)
    refused(signed_post(client, url, inbound_params()), bound, status=404)


def test_only_post_is_allowed(client: FlaskClient, bound: Bound) -> None:
    for url in (bound.urls.request_url, bound.urls.fallback_url, bound.urls.status_callback_url):
        for method in ("GET", "PUT", "DELETE"):
            assert client.open(url, method=method).status_code == 405


def test_a_missing_parameter_is_a_plain_400_after_the_signature_check(
    client: FlaskClient, bound: Bound
) -> None:
    for missing in ("MessageSid", "From", "To"):
        params = inbound_params(**{missing: None})
        if missing == "MessageSid":
            params.pop("SmsMessageSid")
            params.pop("SmsSid")
        refused(client.post(bound.urls.request_url, data=params), bound)  # unsigned: 403 first
        response = signed_post(client, bound.urls.request_url, params)
        assert response.status_code == 400
        assert response.mimetype == "text/plain"
        assert missing in response.get_data(as_text=True)
        assert bound.messages() == []


def test_an_oversized_request_is_413(client: FlaskClient, bound: Bound, app: Flask) -> None:
    limit = app.config["XSMS_MAX_REQUEST_SIZE"]
    params = inbound_params(Padding="x" * limit)
    response = signed_post(client, bound.urls.request_url, params)
    assert response.status_code == 413
    assert bound.messages() == []
    app.config["XSMS_MAX_REQUEST_SIZE"] = 1000
    response = signed_post(client, bound.urls.request_url, inbound_params(Body="y" * 1000))
    assert response.status_code == 413


def test_public_base_url_behind_a_tls_proxy(client: FlaskClient, bound: Bound, app: Flask) -> None:
    app.config["XSMS_PUBLIC_BASE_URL"] = "https://sms.example.com"
    integration = integration_by_webhook_id(bound.webhook_id)
    assert integration is not None
    public = webhook_urls(integration).request_url
    assert public == f"https://sms.example.com/xsms/hooks/{bound.webhook_id}/sms"
    # the proxy ends TLS and calls the app on an internal address
    internal = f"http://10.0.0.7:8000/xsms/hooks/{bound.webhook_id}/sms"
    twiml_messages(signed_post(client, internal, inbound_params(), sign_url=public))
    refused_response = signed_post(client, internal, inbound_params())  # signed for internal
    assert refused_response.status_code == 403


def test_public_base_url_with_a_path_prefix(client: FlaskClient, bound: Bound, app: Flask) -> None:
    app.config["XSMS_PUBLIC_BASE_URL"] = "https://example.com/sms-gateway/"
    integration = integration_by_webhook_id(bound.webhook_id)
    assert integration is not None
    public = webhook_urls(integration).request_url
    assert public == f"https://example.com/sms-gateway/xsms/hooks/{bound.webhook_id}/sms"
    internal = f"http://127.0.0.1:5000/xsms/hooks/{bound.webhook_id}/sms"
    twiml_messages(signed_post(client, internal, inbound_params(), sign_url=public))


def test_proxy_fix_with_forwarded_proto_and_host(
    client: FlaskClient, bound: Bound, app: Flask
) -> None:
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)  # type: ignore[method-assign]

    @app.get("/settings-url/<webhook_id>")
    def settings_url(webhook_id: str) -> str:
        integration = integration_by_webhook_id(webhook_id)
        assert integration is not None
        return webhook_urls(integration).request_url

    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sms.example.com"}
    shown = client.get(f"/settings-url/{bound.webhook_id}", headers=forwarded).get_data(True)
    assert shown == f"https://sms.example.com/xsms/hooks/{bound.webhook_id}/sms"
    internal = f"http://127.0.0.1:8000/xsms/hooks/{bound.webhook_id}/sms"
    twiml_messages(
        signed_post(client, internal, inbound_params(), sign_url=shown, headers=forwarded)
    )
    without_headers = signed_post(client, internal, inbound_params(), sign_url=shown)
    assert without_headers.status_code == 403


PORT_VARIANTS = [
    # (the URL the app sees, the URL Twilio signed)
    ("https://sms.example.com/", "https://sms.example.com:443/"),
    ("https://sms.example.com:443/", "https://sms.example.com/"),
    ("http://sms.example.com/", "http://sms.example.com:80/"),
    ("http://sms.example.com:8080/", "http://sms.example.com:8080/"),
    ("http://sms.example.com:8080/", "http://sms.example.com/"),
]


def test_port_variants(client: FlaskClient, bound: Bound) -> None:
    path = f"xsms/hooks/{bound.webhook_id}/sms"
    for requested, signed in PORT_VARIANTS:
        response = signed_post(client, requested + path, inbound_params(), sign_url=signed + path)
        twiml_messages(response)
    wrong_port = signed_post(
        client,
        "http://sms.example.com:8080/" + path,
        inbound_params(),
        sign_url="http://sms.example.com:9090/" + path,
    )
    assert wrong_port.status_code == 403


def test_the_raw_query_string_is_validated(client: FlaskClient, bound: Bound) -> None:
    # Werkzeug's request.url would decode %27 and %C3%A9; Twilio signed them encoded.
    url = bound.urls.request_url + "?p=%27&z=caf%C3%A9&plus=%2B1"
    twiml_messages(signed_post(client, url, inbound_params()))
    assert (
        signed_post(client, url, inbound_params(), sign_url=bound.urls.request_url).status_code
        == 403
    )


def test_validation_url_parts() -> None:
    common = {"scheme": "http", "host": "internal:8000", "script_root": "/app", "path": "/x"}
    assert (
        validation_url(public_base_url=None, query_string="", **common)
        == "http://internal:8000/app/x"
    )
    assert (
        validation_url(public_base_url="https://pub.example/", query_string="a=%27", **common)
        == "https://pub.example/x?a=%27"
    )


def test_per_account_credentials_from_the_loader(
    client: FlaskClient, bound: Bound, app: Flask
) -> None:
    sid = "AC" + "9" * 32

    @get_state(app).xsms.credentials_loader
    def credentials(account_id: str) -> Credentials | None:
        return Credentials(sid, "acme-token") if account_id == "acme" else None

    url = bound.urls.request_url
    twiml_messages(signed_post(client, url, inbound_params(AccountSid=sid), token="acme-token"))
    assert signed_post(client, url, inbound_params()).status_code == 403  # app-wide token


def test_no_credentials_means_no_access(
    client: FlaskClient, bound: Bound, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    get_state(app).xsms.credentials_loader(lambda account_id: None)
    refused(signed_post(client, bound.urls.request_url, inbound_params()), bound)
    assert "no Twilio credentials" in caplog.text


def test_turning_validation_off_warns_loudly(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.warns(UserWarning, match="XSMS_VALIDATE_SIGNATURES is False"):
        app = create_host_app(database_url, XSMS_VALIDATE_SIGNATURES=False)
    assert "local development only" in caplog.text
    from .conftest import reset_database
    from flask_xsms.models import metadata

    from flask_xsms import Pair
    from flask_xsms.integrations import create_integration
    from flask_xsms.numbers import replace_bindings

    with app.app_context():
        reset_database(app, metadata)
        domain = app.extensions["test_directory"].domains["1"]
        replace_bindings(domain, [Pair("+14155550100", "11")])
        webhook_id = create_integration(domain).webhook_id  # type: ignore[union-attr]
    try:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="flask_xsms"):
            response = app.test_client().post(
                f"/xsms/hooks/{webhook_id}/sms", data=inbound_params(AccountSid=None)
            )
        twiml_messages(response)
        assert "Accepted an unsigned webhook request" in caplog.text
    finally:
        with app.app_context():
            get_state(app).db.session.remove()
            metadata.drop_all(get_state(app).db.engine)
            get_state(app).db.engine.dispose()


def test_default_account_sid_is_the_test_hosts() -> None:
    assert ACCOUNT_SID.startswith("AC") and len(ACCOUNT_SID) == 34


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("XSMS_REPLY_TIMEOUT", 0),
        ("XSMS_REPLY_TIMEOUT", "10"),
        ("XSMS_MAX_REQUEST_SIZE", -1),
        ("XSMS_CONVERSATION_TIMEOUT", None),
    ],
)
def test_bad_webhook_config_is_reported_at_start_up(key: str, value: t.Any) -> None:
    with pytest.raises(ValueError, match=key):
        create_host_app("sqlite://", **{key: value})


def test_a_reply_timeout_beyond_twilios_window_warns() -> None:
    with pytest.warns(UserWarning, match="15 s"):
        create_host_app("sqlite://", XSMS_REPLY_TIMEOUT=20)
