"""Messaging Services: bound by SID like numbers, routed by ``MessagingServiceSid``, sent
through with ``messaging_service_sid``."""
from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import Pair
from flask_xsms.errors import BindingError
from flask_xsms.errors import NumberError
from flask_xsms.numbers import bindings_of
from flask_xsms.numbers import normalize_number
from flask_xsms.numbers import replace_bindings
from flask_xsms._optouts import is_opted_out
from flask_xsms.outbound import send

from .hostapp import Directory
from .pages import parse
from .signing import CUSTOMER
from .signing import inbound_params
from .signing import Sent
from .signing import signed_post
from .signing import twiml_messages
from .twilio_server import TwilioStandIn
from .webhooks_support import AGENT_APP
from .webhooks_support import AGENT_NUMBER
from .webhooks_support import Bound
from .webhooks_support import CARE_APP
from .webhooks_support import CARE_NUMBER
from .webhooks_support import Subscribe
from .webhooks_support import UNKNOWN_NUMBER

SERVICE = "MG" + "ab12" * 8
OTHER_SERVICE = "MG" + "cd34" * 8


def test_a_service_sid_is_normalised_and_checked() -> None:
    assert normalize_number(" mg" + "AB12" * 8 + " ") == SERVICE
    for bad in ("MG123", "MG" + "z" * 32, "MG" + "a" * 33):
        with pytest.raises(NumberError, match="is not a Messaging Service SID"):
            normalize_number(bad)


def test_a_service_is_bound_once_per_account(app: Flask, directory: Directory) -> None:
    care, sales = directory.domains["1"], directory.domains["2"]
    [binding] = replace_bindings(care, [Pair(SERVICE.upper().replace("MG", "MG", 1), CARE_APP)])
    assert binding.phone_number == SERVICE and binding.is_messaging_service
    with pytest.raises(BindingError) as refused:
        replace_bindings(sales, [Pair(SERVICE, "21")])
    [error] = refused.value.errors
    assert error.message == f"Messaging Service {SERVICE} is already used in the IA Domain {care.label}."
    with pytest.raises(BindingError) as twice:
        replace_bindings(care, [Pair(SERVICE, CARE_APP), Pair(SERVICE, AGENT_APP)])
    assert twice.value.errors[0].message == f"Messaging Service {SERVICE} is already used in this IA Domain."


@pytest.fixture
def with_service(bound: Bound, directory: Directory) -> Bound:
    """Customer Care also binds SERVICE, to the Agent Assistant."""
    replace_bindings(
        directory.domains["1"],
        [Pair(CARE_NUMBER, CARE_APP), Pair(AGENT_NUMBER, AGENT_APP), Pair(SERVICE, AGENT_APP)],
    )
    return bound


def post(client: FlaskClient, bound: Bound, **fields: str | None) -> tuple[t.Any, dict[str, str]]:
    params = inbound_params(**fields)
    return signed_post(client, bound.urls.request_url, params), params


def test_the_bound_service_wins_over_the_number(
    client: FlaskClient, with_service: Bound, subscribe: Subscribe
) -> None:
    subscribe(lambda sender, **kw: f"application {sender}")
    # Sent to the Care Assistant's number, but through the service of the Agent Assistant.
    response, params = post(client, with_service, To=CARE_NUMBER, MessagingServiceSid=SERVICE)
    assert twiml_messages(response) == [Sent(f"application {AGENT_APP}")]
    row = with_service.inbound(params["MessageSid"])
    assert (row.application_id, row.status) == (AGENT_APP, "handled")
    [conversation] = with_service.conversations()
    assert conversation.service_number == SERVICE


def test_an_unbound_service_falls_back_to_the_number(
    client: FlaskClient, with_service: Bound, subscribe: Subscribe
) -> None:
    subscribe(lambda sender, **kw: f"application {sender}")
    response, _ = post(client, with_service, To=CARE_NUMBER, MessagingServiceSid=OTHER_SERVICE)
    assert twiml_messages(response) == [Sent(f"application {CARE_APP}")]


def test_neither_bound_is_unrouted(client: FlaskClient, with_service: Bound) -> None:
    response, params = post(client, with_service, To=UNKNOWN_NUMBER, MessagingServiceSid=OTHER_SERVICE)
    assert twiml_messages(response) == []
    assert with_service.inbound(params["MessageSid"]).status == "unrouted"


def test_stop_through_a_service_opts_out_of_the_service(
    client: FlaskClient, with_service: Bound, subscribe: Subscribe
) -> None:
    subscribe(lambda sender, **kw: "a reply")
    post(client, with_service, To=CARE_NUMBER, MessagingServiceSid=SERVICE, Body="STOP")
    assert is_opted_out("acme", SERVICE, CUSTOMER)
    assert not is_opted_out("acme", CARE_NUMBER, CUSTOMER)
    response, _ = post(client, with_service, To=CARE_NUMBER, MessagingServiceSid=SERVICE)
    assert twiml_messages(response) == []  # opted out of the service
    response, _ = post(client, with_service, To=CARE_NUMBER)
    assert twiml_messages(response) == [Sent("a reply")]  # the number itself still answers


def test_a_repeated_message_sid_through_a_service_is_answered_once(
    client: FlaskClient, with_service: Bound, subscribe: Subscribe
) -> None:
    calls: list[t.Any] = []
    subscribe(lambda sender, **kw: calls.append(sender) or "once")
    params = inbound_params(To=CARE_NUMBER, MessagingServiceSid=SERVICE)
    first = signed_post(client, with_service.urls.request_url, params)
    again = signed_post(client, with_service.urls.request_url, params)
    assert first.data == again.data and twiml_messages(again) == [Sent("once")]
    assert calls == [AGENT_APP] and len(with_service.messages(sid=params["MessageSid"])) == 1


def test_sending_through_a_service(
    app: Flask, with_service: Bound, twilio_api: TwilioStandIn
) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    app.config["XSMS_PUBLIC_BASE_URL"] = "https://sms.example.com"
    [message] = send("1", messaging_service_sid=SERVICE, to=CUSTOMER, body="Your order shipped")
    assert message.status == "queued" and message.from_number == SERVICE
    [request] = twilio_api.messages
    assert request.form["MessagingServiceSid"] == SERVICE and "From" not in request.form
    assert request.form["To"] == CUSTOMER
    with pytest.raises(TypeError):
        send("1", from_number=CARE_NUMBER, messaging_service_sid=SERVICE, to=CUSTOMER, body="x")
    with pytest.raises(NumberError, match="is a Messaging Service, not a customer's"):
        send("1", from_number=CARE_NUMBER, to=SERVICE, body="x")


def test_the_settings_page_shows_service_rows(
    app: Flask, client: FlaskClient, with_service: Bound, directory: Directory
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    page = parse(client.get("/xsms/domains/1/twilio-sms").text)
    buttons = [b.text for b in page.find_all("button")]
    assert "Add Number" in buttons and "Add Messaging Service" in buttons
    rows = page.find("ol", data_xsms_rows=True).find_all("li", data_xsms_row=True)
    labels = [li.find("label").text for li in rows]
    assert labels == ["Phone Number", "Phone Number", "Messaging Service SID"]
    service_template = page.find("template", data_xsms_row_template="service")
    assert service_template.find("label").text == "Messaging Service SID"
    response = client.post(
        "/xsms/domains/1/twilio-sms",
        data={"numbers-0-phone_number": OTHER_SERVICE.upper(), "numbers-0-application": CARE_APP},
    )
    assert response.status_code == 302
    assert [b.phone_number for b in bindings_of(directory.domains["1"])] == [OTHER_SERVICE]


def test_the_cli_lists_services(app: Flask, with_service: Bound) -> None:
    result = app.test_cli_runner().invoke(args=["xsms", "numbers", "--domain", "1"])
    assert result.exit_code == 0
    assert SERVICE in result.output and "Messaging Service" in result.output


def test_twilio_setup_explains_services_instead_of_failing(
    app: Flask, with_service: Bound, twilio_api: TwilioStandIn
) -> None:
    from flask_xsms import twilio_setup

    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    app.config["XSMS_PUBLIC_BASE_URL"] = "https://sms.example.com"
    statuses = {s.phone_number: s for s in twilio_setup.check("1")}
    service = statuses[SERVICE]
    assert not service.ok
    assert "not supported for Messaging Services" in service.summary
    assert all(not r.path.endswith(SERVICE + ".json") for r in twilio_api.requests)
