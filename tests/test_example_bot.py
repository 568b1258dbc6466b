"""The example app's demo bot answers a greeting, HELP, and echoes anything else."""

from __future__ import annotations


import pytest
import sqlalchemy as sa
from flask import Flask

from example_app.bot import HELP_TEXT
from example_app.host import as_xsms_domain
from example_app.models import Application
from example_app.models import db
from flask_xsms import Pair
from flask_xsms.integrations import create_integration
from flask_xsms.integrations import webhook_urls
from flask_xsms.numbers import replace_bindings
from flask_xsms.testing import SMSClient

from .signing import inbound_params
from .signing import signed_post
from .signing import twiml_messages

NUMBERS = ["+14155550100", "+14155550101"]



@pytest.fixture
def request_url(example: Flask) -> str:
    """Acme's production Customer Care: its two assistants bound; the Request URL."""
    with example.test_request_context():
        assistants = db.session.scalars(
            sa.select(Application)
            .filter(Application.channel_type.in_(["Customer Assistant", "Agent Assistant"]))
            .order_by(Application.id)
            .limit(2)
        ).all()
        domain = as_xsms_domain(assistants[0].domain)
        replace_bindings(
            domain, [Pair(n, str(a.id)) for n, a in zip(NUMBERS, assistants, strict=True)]
        )
        integration = create_integration(domain)
        assert integration is not None
        return webhook_urls(integration).request_url


def ask(example: Flask, url: str, body: str, to: str = NUMBERS[0]) -> list[str]:
    response = signed_post(example.test_client(), url, inbound_params(Body=body, To=to))
    return [m.body for m in twiml_messages(response)]


def test_a_greeting_is_answered(example: Flask, request_url: str) -> None:
    for greeting in ["hi", "Hello!", "hey"]:
        (answer,) = ask(example, request_url, greeting)
        assert answer.startswith("Hello! This is Acme Care Assistant.")
    (answer,) = ask(example, request_url, "hello", to=NUMBERS[1])
    assert "Acme Care Agent Helper" in answer


def test_help_is_answered(example: Flask, request_url: str) -> None:
    assert ask(example, request_url, "HELP") == [HELP_TEXT]


def test_anything_else_is_echoed(example: Flask, request_url: str) -> None:
    assert ask(example, request_url, "Where is my order? 📦") == ["You said: Where is my order? 📦"]


def test_a_long_text_comes_back_whole_in_several_messages(example: Flask, request_url: str) -> None:
    text = " ".join(f"part{i}" for i in range(700))  # about 5,000 characters
    answers = ask(example, request_url, text)
    assert len(answers) >= 4 and all(len(a) <= 1600 for a in answers)
    assert " ".join(answers) == f"You said: {text}"


def test_stop_gets_no_bot_reply(example: Flask, request_url: str) -> None:
    assert ask(example, request_url, "STOP") == []


def test_the_demo_bot_through_the_test_helpers(example: Flask, request_url: str) -> None:
    """What a chatbot author writes with flask_xsms.testing (see the docs, 'Testing')."""
    sms = SMSClient(example)
    (reply,) = sms.send(NUMBERS[0], "hi")
    assert reply.body.startswith("Hello! This is Acme Care Assistant.")
    assert [r.body for r in sms.send(NUMBERS[0], "1 kg of flour")] == ["You said: 1 kg of flour"]
    assert sms.history[-1].url == request_url
