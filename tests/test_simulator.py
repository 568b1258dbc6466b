"""The SMS simulator: its endpoints (on/off, permission, CSRF) and its service."""
from __future__ import annotations

import re
import threading
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import InboundMessage
from flask_xsms import Pair
from flask_xsms import Reply
from flask_xsms import SimulationError
from flask_xsms import signals
from flask_xsms._inbound import wait_for_chatbots
from flask_xsms.numbers import PLUS_SIGN_REQUIRED
from flask_xsms.numbers import replace_bindings
from flask_xsms import _simulator as simulator

from .hostapp import Directory
from .pages import parse
from .signing import ACCOUNT_SID
from .twilio_server import TwilioStandIn
from .webhooks_support import AGENT_NUMBER
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER
from .webhooks_support import SALES_NUMBER
from .webhooks_support import Subscribe

CUSTOMER = "+14155550123"
SID = re.compile(r"^SM[0-9a-f]{32}$")


@pytest.fixture
def on(app: Flask) -> Flask:
    app.config["XSMS_SIMULATOR"] = True
    return app


def token(client: FlaskClient, query: str = "") -> str:
    page = parse(client.get("/xsms/simulator" + query).text)
    value = page.find("input", name="csrf_token")["value"]
    assert value
    return value


def send(
    client: FlaskClient, body: str, *, number: str = CARE_NUMBER, domain_id: str = "1",
    path: str = "messages", csrf: str | None = None, **extra: str,
) -> t.Any:
    data = {
        "csrf_token": token(client) if csrf is None else csrf,
        "domain_id": domain_id,
        "number": number,
        "customer": CUSTOMER,
        "body": body,
        **extra,
    }
    return client.post(f"/xsms/simulator/{path}", data=data)


# -- on and off -----------------------------------------------------------------------


def test_off_by_default_every_endpoint_is_404(app: Flask, bound: Bound) -> None:
    client = app.test_client()
    assert app.config["XSMS_SIMULATOR"] is False and not app.debug
    assert client.get("/xsms/simulator").status_code == 404
    assert client.post("/xsms/simulator/messages", data={"body": "hi"}).status_code == 404
    assert client.post("/xsms/simulator/fallback").status_code == 404
    assert client.post("/xsms/simulator/status").status_code == 404
    assert client.get("/xsms/simulator/conversation").status_code == 404
    assert bound.messages() == []
    assert "Simulator" not in client.get("/xsms/domains/1/integrations").text


def test_debug_mode_turns_it_on(app: Flask, bound: Bound) -> None:
    app.debug = True
    try:
        assert app.test_client().get("/xsms/simulator").status_code == 200
    finally:
        app.debug = False


def test_the_integrations_panel_and_settings_page_link_to_it(on: Flask, bound: Bound) -> None:
    client = on.test_client()
    for page in ("/xsms/domains/1/integrations", "/xsms/domains/1/twilio-sms"):
        links = [a["href"] for a in parse(client.get(page).text).find_all("a")]
        assert "/xsms/simulator?domain=1" in links


# -- the page -------------------------------------------------------------------------


def test_the_page_lists_the_numbers_of_manageable_domains(
    on: Flask, bound: Bound, directory: Directory
) -> None:
    directory.allowed = {"1"}
    page = parse(on.test_client().get("/xsms/simulator").text)
    options = page.find("select", id="xsms-sim-number").find_all("option")
    assert [(o["value"], o["data-domain-id"]) for o in options] == [
        (CARE_NUMBER, "1"),
        (AGENT_NUMBER, "1"),
    ]
    # One group per IA Domain, so that each option stays short enough to read in full.
    (group,) = page.find("select", id="xsms-sim-number").find_all("optgroup")
    assert group["label"] == "Customer Care (production)"
    assert options[0].text == f"{CARE_NUMBER} · Care Assistant"
    assert page.find("ol", role="log")["aria-label"] == "Conversation"
    assert page.find("label", **{"for": "xsms-sim-customer"}).text == "Customer number"


def test_the_page_preselects_a_domains_number(on: Flask, bound: Bound) -> None:
    page = parse(on.test_client().get("/xsms/simulator?domain=2").text)
    (selected,) = page.find("select", id="xsms-sim-number").find_all("option", selected=True)
    assert selected["value"] == SALES_NUMBER


def test_the_page_refuses_without_permission(
    on: Flask, bound: Bound, directory: Directory
) -> None:
    directory.allowed = set()
    client = on.test_client()
    assert client.get("/xsms/simulator").status_code == 403
    assert client.get("/xsms/simulator?domain=1").status_code == 403
    assert client.get("/xsms/simulator?domain=99").status_code == 404


def test_without_bound_numbers_the_page_says_how_to_bind_one(on: Flask) -> None:
    text = on.test_client().get("/xsms/simulator").text
    assert "No bound numbers yet." in text


# -- sending --------------------------------------------------------------------------


def test_a_message_goes_signed_through_the_request_url(
    on: Flask, bound: Bound, subscribe: Subscribe
) -> None:
    received: list[InboundMessage] = []

    def bot(sender: str, *, message: InboundMessage, **extra: t.Any) -> list[t.Any]:
        received.append(message)
        return ["Hi there!", Reply("A picture", ("https://cdn.example.com/a.png",))]

    subscribe(bot, sender="11")
    response = send(on.test_client(), "hello")
    assert response.status_code == 200
    data = response.json
    assert data["ok"] and data["status_code"] == 200
    assert data["url"] == bound.urls.request_url
    assert data["replies"] == [
        {"body": "Hi there!", "media": []},
        {"body": "A picture", "media": ["https://cdn.example.com/a.png"]},
    ]
    assert "<Response>" in data["twiml"]
    (message,) = received
    assert SID.match(message.sid) and message.account_sid == ACCOUNT_SID
    assert (message.from_, message.to, message.body) == (CUSTOMER, CARE_NUMBER, "hello")
    params = message.params
    assert params["SmsSid"] == params["SmsMessageSid"] == message.sid
    assert (params["NumMedia"], params["NumSegments"]) == ("0", "1")
    assert params["SmsStatus"] == "received"
    assert params["ApiVersion"] == "2010-04-01" and params["FromCountry"] == "US"
    row = bound.inbound(message.sid)
    assert data["message"]["id"] == row.id and row.status == "handled"
    assert [r.body for r in bound.replies_to(row)] == ["Hi there!", "A picture"]


def test_a_long_message_comes_back_split(on: Flask, bound: Bound, subscribe: Subscribe) -> None:
    subscribe(lambda sender, *, message, **kw: f"You said: {message.body}")
    body = " ".join(["word"] * 500)  # 2499 characters
    data = send(on.test_client(), body).json
    bodies = [r["body"] for r in data["replies"]]
    assert len(bodies) == 2 and all(len(b) <= 1600 for b in bodies)
    assert " ".join(bodies) == f"You said: {body}"
    assert bound.inbound(data["message"]["sid"]).num_segments == 17


def test_the_fallback_url_answers_politely_and_keeps_the_message(
    on: Flask, bound: Bound, subscribe: Subscribe
) -> None:
    used: list[dict[str, t.Any]] = []
    subscribe(lambda sender, **kw: used.append(kw), signal=signals.fallback_used)
    data = send(on.test_client(), "anyone?", path="fallback").json
    assert data["url"] == bound.urls.fallback_url
    assert data["replies"] == [{"body": on.config["XSMS_FALLBACK_MESSAGE"], "media": []}]
    assert wait_for_chatbots(timeout=10)  # the message became a turn, answered later
    row = bound.inbound(data["message"]["sid"])
    assert (row.status, row.error_code) == ("handled", "11200")
    (event,) = used
    assert event["error_code"] == "11200" and event["error_url"] == bound.urls.request_url


def test_the_signed_url_follows_the_public_base_url(
    on: Flask, bound: Bound, subscribe: Subscribe
) -> None:
    on.config["XSMS_PUBLIC_BASE_URL"] = "https://sms.example.com/base"
    subscribe(lambda sender, **kw: "ok")
    data = send(on.test_client(), "hello").json
    assert data["url"].startswith("https://sms.example.com/base/xsms/hooks/")
    assert data["status_code"] == 200 and data["replies"] == [{"body": "ok", "media": []}]


def test_a_bad_customer_number_is_refused_in_the_rules_words(on: Flask, bound: Bound) -> None:
    response = send(on.test_client(), "hello", customer="4155550123")
    assert response.status_code == 400
    assert response.json == {"error": PLUS_SIGN_REQUIRED, "field": "customer"}
    assert bound.messages() == []


def test_sending_checks_the_permission_of_the_numbers_domain(
    on: Flask, bound: Bound, directory: Directory
) -> None:
    client = on.test_client()
    csrf = token(client)
    directory.allowed = {"2"}
    response = send(client, "hello", csrf=csrf)
    assert response.status_code == 403
    assert response.json["error"] == "You may not manage the integrations of this IA Domain."
    # A number of an allowed domain, claimed to be in another domain: not found there.
    response = send(client, "hello", number=SALES_NUMBER, domain_id="2", csrf=csrf)
    assert response.status_code == 200
    response = send(client, "hello", number=CARE_NUMBER, domain_id="2", csrf=csrf)
    assert response.status_code == 404
    assert len(bound.messages(direction="inbound")) == 1


def test_posts_need_the_csrf_token(on: Flask, bound: Bound) -> None:
    client = on.test_client()
    response = send(client, "hello", csrf="")
    assert response.status_code == 400
    assert response.json["error"] == "This page has expired: reload it and try again."
    response = client.post("/xsms/simulator/status", data={"message_id": "1", "status": "sent"})
    assert response.status_code == 400
    assert bound.messages() == []


def test_the_hosts_csrf_protection_covers_the_simulator(csrf_app: Flask, bound: Bound) -> None:
    csrf_app.config["XSMS_SIMULATOR"] = True
    client = csrf_app.test_client()
    assert send(client, "hello", csrf="").status_code == 400
    assert bound.messages() == []
    assert send(client, "hello").status_code == 200


# -- STOP, START and HELP -------------------------------------------------------------


def test_stop_start_and_help_say_what_happened(
    on: Flask, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(lambda sender, *, message, **kw: f"You said: {message.body}")
    client = on.test_client()
    sent = []
    for body, note, replies in [
        ("hi", None, ["You said: hi"]),
        ("STOP", simulator.OPTED_OUT_NOTE, []),
        ("still there?", simulator.BLOCKED_NOTE, []),
        ("help", simulator.HELP_NOTE, ["You said: help"]),
        ("anyone?", simulator.BLOCKED_NOTE, []),
        (" Start ", simulator.OPTED_IN_NOTE, ["You said:  Start "]),
        ("back", None, ["You said: back"]),
    ]:
        data = send(client, body).json
        answers = [r["body"] for r in data["replies"]]
        assert (data["message"]["note"], answers) == (note, replies), body
        sent.append((data["message"]["id"], note))

    # The conversation says the same when the page is opened again...
    query = {"domain_id": "1", "number": CARE_NUMBER, "customer": CUSTOMER}
    messages = client.get("/xsms/simulator/conversation", query_string=query).json["messages"]
    assert [(m["id"], m["note"]) for m in messages if m["direction"] == "inbound"] == sent
    assert {m["note"] for m in messages if m["direction"] == "outbound"} == {None}
    # ...and for a later stretch, from the STOP before it.
    stop_id = sent[1][0]
    later = client.get(
        "/xsms/simulator/conversation", query_string={**query, "after": stop_id}
    ).json["messages"]
    assert [(m["id"], m["note"]) for m in later if m["direction"] == "inbound"] == sent[2:]
    # Another customer's opt-out is theirs alone.
    other = send(client, "hello", customer="+14155550124").json
    assert other["message"]["note"] is None


def test_note_for() -> None:
    assert simulator.note_for("stop", True) == simulator.OPTED_OUT_NOTE
    assert simulator.note_for("start", False) == simulator.OPTED_IN_NOTE
    assert simulator.note_for("help", True) == simulator.HELP_NOTE
    assert simulator.note_for(None, True) == simulator.BLOCKED_NOTE
    assert simulator.note_for(None, False) is None


# -- later replies and delivery status ------------------------------------------------


def test_late_replies_show_up_in_the_conversation_and_get_status_callbacks(
    on: Flask, bound: Bound, subscribe: Subscribe, twilio_api: TwilioStandIn
) -> None:
    on.config["XSMS_REPLY_TIMEOUT"] = 0.2
    on.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    release = threading.Event()

    def slow_bot(sender: str, *, message: InboundMessage, **kw: t.Any) -> str:
        release.wait(10)
        return f"Late: {message.body}"

    subscribe(slow_bot)
    client = on.test_client()
    data = send(client, "are you there?").json
    assert data["replies"] == []
    inbound_id = data["message"]["id"]
    release.set()
    assert wait_for_chatbots(timeout=10)

    query = {"domain_id": "1", "number": CARE_NUMBER, "customer": CUSTOMER}
    messages = client.get("/xsms/simulator/conversation", query_string=query).json["messages"]
    assert [(m["direction"], m["body"], m["via"]) for m in messages] == [
        ("inbound", "are you there?", None),
        ("outbound", "Late: are you there?", "rest"),
    ]
    reply = messages[1]
    assert reply["sid"] and reply["status"] == "queued" and reply["in_reply_to_id"] == inbound_id
    later = client.get(
        "/xsms/simulator/conversation", query_string={**query, "after": reply["id"]}
    ).json
    assert later == {"messages": []}

    csrf = token(client)
    response = client.post(
        "/xsms/simulator/status",
        data={"csrf_token": csrf, "message_id": reply["id"], "status": "delivered"},
    )
    assert response.status_code == 200 and response.json["status_code"] == 204
    assert response.json["url"] == bound.urls.status_callback_url
    assert response.json["message"]["status"] == "delivered"
    # Statuses never go backwards, whoever reports them.
    response = client.post(
        "/xsms/simulator/status",
        data={"csrf_token": csrf, "message_id": reply["id"], "status": "sent"},
    )
    assert response.json["message"]["status"] == "delivered"


def test_status_callbacks_need_a_message_sent_through_twilio(
    on: Flask, bound: Bound, subscribe: Subscribe, directory: Directory
) -> None:
    subscribe(lambda sender, **kw: "TwiML answer")
    client = on.test_client()
    data = send(client, "hi").json
    (reply,) = bound.replies_to(bound.inbound(data["message"]["sid"]))
    csrf = token(client)

    def report(message_id: int, status: str = "delivered") -> t.Any:
        return client.post(
            "/xsms/simulator/status",
            data={"csrf_token": csrf, "message_id": str(message_id), "status": status},
        )

    response = report(reply.id)
    assert response.status_code == 400
    assert response.json["error"] == (
        "Only a message sent through Twilio's API gets status callbacks."
    )
    assert report(reply.id, "exploded").status_code == 400
    assert report(999_999).status_code == 404
    directory.allowed = set()
    assert report(reply.id).status_code == 403


def test_the_conversation_endpoint_checks_permission_and_numbers(
    on: Flask, bound: Bound, directory: Directory
) -> None:
    client = on.test_client()
    query = {"domain_id": "1", "number": CARE_NUMBER, "customer": CUSTOMER}
    assert client.get("/xsms/simulator/conversation", query_string=query).json == {"messages": []}
    bad = {**query, "customer": "nope"}
    assert client.get("/xsms/simulator/conversation", query_string=bad).status_code == 400
    unbound = {**query, "number": "+14155550999"}
    assert client.get("/xsms/simulator/conversation", query_string=unbound).status_code == 404
    directory.allowed = {"2"}
    assert client.get("/xsms/simulator/conversation", query_string=query).status_code == 403


# -- the service ----------------------------------------------------------------------


def test_inbound_params_look_like_twilios() -> None:
    params = simulator.inbound_params(
        account_sid=ACCOUNT_SID,
        to=CARE_NUMBER,
        from_="+442071838750",
        body="Grüße 👋",
        media_urls=["https://cdn.example.com/a.png", "https://cdn.example.com/b"],
    )
    assert params["MessageSid"].startswith("MM") and len(params["MessageSid"]) == 34
    assert (params["FromCountry"], params["ToCountry"]) == ("GB", "US")
    assert (params["NumMedia"], params["NumSegments"]) == ("2", "1")
    assert params["MediaContentType0"] == "image/png"
    assert params["MediaContentType1"] == "application/octet-stream"
    assert simulator.inbound_params(
        account_sid=ACCOUNT_SID, to=CARE_NUMBER, from_=CUSTOMER, body="ж" * 71
    )["NumSegments"] == "2"


def test_parse_twiml() -> None:
    text = (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>a &amp; b</Message>'
        "<Message><Body>c</Body><Media>https://x.example/1.png</Media></Message></Response>"
    )
    assert simulator.parse_twiml(text) == (
        simulator.SimulatedReply("a & b"),
        simulator.SimulatedReply("c", ("https://x.example/1.png",)),
    )
    assert simulator.parse_twiml("<Response/>") == ()
    with pytest.raises(SimulationError, match="not valid TwiML"):
        simulator.parse_twiml("Hello")
    with pytest.raises(SimulationError, match="not <Response>"):
        simulator.parse_twiml("<Say>hi</Say>")


def test_enabled(app: Flask) -> None:
    assert not simulator.enabled(app)
    app.config["XSMS_SIMULATOR"] = True
    assert simulator.enabled(app)


def test_find_number(app: Flask, bound: Bound, directory: Directory) -> None:
    assert simulator.find_number("+1 (415) 555-0100").domain_id == "1"
    with pytest.raises(SimulationError, match="is not bound to an application"):
        simulator.find_number("+14155550999")
    with pytest.raises(SimulationError, match="in IA Domain '2'"):
        simulator.find_number(CARE_NUMBER, domain_id="2")
    replace_bindings(directory.domains["4"], [Pair(CARE_NUMBER, "41")])  # another account
    with pytest.raises(SimulationError, match="several accounts"):
        simulator.find_number(CARE_NUMBER)
    assert simulator.find_number(CARE_NUMBER, domain_id="4").application_id == "41"


def test_no_credentials_no_simulation(app: Flask, bound: Bound) -> None:
    app.config["XSMS_TWILIO_AUTH_TOKEN"] = None
    binding = simulator.find_number(CARE_NUMBER)
    with pytest.raises(SimulationError, match="No Twilio credentials"):
        simulator.simulate_inbound(binding, from_=CUSTOMER, body="hi")
    assert bound.messages() == []
