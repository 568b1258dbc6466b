"""Sending through Celery with a real broker (Redis, RabbitMQ) and real worker processes."""
from __future__ import annotations

import signal
import time
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_xsms import Pair
from flask_xsms._extension import get_state
from flask_xsms.models import Message
from flask_xsms.numbers import replace_bindings
from flask_xsms.outbound import send

from .celery_host import make
from .celery_support import broker  # noqa: F401 (fixture)
from .celery_support import Workers
from .signing import CUSTOMER
from .hostapp import Directory
from .twilio_server import TwilioStandIn

CARE, CARE_NUMBER = "1", "+14155550100"


@pytest.fixture
def celery_setup(
    app: Flask,
    directory: Directory,
    database_url: str,
    broker: str,
    twilio_api: TwilioStandIn,
    tmp_path: Path,
) -> t.Iterator[tuple[Flask, t.Any, Workers]]:
    """The test host sending through Celery, and workers (not started) on its queue."""
    workers = Workers(broker, database_url, twilio_api.url, tmp_path / "workers.log")
    host, celery, tasks = make(broker, database_url, twilio_api.url, workers.queue)
    with host.app_context():
        replace_bindings(directory.domains[CARE], [Pair(CARE_NUMBER, "11")])
    yield host, tasks, workers
    workers.stop()
    with host.app_context():
        get_state(host).db.session.remove()
        get_state(host).db.engine.dispose()
    celery.close()


def send_one(host: Flask, body: str = "Your order shipped") -> int:
    with host.app_context():
        [message] = send(CARE, from_number=CARE_NUMBER, to=CUSTOMER, body=body)
        assert message.status == "pending"  # handed to Celery, not sent here
        return message.id


def wait_for(host: Flask, message_id: int, *statuses: str, timeout: float = 20) -> Message:
    deadline = time.monotonic() + timeout
    while True:
        with host.app_context():
            message = get_state(host).session.get(Message, message_id)
            assert message is not None
            if message.status in statuses or time.monotonic() > deadline:
                assert message.status in statuses, (message.status, message.error_message)
                get_state(host).session.expunge(message)
                return message
        time.sleep(0.1)


def test_a_message_is_sent_once_by_a_worker(
    celery_setup: tuple[Flask, t.Any, Workers], twilio_api: TwilioStandIn
) -> None:
    host, _, workers = celery_setup
    message_id = send_one(host)
    assert twilio_api.messages == []
    workers.start()
    message = wait_for(host, message_id, "queued")
    [request] = twilio_api.messages
    assert (request.form["From"], request.form["To"]) == (CARE_NUMBER, CUSTOMER)
    assert message.sid and message.sid.startswith("SM")


# Worker processes are slow to start: the other cases run on one database each.
ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ON_POSTGRESQL = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)


@ON_SQLITE
def test_rate_limits_and_outages_are_retried_with_backoff(
    celery_setup: tuple[Flask, t.Any, Workers], twilio_api: TwilioStandIn
) -> None:
    host, _, workers = celery_setup
    twilio_api.fail(20429, 429, "Too Many Requests")
    twilio_api.fail(20500, 500, "Internal Server Error")
    workers.start()
    message = wait_for(host, send_one(host), "queued")
    assert len(twilio_api.messages) == 3
    assert message.details["attempts"] == 3


@ON_SQLITE
def test_a_refused_message_fails_without_a_retry(
    celery_setup: tuple[Flask, t.Any, Workers], twilio_api: TwilioStandIn
) -> None:
    host, _, workers = celery_setup
    twilio_api.fail(21211, 400, "The 'To' number is not a valid phone number.")
    workers.start()
    message = wait_for(host, send_one(host), "failed")
    assert message.error_code == "21211"
    time.sleep(1)
    assert len(twilio_api.messages) == 1


@ON_POSTGRESQL
def test_two_workers_given_one_message_send_it_once(
    celery_setup: tuple[Flask, t.Any, Workers], twilio_api: TwilioStandIn
) -> None:
    host, tasks, workers = celery_setup
    twilio_api.answer(201, delay=1.0)  # slow enough for the second worker to try
    message_id = send_one(host)
    tasks.deliver.apply_async(args=[[message_id]])
    tasks.deliver.apply_async(args=[[message_id]])
    workers.start()
    workers.start()
    wait_for(host, message_id, "queued")
    time.sleep(1.5)
    assert len(twilio_api.messages) == 1


@ON_POSTGRESQL
def test_a_worker_killed_mid_send_loses_nothing(
    celery_setup: tuple[Flask, t.Any, Workers], twilio_api: TwilioStandIn
) -> None:
    host, tasks, workers = celery_setup
    workers.env.update(XSMS_CELERY_TWILIO_TIMEOUT="2", XSMS_CELERY_CLAIM_TIMEOUT="3")
    twilio_api.answer(201, delay=30)  # Twilio never answers the first attempt
    message_id = send_one(host)
    first = workers.start()
    deadline = time.monotonic() + 20
    while not twilio_api.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert twilio_api.messages, "the worker never called Twilio"
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert wait_for(host, message_id, "sending").sid is None  # claimed by the dead worker
    workers.start()
    time.sleep(3.2)  # XSMS_SEND_CLAIM_TIMEOUT of the workers
    tasks.send_pending.apply_async()  # as celery beat would
    message = wait_for(host, message_id, "queued")
    assert message.sid and len(twilio_api.messages) == 2
    with host.app_context():
        statuses = get_state(host).session.scalars(sa.select(Message.status)).all()
    assert statuses == ["queued"]
