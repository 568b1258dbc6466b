"""Parsing Twilio's inbound parameters once, into a typed value."""

from __future__ import annotations

import dataclasses

import pytest
from werkzeug.datastructures import MultiDict

from flask_xsms import InboundMessage
from flask_xsms import InvalidWebhookRequest
from flask_xsms import Media
from flask_xsms._inbound import parse_inbound

from .signing import inbound_params


def test_the_usual_parameters() -> None:
    params = inbound_params(Body="Hi", NumSegments="2", MessagingServiceSid="MG" + "0" * 32)
    message = parse_inbound(MultiDict(params))
    assert isinstance(message, InboundMessage)
    assert (message.sid, message.account_sid, message.from_, message.to, message.body) == (
        params["MessageSid"],
        params["AccountSid"],
        params["From"],
        params["To"],
        "Hi",
    )
    assert message.num_segments == 2 and message.media == () and message.opt_out_type is None
    assert message.messaging_service_sid == "MG" + "0" * 32
    assert message.params["ToCity"] == "SAN FRANCISCO"


def test_the_value_is_frozen_and_its_params_read_only() -> None:
    message = parse_inbound(inbound_params())
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.sid = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        message.params["Body"] = "x"  # type: ignore[index]


def test_unknown_parameters_are_kept() -> None:
    assert parse_inbound(inbound_params(NewTwilioField="42")).params["NewTwilioField"] == "42"


@pytest.mark.parametrize("alias", ["SmsMessageSid", "SmsSid"])
def test_deprecated_sid_aliases_are_accepted(alias: str) -> None:
    params = inbound_params(MessageSid=None, SmsMessageSid=None, SmsSid=None)
    params[alias] = "SM" + "a" * 32
    assert parse_inbound(params).sid == "SM" + "a" * 32


@pytest.mark.parametrize("missing", ["MessageSid", "From", "To"])
def test_required_parameters(missing: str) -> None:
    params = inbound_params(**{missing: None})
    params.pop("SmsMessageSid"), params.pop("SmsSid")
    with pytest.raises(InvalidWebhookRequest, match=missing) as info:
        parse_inbound(params)
    assert info.value.code == 400


def test_blank_required_values_count_as_missing() -> None:
    with pytest.raises(InvalidWebhookRequest, match="From"):
        parse_inbound(inbound_params(From="  "))


def test_over_long_ids_are_refused() -> None:
    with pytest.raises(InvalidWebhookRequest, match="too long: From"):
        parse_inbound(inbound_params(From="+1" * 40))


def test_media_in_order_with_their_types() -> None:
    params = inbound_params(
        NumMedia="3",
        MediaUrl0="https://m.test/0",
        MediaContentType0="image/png",
        MediaUrl1="https://m.test/1",
        MediaUrl2="https://m.test/2",
        MediaContentType2="audio/amr",
    )
    assert parse_inbound(params).media == (
        Media("https://m.test/0", "image/png"),
        Media("https://m.test/1", None),
        Media("https://m.test/2", "audio/amr"),
    )


@pytest.mark.parametrize("odd", ["", "x", "-1", "9" * 12])
def test_odd_counts_mean_none(odd: str) -> None:
    params = inbound_params(NumMedia=odd, MediaUrl0="https://m.test/0", NumSegments=odd)
    message = parse_inbound(params)
    assert message.media == () and message.num_segments is None


def test_nul_characters_become_replacement_characters() -> None:
    message = parse_inbound(inbound_params(Body="a\x00b"))
    assert message.body == "a\ufffdb" and message.params["Body"] == "a\ufffdb"


def test_opt_out_type() -> None:
    assert parse_inbound(inbound_params(OptOutType="STOP")).opt_out_type == "STOP"
