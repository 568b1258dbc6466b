"""The Request URL: a signed message reaches the bound chatbot once; replies come back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import InboundMessage
from flask_xsms import Media
from flask_xsms import Reply
from flask_xsms import signals
from flask_xsms._extension import get_state
from flask_xsms._inbound import wait_for_chatbots
from flask_xsms.models import Conversation
from flask_xsms.models import OptOut
from flask_xsms._optouts import is_opted_out

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
from .webhooks_support import SALES_NUMBER
from .webhooks_support import Subscribe
from .webhooks_support import UNKNOWN_NUMBER


def post(client: FlaskClient, bound: Bound, **fields: str | None) -> t.Any:
    params = inbound_params(**fields)
    return signed_post(client, bound.urls.request_url, params), params


def echo(sender: str, *, message: InboundMessage, **extra: t.Any) -> str:
    return f"echo: {message.body}"


def test_a_message_reaches_its_chatbot_and_the_reply_comes_back(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    calls: list[tuple[str, dict[str, t.Any]]] = []

    def care_bot(sender: str, **kwargs: t.Any) -> str:
        calls.append((sender, kwargs))
        # the message is stored before any chatbot code runs
        assert bound.inbound(kwargs["message"].sid).status == "processing"
        return "Hi! How can I help?"

    subscribe(care_bot, sender=CARE_APP)
    subscribe(
        lambda sender, **kw: pytest.fail("the agent app's bot got a care message"), sender=AGENT_APP
    )
    response, params = post(client, bound, Body="Hello there")
    assert twiml_messages(response) == [Sent("Hi! How can I help?")]

    ((sender, kwargs),) = calls
    assert sender == CARE_APP
    message = kwargs["message"]
    assert isinstance(message, InboundMessage)
    assert (message.sid, message.from_, message.to, message.body) == (
        params["MessageSid"],
        CUSTOMER,
        CARE_NUMBER,
        "Hello there",
    )
    assert message.params["FromCity"] == "SAN FRANCISCO"
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.body = "changed"  # type: ignore[misc]
    assert kwargs["domain_id"] == "1" and kwargs["application_id"] == CARE_APP
    assert kwargs["keyword"] is None

    row = bound.inbound(params["MessageSid"])
    assert (row.direction, row.status, row.application_id, row.integration_id) == (
        "inbound",
        "handled",
        CARE_APP,
        bound.integration_id,
    )
    assert (row.from_number, row.to_number, row.body) == (CUSTOMER, CARE_NUMBER, "Hello there")
    assert row.id == kwargs["message_id"] and row.conversation_id == kwargs["conversation_id"]
    assert row.num_segments == 1 and row.account_sid == params["AccountSid"]
    assert row.details["FromCity"] == "SAN FRANCISCO"
    (reply,) = bound.replies_to(row)
    assert (reply.direction, reply.status, reply.body) == (
        "outbound",
        "replied",
        "Hi! How can I help?",
    )
    assert (reply.from_number, reply.to_number) == (CARE_NUMBER, CUSTOMER)
    assert reply.conversation_id == row.conversation_id and reply.application_id == CARE_APP


def test_each_application_gets_its_own_messages(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(lambda sender, **kw: "care", sender=CARE_APP)
    subscribe(lambda sender, **kw: "agent", sender=AGENT_APP)
    assert twiml_messages(post(client, bound, To=AGENT_NUMBER)[0]) == [Sent("agent")]
    assert twiml_messages(post(client, bound, To=CARE_NUMBER)[0]) == [Sent("care")]


def test_no_subscriber_means_an_empty_response(client: FlaskClient, bound: Bound) -> None:
    response, params = post(client, bound)
    assert twiml_messages(response) == []
    row = bound.inbound(params["MessageSid"])
    assert row.status == "handled" and bound.replies_to(row) == []


REPLY_SHAPES: list[tuple[t.Any, list[Sent]]] = [
    (None, []),
    ("One", [Sent("One")]),
    (["One", "Two"], [Sent("One"), Sent("Two")]),
    (Reply("Look", ["https://img.test/a.png"]), [Sent("Look", ("https://img.test/a.png",))]),
    (Reply("", ["https://img.test/a.png"]), [Sent("", ("https://img.test/a.png",))]),
    ([Reply("R"), "S"], [Sent("R"), Sent("S")]),
]


def test_every_reply_shape(client: FlaskClient, bound: Bound, subscribe: Subscribe) -> None:
    current: list[t.Any] = [None]
    subscribe(lambda sender, **kw: current[0])
    for returned, expected in REPLY_SHAPES:
        current[0] = returned
        response, params = post(client, bound)
        assert twiml_messages(response) == expected
        replies = bound.replies_to(bound.inbound(params["MessageSid"]))
        assert [(r.body, tuple(m["url"] for m in r.media)) for r in replies] == [
            (s.body, s.media) for s in expected
        ]


def test_replies_of_several_receivers_are_collected(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(lambda sender, **kw: "first", sender=CARE_APP)
    subscribe(lambda sender, **kw: ["second", "third"])
    bodies = sorted(m.body for m in twiml_messages(post(client, bound)[0]))
    assert bodies == ["first", "second", "third"]


def test_media_are_parsed_in_order(client: FlaskClient, bound: Bound, subscribe: Subscribe) -> None:
    seen: list[InboundMessage] = []
    subscribe(lambda sender, *, message, **kw: seen.append(message))
    response, params = post(
        client,
        bound,
        Body="",
        NumMedia="2",
        MediaUrl0="https://api.twilio.test/Media/ME1",
        MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.test/Media/ME2",
        MediaContentType1="video/mp4",
    )
    assert twiml_messages(response) == []
    assert seen[0].media == (
        Media("https://api.twilio.test/Media/ME1", "image/jpeg"),
        Media("https://api.twilio.test/Media/ME2", "video/mp4"),
    )
    assert bound.inbound(params["MessageSid"]).media == [
        {"url": "https://api.twilio.test/Media/ME1", "content_type": "image/jpeg"},
        {"url": "https://api.twilio.test/Media/ME2", "content_type": "video/mp4"},
    ]


def test_unicode_and_emoji_round_trip(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(echo)
    for text in [
        "Grüße aus Köln",
        "👋😀 emoji",
        "日本語のテキスト",
        'Ελληνικά & <xml> "q"',
        "a\nb\tc",
    ]:
        response, params = post(client, bound, Body=text)
        assert twiml_messages(response) == [Sent(f"echo: {text}")]
        assert bound.inbound(params["MessageSid"]).body == text


def test_a_long_body_is_accepted_and_the_long_reply_is_split(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(echo)
    text = " ".join(f"word{i}" for i in range(1200))  # about 9,000 characters
    response, params = post(client, bound, Body=text)
    sent = twiml_messages(response)
    assert len(sent) > 5
    assert all(len(m.body) <= 1600 for m in sent)
    assert " ".join(m.body for m in sent) == f"echo: {text}"
    row = bound.inbound(params["MessageSid"])
    assert row.body == text and len(bound.replies_to(row)) == len(sent)


def test_many_media_go_ten_per_message(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    urls = [f"https://img.test/{i}.png" for i in range(23)]
    subscribe(lambda sender, **kw: Reply("Album", urls))
    sent = twiml_messages(post(client, bound)[0])
    assert [len(m.media) for m in sent] == [10, 10, 3]
    assert [u for m in sent for u in m.media] == urls and sent[0].body == "Album"


def test_a_repeated_message_sid_gets_the_stored_answer_and_no_second_call(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    calls = []
    subscribe(lambda sender, **kw: calls.append(1) or f"reply {len(calls)}")
    params = inbound_params(Body="once")
    first = signed_post(client, bound.urls.request_url, params)
    again = signed_post(client, bound.urls.request_url, params)
    assert twiml_messages(first) == twiml_messages(again) == [Sent("reply 1")]
    assert first.data == again.data
    assert calls == [1]
    row = bound.inbound(params["MessageSid"])
    assert len(bound.replies_to(row)) == 1


def test_an_unrouted_duplicate_stays_unrouted(client: FlaskClient, bound: Bound) -> None:
    params = inbound_params(To=UNKNOWN_NUMBER)
    for _ in range(2):
        assert twiml_messages(signed_post(client, bound.urls.request_url, params)) == []
    assert len(bound.messages(sid=params["MessageSid"])) == 1


def test_concurrent_copies_reach_the_chatbot_once(
    app: Flask, bound: Bound, subscribe: Subscribe
) -> None:
    calls = []
    started = threading.Event()

    def slow_bot(sender: str, **kw: t.Any) -> str:
        calls.append(1)
        started.set()
        threading.Event().wait(0.3)  # the other copies arrive meanwhile
        return "only once"

    subscribe(slow_bot)
    params = inbound_params(Body="same time")
    copies = 4
    barrier = threading.Barrier(copies)
    answers: list[t.Any] = [None] * copies

    def deliver(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        answers[i] = signed_post(client, bound.urls.request_url, params)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert calls == [1]
    for answer in answers:
        assert twiml_messages(answer) == [Sent("only once")]
    row = bound.inbound(params["MessageSid"])
    assert row.status == "handled" and len(bound.replies_to(row)) == 1


def test_messages_of_one_customer_at_the_same_moment_share_one_conversation(
    app: Flask, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(echo)
    copies = 4
    barrier = threading.Barrier(copies)
    answers: list[t.Any] = [None] * copies
    sent = [inbound_params(Body=f"part {i}") for i in range(copies)]  # distinct sids

    def deliver(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        answers[i] = signed_post(client, bound.urls.request_url, sent[i])

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [twiml_messages(a) for a in answers] == [[Sent(f"echo: part {i}")] for i in range(copies)]
    (conversation,) = bound.conversations()
    rows = [bound.inbound(p["MessageSid"]) for p in sent]
    assert {r.conversation_id for r in rows} == {conversation.id}


def test_a_slow_chatbot_is_answered_late_through_the_rest_api(
    app: Flask,
    client: FlaskClient,
    bound: Bound,
    subscribe: Subscribe,
    twilio_api: TwilioStandIn,
) -> None:
    app.config["XSMS_REPLY_TIMEOUT"] = 0.3
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    finished = threading.Event()
    release = threading.Event()

    def slow_bot(sender: str, *, message: InboundMessage, **kw: t.Any) -> list[str]:
        release.wait(10)
        finished.set()
        return [f"Sorry for the wait: {message.body}", "Anything else?"]

    subscribe(slow_bot)
    response, params = post(client, bound, Body="are you there?")
    assert not finished.is_set()  # the webhook answered before the chatbot did
    assert twiml_messages(response) == []
    row = bound.inbound(params["MessageSid"])
    # still running; nobody waits for its TwiML any more
    assert row.status == "processing" and row.response_twiml is not None

    # Twilio retries meanwhile: the stored (empty) answer, no second call
    assert twiml_messages(signed_post(client, bound.urls.request_url, params)) == []

    release.set()
    assert wait_for_chatbots(timeout=10)
    sent = twilio_api.messages
    assert [(r.form["To"], r.form["From"], r.form["Body"]) for r in sent] == [
        (CUSTOMER, CARE_NUMBER, "Sorry for the wait: are you there?"),
        (CUSTOMER, CARE_NUMBER, "Anything else?"),
    ]
    assert all(r.form["StatusCallback"] == bound.urls.status_callback_url for r in sent)
    replies = bound.replies_to(row)
    assert [r.body for r in replies] == ["Sorry for the wait: are you there?", "Anything else?"]
    assert all(r.sid and r.direction == "outbound" for r in replies)
    assert bound.inbound(params["MessageSid"]).status == "handled"


def test_a_duplicate_waits_for_the_first_copy(
    app: Flask, bound: Bound, subscribe: Subscribe
) -> None:
    started = threading.Event()

    def bot(sender: str, **kw: t.Any) -> str:
        started.set()
        threading.Event().wait(0.3)
        return "done"

    subscribe(bot)
    params = inbound_params()
    first: list[t.Any] = []
    thread = threading.Thread(
        target=lambda: first.append(signed_post(app.test_client(), bound.urls.request_url, params))
    )
    thread.start()
    assert started.wait(10)
    second = signed_post(app.test_client(), bound.urls.request_url, params)
    thread.join(10)
    assert twiml_messages(second) == twiml_messages(first[0]) == [Sent("done")]


def test_a_duplicate_of_a_message_still_processing_gets_an_empty_answer_in_time(
    app: Flask, bound: Bound, subscribe: Subscribe
) -> None:
    app.config["XSMS_REPLY_TIMEOUT"] = 0.3
    release = threading.Event()
    started = threading.Event()
    subscribe(lambda sender, **kw: started.set() or release.wait(10) and None)
    params = inbound_params()
    first: list[t.Any] = []
    thread = threading.Thread(
        target=lambda: first.append(signed_post(app.test_client(), bound.urls.request_url, params))
    )
    thread.start()
    assert started.wait(10)
    second = signed_post(app.test_client(), bound.urls.request_url, params)
    assert twiml_messages(second) == []
    release.set()
    thread.join(10)
    assert twiml_messages(first[0]) == []


def test_a_raising_chatbot_gets_an_apology_not_a_500(
    client: FlaskClient, bound: Bound, subscribe: Subscribe, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_bot(sender: str, **kw: t.Any) -> str:
        raise RuntimeError("model server unreachable")

    subscribe(broken_bot)
    with caplog.at_level(logging.ERROR, logger="flask_xsms"):
        response, params = post(client, bound)
    apology = client.application.config["XSMS_APOLOGY_MESSAGE"]
    assert twiml_messages(response) == [Sent(apology)]
    row = bound.inbound(params["MessageSid"])
    assert row.status == "failed"
    assert "model server unreachable" in (row.error_message or "")
    assert "broken_bot" in (row.error_message or "")
    (record,) = [r for r in caplog.records if r.exc_info]
    assert "broken_bot" in record.getMessage() and record.exc_info[0] is RuntimeError


def test_one_failing_chatbot_does_not_hide_the_others(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    def broken(sender: str, **kw: t.Any) -> str:
        raise ValueError("bug")

    subscribe(broken)
    subscribe(lambda sender, **kw: "still here")
    response, params = post(client, bound)
    assert twiml_messages(response) == [Sent("still here")]
    assert bound.inbound(params["MessageSid"]).status == "failed"


def test_a_wrong_return_type_counts_as_a_failure(
    client: FlaskClient, bound: Bound, subscribe: Subscribe, app: Flask
) -> None:
    app.config["XSMS_APOLOGY_MESSAGE"] = "Oops, our bot tripped."
    subscribe(lambda sender, **kw: 42)
    response, params = post(client, bound)
    assert twiml_messages(response) == [Sent("Oops, our bot tripped.")]
    assert "TypeError" in (bound.inbound(params["MessageSid"]).error_message or "")


@pytest.mark.parametrize("to", [UNKNOWN_NUMBER, SALES_NUMBER])
def test_a_number_no_binding_of_the_domain_knows_is_stored_unrouted(
    client: FlaskClient, bound: Bound, subscribe: Subscribe, to: str
) -> None:
    unrouted: list[dict[str, t.Any]] = []
    subscribe(lambda sender, **kw: pytest.fail("no chatbot runs for an unrouted message"))
    subscribe(
        lambda sender, **kw: unrouted.append({"sender": sender, **kw}),
        signal=signals.unrouted_message,
    )
    response, params = post(client, bound, To=to)
    assert twiml_messages(response) == []
    row = bound.inbound(params["MessageSid"])
    assert (row.status, row.application_id, row.integration_id) == (
        "unrouted",
        None,
        bound.integration_id,
    )
    assert row.to_number == to and row.conversation_id is None
    (event,) = unrouted
    assert event["sender"] is client.application
    assert event["message"].sid == params["MessageSid"] and event["message_id"] == row.id
    assert event["domain_id"] == "1"


def test_stop_opts_out_and_gets_no_reply(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    keywords: list[str | None] = []
    subscribe(
        lambda sender, *, keyword, **kw: keywords.append(keyword) or "a reply Twilio would block"
    )
    for i, body in enumerate(["STOP", "stop", " Unsubscribe ", "quit"]):
        customer = f"+1415555{i:04d}"
        response, params = post(client, bound, Body=body, From=customer)
        assert twiml_messages(response) == []
        assert is_opted_out("acme", CARE_NUMBER, customer)
        assert bound.inbound(params["MessageSid"]).status == "handled"
    assert keywords == ["stop"] * 4


def test_opt_out_type_wins_over_the_body(client: FlaskClient, bound: Bound) -> None:
    post(client, bound, Body="please stop texting me", OptOutType="STOP")
    assert is_opted_out("acme", CARE_NUMBER, CUSTOMER)
    post(client, bound, Body="ok", OptOutType="START")
    assert not is_opted_out("acme", CARE_NUMBER, CUSTOMER)


def test_stop_please_is_not_a_keyword(client: FlaskClient, bound: Bound) -> None:
    post(client, bound, Body="Stop please")
    assert not is_opted_out("acme", CARE_NUMBER, CUSTOMER)


def test_start_opts_back_in_and_the_chatbot_answers(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    post(client, bound, Body="STOP")
    assert is_opted_out("acme", CARE_NUMBER, CUSTOMER)
    subscribe(lambda sender, *, keyword, **kw: "Welcome back" if keyword == "start" else None)
    response, _ = post(client, bound, Body="start")
    assert twiml_messages(response) == [Sent("Welcome back")]
    assert not is_opted_out("acme", CARE_NUMBER, CUSTOMER)


def test_yes_from_a_customer_who_never_opted_out_records_nothing(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(lambda sender, *, keyword, **kw: f"keyword {keyword}")
    response, _ = post(client, bound, Body="Yes")
    assert twiml_messages(response) == [Sent("keyword start")]
    session = get_state(bound.app).session
    assert session.scalars(sa.select(OptOut)).all() == []


def test_stop_to_an_unrouted_number_is_recorded_too(client: FlaskClient, bound: Bound) -> None:
    post(client, bound, Body="STOP", To=UNKNOWN_NUMBER)
    assert is_opted_out("acme", UNKNOWN_NUMBER, CUSTOMER)


def test_help_is_answered_when_no_chatbot_does(
    client: FlaskClient, bound: Bound, app: Flask
) -> None:
    response, _ = post(client, bound, Body="HELP")
    assert twiml_messages(response) == [Sent(app.config["XSMS_HELP_MESSAGE"])]
    app.config["XSMS_HELP_MESSAGE"] = "Acme Care: call 555-0100."
    response, _ = post(client, bound, Body="info")
    assert twiml_messages(response) == [Sent("Acme Care: call 555-0100.")]


def test_a_chatbots_help_answer_wins(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(lambda sender, *, keyword, **kw: "Bot help" if keyword == "help" else None)
    assert twiml_messages(post(client, bound, Body="help")[0]) == [Sent("Bot help")]


def test_a_conversation_lasts_until_the_inactivity_timeout(
    client: FlaskClient, bound: Bound, app: Flask
) -> None:
    _, p1 = post(client, bound, Body="one")
    _, p2 = post(client, bound, Body="two")
    _, other = post(client, bound, Body="other customer", From="+14155557777")
    _, agent = post(client, bound, Body="other app", To=AGENT_NUMBER)
    first = bound.inbound(p1["MessageSid"]).conversation_id
    assert first is not None
    assert bound.inbound(p2["MessageSid"]).conversation_id == first
    assert bound.inbound(other["MessageSid"]).conversation_id not in (None, first)
    assert bound.inbound(agent["MessageSid"]).conversation_id not in (None, first)

    session = get_state(app).session
    an_hour_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    session.execute(sa.update(Conversation).filter_by(id=first).values(last_message_at=an_hour_ago))
    session.commit()
    _, p3 = post(client, bound, Body="three")
    third = bound.inbound(p3["MessageSid"]).conversation_id
    assert third not in (None, first)
    conversations = {c.id: c for c in bound.conversations()}
    assert conversations[first].closed_at is not None
    assert conversations[third].closed_at is None
    assert (conversations[third].customer_number, conversations[third].service_number) == (
        CUSTOMER,
        CARE_NUMBER,
    )


def test_broken_encoding_is_stored_not_a_500(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(echo)
    params = inbound_params()
    # invalid UTF-8 and a NUL byte: Werkzeug keeps the bad escapes as text
    raw = "&".join(f"{k}={v.replace('+', '%2B')}" for k, v in params.items() if k != "Body")
    raw += "&Body=caf%E9+%FF%00end"
    decoded = {**params, "Body": "caf%E9 %FF\x00end"}
    from .signing import sign

    headers = {"X-Twilio-Signature": sign(bound.urls.request_url, decoded)}
    response = client.post(
        bound.urls.request_url,
        data=raw.encode(),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )
    (sent,) = twiml_messages(response)
    # NUL, which PostgreSQL refuses, is stored as U+FFFD
    assert sent.body == "echo: caf%E9 %FF\ufffdend"
    assert bound.inbound(params["MessageSid"]).body == "caf%E9 %FF\ufffdend"
    unsigned = client.post(
        bound.urls.request_url, data=raw.encode(), content_type="application/x-www-form-urlencoded"
    )
    assert unsigned.status_code == 403


def test_a_json_body_is_refused_cleanly(client: FlaskClient, bound: Bound) -> None:
    response = client.post(
        bound.urls.request_url, json={"Body": "hi"}, headers={"X-Twilio-Signature": "x"}
    )
    assert response.status_code == 403


def test_signals_for_replies(client: FlaskClient, bound: Bound, subscribe: Subscribe) -> None:
    sent: list[dict[str, t.Any]] = []
    subscribe(lambda sender, **kw: ["a", "b"])
    subscribe(lambda sender, **kw: sent.append({"sender": sender, **kw}), signal=signals.reply_sent)
    _, params = post(client, bound)
    assert [(e["sender"], e["reply"], e["via"]) for e in sent] == [
        (CARE_APP, Reply("a"), "twiml"),
        (CARE_APP, Reply("b"), "twiml"),
    ]
    assert all(e["in_reply_to"].sid == params["MessageSid"] and e["message_id"] for e in sent)


def test_a_failing_notification_receiver_is_logged_not_raised(
    client: FlaskClient, bound: Bound, subscribe: Subscribe, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(sender: t.Any, **kw: t.Any) -> None:
        raise RuntimeError("dashboard down")

    subscribe(broken, signal=signals.unrouted_message)
    response, _ = post(client, bound, To=UNKNOWN_NUMBER)
    assert twiml_messages(response) == []
    assert "dashboard down" in caplog.text


def test_an_opted_out_customer_gets_no_chatbot_reply_but_help_works(
    client: FlaskClient, bound: Bound, subscribe: Subscribe, app: Flask
) -> None:
    calls = []
    subscribe(lambda sender, *, keyword, **kw: calls.append(keyword) or None)
    post(client, bound, Body="STOP")
    subscribe(lambda sender, **kw: "Twilio would refuse this")
    response, params = post(client, bound, Body="hello?")
    assert twiml_messages(response) == []
    assert bound.inbound(params["MessageSid"]).status == "handled"  # kept and signalled
    assert calls == ["stop", None]
    assert [m.body for m in twiml_messages(post(client, bound, Body="HELP")[0])] == [
        "Twilio would refuse this"
    ]
