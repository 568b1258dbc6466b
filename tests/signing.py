"""Requests signed the way Twilio signs them, and TwiML answers read as XML."""

from __future__ import annotations

import dataclasses
import secrets
import typing as t
import xml.etree.ElementTree as ET

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

#: The credentials of tests/hostapp.py.
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token"

CUSTOMER = "+14155559876"


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def inbound_params(**fields: str | None) -> dict[str, str]:
    """The parameters Twilio posts for an inbound SMS; a field given as None is left out."""
    params = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": "",
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": "",
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": "Hello",
        "FromCountry": "US",
        "To": "+14155550100",
        "ToZip": "94105",
        "NumSegments": "1",
        "MessageSid": new_sid(),
        "AccountSid": ACCOUNT_SID,
        "From": CUSTOMER,
        "ApiVersion": "2010-04-01",
    }
    params.update({k: v for k, v in fields.items() if v is not None})
    for k, v in fields.items():
        if v is None:
            params.pop(k, None)
    for alias in ("SmsMessageSid", "SmsSid"):
        if alias in params and not params[alias]:
            params[alias] = params.get("MessageSid", "")
    return params


def sign(url: str, params: t.Mapping[str, t.Any], token: str = AUTH_TOKEN) -> str:
    """Twilio's ``X-Twilio-Signature`` of ``url`` and ``params``."""
    return str(RequestValidator(token).compute_signature(url, params))


def signed_post(
    client: FlaskClient,
    url: str,
    params: t.Mapping[str, t.Any],
    *,
    token: str = AUTH_TOKEN,
    sign_url: str | None = None,
    headers: t.Mapping[str, str] | None = None,
) -> TestResponse:
    """POST ``params`` to the absolute ``url``, signed for ``sign_url`` (default ``url``)."""
    data = params if isinstance(params, MultiDict) else MultiDict(params)
    signature = sign(sign_url or url, data, token)
    return client.post(url, data=data, headers={"X-Twilio-Signature": signature, **(headers or {})})


@dataclasses.dataclass(frozen=True)
class Sent:
    """One ``<Message>`` of a TwiML answer."""

    body: str
    media: tuple[str, ...] = ()


def twiml_messages(response: TestResponse) -> list[Sent]:
    """The messages of a TwiML answer, checked to be ``text/xml`` with a ``<Response>`` root."""
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    sent = []
    for verb in root:
        assert verb.tag == "Message"
        body_node = verb.find("Body")
        body = body_node.text if body_node is not None else verb.text
        media = tuple(m.text or "" for m in verb.findall("Media"))
        assert body or media, "a <Message> without body or media triggers Twilio error 14103"
        sent.append(Sent(body or "", media))
    return sent
