"""Segment-aware replies: counts on every stored message, optional one-segment parts,
and a warning when a chatbot's answer is too long."""
from __future__ import annotations

import logging
import typing as t

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_xsms import InboundMessage
from flask_xsms.outbound import send
from flask_xsms.segments import count_segments
from flask_xsms._twiml import split_body

from .hostapp import Directory
from .signing import CUSTOMER
from .signing import inbound_params
from .signing import signed_post
from .signing import twiml_messages
from .twilio_server import TwilioStandIn
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER
from .webhooks_support import Subscribe

LONG_GSM = " ".join(f"word{i}" for i in range(100))  # 689 GSM-7 characters
LONG_UCS2 = " ".join(f"mot{i}ê" for i in range(40))  # UCS-2 because of ê


def echo(sender: str, *, message: InboundMessage, **extra: t.Any) -> str:
    return message.body


def post(client: FlaskClient, bound: Bound, body: str) -> tuple[t.Any, dict[str, str]]:
    params = inbound_params(To=CARE_NUMBER, Body=body)
    params.pop("NumSegments", None)  # let the extension count them
    return signed_post(client, bound.urls.request_url, params), params


@pytest.mark.parametrize(
    ("text", "limit"), [(LONG_GSM, 160), (LONG_UCS2, 70), ("{[]}" * 50, 160)]
)
def test_one_segment_parts_split_on_words(text: str, limit: int) -> None:
    parts = split_body(text, one_segment=True)
    assert len(parts) > 1
    assert all(count_segments(p).segments == 1 for p in parts)
    assert all(count_segments(p).units <= limit for p in parts)
    if " " in text:
        assert " ".join(parts) == text


def test_every_stored_message_has_its_segment_count(
    client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    subscribe(echo)
    response, params = post(client, bound, LONG_GSM)
    (sent,) = twiml_messages(response)  # under 1600 characters: one message
    row = bound.inbound(params["MessageSid"])
    assert row.num_segments == count_segments(LONG_GSM).segments == 5
    (reply,) = bound.replies_to(row)
    assert reply.num_segments == 5 and reply.body == sent.body


def test_replies_split_at_segments_when_asked(
    app: Flask, client: FlaskClient, bound: Bound, subscribe: Subscribe
) -> None:
    app.config["XSMS_SPLIT_AT_SEGMENTS"] = True
    subscribe(echo)
    response, params = post(client, bound, LONG_UCS2)
    sent = twiml_messages(response)
    assert len(sent) >= -(-count_segments(LONG_UCS2).units // 70) > 1
    assert all(count_segments(m.body).segments == 1 for m in sent)
    assert " ".join(m.body for m in sent) == LONG_UCS2
    row = bound.inbound(params["MessageSid"])
    assert [r.num_segments for r in bound.replies_to(row)] == [1] * len(sent)


def test_a_reply_past_the_segment_budget_is_logged(
    app: Flask,
    client: FlaskClient,
    bound: Bound,
    subscribe: Subscribe,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app.config["XSMS_MAX_REPLY_SEGMENTS"] = 3
    subscribe(echo)
    with caplog.at_level(logging.WARNING, logger="flask_xsms"):
        post(client, bound, "short")
        assert "replies_too_long" not in caplog.text
        post(client, bound, LONG_GSM)
    (record,) = [r for r in caplog.records if getattr(r, "xsms_event", "") == "replies_too_long"]
    assert record.segments == 5 and "takes 5 SMS segments" in record.getMessage()


def test_sent_messages_are_counted_and_can_split_at_segments(
    app: Flask, directory: Directory, bound: Bound, twilio_api: TwilioStandIn
) -> None:
    app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url
    app.config["XSMS_PUBLIC_BASE_URL"] = "https://sms.example.com"
    (whole,) = send("1", from_number=CARE_NUMBER, to=CUSTOMER, body=LONG_GSM)
    assert whole.num_segments == 5
    app.config["XSMS_SPLIT_AT_SEGMENTS"] = True
    parts = send("1", from_number=CARE_NUMBER, to=CUSTOMER, body=LONG_GSM)
    assert len(parts) == 5 and all(p.num_segments == 1 for p in parts)
    assert [r.form["Body"] for r in twilio_api.requests[-5:]] == [p.body for p in parts]
