from __future__ import annotations

import json
import re
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import Pair
from flask_xsms import signals
from flask_xsms._api import CSRF_REFUSED
from flask_xsms._extension import get_state
from flask_xsms.integrations import create_integration
from flask_xsms.integrations import webhook_urls
from flask_xsms.numbers import bindings_of
from flask_xsms.numbers import PLUS_SIGN_REQUIRED
from flask_xsms.numbers import replace_bindings

from .conftest import stop_turns
from .hostapp import create_host_app
from .hostapp import Directory

CARE, SALES, CARE_STAGING, HELPDESK = "1", "2", "3", "4"


def url(domain_id: str) -> str:
    return f"/xsms/api/domains/{domain_id}/numbers"


def saved(directory: Directory, domain_id: str) -> list[tuple[str, str]]:
    return [(b.phone_number, b.application_id) for b in bindings_of(directory.domains[domain_id])]


def put(client: FlaskClient, domain_id: str, *rows: t.Any) -> t.Any:
    return client.put(url(domain_id), json={"numbers": list(rows)})


def row(number: t.Any, application: t.Any) -> dict[str, t.Any]:
    return {"phone_number": number, "application_id": application}


def test_get_returns_pairs_applications_and_webhook_urls(
    client: FlaskClient, directory: Directory
) -> None:
    replace_bindings(directory.domains[CARE], [Pair("+1 415 555 0100", "12")])
    response = client.get(url(CARE))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    urls = webhook_urls(create_integration(directory.domains[CARE]))
    assert response.json == {
        "domain": {"id": CARE, "name": "Customer Care", "environment": "production"},
        "numbers": [
            {"phone_number": "+14155550100", "application_id": "12", "messaging_service": False}
        ],
        "applications": [
            {"id": "11", "name": "Care Assistant", "channel_type": "Customer Assistant"},
            {"id": "12", "name": "Care Agent Helper", "channel_type": "Agent Assistant"},
        ],
        "webhook_urls": {
            "request_url": urls.request_url,
            "fallback_url": urls.fallback_url,
            "status_callback_url": urls.status_callback_url,
        },
    }
    assert "test-auth-token" not in response.text
    assert "AC" + "1" * 32 not in response.text


def test_put_replaces_the_pairs_and_answers_like_get(
    client: FlaskClient, directory: Directory
) -> None:
    replace_bindings(directory.domains[CARE], [Pair("+14155550199", "11")])
    received = []

    def on_saved(sender: Flask, **extra: t.Any) -> None:
        received.append([b.phone_number for b in extra["bindings"]])

    with signals.numbers_saved.connected_to(on_saved):
        response = put(client, CARE, row("+1 (415) 555-0100", "11"), row("+44 20 7946 0958", 12))
    assert response.status_code == 200
    assert response.json["numbers"] == [
        {"phone_number": "+14155550100", "application_id": "11", "messaging_service": False},
        {"phone_number": "+442079460958", "application_id": "12", "messaging_service": False},
    ]
    assert response.json == client.get(url(CARE)).json
    assert saved(directory, CARE) == [("+14155550100", "11"), ("+442079460958", "12")]
    assert received == [["+14155550100", "+442079460958"]]
    # What GET gives can be sent back unchanged.
    document = client.get(url(CARE)).json
    assert client.put(url(CARE), json={"numbers": document["numbers"]}).status_code == 200
    assert put(client, CARE).json["numbers"] == []
    assert saved(directory, CARE) == []


def test_put_errors_are_per_row_with_the_rules_words(
    client: FlaskClient, directory: Directory
) -> None:
    replace_bindings(directory.domains[CARE_STAGING], [Pair("+14155550101", "31")])
    replace_bindings(directory.domains[CARE], [Pair("+14155550199", "11")])
    response = put(
        client,
        CARE,
        row("4155550100", "11"),
        row("+14155550101", "13"),
        row("+14155550102", ""),
        row("+14155550102", "99"),
    )
    assert response.status_code == 400
    assert response.json == {
        "errors": [
            {"row": 0, "field": "phone_number", "message": PLUS_SIGN_REQUIRED},
            {
                "row": 1,
                "field": "phone_number",
                "message": "+14155550101 is already used in the IA Domain Customer Care (staging).",
            },
            {
                "row": 1,
                "field": "application",
                "message": "Only Customer Assistant and Agent Assistant applications can be"
                " bound to a phone number.",
            },
            {"row": 2, "field": "application", "message": "Choose an application."},
            {
                "row": 3,
                "field": "phone_number",
                "message": "+14155550102 is already used in this IA Domain.",
            },
            {
                "row": 3,
                "field": "application",
                "message": "This application is not in the IA Domain Customer Care (production).",
            },
        ]
    }
    assert saved(directory, CARE) == [("+14155550199", "11")]


def test_another_account_may_use_the_number(client: FlaskClient, directory: Directory) -> None:
    replace_bindings(directory.domains[CARE], [Pair("+14155550100", "11")])
    assert put(client, HELPDESK, row("+14155550100", "41")).status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "status", "errors"),
    [
        (
            "numbers-0-phone_number=%2B14155550100",
            "application/x-www-form-urlencoded",
            415,
            [{"row": None, "field": None,
              "message": "Send the numbers as JSON: Content-Type: application/json."}],
        ),
        (
            '{"numbers": []}',
            "text/plain",
            415,
            [{"row": None, "field": None,
              "message": "Send the numbers as JSON: Content-Type: application/json."}],
        ),
        (
            "{not json",
            "application/json",
            400,
            [{"row": None, "field": "numbers",
              "message": 'The body must be a JSON object such as {"numbers": [...]}.'}],
        ),
        (
            '[{"phone_number": "+14155550100", "application_id": "11"}]',
            "application/json",
            400,
            [{"row": None, "field": "numbers",
              "message": 'The body must be a JSON object such as {"numbers": [...]}.'}],
        ),
        (
            '{"numbers": {"phone_number": "+14155550100"}}',
            "application/json",
            400,
            [{"row": None, "field": "numbers",
              "message": 'The body must be a JSON object such as {"numbers": [...]}.'}],
        ),
        (
            '{"numbers": ["+14155550100", {"phone_number": 14155550100, "application_id": true}]}',
            "application/json",
            400,
            [
                {"row": 0, "field": "phone_number",
                 "message": 'Each row must be an object with "phone_number" and "application_id".'},
                {"row": 1, "field": "application", "message": '"application_id" must be a string.'},
            ],
        ),
    ],
)
def test_put_refuses_bodies_it_cannot_read(
    client: FlaskClient,
    directory: Directory,
    body: str,
    content_type: str,
    status: int,
    errors: list[dict[str, t.Any]],
) -> None:
    replace_bindings(directory.domains[CARE], [Pair("+14155550199", "11")])
    response = client.put(url(CARE), data=body, content_type=content_type)
    assert response.status_code == status
    assert response.json == {"errors": errors}
    assert saved(directory, CARE) == [("+14155550199", "11")]


def test_a_number_sent_as_json_number_is_told_to_start_with_plus(client: FlaskClient) -> None:
    # 14155550100 as a JSON number becomes "14155550100": the rule speaks, not a type error.
    response = put(client, CARE, row(14155550100, "11"))
    assert response.json["errors"] == [
        {"row": 0, "field": "phone_number", "message": PLUS_SIGN_REQUIRED}
    ]


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_unknown_domain_is_a_json_404(client: FlaskClient, method: str) -> None:
    response = client.open(url("999"), method=method, json={"numbers": []})
    assert response.status_code == 404
    assert response.json == {
        "errors": [{"row": None, "field": None, "message": "There is no such IA Domain."}]
    }


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_refused_domain_is_a_json_403_and_saves_nothing(
    client: FlaskClient, directory: Directory, method: str
) -> None:
    directory.allowed = {SALES}
    response = client.open(url(CARE), method=method, json={"numbers": [row("+14155550100", "11")]})
    assert response.status_code == 403
    assert response.json == {
        "errors": [
            {
                "row": None,
                "field": None,
                "message": "You may not manage the integrations of this IA Domain.",
            }
        ]
    }
    assert saved(directory, CARE) == []
    # The permission check comes before the body is read.
    response = client.put(url(CARE), data="x", content_type="text/plain")
    assert response.status_code == 403


def test_scripts_without_cookies_need_no_csrf_token_but_json(csrf_app: Flask) -> None:
    client = csrf_app.test_client()
    body = json.dumps({"numbers": [row("+14155550100", "11")]})
    # A script sends no cookie: it gets no session and no token either.
    response = client.get(url(CARE))
    assert "Set-Cookie" not in response.headers and "X-CSRFToken" not in response.headers
    # What a cross-site form could send: refused, nothing saved.
    response = client.put(url(CARE), data=body, content_type="text/plain")
    assert response.status_code == 415
    response = client.put(url(CARE), data=body, content_type="application/json")
    assert response.status_code == 200
    assert response.json["numbers"] == [
        {"phone_number": "+14155550100", "application_id": "11", "messaging_service": False}
    ]
    # The pages keep their CSRF protection.
    assert client.post(f"/xsms/domains/{CARE}/twilio-sms", data={}).status_code == 400


# -- CSRF: writes with cookies need the token ------------------------------------------------


def signed_in(app: Flask) -> FlaskClient:
    """A client with a session cookie, as a browser has once its user signed in."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["user"] = "demo"
    return client


def csrf_refused(reason: str) -> dict[str, t.Any]:
    return {"errors": [{"row": None, "field": None, "message": f"{reason} {CSRF_REFUSED}"}]}


@pytest.fixture(
    params=[None, "before", "after"],
    ids=["no CSRFProtect", "CSRFProtect before", "CSRFProtect after"],
)
def any_csrf_app(
    app: Flask, database_url: str, request: pytest.FixtureRequest
) -> t.Iterator[Flask]:
    """The host without ``CSRFProtect``, then with it set up before and after the extension
    (on ``app``'s database, like ``csrf_app``)."""
    if request.param is None:
        yield app
        return
    protected = create_host_app(database_url, csrf_protect=request.param)
    yield protected
    stop_turns(protected)
    with protected.app_context():
        get_state(protected).db.session.remove()
        get_state(protected).db.engine.dispose()


def test_a_cookie_put_without_the_token_is_refused_and_saves_nothing(
    any_csrf_app: Flask, directory: Directory
) -> None:
    replace_bindings(directory.domains[CARE], [Pair("+14155550199", "11")])
    client = signed_in(any_csrf_app)
    response = put(client, CARE)
    assert response.status_code == 400
    assert response.json == csrf_refused("The CSRF token is missing.")
    response = client.put(url(CARE), json={"numbers": []}, headers={"X-CSRFToken": "forged"})
    assert response.status_code == 400
    assert response.json == csrf_refused("The CSRF token is invalid.")
    # Refused before anything else: the body is not even read.
    response = client.put(url(CARE), data="x", content_type="text/plain")
    assert response.status_code == 400
    assert response.json == csrf_refused("The CSRF token is missing.")
    assert saved(directory, CARE) == [("+14155550199", "11")]


@pytest.mark.parametrize("header", ["X-CSRFToken", "X-CSRF-Token"])
def test_a_cookie_put_with_the_token_of_a_get_works(
    any_csrf_app: Flask, directory: Directory, header: str
) -> None:
    replace_bindings(directory.domains[CARE], [Pair("+14155550199", "11")])
    client = signed_in(any_csrf_app)
    token = client.get(url(CARE)).headers["X-CSRFToken"]
    response = client.put(
        url(CARE), json={"numbers": [row("+1 415 555 0100", "12")]}, headers={header: token}
    )
    assert response.status_code == 200
    assert response.headers["X-CSRFToken"]  # a token for the next write
    assert saved(directory, CARE) == [("+14155550100", "12")]
    # The per-row errors still speak, after the token passed.
    response = client.put(
        url(CARE), json={"numbers": [row("4155550100", "11")]}, headers={header: token}
    )
    assert response.status_code == 400
    assert response.json["errors"] == [
        {"row": 0, "field": "phone_number", "message": PLUS_SIGN_REQUIRED}
    ]
    assert saved(directory, CARE) == [("+14155550100", "12")]


def test_the_settings_pages_token_works_too(any_csrf_app: Flask, directory: Directory) -> None:
    client = any_csrf_app.test_client()
    html = client.get(f"/xsms/domains/{CARE}/twilio-sms").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token is not None
    response = client.put(url(CARE), json={"numbers": []}, headers={"X-CSRFToken": token[1]})
    assert response.status_code == 200
    assert saved(directory, CARE) == []


def test_any_cookie_makes_a_write_need_the_token(app: Flask, directory: Directory) -> None:
    # A host may sign users in with a cookie of its own, not Flask's session.
    client = app.test_client()
    client.set_cookie("remember_token", "demo|signature")
    response = put(client, CARE, row("+14155550100", "11"))
    assert response.status_code == 400
    assert response.json == csrf_refused("The CSRF token is missing.")
    # Without a session there is no token to give, and none would match.
    assert "X-CSRFToken" not in client.get(url(CARE)).headers
    response = client.put(url(CARE), json={"numbers": []}, headers={"X-CSRFToken": "x"})
    assert response.json == csrf_refused("The CSRF session token is missing.")
    assert saved(directory, CARE) == []


def test_the_csrf_check_follows_flask_wtfs_switch(app: Flask, directory: Directory) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    client = signed_in(app)
    assert "X-CSRFToken" not in client.get(url(CARE)).headers
    assert put(client, CARE, row("+14155550100", "11")).status_code == 200
    assert saved(directory, CARE) == [("+14155550100", "11")]
