"""A receiver that raises never undoes or repeats what was done before its signal."""
from __future__ import annotations

import logging
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import Pair
from flask_xsms import signals
from flask_xsms.numbers import bindings_of
from flask_xsms.numbers import replace_bindings
from flask_xsms.outbound import send

from .hostapp import Directory
from .signing import CUSTOMER
from .signing import signed_post
from .twilio_server import TwilioStandIn
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER


def broken(sender: t.Any, **kwargs: t.Any) -> None:
    raise RuntimeError("receiver bug")


def test_numbers_are_saved_even_if_a_receiver_raises(
    app: Flask, directory: Directory, caplog: pytest.LogCaptureFixture
) -> None:
    with signals.numbers_saved.connected_to(broken), caplog.at_level(logging.ERROR):
        replace_bindings(directory.domains["1"], [Pair("+14155550100", "11")])
    assert [b.phone_number for b in bindings_of(directory.domains["1"])] == ["+14155550100"]
    assert "Receiver broken of signal 'numbers-saved' failed." in caplog.text


def test_a_sent_message_is_not_reported_as_failed_by_a_raising_receiver(
    app: Flask, bound: Bound, twilio_api: TwilioStandIn
) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    with signals.message_sent.connected_to(broken):
        (message,) = send("1", from_number=CARE_NUMBER, to=CUSTOMER, body="Hello")
    assert message.status == "queued" and message.sid
    assert len(twilio_api.requests) == 1  # sent once, not again


def test_a_status_callback_is_kept_and_answered_if_a_receiver_raises(
    app: Flask, client: FlaskClient, bound: Bound, twilio_api: TwilioStandIn
) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    (message,) = send("1", from_number=CARE_NUMBER, to=CUSTOMER, body="Hello")
    with signals.delivery_status_changed.connected_to(broken):
        response = signed_post(
            client,
            bound.urls.status_callback_url,
            {"MessageSid": message.sid, "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32},
        )
    assert response.status_code == 204
    assert bound.messages(sid=message.sid)[0].status == "delivered"
