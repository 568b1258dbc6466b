"""Conversations a person can take over: a chatbot asks for one, an operator takes over,
replies and hands back; two operators at once; the silence timeout."""
from __future__ import annotations

import datetime as dt
import threading
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import ConversationTaken
from flask_xsms import Handoff
from flask_xsms import InboundMessage
from flask_xsms import NotTakenOver
from flask_xsms import OptedOut
from flask_xsms import Operator
from flask_xsms import signals
from flask_xsms import conversations
from flask_xsms._extension import get_state
from flask_xsms.models import Conversation
from flask_xsms.models import utcnow

from .hostapp import Directory
from .signing import CUSTOMER
from .signing import inbound_params
from .signing import Sent
from .signing import signed_post
from .signing import twiml_messages
from .twilio_server import TwilioStandIn
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER
from .webhooks_support import Subscribe

ANA, BEN = Operator("u1", "Ana"), Operator("u2", "Ben")


@pytest.fixture
def care(directory: Directory) -> t.Any:
    return directory.domains["1"]


def text(client: FlaskClient, bound: Bound, body: str, customer: str = CUSTOMER) -> list[Sent]:
    params = inbound_params(Body=body, From=customer, To=CARE_NUMBER)
    return twiml_messages(signed_post(client, bound.urls.request_url, params))


def the_conversation(bound: Bound) -> Conversation:
    (conversation,) = bound.conversations()
    return conversation


def test_a_chatbot_asks_for_a_person_and_is_not_called_until_handed_back(
    app: Flask, client: FlaskClient, bound: Bound, subscribe: Subscribe, care: t.Any,
    twilio_api: TwilioStandIn,
) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    calls: list[str] = []
    requested: list[dict[str, t.Any]] = []
    back: list[dict[str, t.Any]] = []

    def bot(sender: str, *, message: InboundMessage, **kw: t.Any) -> t.Any:
        calls.append(message.body)
        if message.body == "a human please":
            return Handoff("wants a person", message="Connecting you to a person…")
        return f"bot: {message.body}"

    subscribe(bot)
    subscribe(lambda sender, **kw: requested.append({"sender": sender, **kw}),
              signal=signals.handoff_requested)
    subscribe(lambda sender, **kw: back.append(kw), signal=signals.conversation_handed_back)

    assert text(app.test_client(), bound, "a human please") == [Sent("Connecting you to a person…")]
    conversation = the_conversation(bound)
    assert conversations.state_of(conversation) == conversations.NEEDS_AGENT
    assert conversation.handoff_reason == "wants a person"
    (event,) = requested
    assert event["sender"] is app
    assert (event["conversation_id"], event["domain_id"], event["customer"], event["reason"]) == (
        conversation.id, "1", CUSTOMER, "wants a person"
    )

    # while a person is asked for, the chatbot is not called; the message is kept
    assert text(client, bound, "hello?") == []
    assert calls == ["a human please"]
    with app.test_request_context():
        thread = conversations.thread(care, conversation.id)
    assert [m.body for m in thread] == ["a human please", "Connecting you to a person…", "hello?"]

    with app.test_request_context():
        conversations.take_over(care, conversation.id, ANA)
        [sent] = conversations.reply(care, conversation.id, ANA, "Hi, Ana here.")
    assert (sent.from_number, sent.to_number, sent.details["operator"]) == (
        CARE_NUMBER, CUSTOMER, {"id": "u1", "name": "Ana"}
    )
    assert [(r.form["From"], r.form["To"], r.form["Body"]) for r in twilio_api.messages] == [
        (CARE_NUMBER, CUSTOMER, "Hi, Ana here.")
    ]
    assert text(client, bound, "thanks Ana") == []
    assert calls == ["a human please"]

    with app.test_request_context():
        conversations.hand_back(care, conversation.id, ANA)
    assert back == [{"conversation_id": conversation.id, "domain_id": "1", "operator": ANA,
                     "reason": "handed_back"}]
    assert text(client, bound, "still there?") == [Sent("bot: still there?")]
    assert conversations.state_of(the_conversation(bound)) == conversations.BOT


def test_two_operators_taking_over_at_once_one_wins_the_other_is_told_who(
    app: Flask, client: FlaskClient, bound: Bound, care: t.Any
) -> None:
    text(client, bound, "hi")
    conversation_id = the_conversation(bound).id
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def take(operator: Operator) -> None:
        with app.test_request_context():
            barrier.wait()
            try:
                conversations.take_over(care, conversation_id, operator)
                outcomes[operator.name] = "won"
            except ConversationTaken as e:
                outcomes[operator.name] = str(e)

    threads = [threading.Thread(target=take, args=(o,)) for o in (ANA, BEN)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    loser = "Ben" if winner == "Ana" else "Ana"
    assert outcomes[loser] == f"{winner} has this conversation."
    holder = the_conversation(bound)
    assert (holder.handoff, holder.agent_name) == ("agent", winner)

    other = BEN if winner == "Ana" else ANA
    with app.test_request_context():
        with pytest.raises(ConversationTaken, match=f"{winner} has this conversation."):
            conversations.reply(care, conversation_id, other, "me too")
        with pytest.raises(ConversationTaken):
            conversations.hand_back(care, conversation_id, other)


def test_a_reply_needs_the_conversation_taken_over_and_respects_opt_outs(
    app: Flask, client: FlaskClient, bound: Bound, care: t.Any, twilio_api: TwilioStandIn
) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    text(client, bound, "hi")
    conversation_id = the_conversation(bound).id
    with app.test_request_context():
        with pytest.raises(NotTakenOver, match="Take the conversation over to reply."):
            conversations.reply(care, conversation_id, ANA, "hello")
        conversations.take_over(care, conversation_id, ANA)
    text(client, bound, "STOP")
    with app.test_request_context():
        with pytest.raises(OptedOut, match="opted out"):
            conversations.reply(care, conversation_id, ANA, "are you sure?")
    assert twilio_api.messages == []


def test_operator_silence_gives_the_conversation_back_to_the_chatbot(
    app: Flask, client: FlaskClient, bound: Bound, subscribe: Subscribe, care: t.Any
) -> None:
    back: list[dict[str, t.Any]] = []
    subscribe(lambda sender, *, message, **kw: f"bot: {message.body}")
    subscribe(lambda sender, **kw: back.append(kw), signal=signals.conversation_handed_back)
    text(client, bound, "hi")
    conversation_id = the_conversation(bound).id
    with app.test_request_context():
        conversations.take_over(care, conversation_id, ANA)
    assert text(client, bound, "anyone?") == []
    timeout = app.config["XSMS_HANDOFF_TIMEOUT"]
    session = get_state(app).session
    session.execute(
        sa.update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(handoff_at=utcnow() - dt.timedelta(seconds=timeout + 1))
    )
    session.commit()
    assert conversations.state_of(the_conversation(bound)) == conversations.BOT
    assert text(client, bound, "hello again") == [Sent("bot: hello again")]
    assert the_conversation(bound).handoff == "bot"
    assert [(e["operator"], e["reason"]) for e in back] == [(None, "timeout")]
    # and now anyone may take it over again
    with app.test_request_context():
        assert conversations.take_over(care, conversation_id, BEN).agent_name == "Ben"


def test_the_list_is_newest_first_filtered_by_state_and_number(
    app: Flask, client: FlaskClient, bound: Bound, care: t.Any
) -> None:
    first, second = "+14155550111", "+14155550122"
    text(client, bound, "from the first", customer=first)
    text(client, bound, "from the second", customer=second)
    with app.test_request_context():
        page = conversations.conversations(care)
        assert [s.conversation.customer_number for s in page.items] == [second, first]
        assert [s.last_message.body for s in page.items if s.last_message] == [
            "from the second", "from the first"
        ]
        taken = next(s.conversation.id for s in page.items if s.conversation.customer_number == first)
        conversations.take_over(care, taken, ANA)
        by_state = conversations.conversations(care, state=conversations.AGENT)
        assert [s.conversation.customer_number for s in by_state.items] == [first]
        assert [s.state for s in by_state.items] == ["agent"]
        by_number = conversations.conversations(care, number=second)
        assert [s.state for s in by_number.items] == ["bot"]
        with pytest.raises(conversations.ConversationNotFound):
            conversations.thread(care, 10**6)
