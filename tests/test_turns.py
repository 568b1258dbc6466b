"""Turns claimed in the database: one runner answers a message, a dead runner's turn is
handed over, a turn that keeps killing its runner is given up, a live one keeps its claim,
and a turn with no free chatbot thread waits in the database."""
from __future__ import annotations

import datetime as dt
import threading
import time
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import InboundMessage
from flask_xsms import _leases as leases
from flask_xsms._extension import get_state
from flask_xsms._inbound import parse_inbound
from flask_xsms._inbound import turns
from flask_xsms._inbound.chatbots import Outcome
from flask_xsms._inbound import wait_for_chatbots
from flask_xsms._inbound.runner import ANSWERED
from flask_xsms._inbound.runner import BUSY
from flask_xsms._inbound.runner import runner_for
from flask_xsms._inbound.store import store
from flask_xsms.models import Integration
from flask_xsms.models import utcnow

from .signing import CUSTOMER
from .signing import inbound_params
from .signing import signed_post
from .signing import twiml_messages
from .twilio_server import TwilioStandIn
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER
from .webhooks_support import Subscribe


@pytest.fixture
def rest(app: Flask, twilio_api: TwilioStandIn) -> TwilioStandIn:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    return twilio_api


def stored_turn(
    bound: Bound, body: str = "hello", *, age: float = 0.0, **columns: t.Any
) -> int:
    """A message stored as the Request URL stores one, with its turn in ``columns``."""
    session = get_state(bound.app).session
    integration = session.get(Integration, bound.integration_id)
    assert integration is not None
    message = parse_inbound(inbound_params(To=CARE_NUMBER, From=CUSTOMER, Body=body))
    turn = {
        "status": "received",
        "claimed_at": utcnow() - dt.timedelta(seconds=age),
        "response_twiml": "<Response/>",
        **columns,
    }
    stored = store(integration, message, turn=turn)
    assert stored is not None
    return stored[0]


def sent_bodies(api: TwilioStandIn) -> list[str]:
    return [r.form["Body"] for r in api.messages if r.form.get("To") == CUSTOMER]


def test_two_runners_racing_one_turn_call_the_chatbot_once(
    app: Flask, bound: Bound, subscribe: Subscribe, rest: TwilioStandIn
) -> None:
    calls: list[str] = []

    def bot(sender: str, *, message: InboundMessage, **kw: t.Any) -> str:
        calls.append(message.body)
        time.sleep(0.2)
        return f"answer: {message.body}"

    subscribe(bot)
    message_id = stored_turn(bound, "race")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def runner() -> None:
        with app.app_context():
            barrier.wait()
            outcomes.append(runner_for(app).answer(message_id))

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(outcomes) == [ANSWERED, BUSY]
    assert calls == ["race"]
    assert sent_bodies(rest) == ["answer: race"]
    (row,) = bound.messages(id=message_id)
    assert (row.status, row.turn_attempts, row.claimed_by) == ("handled", 1, None)
    assert [r.body for r in bound.replies_to(row)] == ["answer: race"]


def test_a_dead_runners_turn_is_handed_over_and_its_late_replies_are_dropped(
    app: Flask, bound: Bound, subscribe: Subscribe, rest: TwilioStandIn
) -> None:
    subscribe(lambda sender, *, message, **kw: f"answer: {message.body}")
    claim_timeout = app.config["XSMS_TURN_CLAIM_TIMEOUT"]
    dead = "d" * 32
    message_id = stored_turn(
        bound, "anyone?", age=claim_timeout + 5, status="processing", claimed_by=dead,
        turn_attempts=1, response_twiml=None,
    )
    assert turns.hand_over_stale() == [message_id]
    (row,) = bound.messages(id=message_id)
    # nobody waits for its TwiML any more: the replies will go through the REST API
    assert (row.status, row.claimed_by, row.response_twiml) == (
        "received", None, '<?xml version="1.0" encoding="UTF-8"?><Response />'
    )
    assert turns.hand_over_stale() == []  # not stale any more
    assert runner_for(app).answer(message_id) == ANSWERED
    assert sent_bodies(rest) == ["answer: anyone?"]

    # the first runner was not dead after all: its answer comes too late and goes nowhere
    stale_turn = turns.load(message_id, dead)
    assert stale_turn is not None
    assert turns.finish(stale_turn, Outcome()) is None
    assert sent_bodies(rest) == ["answer: anyone?"]
    (row,) = bound.messages(id=message_id)
    assert (row.status, row.turn_attempts) == ("handled", 2)
    assert len(bound.replies_to(row)) == 1


def test_a_turn_that_keeps_dying_is_given_up_with_the_apology(
    app: Flask, bound: Bound, subscribe: Subscribe, rest: TwilioStandIn
) -> None:
    subscribe(lambda sender, **kw: pytest.fail("not called again"))
    attempts = app.config["XSMS_CHATBOT_MAX_ATTEMPTS"]
    message_id = stored_turn(
        bound, age=app.config["XSMS_TURN_CLAIM_TIMEOUT"] + 5, status="processing",
        claimed_by="d" * 32, turn_attempts=attempts,
    )
    assert turns.hand_over_stale() == []
    assert runner_for(app).answer(message_id) == BUSY
    (row,) = bound.messages(id=message_id)
    assert row.status == "failed" and f"{attempts} run(s)" in (row.error_message or "")
    assert sent_bodies(rest) == [app.config["XSMS_APOLOGY_MESSAGE"]]
    assert turns.hand_over_stale() == [] and len(rest.messages) == 1


def test_a_running_chatbot_keeps_its_claim_and_a_stopped_one_loses_it(
    app: Flask, bound: Bound
) -> None:
    app.config.update(XSMS_REPLY_TIMEOUT=0.2, XSMS_TURN_CLAIM_TIMEOUT=0.9)
    message_id = stored_turn(bound)
    runner = runner_for(app)  # renews every 0.3 s
    token = turns.new_token()
    assert turns.claim(message_id, token)
    with runner.holding(token):
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            assert turns.hand_over_stale() == []  # alive: renewed in time
            time.sleep(0.2)
    time.sleep(1.5)  # no renewal any more
    assert turns.hand_over_stale() == [message_id]


def test_without_a_free_chatbot_thread_a_turn_waits_in_the_database(
    app: Flask, client: FlaskClient, bound: Bound, subscribe: Subscribe, rest: TwilioStandIn
) -> None:
    app.config["XSMS_CHATBOT_THREADS"] = 1
    release = threading.Event()

    def bot(sender: str, *, message: InboundMessage, **kw: t.Any) -> str:
        if message.body == "first":
            release.wait(10)
        return f"answer: {message.body}"

    subscribe(bot)
    app.config["XSMS_REPLY_TIMEOUT"] = 0.3
    first = signed_post(client, bound.urls.request_url, inbound_params(Body="first"))
    assert twiml_messages(first) == []  # the only thread is busy with it
    started = time.monotonic()
    params = inbound_params(Body="second")
    second = signed_post(client, bound.urls.request_url, params)
    assert time.monotonic() - started < 0.3  # no thread to wait for: answered at once
    assert twiml_messages(second) == []
    assert bound.inbound(params["MessageSid"]).status == "received"
    release.set()
    assert wait_for_chatbots(timeout=10)
    assert sorted(sent_bodies(rest)) == ["answer: first", "answer: second"]
    assert bound.inbound(params["MessageSid"]).status == "handled"


def test_the_sweep_of_a_process_answers_a_turn_whose_process_died(
    app: Flask, bound: Bound, subscribe: Subscribe, rest: TwilioStandIn
) -> None:
    app.config.update(
        XSMS_REPLY_TIMEOUT=0.2, XSMS_TURN_CLAIM_TIMEOUT=0.6, XSMS_TURN_SWEEP_INTERVAL=0.2
    )
    subscribe(lambda sender, *, message, **kw: f"answer: {message.body}")
    message_id = stored_turn(
        bound, "lost?", age=5, status="processing", claimed_by="d" * 32, turn_attempts=1,
        response_twiml=None,
    )
    runner_for(app).ensure_started()  # as the first webhook request of a process does
    deadline = time.monotonic() + 10
    while not rest.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert wait_for_chatbots(timeout=10)
    assert sent_bodies(rest) == ["answer: lost?"]
    (row,) = bound.messages(id=message_id)
    assert (row.status, row.turn_attempts) == ("handled", 2)


def test_replies_sent_later_keep_the_sender_and_callback_of_the_request(
    app: Flask, client: FlaskClient, bound: Bound, subscribe: Subscribe, twilio_api: TwilioStandIn
) -> None:
    app.config.update(XSMS_TWILIO_API_BASE_URL=twilio_api.url, XSMS_REPLY_TIMEOUT=0.2)
    release = threading.Event()

    def slow(sender: str, **kw: t.Any) -> str:
        release.wait(10)
        return "late answer"

    subscribe(slow)
    params = inbound_params(Body="hi")
    public = bound.urls.request_url.replace("http://localhost", "https://public.example.org")
    signed_post(client, public, params)
    row = bound.inbound(params["MessageSid"])
    callback = "https://public.example.org/xsms/hooks/" + bound.webhook_id + "/status"
    assert (row.reply_from, row.reply_callback) == (CARE_NUMBER, callback)
    release.set()
    assert wait_for_chatbots(timeout=10)
    (sent,) = twilio_api.messages
    assert (sent.form["From"], sent.form["StatusCallback"]) == (CARE_NUMBER, callback)


def test_one_holder_at_a_time_has_a_lease(app: Flask) -> None:
    engine = get_state(app).db.engine
    assert leases.acquire(engine, "job", "a", 0.5)
    assert not leases.acquire(engine, "job", "b", 0.5)
    assert leases.acquire(engine, "job", "a", 0.5)  # the holder renews it
    time.sleep(0.6)
    assert leases.acquire(engine, "job", "b", 0.5)
    assert not leases.acquire(engine, "job", "a", 0.5)


def test_a_turn_claim_timeout_shorter_than_the_reply_timeout_is_refused(
    database_url: str,
) -> None:
    from .hostapp import create_host_app

    with pytest.raises(ValueError, match="XSMS_TURN_CLAIM_TIMEOUT must be longer"):
        create_host_app(database_url, XSMS_TURN_CLAIM_TIMEOUT=5, XSMS_REPLY_TIMEOUT=8)
    with pytest.raises(ValueError, match="XSMS_CHATBOT_VIA must be"):
        create_host_app(database_url, XSMS_CHATBOT_VIA="threads")
