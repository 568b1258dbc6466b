"""flask_xsms.testing used the way a chatbot author uses it: from a tiny host of their own."""
from __future__ import annotations

import textwrap

import pytest

HOST = '''
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_xsms import Application, Domain, Reply, XSMS, signals

db = SQLAlchemy()
xsms = XSMS()
DOMAIN = Domain("7", "Support", "acme", "production")


@xsms.domain_loader
def load_domain(domain_id):
    return DOMAIN if domain_id == DOMAIN.id else None


@xsms.applications_loader
def load_applications(domain):
    return [Application("70", "Support Bot", "Customer Assistant")]


@xsms.permission_handler
def may_manage(domain):
    return True


def support_bot(sender, *, message, **extra):
    if message.body.strip().lower() in ("hi", "hello"):
        return "Hello! How can I help?"
    return [f"You wrote: {message.body}", Reply("Here is our logo.", ["https://example.com/logo.png"])]


signals.message_received.connect(support_bot, sender="70", weak=False)


def create_app(database_url):
    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=database_url,
        XSMS_TWILIO_ACCOUNT_SID="AC" + "7" * 32,
        XSMS_TWILIO_AUTH_TOKEN="support-token",
    )
    db.init_app(app)
    xsms.init_app(app)
    return app
'''

CONFTEST = '''
import pytest

from flask_xsms import Pair
from flask_xsms.numbers import replace_bindings
from host import DOMAIN, create_app, xsms


@pytest.fixture
def app(tmp_path):
    app = create_app(f"sqlite:///{tmp_path / 'host.sqlite'}")
    with app.app_context():
        xsms.create_all()
        replace_bindings(DOMAIN, [Pair("+14155550100", "70")])
    return app
'''

TESTS = '''
def test_greeting(sms):
    replies = sms.send("+14155550100", "hi")
    assert [r.body for r in replies] == ["Hello! How can I help?"]


def test_echo_with_media(sms):
    replies = sms.send("+1 415 555 0100", "where is my parcel?", from_="+14155550123")
    assert [r.body for r in replies] == ["You wrote: where is my parcel?", "Here is our logo."]
    assert replies[1].media == ("https://example.com/logo.png",)


def test_fallback_answers_politely(sms):
    (reply,) = sms.fallback("+14155550100", "hello?")
    assert "Sorry" in reply.body
'''


@pytest.fixture
def host_project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(host=textwrap.dedent(HOST), conftest=textwrap.dedent(CONFTEST))
    pytester.makepyfile(test_support_bot=textwrap.dedent(TESTS))
    return pytester


def test_a_chatbot_author_tests_a_bot_with_the_sms_fixture(host_project: pytest.Pytester) -> None:
    host_project.makeini("[pytest]\nxsms_fixtures = true\n")
    result = host_project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_the_fixtures_are_off_unless_the_project_turns_them_on(
    host_project: pytest.Pytester,
) -> None:
    host_project.makeini("[pytest]\n")
    result = host_project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(["*fixture 'sms' not found*"])
