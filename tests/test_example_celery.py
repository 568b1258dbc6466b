"""The example host on Celery, as docs/deployment.rst runs it: the web app answers
Twilio at once and a real ``celery -A example_app.tasks worker`` answers the customer."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from example_app import create_app
from example_app.host import as_xsms_domain
from example_app.models import Application
from example_app.models import db
from flask_xsms import Pair
from flask_xsms.integrations import create_integration
from flask_xsms.integrations import webhook_urls
from flask_xsms.numbers import replace_bindings

from .celery_support import require_broker
from .signing import ACCOUNT_SID
from .signing import AUTH_TOKEN
from .signing import CUSTOMER
from .signing import inbound_params
from .signing import signed_post
from .signing import twiml_messages
from .twilio_server import TwilioStandIn

pytestmark = pytest.mark.postgresql

ROOT = Path(__file__).resolve().parent.parent
BROKER = "redis://127.0.0.1:6379/9"
NUMBER = "+14155550100"


@pytest.fixture
def broker() -> str:
    return require_broker("redis", BROKER)


def test_the_example_host_answers_through_a_celery_worker(
    example: Flask,
    database_url: str,
    postgresql_url: str,
    broker: str,
    twilio_api: TwilioStandIn,
    tmp_path: Path,
) -> None:
    if database_url != postgresql_url:
        pytest.skip("the worker process shares the PostgreSQL database")
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "XSMS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "XSMS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "XSMS_CHATBOT_VIA": "celery",
        "XSMS_TWILIO_API_BASE_URL": twilio_api.url,
        "XSMS_PUBLIC_BASE_URL": "https://sms.example.com",
        "CELERY_BROKER_URL": broker,
    }
    web = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, **settings})
    web.extensions["celery"].control.purge()  # tasks of earlier runs
    with web.test_request_context():
        assistant = db.session.scalars(
            sa.select(Application).filter_by(channel_type="Customer Assistant").limit(1)
        ).one()
        domain = as_xsms_domain(assistant.domain)
        replace_bindings(domain, [Pair(NUMBER, str(assistant.id))])
        integration = create_integration(domain)
        assert integration is not None
        url = webhook_urls(integration).request_url

    started = time.monotonic()
    response = signed_post(web.test_client(), url, inbound_params(Body="ping 42", To=NUMBER))
    assert twiml_messages(response) == []  # answered at once; the worker answers later
    assert time.monotonic() - started < 2

    env = {
        **os.environ,
        **{f"FLASK_{key}": str(value) for key, value in settings.items()},
        "FLASK_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "example_app.tasks", "worker", "--pool",
             "solo", "-l", "warning", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
        )
        try:
            deadline = time.monotonic() + 60
            while not twilio_api.messages and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            worker.kill()
            worker.wait(10)
    assert twilio_api.messages, (tmp_path / "worker.log").read_text()
    (sent,) = twilio_api.messages
    assert (sent.form["To"], sent.form["From"]) == (CUSTOMER, NUMBER)
    assert "ping 42" in sent.form["Body"]
    assert sent.form["StatusCallback"].startswith("https://sms.example.com/xsms/hooks/")
    with web.app_context():
        db.session.remove()
        db.engine.dispose()
