"""The conversations JSON API: an agent desk lists, reads, takes over, replies, hands back."""
from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask import request
from flask.testing import FlaskClient

from flask_xsms import Operator
from flask_xsms._extension import get_state

from .hostapp import Directory
from .signing import CUSTOMER
from .signing import inbound_params
from .signing import signed_post
from .twilio_server import TwilioStandIn
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER
from .webhooks_support import Subscribe

API = "/xsms/api/domains/1/conversations"


@pytest.fixture
def desk(app: Flask, bound: Bound, twilio_api: TwilioStandIn) -> FlaskClient:
    """A cookie-less client (a script with its own token); ``X-Operator`` names who acts."""
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url

    @get_state(app).xsms.operator_loader
    def operator() -> Operator | None:
        name = request.headers.get("X-Operator")
        return Operator(id=name.lower(), name=name) if name else None

    return app.test_client(use_cookies=False)


def text(app: Flask, bound: Bound, body: str) -> None:
    params = inbound_params(Body=body, From=CUSTOMER, To=CARE_NUMBER)
    assert signed_post(app.test_client(), bound.urls.request_url, params).status_code == 200


def as_(name: str) -> dict[str, str]:
    return {"X-Operator": name}


def test_an_agent_desk_takes_a_conversation_over_replies_and_hands_it_back(
    app: Flask, bound: Bound, desk: FlaskClient, subscribe: Subscribe, twilio_api: TwilioStandIn
) -> None:
    calls: list[str] = []
    subscribe(lambda sender, *, message, **kw: calls.append(message.body) or "bot answer")
    text(app, bound, "hello")
    listing = desk.get(API).json
    (conversation,) = listing["conversations"]
    assert (conversation["customer"], conversation["state"], listing["total"]) == (
        CUSTOMER, "bot", 1
    )
    assert conversation["last_message"]["body"] == "bot answer"
    url = f"{API}/{conversation['id']}"

    taken = desk.post(url + "/take-over", headers=as_("Ana"))
    assert taken.status_code == 200 and taken.json["conversation"]["agent"] == "Ana"
    other = desk.post(url + "/take-over", headers=as_("Ben"))
    assert other.status_code == 409
    assert other.json["errors"][0]["message"] == "Ana has this conversation."

    text(app, bound, "is someone there?")
    assert calls == ["hello"]  # the chatbot is not called while Ana has it
    sent = desk.post(url + "/reply", json={"body": "Ana here."}, headers=as_("Ana"))
    assert sent.status_code == 201
    (reply,) = sent.json["messages"]
    assert (reply["author"], reply["operator"], reply["body"]) == ("operator", "Ana", "Ana here.")
    assert [r.form["Body"] for r in twilio_api.messages] == ["Ana here."]
    refused = desk.post(url + "/reply", json={"body": "me too"}, headers=as_("Ben"))
    assert refused.status_code == 409

    thread = desk.get(url).json
    assert [(m["author"], m["body"]) for m in thread["messages"]] == [
        ("customer", "hello"), ("bot", "bot answer"), ("customer", "is someone there?"),
        ("operator", "Ana here."),
    ]
    newer = desk.get(url, query_string={"after": thread["messages"][1]["id"]}).json
    assert [m["body"] for m in newer["messages"]] == ["is someone there?", "Ana here."]
    assert desk.get(API, query_string={"state": "agent"}).json["total"] == 1

    back = desk.post(url + "/hand-back", headers=as_("Ana"))
    assert back.status_code == 200 and back.json["conversation"]["state"] == "bot"
    text(app, bound, "thanks")
    assert calls == ["hello", "thanks"]


def test_a_reply_to_an_opted_out_customer_is_refused_in_words(
    app: Flask, bound: Bound, desk: FlaskClient, twilio_api: TwilioStandIn
) -> None:
    text(app, bound, "hi")
    (conversation,) = desk.get(API).json["conversations"]
    url = f"{API}/{conversation['id']}"
    desk.post(url + "/take-over", headers=as_("Ana"))
    text(app, bound, "STOP")
    refused = desk.post(url + "/reply", json={"body": "wait!"}, headers=as_("Ana"))
    assert refused.status_code == 422
    assert "opted out" in refused.json["errors"][0]["message"]
    assert refused.json["messages"][0]["status"] == "failed"
    assert twilio_api.messages == []


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("get", "", {"query_string": {"state": "sleeping"}}, 400),
        ("get", "", {"query_string": {"page": "0"}}, 400),
        ("get", "", {"query_string": {"number": "garbage"}}, 400),
        ("get", "/4242", {}, 404),
        ("get", "/99999999999999999999", {}, 404),
        ("post", "/4242/take-over", {}, 404),
        ("post", "/{id}/reply", {"data": "hi"}, 415),
        ("post", "/{id}/reply", {"json": {"body": 3}}, 400),
        ("post", "/{id}/reply", {"json": {"body": "hi"}}, 409),
        ("get", "/{id}/take-over", {}, 405),
    ],
)
def test_bad_requests_get_json_errors(
    app: Flask, bound: Bound, desk: FlaskClient, method: str, path: str,
    kwargs: dict[str, t.Any], status: int,
) -> None:
    text(app, bound, "hi")
    (conversation,) = desk.get(API).json["conversations"]
    response = getattr(desk, method)(API + path.format(id=conversation["id"]), **kwargs)
    assert response.status_code == status, response.data
    if path not in ("/99999999999999999999", "/{id}/take-over"):  # no route: the app answers
        assert response.is_json and response.json["errors"][0]["message"]


def test_permission_and_csrf_are_those_of_the_pages(
    app: Flask, bound: Bound, desk: FlaskClient, directory: Directory
) -> None:
    text(app, bound, "hi")
    (conversation,) = desk.get(API).json["conversations"]
    url = f"{API}/{conversation['id']}/take-over"
    directory.allowed = {"2"}
    assert desk.get(API).status_code == 403
    assert desk.post(url).status_code == 403
    directory.allowed = None

    browser = app.test_client()  # with a session cookie: writes need the token
    browser.set_cookie("session", "x")
    refused = browser.post(url)
    assert refused.status_code == 400 and "CSRF" in refused.json["errors"][0]["message"]
    assert desk.get(API).json["conversations"][0]["state"] == "bot"


@pytest.mark.parametrize("argument", ["page", "after"])
def test_numbers_too_long_to_read_are_refused(
    app: Flask, bound: Bound, desk: FlaskClient, argument: str
) -> None:
    text(app, bound, "hi")
    (conversation,) = desk.get(API).json["conversations"]
    path = API if argument == "page" else f"{API}/{conversation['id']}"
    response = desk.get(path, query_string={argument: "9" * 5000})
    assert response.status_code == 400 and response.json["errors"][0]["message"]
