"""The simulator and the test client on WhatsApp: a WhatsApp sender gets WhatsApp's
parameters, replies go back on WhatsApp, media URLs reach the chatbot."""
from __future__ import annotations

import threading
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import InboundMessage
from flask_xsms import NumberError
from flask_xsms import Pair
from flask_xsms import Reply
from flask_xsms import SimulationError
from flask_xsms import _simulator as simulator
from flask_xsms._inbound import wait_for_chatbots
from flask_xsms.numbers import replace_bindings
from flask_xsms.testing import SMSClient

from .hostapp import Directory
from .pages import Node
from .pages import parse
from .signing import ACCOUNT_SID
from .twilio_server import TwilioStandIn
from .webhooks_support import AGENT_APP
from .webhooks_support import AGENT_NUMBER
from .webhooks_support import Bound
from .webhooks_support import CARE_APP
from .webhooks_support import CARE_NUMBER
from .webhooks_support import Subscribe

#: A WhatsApp sender bound in Customer Care, to the Customer Assistant.
WA_NUMBER = "whatsapp:+14155238886"
CUSTOMER = "+14155550123"
WA_CUSTOMER = "whatsapp:+14155550123"
PICTURE = "https://cdn.example.com/photo.jpg"


@pytest.fixture
def whatsapp(bound: Bound, directory: Directory) -> Bound:
    """Customer Care with its two numbers and a WhatsApp sender."""
    replace_bindings(
        directory.domains["1"],
        [Pair(CARE_NUMBER, CARE_APP), Pair(AGENT_NUMBER, AGENT_APP), Pair(WA_NUMBER, CARE_APP)],
    )
    return bound


@pytest.fixture
def on(app: Flask) -> Flask:
    app.config["XSMS_SIMULATOR"] = True
    return app


@pytest.fixture
def received(subscribe: Subscribe) -> list[InboundMessage]:
    """The messages a chatbot got; it answers each with its channel and text."""
    messages: list[InboundMessage] = []

    def bot(sender: str, *, message: InboundMessage, **extra: t.Any) -> str:
        messages.append(message)
        return f"{message.channel}: {message.body}"

    subscribe(bot, sender=CARE_APP)
    return messages


def token(client: FlaskClient) -> str:
    page = parse(client.get("/xsms/simulator").text)
    return str(page.find("input", name="csrf_token")["value"])


def post(client: FlaskClient, path: str = "messages", **fields: str) -> t.Any:
    data = {
        "csrf_token": token(client),
        "domain_id": "1",
        "number": WA_NUMBER,
        "channel": "whatsapp",
        "customer": CUSTOMER,
        "body": "hello",
        **fields,
    }
    return client.post(f"/xsms/simulator/{path}", data=data)


# -- the parameters -------------------------------------------------------------------


def test_inbound_params_for_a_whatsapp_sender_are_whatsapps() -> None:
    params = simulator.inbound_params(
        account_sid=ACCOUNT_SID,
        to=WA_NUMBER,
        from_="+442071838750",  # the prefix is added
        body="Grüße 👋 " * 40,  # many SMS segments, one WhatsApp message
        profile_name="Ana",
    )
    assert (params["From"], params["To"]) == ("whatsapp:+442071838750", WA_NUMBER)
    assert (params["WaId"], params["ProfileName"]) == ("442071838750", "Ana")
    assert params["NumSegments"] == "1"
    assert (params["FromCountry"], params["ToCountry"]) == ("GB", "US")
    assert params["MessageSid"].startswith("SM") and params["NumMedia"] == "0"

    unnamed = simulator.inbound_params(
        account_sid=ACCOUNT_SID, to=WA_NUMBER, from_=WA_CUSTOMER, body="hi"
    )
    assert unnamed["From"] == WA_CUSTOMER and "ProfileName" not in unnamed
    sms = simulator.inbound_params(
        account_sid=ACCOUNT_SID, to=CARE_NUMBER, from_=CUSTOMER, body="hi", profile_name="Ana"
    )
    assert "WaId" not in sms and "ProfileName" not in sms and sms["From"] == CUSTOMER


def test_the_customers_address_follows_the_bound_number() -> None:
    assert simulator.customer_address(WA_NUMBER, "+1 415 555 0123") == WA_CUSTOMER
    assert simulator.customer_address(WA_NUMBER, "WhatsApp:+14155550123") == WA_CUSTOMER
    assert simulator.customer_address(CARE_NUMBER, "+1 415 555 0123") == CUSTOMER
    with pytest.raises(NumberError, match=r"\+14155550100 is not a WhatsApp sender: a customer"):
        simulator.customer_address(CARE_NUMBER, WA_CUSTOMER)
    with pytest.raises(NumberError, match="not from a Messaging Service"):
        simulator.customer_address(WA_NUMBER, "MG" + "0" * 32)


def test_media_urls_are_checked() -> None:
    urls = [f"https://cdn.example.com/{i}.png" for i in range(10)]
    assert simulator.check_media_urls([f" {u} " for u in urls]) == tuple(urls)
    assert simulator.check_media_urls(["HTTP://example.com/a"]) == ("HTTP://example.com/a",)
    with pytest.raises(SimulationError, match="at most 10 media URLs"):
        simulator.check_media_urls([*urls, PICTURE])
    for bad in ["javascript:alert(1)", "ftp://example.com/a.png", "https://", "/a.png",
                "https://exa mple.com/a.png", "https://example.com/a\tb", "", "x" * 3000,
                "https://[::1/a.png"]:
        with pytest.raises(SimulationError, match="is not a media URL"):
            simulator.check_media_urls([bad])
    with pytest.raises(TypeError, match="not one string"):
        simulator.check_media_urls(PICTURE)


# -- the service ----------------------------------------------------------------------


def test_a_whatsapp_message_reaches_the_chatbot_and_the_answer_comes_back(
    app: Flask, whatsapp: Bound, received: list[InboundMessage]
) -> None:
    binding = simulator.find_number(WA_NUMBER)
    result = simulator.simulate_inbound(
        binding, from_=CUSTOMER, body="hello", profile_name="Ana", media_urls=[PICTURE]
    )
    assert result.ok and result.replies == (simulator.SimulatedReply("whatsapp: hello"),)
    (message,) = received
    assert message.channel == "whatsapp"
    assert (message.from_, message.to) == (WA_CUSTOMER, WA_NUMBER)
    assert (message.profile_name, message.wa_id) == ("Ana", "14155550123")
    assert message.num_segments == 1
    assert [(m.url, m.content_type) for m in message.media] == [(PICTURE, "image/jpeg")]
    row = whatsapp.inbound(message.sid)
    assert (row.from_number, row.to_number, row.status) == (WA_CUSTOMER, WA_NUMBER, "handled")
    (reply,) = whatsapp.replies_to(row)
    assert (reply.from_number, reply.to_number) == (WA_NUMBER, WA_CUSTOMER)


def test_an_sms_number_refuses_a_whatsapp_customer_and_a_profile_name(
    app: Flask, whatsapp: Bound, received: list[InboundMessage]
) -> None:
    binding = simulator.find_number(CARE_NUMBER)
    with pytest.raises(NumberError, match="is not a WhatsApp sender"):
        simulator.simulate_inbound(binding, from_=WA_CUSTOMER, body="hi")
    with pytest.raises(SimulationError, match="A profile name is WhatsApp's"):
        simulator.simulate_inbound(binding, from_=CUSTOMER, body="hi", profile_name="Ana")
    with pytest.raises(SimulationError, match="is not a media URL"):
        simulator.simulate_inbound(binding, from_=CUSTOMER, body="hi", media_urls=["file:///x"])
    assert whatsapp.messages() == [] and received == []


def test_find_number_on_a_channel(app: Flask, whatsapp: Bound) -> None:
    assert simulator.find_number("+1 415 523 8886", channel="whatsapp").phone_number == WA_NUMBER
    assert simulator.find_number(WA_NUMBER, channel="whatsapp").phone_number == WA_NUMBER
    assert simulator.find_number(CARE_NUMBER, channel="sms").phone_number == CARE_NUMBER
    with pytest.raises(SimulationError, match="reached on WhatsApp only, not on SMS"):
        simulator.find_number(WA_NUMBER, channel="sms")
    with pytest.raises(SimulationError, match="is not bound"):
        simulator.find_number(CARE_NUMBER, channel="whatsapp")  # whatsapp:+14155550100
    with pytest.raises(SimulationError, match="sms or whatsapp, not 'fax'"):
        simulator.find_number(CARE_NUMBER, channel="fax")
    with pytest.raises(SimulationError, match="bind whatsapp:\\+14155550100"):
        simulator.check_channel(CARE_NUMBER, "whatsapp")


def test_available_numbers_name_whatsapp_senders(app: Flask, whatsapp: Bound) -> None:
    numbers = {n.phone_number: n for n in simulator.available_numbers()}
    assert (numbers[WA_NUMBER].channel, numbers[WA_NUMBER].label) == (
        "whatsapp", "WhatsApp +14155238886"
    )
    assert (numbers[CARE_NUMBER].channel, numbers[CARE_NUMBER].label) == ("sms", CARE_NUMBER)


def test_stop_on_whatsapp_says_what_flask_xsms_does(
    app: Flask, whatsapp: Bound, subscribe: Subscribe, directory: Directory
) -> None:
    subscribe(lambda sender, *, message, **kw: f"You said: {message.body}")
    binding = simulator.find_number(WA_NUMBER)
    answers = []
    for body in ["hi", "STOP", "still there?", "HELP", "START", "back"]:
        result = simulator.simulate_inbound(binding, from_=CUSTOMER, body=body)
        answers.append([r.body for r in result.replies])
    assert answers == [
        ["You said: hi"],
        [app.config["XSMS_WHATSAPP_OPT_OUT_MESSAGE"]],
        [],
        ["You said: HELP"],
        ["You said: START"],
        ["You said: back"],
    ]
    messages = simulator.conversation(directory.domains["1"], WA_NUMBER, WA_CUSTOMER)
    notes = simulator.conversation_notes(messages)
    inbound = [m for m in messages if m.direction == "inbound"]
    assert [notes.get(m.id) for m in inbound] == [
        None,
        simulator.WHATSAPP_OPTED_OUT_NOTE,
        simulator.WHATSAPP_BLOCKED_NOTE,
        simulator.WHATSAPP_HELP_NOTE,
        simulator.WHATSAPP_OPTED_IN_NOTE,
        None,
    ]
    assert "Twilio neither blocks nor answers STOP on WhatsApp" in notes[inbound[1].id]
    assert "XSMS_WHATSAPP_OPT_OUT_MESSAGE" in notes[inbound[1].id]
    assert simulator.note_for("stop", True, "sms") == simulator.OPTED_OUT_NOTE


# -- the page and its endpoints -------------------------------------------------------


def channel_choice(page: Node) -> dict[str, set[str]]:
    """The channel radios of a page: each value and its checked/disabled attributes."""
    return {
        str(radio["value"]): {a for a in ("checked", "disabled") if a in radio.attrs}
        for radio in page.find_all("input", type="radio", name="channel")
    }


def test_the_page_names_the_whatsapp_sender_and_its_channel(on: Flask, whatsapp: Bound) -> None:
    client = on.test_client()
    page = parse(client.get("/xsms/simulator?domain=1").text)
    options = {o["value"]: o for o in page.find("select", id="xsms-sim-number").find_all("option")}
    assert options[WA_NUMBER].text == "WhatsApp +14155238886 · Care Assistant"
    assert options[WA_NUMBER]["data-channel"] == "whatsapp"
    assert options[CARE_NUMBER]["data-channel"] == "sms"
    # An SMS number is chosen: SMS is checked, the WhatsApp fields are hidden.
    assert channel_choice(page) == {"sms": {"checked"}, "whatsapp": set()}
    assert page.find("fieldset", data_xsms_sim_channel=True).find("legend").text == "Channel"
    assert "hidden" in page.find(data_xsms_sim_profile=True).attrs
    assert "hidden" in page.find(data_xsms_sim_prefix=True).attrs
    assert "hidden" not in page.by_id("xsms-sim-segments").attrs
    assert page.find("label", **{"for": "xsms-sim-media"}).text == "Media URLs"

    page = parse(client.get("/xsms/simulator", query_string={"number": WA_NUMBER}).text)
    (chosen,) = page.find("select", id="xsms-sim-number").find_all("option", selected=True)
    assert chosen["value"] == WA_NUMBER
    assert channel_choice(page) == {"sms": set(), "whatsapp": {"checked"}}
    assert "hidden" not in page.find(data_xsms_sim_profile=True).attrs
    assert page.find(data_xsms_sim_prefix=True).text == "whatsapp:"
    assert page.find("label", **{"for": "xsms-sim-profile-name"}).text == "Profile name"
    # No segments on WhatsApp: the count is hidden and describes nothing.
    assert "hidden" in page.by_id("xsms-sim-segments").attrs
    assert "aria-describedby" not in page.by_id("xsms-sim-body").attrs
    assert "customers write to it on WhatsApp only" in page.find(
        data_xsms_sim_channel_help=True
    ).text


def test_without_a_whatsapp_sender_the_whatsapp_choice_is_off(on: Flask, bound: Bound) -> None:
    page = parse(on.test_client().get("/xsms/simulator").text)
    assert channel_choice(page) == {"sms": {"checked"}, "whatsapp": {"disabled"}}
    help_text = page.find(data_xsms_sim_channel_help=True).text
    assert "No WhatsApp sender is bound: bind one as whatsapp:+…" in help_text


def test_the_page_sends_on_whatsapp_with_a_profile_name_and_media(
    on: Flask, whatsapp: Bound, received: list[InboundMessage]
) -> None:
    client = on.test_client()
    response = post(
        client, profile_name=" Ana ", media_urls=f"{PICTURE}\n https://cdn.example.com/b.pdf "
    )
    assert response.status_code == 200, response.json
    data = response.json
    assert data["replies"] == [{"body": "whatsapp: hello", "media": []}]
    assert data["message"]["channel"] == "whatsapp"
    assert data["message"]["profile_name"] == "Ana"
    assert data["message"]["media"] == [PICTURE, "https://cdn.example.com/b.pdf"]
    (message,) = received
    assert (message.from_, message.profile_name) == (WA_CUSTOMER, "Ana")
    assert message.wa_id == "14155550123"
    assert [m.content_type for m in message.media] == ["image/jpeg", "application/pdf"]

    # Media alone are a message too; the customer may type the prefix.
    data = post(client, body="", media_urls=PICTURE, customer=WA_CUSTOMER).json
    assert received[1].body == "" and received[1].media[0].url == PICTURE
    assert data["message"]["profile_name"] is None

    # The conversation, asked for with the bare number, is the WhatsApp one.
    query = {"domain_id": "1", "number": WA_NUMBER, "customer": CUSTOMER}
    messages = client.get("/xsms/simulator/conversation", query_string=query).json["messages"]
    assert [(m["direction"], m["channel"], m["body"]) for m in messages] == [
        ("inbound", "whatsapp", "hello"),
        ("outbound", "whatsapp", "whatsapp: hello"),
        ("inbound", "whatsapp", ""),
        ("outbound", "whatsapp", "whatsapp: "),
    ]


def test_the_page_refuses_what_twilio_would_never_post(
    on: Flask, whatsapp: Bound, received: list[InboundMessage]
) -> None:
    client = on.test_client()
    cases = [
        ({"channel": "sms"}, "channel", "is reached on WhatsApp only, not on SMS."),
        ({"number": CARE_NUMBER, "channel": "whatsapp"}, "channel", "bind whatsapp:+14155550100"),
        ({"number": CARE_NUMBER, "channel": "sms", "customer": WA_CUSTOMER}, "customer",
         "is not a WhatsApp sender"),
        ({"media_urls": "javascript:alert(1)"}, "media_urls", "is not a media URL"),
        ({"media_urls": " ".join([PICTURE] * 11)}, "media_urls", "at most 10 media URLs"),
        ({"body": "", "media_urls": ""}, "body", "Type a message, or give a media URL."),
    ]
    for fields, field, text in cases:
        response = post(client, **fields)
        assert response.status_code == 400, fields
        assert response.json["field"] == field and text in response.json["error"], fields
    assert whatsapp.messages() == [] and received == []

    # A profile name left in the form for an SMS number is not posted: SMS has none.
    data = post(client, number=CARE_NUMBER, channel="sms", profile_name="Ana").json
    assert received[0].channel == "sms" and received[0].profile_name is None
    assert data["message"]["profile_name"] is None


def test_the_fallback_url_gets_the_whatsapp_message(
    on: Flask, whatsapp: Bound, received: list[InboundMessage]
) -> None:
    data = post(on.test_client(), "fallback", profile_name="Ana").json
    assert data["url"] == whatsapp.urls.fallback_url
    assert data["replies"] == [{"body": on.config["XSMS_FALLBACK_MESSAGE"], "media": []}]
    assert wait_for_chatbots(timeout=10)  # the turn answers later, through the REST API
    row = whatsapp.inbound(data["message"]["sid"])
    assert row.details["ProfileName"] == "Ana" and row.details["WaId"] == "14155550123"
    assert (row.from_number, row.error_code) == (WA_CUSTOMER, "11200")
    assert received[0].channel == "whatsapp"


def test_a_late_reply_goes_back_on_whatsapp_through_the_rest_api(
    on: Flask, whatsapp: Bound, subscribe: Subscribe, twilio_api: TwilioStandIn
) -> None:
    on.config.update(XSMS_REPLY_TIMEOUT=0.2, XSMS_TWILIO_API_BASE_URL=twilio_api.url)
    release = threading.Event()

    def slow_bot(sender: str, *, message: InboundMessage, **kw: t.Any) -> Reply:
        release.wait(10)
        return Reply(f"Late: {message.body}", ("https://cdn.example.com/map.png",))

    subscribe(slow_bot, sender=CARE_APP)
    client = on.test_client()
    data = post(client, body="are you there?", profile_name="Ana").json
    assert data["replies"] == []
    release.set()
    assert wait_for_chatbots(timeout=10)

    (sent,) = twilio_api.messages
    assert sent.account_sid == ACCOUNT_SID
    assert (sent.form["From"], sent.form["To"]) == (WA_NUMBER, WA_CUSTOMER)
    assert sent.form["Body"] == "Late: are you there?"
    assert sent.form.getlist("MediaUrl") == ["https://cdn.example.com/map.png"]

    query = {"domain_id": "1", "number": WA_NUMBER, "customer": CUSTOMER}
    messages = client.get("/xsms/simulator/conversation", query_string=query).json["messages"]
    assert [(m["direction"], m["body"], m["via"], m["channel"]) for m in messages] == [
        ("inbound", "are you there?", None, "whatsapp"),
        ("outbound", "Late: are you there?", "rest", "whatsapp"),
    ]
    assert messages[0]["profile_name"] == "Ana" and messages[1]["sid"]


# -- flask_xsms.testing ---------------------------------------------------------------


def test_the_test_client_sends_whatsapp_messages(
    app: Flask, whatsapp: Bound, received: list[InboundMessage]
) -> None:
    sms = SMSClient(app)
    replies = sms.send(WA_NUMBER, "hi", profile_name="Ana", media_urls=[PICTURE])
    assert [r.body for r in replies] == ["whatsapp: hi"]
    replies = sms.send("+1 415 523 8886", "again", channel="whatsapp", from_="+14155550177")
    assert [r.body for r in replies] == ["whatsapp: again"]
    replies = sms.send(CARE_NUMBER, "by text")  # the existing API: SMS
    assert [r.body for r in replies] == ["sms: by text"]

    first, second, third = received
    assert (first.channel, first.profile_name, first.wa_id) == ("whatsapp", "Ana", "14155559999")
    assert first.from_ == "whatsapp:+14155559999" and first.media[0].url == PICTURE
    assert (second.from_, second.to, second.profile_name) == (
        "whatsapp:+14155550177", WA_NUMBER, None
    )
    assert (third.channel, third.from_) == ("sms", "+14155559999")
    assert sms.history[0].params["ProfileName"] == "Ana"

    with pytest.raises(SimulationError, match="reached on WhatsApp only"):
        sms.send(WA_NUMBER, "hi", channel="sms")
    with pytest.raises(SimulationError, match="A profile name is WhatsApp's"):
        sms.send(CARE_NUMBER, "hi", profile_name="Ana")
    with pytest.raises(NumberError, match="is not a WhatsApp sender"):
        sms.send(CARE_NUMBER, "hi", from_=WA_CUSTOMER)
    (reply,) = sms.fallback("+14155238886", "hello?", channel="whatsapp")
    assert reply.body == app.config["XSMS_FALLBACK_MESSAGE"]
    assert sms.history[-1].params["From"] == "whatsapp:+14155559999"
    sms.wait()
