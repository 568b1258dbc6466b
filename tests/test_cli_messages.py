"""``flask xsms simulate``, ``send`` and ``retry``, through Flask's CLI runner."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import typing as t
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask

from flask_xsms import InboundMessage
from flask_xsms._extension import get_state
from flask_xsms.models import Message
from flask_xsms.models import utcnow
from flask_xsms.numbers import PLUS_SIGN_REQUIRED

from .signing import ACCOUNT_SID
from .signing import inbound_params
from .twilio_server import TwilioStandIn
from .webhooks_support import Bound
from .webhooks_support import CARE_APP
from .webhooks_support import CARE_NUMBER
from .webhooks_support import Subscribe

CUSTOMER = "+14155550123"


def run(app: Flask, *args: str) -> t.Any:
    return app.test_cli_runner().invoke(args=["xsms", *args])


def twiml_bodies(text: str) -> list[str]:
    root = ET.fromstring(text.strip())
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]


# -- simulate -------------------------------------------------------------------------


def test_simulate_prints_the_twiml_answer(app: Flask, bound: Bound, subscribe: Subscribe) -> None:
    subscribe(lambda sender, *, message, **kw: f"You said: {message.body}", sender=CARE_APP)
    result = run(app, "simulate", "--to", CARE_NUMBER, "--from", CUSTOMER, "hello there")
    assert result.exit_code == 0, result.output
    assert twiml_bodies(result.output) == ["You said: hello there"]
    (row,) = bound.messages(direction="inbound")
    assert (row.from_number, row.status, row.account_sid) == (CUSTOMER, "handled", ACCOUNT_SID)


def test_simulate_the_fallback_url(app: Flask, bound: Bound) -> None:
    result = run(app, "simulate", "--fallback", "--to", CARE_NUMBER, "--from", CUSTOMER, "hi")
    assert result.exit_code == 0, result.output
    assert twiml_bodies(result.output) == [app.config["XSMS_FALLBACK_MESSAGE"]]
    (row,) = bound.messages(direction="inbound")
    # the message became a turn, answered (with nothing: no chatbot here) after the apology
    assert (row.status, row.error_code, row.turn_attempts) == ("handled", "11200", 1)


def test_simulate_problems_exit_1_with_a_message(app: Flask, bound: Bound) -> None:
    result = run(app, "simulate", "--to", "+14155550999", "--from", CUSTOMER, "hi")
    assert result.exit_code == 1
    assert "+14155550999 is not bound to an application." in result.output
    result = run(app, "simulate", "--to", CARE_NUMBER, "--from", "4155550123", "hi")
    assert result.exit_code == 1 and PLUS_SIGN_REQUIRED in result.output
    app.config["XSMS_MAX_REQUEST_SIZE"] = 100
    result = run(app, "simulate", "--to", CARE_NUMBER, "--from", CUSTOMER, "hi")
    assert result.exit_code == 1 and "answered HTTP 413" in result.output
    assert bound.messages() == []


def test_simulate_usage_errors_exit_2(app: Flask, bound: Bound) -> None:
    assert run(app, "simulate", "--from", CUSTOMER, "hi").exit_code == 2
    assert run(app, "simulate", "--to", CARE_NUMBER, "--from", CUSTOMER).exit_code == 2


# -- send -----------------------------------------------------------------------------


def test_send_through_the_rest_api(app: Flask, bound: Bound, twilio_api: TwilioStandIn) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    result = run(app, "send", "--domain", "1", "--from", CARE_NUMBER, "--to", CUSTOMER, "Shipped!")
    assert result.exit_code == 0, result.output
    (request,) = twilio_api.messages
    assert (request.form["From"], request.form["To"], request.form["Body"]) == (
        CARE_NUMBER,
        CUSTOMER,
        "Shipped!",
    )
    (row,) = bound.messages(direction="outbound")
    assert result.output == f"Sent message {row.id}: {row.sid} (queued).\n"


def test_send_to_the_outbox_only(app: Flask, bound: Bound, twilio_api: TwilioStandIn) -> None:
    app.config["XSMS_SEND_IMMEDIATELY"] = False
    result = run(app, "send", "--domain", "1", "--from", CARE_NUMBER, "--to", CUSTOMER, "Later")
    assert result.exit_code == 0
    (row,) = bound.messages(direction="outbound")
    assert row.status == "pending"
    assert result.output == f"Stored message {row.id} in the outbox; `flask xsms retry` sends it.\n"
    assert twilio_api.messages == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--domain", "99", "--from", CARE_NUMBER), "There is no such IA Domain."),
        (("--domain", "2", "--from", CARE_NUMBER), "is not bound to an application of the IA"),
        (("--domain", "1", "--from", "14155550100"), PLUS_SIGN_REQUIRED),
    ],
)
def test_send_refuses_bad_input(
    app: Flask, bound: Bound, twilio_api: TwilioStandIn, args: tuple[str, ...], expected: str
) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    result = run(app, "send", *args, "--to", CUSTOMER, "hi")
    assert result.exit_code == 1 and expected in result.output
    assert twilio_api.messages == [] and bound.messages() == []


def test_send_reports_twilios_error(app: Flask, bound: Bound, twilio_api: TwilioStandIn) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    twilio_api.fail(21211, message="Invalid 'To' Phone Number")
    result = run(app, "send", "--domain", "1", "--from", CARE_NUMBER, "--to", CUSTOMER, "hi")
    assert result.exit_code == 1
    (row,) = bound.messages(direction="outbound")
    assert (
        f"Invalid 'To' Phone Number (Twilio error 21211). Stored as message {row.id} (failed)."
        in result.output
    )
    result = run(app, "send", "--domain", "1", "--from", CARE_NUMBER, "--to", CUSTOMER, " ")
    assert result.exit_code == 1 and "A message needs a body or media." in result.output


def test_send_usage_errors_exit_2(app: Flask, bound: Bound) -> None:
    assert run(app, "send", "--from", CARE_NUMBER, "--to", CUSTOMER, "hi").exit_code == 2


# -- retry ----------------------------------------------------------------------------


def test_retry_with_nothing_to_do(app: Flask, bound: Bound) -> None:
    result = run(app, "retry")
    assert (result.exit_code, result.output) == (0, "Nothing to retry.\n")


def test_retry_sends_the_outbox(app: Flask, bound: Bound, twilio_api: TwilioStandIn) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    app.config["XSMS_SEND_IMMEDIATELY"] = False
    for body in ("one", "two", "three"):
        result = run(app, "send", "--domain", "1", "--from", CARE_NUMBER, "--to", CUSTOMER, body)
        assert result.exit_code == 0
    result = run(app, "retry", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert "Retried outbound: 2 sent, 0 still pending, 0 failed" in result.output
    assert [r.form["Body"] for r in twilio_api.messages] == ["one", "two"]
    result = run(app, "retry")
    assert result.exit_code == 0 and "1 sent" in result.output
    assert [m.status for m in bound.messages(direction="outbound")] == ["queued"] * 3
    assert run(app, "retry").output == "Nothing to retry.\n"


def test_retry_problems_exit_1(app: Flask, bound: Bound, twilio_api: TwilioStandIn) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    app.config["XSMS_SEND_IMMEDIATELY"] = False
    for body in ("busy", "bad"):
        run(app, "send", "--domain", "1", "--from", CARE_NUMBER, "--to", CUSTOMER, body)
    twilio_api.fail(20429, status=429, message="Too Many Requests")
    twilio_api.fail(21211, message="Invalid 'To' Phone Number")
    result = run(app, "retry")
    assert result.exit_code == 1
    assert "Retried outbound: 0 sent, 1 still pending, 1 failed" in result.output
    assert "Too Many Requests" in result.output and "Invalid 'To' Phone Number" in result.output
    assert [m.status for m in bound.messages(direction="outbound")] == ["pending", "failed"]


def stuck_inbound(bound: Bound, *, status: str, age: float, body: str = "still there?") -> Message:
    """An inbound message left unanswered ``age`` seconds ago, as a stopped process leaves it."""
    params = inbound_params(To=CARE_NUMBER, From=CUSTOMER, Body=body)
    moment = utcnow() - dt.timedelta(seconds=age)
    row = Message(
        sid=params["MessageSid"],
        direction="inbound",
        integration_id=bound.integration_id,
        application_id=CARE_APP,
        account_sid=ACCOUNT_SID,
        from_number=CUSTOMER,
        to_number=CARE_NUMBER,
        body=body,
        status=status,
        details=params,
        created_at=moment,
        updated_at=moment,
        claimed_at=moment,
        response_twiml=None if status == "processing" else "<Response/>",
    )
    session = get_state(bound.app).session
    session.add(row)
    session.commit()
    return row


def test_retry_answers_inbound_messages_that_never_got_an_answer(
    app: Flask, bound: Bound, subscribe: Subscribe, twilio_api: TwilioStandIn
) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    seen: list[InboundMessage] = []

    def bot(sender: str, *, message: InboundMessage, **kw: t.Any) -> str:
        seen.append(message)
        return f"Sorry for the wait: {message.body}"

    subscribe(bot, sender=CARE_APP)
    old = stuck_inbound(bound, status="processing", age=3600, body="first")
    late = stuck_inbound(bound, status="received", age=3600, body="second")
    recent = stuck_inbound(bound, status="received", age=5, body="third")
    old_id, late_id, recent_id = old.id, late.id, recent.id

    result = run(app, "retry")
    assert result.exit_code == 0, result.output
    assert "inbound: 2 answered, 0 failed" in result.output
    assert [m.body for m in seen] == ["first", "second"]
    assert [(r.form["To"], r.form["Body"]) for r in twilio_api.messages] == [
        (CUSTOMER, "Sorry for the wait: first"),
        (CUSTOMER, "Sorry for the wait: second"),
    ]
    assert bound.inbound(old.sid).status == "handled"
    replies = bound.messages(in_reply_to_id=late_id)
    assert [r.body for r in replies] == ["Sorry for the wait: second"]
    assert bound.messages(id=recent_id)[0].status == "received"
    assert bound.messages(id=old_id)[0].turn_attempts == 1
    # Answered ones are never answered twice; the recent one waits for a shorter cutoff.
    result = run(app, "retry", "--older-than", "0")
    assert result.exit_code == 0 and "inbound: 1 answered" in result.output
    assert len(twilio_api.messages) == 3


def test_retry_leaves_turns_that_are_over_alone(
    app: Flask, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(lambda sender, **kw: "never called", sender=CARE_APP)
    for status in ("handled", "failed", "fallback", "unrouted"):
        stuck_inbound(bound, status=status, age=3600)
    assert run(app, "retry").output == "Nothing to retry.\n"


def test_retry_of_a_failing_chatbot_sends_the_apology_and_exits_1(
    app: Flask, bound: Bound, subscribe: Subscribe, twilio_api: TwilioStandIn
) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url

    def broken(sender: str, **kw: t.Any) -> str:
        raise RuntimeError("model offline")

    subscribe(broken, sender=CARE_APP)
    row = stuck_inbound(bound, status="processing", age=3600)
    result = run(app, "retry")
    assert result.exit_code == 1
    assert "RuntimeError: model offline" in result.output
    assert [r.form["Body"] for r in twilio_api.messages] == [app.config["XSMS_APOLOGY_MESSAGE"]]
    stored = bound.inbound(row.sid)
    assert stored.status == "failed" and "model offline" in (stored.error_message or "")


def test_retry_usage_errors_exit_2(app: Flask) -> None:
    assert run(app, "retry", "--limit", "0").exit_code == 2
    assert run(app, "retry", "--older-than", "soon").exit_code == 2


# -- a real process -------------------------------------------------------------------


def test_real_flask_simulate_on_the_example_app(tmp_path: Path) -> None:
    """``flask --app example_app xsms simulate`` in a process of its own, with the
    example app's demo credentials."""
    env = {
        **os.environ,
        "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'simulate.sqlite'}",
        "FLASK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    for key in ("FLASK_XSMS_PUBLIC_BASE_URL", "FLASK_XSMS_TWILIO_AUTH_TOKEN",
                "FLASK_XSMS_TWILIO_ACCOUNT_SID"):
        env.pop(key, None)
    flask = [sys.executable, "-m", "flask", "--app", "example_app"]
    setup = subprocess.run(
        [
            sys.executable,
            "-c",
            "from example_app import create_app, init_database; from flask_xsms import Pair;"
            "from flask_xsms.numbers import replace_bindings;"
            "from example_app.host import load_domain;"
            "app = create_app(); ctx = app.app_context(); ctx.push(); init_database();"
            "replace_bindings(load_domain('1'), [Pair('+14155550100', '1')])",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert setup.returncode == 0, setup.stderr
    done = subprocess.run(
        [*flask, "xsms", "simulate", "--to", "+14155550100", "--from", CUSTOMER, "hello"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert twiml_bodies(done.stdout) == [
        "Hello! This is Acme Care Assistant. How can I help you today?"
    ]
    failed = subprocess.run(
        [*flask, "xsms", "simulate", "--to", "+14155550199", "--from", CUSTOMER, "hello"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 1
    assert "Error: +14155550199 is not bound to an application." in failed.stderr
