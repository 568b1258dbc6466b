"""WhatsApp on the same webhooks: routing, the message's WhatsApp fields, replies on the
channel they came from, the 24-hour customer service window, templates, STOP, and the
messages page."""
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

from flask_xsms import InboundMessage
from flask_xsms import InvalidMessage
from flask_xsms import Location
from flask_xsms import NumberError
from flask_xsms import OptedOut
from flask_xsms import Operator
from flask_xsms import Pair
from flask_xsms import WhatsAppWindowClosed
from flask_xsms import conversations
from flask_xsms import outbound
from flask_xsms._extension import get_state
from flask_xsms._inbound import wait_for_chatbots
from flask_xsms.models import Conversation
from flask_xsms.models import Message
from flask_xsms.models import utcnow
from flask_xsms.numbers import replace_bindings

from .hostapp import Directory
from .signing import ACCOUNT_SID
from .signing import inbound_params
from .signing import signed_post
from .signing import twiml_messages
from .twilio_server import TwilioStandIn
from .twilio_server import twilio_api  # noqa: F401 (fixture)
from .webhooks_support import Bound
from .webhooks_support import bound  # noqa: F401 (fixture)
from .webhooks_support import CARE_APP
from .webhooks_support import CARE_NUMBER
from .webhooks_support import subscribe  # noqa: F401 (fixture)
from .webhooks_support import Subscribe

#: The Customer Care number on WhatsApp, bound to another application than its SMS twin.
WHATSAPP_SENDER = "whatsapp:" + CARE_NUMBER
WHATSAPP_APP = "12"
CUSTOMER_NUMBER = "+14155238886"
WHATSAPP_CUSTOMER = "whatsapp:" + CUSTOMER_NUMBER
TEMPLATE = "HX" + "0123456789abcdef" * 2


@pytest.fixture
def whatsapp(app: Flask, bound: Bound, directory: Directory, twilio_api: TwilioStandIn) -> Bound:
    replace_bindings(
        directory.domains["1"],
        [Pair(CARE_NUMBER, CARE_APP), Pair("WhatsApp: +1 415 555 0100", WHATSAPP_APP)],
    )
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    return bound


def whatsapp_params(**fields: str | None) -> dict[str, str]:
    """What Twilio posts for a WhatsApp message (a real payload's fields)."""
    whatsapp: dict[str, str | None] = {
        "To": WHATSAPP_SENDER,
        "From": WHATSAPP_CUSTOMER,
        "ProfileName": "Ana Lima",
        "WaId": CUSTOMER_NUMBER.lstrip("+"),
        "MessageType": "text",
        "NumSegments": "1",
        **dict.fromkeys(["ToCountry", "ToState", "ToCity", "ToZip", "FromState", "FromCity"]),
        **dict.fromkeys(["FromCountry", "FromZip"]),
    }
    return inbound_params(**{**whatsapp, **fields})


def text_in(client: FlaskClient, bound: Bound, **fields: str | None) -> t.Any:
    params = whatsapp_params(**fields)
    response = signed_post(client, bound.urls.request_url, params)
    assert wait_for_chatbots(timeout=10)
    return response, params


def whatsapp_conversation(bound: Bound) -> Conversation:
    """The WhatsApp customer's one conversation."""
    (conversation,) = [
        c for c in bound.conversations() if c.customer_number == WHATSAPP_CUSTOMER
    ]
    return conversation


def age_conversations(app: Flask, customer: str, age: dt.timedelta) -> None:
    """Make the customer's last message ``age`` old, as if that time had passed."""
    session = get_state(app).session
    session.execute(
        sa.update(Conversation)
        .where(Conversation.customer_number == customer)
        .values(last_message_at=utcnow() - age)
    )
    session.commit()


def test_a_whatsapp_message_reaches_its_own_binding_with_what_whatsapp_adds(
    client: FlaskClient, whatsapp: Bound, subscribe: Subscribe
) -> None:
    got: list[tuple[str, InboundMessage]] = []
    subscribe(lambda sender, message, **kw: got.append((sender, message)) or f"hi {sender}")
    response, _ = text_in(
        client,
        whatsapp,
        Body="Yes, book it",
        MessageType="button",
        ButtonText="Yes, book it",
        ButtonPayload="book:42",
        OriginalRepliedMessageSid="SM" + "a" * 32,
    )
    assert [m.body for m in twiml_messages(response)] == [f"hi {WHATSAPP_APP}"]
    (sender, message), = got
    assert sender == WHATSAPP_APP
    assert (message.channel, message.from_, message.to) == (
        "whatsapp", WHATSAPP_CUSTOMER, WHATSAPP_SENDER
    )
    assert (message.profile_name, message.wa_id) == ("Ana Lima", "14155238886")
    assert (message.button_text, message.button_payload) == ("Yes, book it", "book:42")
    assert message.original_replied_message_sid == "SM" + "a" * 32
    assert message.location is None
    assert message.params["MessageType"] == "button"  # the rest stays in params

    # the same number on SMS still goes to its own application
    got.clear()
    sms = inbound_params(To=CARE_NUMBER, From=CUSTOMER_NUMBER)
    answer = signed_post(client, whatsapp.urls.request_url, sms)
    assert [m.body for m in twiml_messages(answer)] == [f"hi {CARE_APP}"]
    assert wait_for_chatbots(timeout=10)
    assert got[0][0] == CARE_APP and got[0][1].channel == "sms"
    # one conversation per channel address
    customers = sorted(c.customer_number for c in whatsapp.conversations())
    assert customers == [CUSTOMER_NUMBER, WHATSAPP_CUSTOMER]


def test_a_shared_location_is_parsed_and_a_broken_one_is_left_in_params(
    client: FlaskClient, whatsapp: Bound, subscribe: Subscribe
) -> None:
    got: list[InboundMessage] = []
    subscribe(lambda sender, message, **kw: got.append(message))
    text_in(
        client, whatsapp, Body="", MessageType="location", Latitude="-23.5505",
        Longitude="-46.6333", Address="Praça da Sé, São Paulo", Label="Sé",
    )
    text_in(client, whatsapp, Body="", Latitude="north", Longitude="-46.6333")
    text_in(client, whatsapp, Body="", Latitude="91", Longitude="0")
    assert got[0].location == Location(-23.5505, -46.6333, "Praça da Sé, São Paulo", "Sé")
    assert got[1].location is None and got[1].params["Latitude"] == "north"
    assert got[2].location is None


def test_whatsapp_media_carry_the_account_that_can_open_them(
    client: FlaskClient, whatsapp: Bound, subscribe: Subscribe
) -> None:
    got: list[InboundMessage] = []
    subscribe(lambda sender, message, **kw: got.append(message))
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
    text_in(client, whatsapp, Body="", NumMedia="1", MediaUrl0=url,
            MediaContentType0="image/jpeg")
    (media,) = got[0].media
    assert (media.url, media.content_type, media.account_id) == (url, "image/jpeg", "acme")


def test_replies_sent_later_go_on_whatsapp_from_the_sender_to_the_customer(
    app: Flask, client: FlaskClient, whatsapp: Bound, subscribe: Subscribe,
    twilio_api: TwilioStandIn,
) -> None:
    app.config.update(XSMS_REPLY_TIMEOUT=0.2, XSMS_SPLIT_AT_SEGMENTS=True)
    release = threading.Event()
    long_text = "word " * 100  # 500 characters: 4 SMS segments, one WhatsApp message

    def slow(sender: str, **kw: t.Any) -> str:
        release.wait(10)
        return long_text

    subscribe(slow)
    params = whatsapp_params(Body="hello")
    assert twiml_messages(signed_post(client, whatsapp.urls.request_url, params)) == []
    release.set()
    assert wait_for_chatbots(timeout=10)
    (sent,) = twilio_api.messages
    assert (sent.form["From"], sent.form["To"]) == (WHATSAPP_SENDER, WHATSAPP_CUSTOMER)
    assert sent.form["Body"].split() == long_text.split()
    (row,) = whatsapp.messages(direction="outbound")
    assert row.num_segments == 1


def test_send_refuses_to_mix_whatsapp_and_sms_before_anything_is_stored(
    app: Flask, whatsapp: Bound, twilio_api: TwilioStandIn
) -> None:
    with pytest.raises(NumberError, match="is a WhatsApp sender: it sends to WhatsApp"):
        outbound.send("1", from_number=WHATSAPP_SENDER, to=CUSTOMER_NUMBER, body="hi")
    with pytest.raises(NumberError, match="sends SMS: it cannot reach the WhatsApp address"):
        outbound.send("1", from_number=CARE_NUMBER, to=WHATSAPP_CUSTOMER, body="hi")
    assert whatsapp.messages() == [] and twilio_api.messages == []


@pytest.mark.parametrize(
    ("age", "open_"),
    [
        (dt.timedelta(seconds=5), True),
        (dt.timedelta(hours=23, minutes=59), True),
        (dt.timedelta(hours=24, minutes=1), False),
    ],
    ids=["fresh", "23h59", "24h01"],
)
def test_free_form_whatsapp_messages_only_within_24_hours_of_the_customer(
    app: Flask, client: FlaskClient, whatsapp: Bound, subscribe: Subscribe,
    twilio_api: TwilioStandIn, age: dt.timedelta, open_: bool,
) -> None:
    subscribe(lambda sender, **kw: None)
    text_in(client, whatsapp, Body="hello")
    age_conversations(app, WHATSAPP_CUSTOMER, age)
    if open_:
        (message,) = outbound.send(
            "1",
            from_number=WHATSAPP_SENDER,
            to="WhatsApp:+1 (415) 523-8886",
            body="Your order shipped",
        )
        (sent,) = twilio_api.messages
        assert (sent.form["From"], sent.form["To"], sent.form["Body"]) == (
            WHATSAPP_SENDER, WHATSAPP_CUSTOMER, "Your order shipped"
        )
        assert message.to_number == WHATSAPP_CUSTOMER
        return
    with pytest.raises(WhatsAppWindowClosed) as caught:
        outbound.send("1", from_number=WHATSAPP_SENDER, to=WHATSAPP_CUSTOMER, body="Still there?")
    error = caught.value
    assert "within 24 hours of the customer's last message" in str(error)
    assert "content_sid" in str(error)
    assert error.code == 63016 and error.closed_at is not None
    assert twilio_api.messages == [] and whatsapp.messages(direction="outbound") == []

    # a template is what reaches the customer outside the window
    (message,) = outbound.send(
        "1", from_number=WHATSAPP_SENDER, to=WHATSAPP_CUSTOMER,
        content_sid=TEMPLATE.upper(), content_variables={"1": "Ana", "2": 42},
    )
    (sent,) = twilio_api.messages
    assert sent.form["ContentSid"] == TEMPLATE
    assert json.loads(sent.form["ContentVariables"]) == {"1": "Ana", "2": "42"}
    assert "Body" not in sent.form and "MediaUrl" not in sent.form
    assert message.details["content_sid"] == TEMPLATE


def test_a_customer_who_never_wrote_gets_templates_only(
    app: Flask, whatsapp: Bound, twilio_api: TwilioStandIn
) -> None:
    with pytest.raises(WhatsAppWindowClosed, match="has not written to whatsapp:"):
        outbound.send("1", from_number=WHATSAPP_SENDER, to=WHATSAPP_CUSTOMER, body="Hello")
    outbound.send("1", from_number=WHATSAPP_SENDER, to=WHATSAPP_CUSTOMER, content_sid=TEMPLATE)
    (sent,) = twilio_api.messages
    assert sent.form["ContentSid"] == TEMPLATE and "ContentVariables" not in sent.form


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"content_sid": "HX123"}, "is not a Content SID"),
        ({"content_sid": TEMPLATE, "body": "hi"}, "has no body or media of its own"),
        ({"content_variables": {"1": "x"}, "body": "hi"}, "need a content_sid"),
        ({"content_sid": TEMPLATE, "content_variables": {"1": ["x"]}}, "must be text or a number"),
        ({"content_sid": TEMPLATE, "content_variables": ["x"]}, "must be a mapping"),
    ],
)
def test_template_mistakes_are_refused_before_anything_is_stored(
    app: Flask, whatsapp: Bound, twilio_api: TwilioStandIn, kwargs: dict[str, t.Any], words: str
) -> None:
    with pytest.raises(InvalidMessage, match=words):
        outbound.send("1", from_number=WHATSAPP_SENDER, to=WHATSAPP_CUSTOMER, **kwargs)
    assert whatsapp.messages() == [] and twilio_api.messages == []


def test_an_operator_replies_on_whatsapp_within_the_window(
    app: Flask, client: FlaskClient, whatsapp: Bound, subscribe: Subscribe,
    twilio_api: TwilioStandIn, directory: Directory,
) -> None:
    subscribe(lambda sender, **kw: None)
    text_in(client, whatsapp, Body="I need a person")
    domain = directory.domains["1"]
    conversation = whatsapp_conversation(whatsapp)
    ana = Operator("7", "Ana")
    conversations.take_over(domain, conversation.id, ana)
    conversations.reply(domain, conversation.id, ana, "Hello, this is Ana")
    (sent,) = twilio_api.messages
    assert (sent.form["From"], sent.form["To"]) == (WHATSAPP_SENDER, WHATSAPP_CUSTOMER)
    age_conversations(app, WHATSAPP_CUSTOMER, dt.timedelta(hours=25))
    with pytest.raises(WhatsAppWindowClosed):
        conversations.reply(domain, conversation.id, ana, "Are you there?")


def test_stop_on_whatsapp_is_recorded_confirmed_and_honoured_until_start(
    app: Flask, client: FlaskClient, whatsapp: Bound, subscribe: Subscribe,
    twilio_api: TwilioStandIn,
) -> None:
    subscribe(lambda sender, **kw: "the bot's answer")
    response, _ = text_in(client, whatsapp, Body=" stop ")
    confirmation = app.config["XSMS_WHATSAPP_OPT_OUT_MESSAGE"]
    assert [m.body for m in twiml_messages(response)] == [confirmation]
    with pytest.raises(OptedOut):
        outbound.send("1", from_number=WHATSAPP_SENDER, to=WHATSAPP_CUSTOMER, body="Hi again")
    # the SMS twin of the number is another address: not opted out there
    response, _ = text_in(client, whatsapp, Body="START")
    assert [m.body for m in twiml_messages(response)] == ["the bot's answer"]
    outbound.send("1", from_number=WHATSAPP_SENDER, to=WHATSAPP_CUSTOMER, body="Welcome back")
    assert [r.form["Body"] for r in twilio_api.messages][-1] == "Welcome back"


def test_the_stop_confirmation_goes_through_rest_when_the_answer_comes_late(
    app: Flask, client: FlaskClient, whatsapp: Bound, subscribe: Subscribe,
    twilio_api: TwilioStandIn,
) -> None:
    app.config.update(XSMS_REPLY_TIMEOUT=0.2)
    release = threading.Event()
    subscribe(lambda sender, **kw: release.wait(10) and None)
    params = whatsapp_params(Body="STOP")
    assert twiml_messages(signed_post(client, whatsapp.urls.request_url, params)) == []
    release.set()
    assert wait_for_chatbots(timeout=10)
    (sent,) = twilio_api.messages
    assert sent.form["Body"] == app.config["XSMS_WHATSAPP_OPT_OUT_MESSAGE"]
    assert sent.form["To"] == WHATSAPP_CUSTOMER


def test_error_63016_is_recorded_explained_and_logged(
    app: Flask, client: FlaskClient, whatsapp: Bound, subscribe: Subscribe,
    twilio_api: TwilioStandIn, caplog: pytest.LogCaptureFixture,
) -> None:
    subscribe(lambda sender, **kw: None)
    text_in(client, whatsapp, Body="hello")
    (message,) = outbound.send("1", from_number=WHATSAPP_SENDER, to=WHATSAPP_CUSTOMER, body="x")
    age_conversations(app, WHATSAPP_CUSTOMER, dt.timedelta(hours=30))
    callback = {"MessageSid": message.sid, "MessageStatus": "failed", "ErrorCode": "63016",
                "AccountSid": ACCOUNT_SID, "From": WHATSAPP_SENDER, "To": WHATSAPP_CUSTOMER}
    with caplog.at_level(logging.WARNING, logger="flask_xsms"):
        assert signed_post(client, whatsapp.urls.status_callback_url, callback).status_code == 204
    row = get_state(app).session.get(Message, message.id, populate_existing=True)
    assert (row.status, row.error_code) == ("failed", "63016")
    assert "24-hour customer service window" in (row.error_message or "")
    assert any("63016" in r.getMessage() and "template" in r.getMessage() for r in caplog.records)

    page = client.get("/xsms/domains/1/twilio-sms/messages")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "24-hour customer service window" in html
    assert "WhatsApp window closed at" in html and "templates only" in html


def test_the_messages_page_shows_an_open_window(
    app: Flask, client: FlaskClient, whatsapp: Bound, subscribe: Subscribe
) -> None:
    subscribe(lambda sender, **kw: "hi")
    text_in(client, whatsapp, Body="hello")
    html = client.get("/xsms/domains/1/twilio-sms/messages").get_data(as_text=True)
    closes = utcnow() + dt.timedelta(hours=24)
    assert f"WhatsApp window open until {closes:%Y-%m-%d %H}" in html
    assert "segment" not in html  # no segments on WhatsApp


def test_the_cli_simulates_whatsapp_and_sends_templates(
    app: Flask, whatsapp: Bound, subscribe: Subscribe, twilio_api: TwilioStandIn
) -> None:
    got: list[InboundMessage] = []
    subscribe(lambda sender, message, **kw: got.append(message) or "hi Ana")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["xsms", "simulate", "--to", WHATSAPP_SENDER, "--from", CUSTOMER_NUMBER,
              "--profile-name", "Ana", "--media-url", "https://cdn.example.com/a.jpg", "look"]
    )
    assert result.exit_code == 0, result.output
    assert "hi Ana" in result.output
    assert (got[0].channel, got[0].profile_name) == ("whatsapp", "Ana")
    assert [m.url for m in got[0].media] == ["https://cdn.example.com/a.jpg"]

    age_conversations(app, WHATSAPP_CUSTOMER, dt.timedelta(days=2))
    send = ["xsms", "send", "--domain", "1", "--from", WHATSAPP_SENDER, "--to", WHATSAPP_CUSTOMER]
    refused = runner.invoke(args=[*send, "Still there?"])
    assert refused.exit_code == 1 and "within 24 hours" in refused.output
    sent = runner.invoke(
        args=[*send, "--content-sid", TEMPLATE, "--content-variable", "1=Ana"]
    )
    assert sent.exit_code == 0, sent.output
    (request,) = twilio_api.messages
    assert request.form["ContentSid"] == TEMPLATE
    assert json.loads(request.form["ContentVariables"]) == {"1": "Ana"}
    bad = runner.invoke(args=[*send, "--content-sid", TEMPLATE, "--content-variable", "Ana"])
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output


def test_an_agent_desk_reply_outside_the_window_is_refused_with_nothing_stored(
    app: Flask, client: FlaskClient, whatsapp: Bound, subscribe: Subscribe,
    twilio_api: TwilioStandIn, directory: Directory,
) -> None:
    subscribe(lambda sender, **kw: None)
    text_in(client, whatsapp, Body="hello")
    conversation = whatsapp_conversation(whatsapp)
    url = f"/xsms/api/domains/1/conversations/{conversation.id}"
    assert client.post(url + "/take-over").status_code == 200
    age_conversations(app, WHATSAPP_CUSTOMER, dt.timedelta(hours=25))
    answer = client.post(url + "/reply", json={"body": "Are you there?"})
    assert answer.status_code == 422
    assert "within 24 hours" in answer.get_json()["errors"][0]["message"]
    assert whatsapp.messages(direction="outbound") == [] and twilio_api.messages == []
