"""Random requests at every webhook: never a 500, nobody unsigned gets in, nothing is lost.

Each example is one POST built from random parameters (any text, NUL included, huge
values around ``XSMS_MAX_REQUEST_SIZE``, missing and repeated fields) in a random body
encoding, signed with twilio's ``RequestValidator`` or not. What the webhook must answer
is worked out from the form the server parses out of those bytes: Twilio signs the
parameters it sends, so a correct signature is a signature of what the server reads.
"""

from __future__ import annotations

import dataclasses
import json
import typing as t
import urllib.parse

import pytest
import sqlalchemy as sa
from flask import Flask
from flask import Request
from flask.testing import FlaskClient
from hypothesis import assume
from hypothesis import given
from hypothesis import HealthCheck
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart
from werkzeug.test import EnvironBuilder
from werkzeug.test import TestResponse

from flask_xsms import signals
from flask_xsms._extension import get_state
from flask_xsms._inbound import wait_for_chatbots
from flask_xsms.models import Message

from .signing import ACCOUNT_SID
from .signing import new_sid
from .signing import inbound_params
from .signing import sign
from .signing import signed_post
from .signing import twiml_messages
from .webhooks_support import AGENT_NUMBER
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER
from .webhooks_support import SALES_NUMBER
from .webhooks_support import Subscribe
from .webhooks_support import UNKNOWN_NUMBER

ROUTES = ("request_url", "fallback_url", "status_callback_url")
#: Replaced in every key and value by a MessageSid no other example uses.
SID = "@SID@"
MAX_ID = 64

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

KNOWN_KEYS = (
    "MessageSid",
    "SmsMessageSid",
    "SmsSid",
    "AccountSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "NumSegments",
    "MediaUrl0",
    "MediaContentType0",
    "MediaUrl1",
    "MediaUrl99",
    "OptOutType",
    "MessagingServiceSid",
    "ErrorCode",
    "ErrorUrl",
    "MessageStatus",
    "SmsStatus",
)
ODD_VALUES = (
    "",
    " ",
    "\x00",
    "\t\n",
    "0",
    "-1",
    "3",
    "100001",
    "99999999999999999999",
    "1e3",
    "STOP",
    "help",
    "https://api.twilio.test/Media/ME1",
    "%FF%00",
    "<Response>&amp;</Response>",
    CARE_NUMBER,
)

keys = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12))
values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(ODD_VALUES),
    st.text(min_size=MAX_ID - 2, max_size=MAX_ID + 10),
    st.builds(lambda s: SID + s, st.text(max_size=8)),
)
numbers = st.one_of(
    st.sampled_from([CARE_NUMBER, AGENT_NUMBER, SALES_NUMBER, UNKNOWN_NUMBER, f" {CARE_NUMBER} "]),
    values,
)
ENCODINGS = (
    "urlencoded",
    "urlencoded; charset=ISO-8859-1",
    "multipart",
    "percent-latin-1",
    "raw-latin-1",
    "percent-invalid-utf-8",
    "raw-invalid-utf-8",
    "text/plain",
    "json",
    "no content type",
)
SIGNINGS = ("none", "garbage", "wrong token", "other url", "tampered")


@dataclasses.dataclass(frozen=True)
class Spec:
    """A request before its MessageSid is made unique: parameters, encoding, size."""

    pairs: tuple[tuple[str, str], ...]
    encoding: str
    #: Total body length to pad a urlencoded body to, around XSMS_MAX_REQUEST_SIZE.
    size: int | None


@st.composite
def specs(draw: st.DrawFn, route: str, *, huge: bool = True) -> Spec:
    """Twilio's parameters for ``route``, then dropped, blanked, repeated, added to."""
    if route == "status_callback_url":
        status = st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed"])
        base = {"MessageSid": SID, "MessageStatus": draw(st.one_of(status, values))}
    else:
        base = {"MessageSid": SID, "From": draw(numbers), "To": draw(numbers)}
        base["Body"] = draw(st.text(max_size=200))
        if route == "fallback_url":
            base["ErrorCode"] = draw(st.one_of(st.just("11205"), values))
            base["ErrorUrl"] = draw(st.one_of(st.just("https://sms.example.com/sms"), values))
    base["AccountSid"] = ACCOUNT_SID
    for name in draw(st.sets(st.sampled_from(sorted(base)), max_size=2)):
        if draw(st.booleans()):
            del base[name]
        else:
            base[name] = draw(st.sampled_from(["", "  ", "\x00", "x" * (MAX_ID + 1)]))
    pairs = list(base.items())
    num_media = draw(st.integers(0, 4))
    if num_media:
        pairs.append(("NumMedia", draw(st.sampled_from([str(num_media), "x", "-2", "1000"]))))
        pairs += [(f"MediaUrl{i}", draw(values)) for i in range(num_media)]
        pairs += [(f"MediaContentType{i}", draw(values)) for i in range(num_media)]
    pairs += draw(st.lists(st.tuples(keys, values), max_size=6))
    repeated = draw(st.lists(st.sampled_from(sorted(base) or ["From"]), max_size=2))
    pairs += [(name, draw(values)) for name in repeated]
    pairs = draw(st.permutations(pairs))
    limit = 64 * 1024
    size = draw(st.one_of(st.none(), st.integers(limit - 300, limit + 300))) if huge else None
    return Spec(tuple(pairs), draw(st.sampled_from(ENCODINGS)), size)


def materialise(spec: Spec) -> list[tuple[str, str]]:
    sid = new_sid()
    return [(k.replace(SID, sid), v.replace(SID, sid)) for k, v in spec.pairs]


def encode(pairs: list[tuple[str, str]], spec: Spec) -> tuple[bytes, str | None]:
    """The body and Content-Type of ``pairs`` in the spec's encoding."""
    form = "application/x-www-form-urlencoded"
    encoding = spec.encoding
    if encoding == "multipart":
        boundary, data = encode_multipart(MultiDict(pairs))
        return data, f"multipart/form-data; boundary={boundary}"
    if encoding == "json":
        return json.dumps(dict(pairs)).encode(), "application/json"
    if encoding == "raw-latin-1":
        return "&".join(f"{k}={v}" for k, v in pairs).encode("latin-1", "replace"), form
    latin = encoding == "percent-latin-1"
    body = urllib.parse.urlencode(pairs, encoding="latin-1" if latin else "utf-8", errors="replace")
    if encoding == "percent-invalid-utf-8":
        body += "&Junk=%C3%28%FF%FE"
    data = body.encode("ascii")
    if encoding == "raw-invalid-utf-8":
        data += b"&Junk=\xc3\x28\xff"
    if spec.size is not None and len(data) < spec.size:
        pad = spec.size - len(data) - len("&Pad=")
        data += b"&Pad=" + b"x" * max(pad, 0)
    content_type = {"text/plain": "text/plain", "no content type": None}.get(encoding, form)
    if encoding.startswith("urlencoded;"):
        content_type = f"{form}; charset=ISO-8859-1"
    return data, content_type


def server_form(data: bytes, content_type: str | None) -> MultiDict[str, str]:
    """The form Flask parses out of a body (what a correct signature covers).

    A multipart part whose name has a line break or backslash comes out named ``None``;
    such a form can't have been signed by Twilio, and is kept here under the key ``None``.
    """
    environ = EnvironBuilder(method="POST", data=data, content_type=content_type).get_environ()
    return MultiDict(Request(environ).form)


def signed(form: MultiDict[str, str]) -> MultiDict[str, str]:
    """The parameters a signer covers: those with a name."""
    return MultiDict([(k, v) for k, v in form.items(multi=True) if isinstance(k, str)])


def refused(form: MultiDict[str, str]) -> bool:
    """Whether a signed request is still 403: a nameless part, or not the account's."""
    return None in form or form.get("AccountSid") != ACCOUNT_SID


@dataclasses.dataclass
class Watch:
    """What reached the database and the chatbot, counted per MessageSid."""

    app: Flask
    chatbot: list[str]
    signalled: list[str]

    def count(self, sid: str | None = None, *, direction: str | None = None) -> int:
        """Stored messages (with ``sid``; or inbound/outbound; or all of them)."""
        session = get_state(self.app).session
        session.commit()  # see what the request committed
        query = sa.select(sa.func.count()).select_from(Message)
        if sid is not None:
            query = query.where(Message.sid == sid)
        if direction is not None:
            query = query.where(Message.direction == direction)
        return int(session.scalar(query) or 0)

    def row(self, sid: str) -> Message:
        session = get_state(self.app).session
        session.commit()
        (row,) = session.scalars(sa.select(Message).filter_by(sid=sid))
        return row


@pytest.fixture
def watch(app: Flask, bound: Bound, subscribe: Subscribe) -> Watch:
    chatbot: list[str] = []
    signalled: list[str] = []

    def echo(sender: t.Any, *, message: t.Any, **kw: t.Any) -> str:
        chatbot.append(message.sid)
        return f"echo: {message.body}"

    subscribe(echo)
    for signal in (signals.fallback_used, signals.unrouted_message):
        subscribe(lambda sender, *, message, **kw: signalled.append(message.sid), signal=signal)
    return Watch(app, chatbot, signalled)


def post(
    client: FlaskClient, url: str, data: bytes, content_type: str | None, signature: str | None
) -> TestResponse:
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return client.post(url, data=data, content_type=content_type, headers=headers)


def first(form: MultiDict[str, str], name: str) -> str:
    return (form.get(name) or "").replace("\x00", "\ufffd")


def message_sid(form: MultiDict[str, str]) -> str | None:
    """The MessageSid a signed inbound request is stored under, or None when the request
    lacks a required field (Request URL: 400; Fallback URL: polite, nothing stored)."""
    sid = first(form, "MessageSid") or first(form, "SmsMessageSid") or first(form, "SmsSid")
    required = [sid, first(form, "From"), first(form, "To")]
    if any(not value.strip() for value in required):
        return None
    if any(len(value) > MAX_ID for value in [*required, first(form, "AccountSid")]):
        return None
    return sid.strip()


def new_signed_request(
    url: str, spec: Spec, watch: Watch
) -> tuple[bytes, str | None, MultiDict[str, str], str, str | None]:
    """A request drawn from ``spec``, signed for ``url``: its body, Content-Type, the form
    the server parses from it, its signature and the MessageSid it is stored under."""
    data, content_type = encode(materialise(spec), spec)
    form = server_form(data, content_type)
    sid = message_sid(form)
    # a constant MessageSid drawn twice is a repeat: the callers check repeats themselves
    assume(sid is None or watch.count(sid) == 0)
    return data, content_type, form, sign(url, signed(form)), sid


def never_500(response: TestResponse) -> None:
    # 503 is no better: the database is up, so it would mean it refused the input
    assert response.status_code < 500, (response.status_code, response.data)


@pytest.mark.parametrize("route", ROUTES)
def test_unsigned_or_mis_signed_requests_get_nothing(
    client: FlaskClient, bound: Bound, watch: Watch, route: str
) -> None:
    url = getattr(bound.urls, route)
    other = bound.urls.fallback_url if route == "request_url" else bound.urls.request_url

    @PROPERTY
    @given(spec=specs(route), signing=st.sampled_from(SIGNINGS), garbage=st.text(
        st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
    def check(spec: Spec, signing: str, garbage: str) -> None:
        data, content_type = encode(materialise(spec), spec)
        form = server_form(data, content_type)
        signature = {
            "none": None,
            "garbage": garbage,
            "wrong token": sign(url, signed(form), "not-the-token"),
            "other url": sign(other, signed(form)),
            "tampered": sign(url, MultiDict([*signed(form).items(multi=True), ("Body", "more")])),
        }[signing]
        before = (watch.count(), len(watch.chatbot), len(watch.signalled))
        response = post(client, url, data, content_type, signature)
        never_500(response)
        oversized = len(data) > client.application.config["XSMS_MAX_REQUEST_SIZE"]
        assert response.status_code == (413 if oversized else 403)
        if response.status_code == 403:
            assert response.data == b""
        assert (watch.count(), len(watch.chatbot), len(watch.signalled)) == before

    check()


def test_signed_messages_at_the_request_url_are_stored_exactly_once(
    client: FlaskClient, bound: Bound, watch: Watch
) -> None:
    url = bound.urls.request_url

    @PROPERTY
    @given(spec=specs("request_url"))
    def check(spec: Spec) -> None:
        data, content_type, form, signature, sid = new_signed_request(url, spec, watch)
        total, inbound = watch.count(), watch.count(direction="inbound")
        response = post(client, url, data, content_type, signature)
        never_500(response)
        if len(data) > client.application.config["XSMS_MAX_REQUEST_SIZE"]:
            assert response.status_code == 413 and watch.count() == total
            return
        if refused(form):
            assert response.status_code == 403 and watch.count() == total
            return
        if sid is None:
            assert response.status_code == 400 and watch.count() == total
            assert sid not in watch.chatbot
            return
        twiml_messages(response)  # well-formed TwiML
        assert watch.count(sid) == 1 and watch.count(direction="inbound") == inbound + 1
        row = watch.row(sid)
        assert row.body == first(form, "Body")
        assert (row.from_number, row.to_number) == (
            first(form, "From").strip(),
            first(form, "To").strip(),
        )
        routed = row.to_number in (CARE_NUMBER, AGENT_NUMBER)
        assert watch.chatbot.count(sid) == (1 if routed else 0)
        again = post(client, url, data, content_type, signature)
        assert again.status_code == 200 and again.data == response.data
        assert watch.count(sid) == 1 and watch.count(direction="inbound") == inbound + 1
        assert watch.chatbot.count(sid) == (1 if routed else 0)

    check()


def test_signed_messages_at_the_fallback_url_are_kept_and_answered_politely(
    client: FlaskClient, bound: Bound, watch: Watch, app: Flask
) -> None:
    url = bound.urls.fallback_url
    polite = [app.config["XSMS_FALLBACK_MESSAGE"]]

    @PROPERTY
    @given(spec=specs("fallback_url"))
    def check(spec: Spec) -> None:
        data, content_type, form, signature, sid = new_signed_request(url, spec, watch)
        total, inbound = watch.count(), watch.count(direction="inbound")
        response = post(client, url, data, content_type, signature)
        never_500(response)
        if len(data) > app.config["XSMS_MAX_REQUEST_SIZE"]:
            assert response.status_code == 413 and watch.count() == total
            return
        if refused(form):
            assert response.status_code == 403 and watch.count() == total
            return
        assert [m.body for m in twiml_messages(response)] == polite
        if sid is None:
            assert watch.count() == total and wait_for_chatbots(timeout=10)
            return
        assert watch.count(sid) == 1 and watch.count(direction="inbound") == inbound + 1
        assert watch.row(sid).body == first(form, "Body")
        assert watch.signalled.count(sid) == 1
        # the message became a turn: its chatbot answers once, later, through the REST API
        assert wait_for_chatbots(timeout=10)
        routed = watch.row(sid).status != "unrouted"
        assert watch.chatbot.count(sid) == (1 if routed else 0)
        again = post(client, url, data, content_type, signature)
        assert [m.body for m in twiml_messages(again)] == polite
        assert watch.count(sid) == 1 and watch.count(direction="inbound") == inbound + 1
        assert wait_for_chatbots(timeout=10)
        assert watch.chatbot.count(sid) == (1 if routed else 0)

    check()


def test_signed_status_callbacks_never_fail_and_store_nothing_new(
    client: FlaskClient, bound: Bound, watch: Watch, app: Flask
) -> None:
    url = bound.urls.status_callback_url

    @PROPERTY
    @given(spec=specs("status_callback_url"))
    def check(spec: Spec) -> None:
        data, content_type = encode(materialise(spec), spec)
        form = server_form(data, content_type)
        total = watch.count()
        response = post(client, url, data, content_type, sign(url, signed(form)))
        never_500(response)
        if len(data) > app.config["XSMS_MAX_REQUEST_SIZE"]:
            expected = 413
        elif refused(form):
            expected = 403
        elif not (form.get("MessageSid") and form.get("MessageStatus")):
            expected = 400
        else:
            expected = 204
        assert response.status_code == expected, response.data
        assert watch.count() == total

    check()


def test_a_from_of_33_to_64_characters_is_handled(
    client: FlaskClient, bound: Bound, watch: Watch
) -> None:
    params = inbound_params(From="+1" + "5" * 40)
    response = signed_post(client, bound.urls.request_url, params)
    assert response.status_code == 200, response.status_code
    assert watch.count(params["MessageSid"]) == 1


# -- what the properties found, as plain examples ---------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_a_multipart_part_without_a_name_is_refused_not_a_500(
    client: FlaskClient, bound: Bound, watch: Watch, route: str
) -> None:
    url = getattr(bound.urls, route)
    boundary, data = encode_multipart(MultiDict([*inbound_params().items(), ("a\nb", "v")]))
    content_type = f"multipart/form-data; boundary={boundary}"
    form = server_form(data, content_type)
    assert None in form
    response = post(client, url, data, content_type, sign(url, signed(form)))
    assert response.status_code == 403 and watch.count() == 0


def test_a_nul_error_code_at_the_fallback_url_still_keeps_the_message(
    client: FlaskClient, bound: Bound, watch: Watch, app: Flask
) -> None:
    params = inbound_params(ErrorCode="\x00", ErrorUrl="https://sms.example.com/\x00")
    response = signed_post(client, bound.urls.fallback_url, params)
    assert [m.body for m in twiml_messages(response)] == [app.config["XSMS_FALLBACK_MESSAGE"]]
    assert watch.row(params["MessageSid"]).error_code == "\ufffd"


def test_a_nul_in_a_status_callback_is_not_a_database_outage(
    client: FlaskClient, bound: Bound
) -> None:
    params = {"AccountSid": ACCOUNT_SID, "MessageSid": "SM\x00", "MessageStatus": "sent\x00"}
    assert signed_post(client, bound.urls.status_callback_url, params).status_code == 204
