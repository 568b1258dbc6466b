"""A local stand-in for Twilio's REST API, for tests. Nothing reaches the internet.

A real HTTP server (Werkzeug's) runs in a thread on 127.0.0.1. It records every request
and answers like Twilio: by default a created Message (HTTP 201), or what a test scripts
with :meth:`TwilioStandIn.answer` / :meth:`TwilioStandIn.fail`.

It also keeps the account's incoming phone numbers (:meth:`TwilioStandIn.add_number`):
``GET …/IncomingPhoneNumbers.json?PhoneNumber=…`` lists them as a page, and
``POST …/IncomingPhoneNumbers/{PN…}.json`` updates one, in the shapes of Twilio's API
definition. With :attr:`TwilioStandIn.auth_token` set, other tokens get 401 (error 20003).

Use the ``twilio_api`` fixture (import it into a test module) and point the app at it
with ``app.config["XSMS_TWILIO_API_BASE_URL"] = twilio_api.url``; or a bare client with
``client.api.base_url = twilio_api.url``.
"""
from __future__ import annotations

import base64
import collections.abc as c
import dataclasses
import email.utils
import json
import re
import threading
import time
import typing as t
import uuid

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask_xsms.segments import count_segments

MESSAGES_PATH = "/2010-04-01/Accounts/{account_sid}/Messages.json"
NUMBERS_PATH = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/IncomingPhoneNumbers\.json$")
NUMBER_PATH = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/IncomingPhoneNumbers/(PN\w+)\.json$")
#: Form fields of an IncomingPhoneNumber update and the resource fields they set.
NUMBER_UPDATE_FIELDS = {
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "SmsFallbackUrl": "sms_fallback_url",
    "SmsFallbackMethod": "sms_fallback_method",
    "SmsApplicationSid": "sms_application_sid",
    "FriendlyName": "friendly_name",
}


@dataclasses.dataclass
class RecordedRequest:
    """One request the stand-in received."""

    method: str
    path: str
    #: The form fields; ``form.getlist("MediaUrl")`` for repeated ones.
    form: MultiDict[str, str]
    #: The HTTP Basic user (the account SID) and password (the auth token).
    user: str | None
    password: str | None
    #: The query string's fields (``PhoneNumber`` of a list request).
    query: MultiDict[str, str] = dataclasses.field(default_factory=MultiDict)

    @property
    def account_sid(self) -> str | None:
        parts = self.path.split("/")
        return parts[3] if len(parts) > 3 and parts[2] == "Accounts" else None


@dataclasses.dataclass
class Answer:
    """A scripted answer: HTTP status, body, delay.

    The body is sent as JSON; a ``str`` is sent as it is; ``None`` means a created
    Message.
    """

    status: int = 201
    body: t.Any = None
    delay: float = 0.0


Handler = c.Callable[[RecordedRequest], "Answer | None"]


class TwilioStandIn:
    """The running stand-in: its :attr:`url`, the :attr:`requests` it got, its script."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: list[Answer] = []
        self._lock = threading.Lock()
        #: Optional function that answers a request (return ``None`` for the default).
        self.handler: Handler | None = None
        #: The account's incoming phone numbers by sid, as Twilio's JSON.
        self.numbers: dict[str, dict[str, t.Any]] = {}
        #: When set, a request with another auth token gets 401 (error 20003).
        self.auth_token: str | None = None
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> TwilioStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    # -- scripting ------------------------------------------------------------------

    def answer(self, status: int = 201, body: t.Any = None, *, delay: float = 0.0) -> None:
        """Queue one answer for the next request (first in, first out)."""
        with self._lock:
            self._script.append(Answer(status, body, delay))

    def fail(
        self, code: int, status: int = 400, message: str = "Error", *, delay: float = 0.0
    ) -> None:
        """Queue one Twilio error answer: ``{"code", "message", "more_info", "status"}``."""
        self.answer(status, error_json(code, status, message), delay=delay)

    def add_number(self, phone_number: str, **fields: t.Any) -> dict[str, t.Any]:
        """Give the account an incoming phone number; ``fields`` override its JSON."""
        data = number_json(phone_number, **fields)
        with self._lock:
            self.numbers[data["sid"]] = data
        return data

    def number(self, phone_number: str) -> dict[str, t.Any] | None:
        """The account's number with exactly this ``phone_number``, as Twilio has it now."""
        with self._lock:
            found = [n for n in self.numbers.values() if n["phone_number"] == phone_number]
        return found[0] if found else None

    @property
    def number_updates(self) -> list[RecordedRequest]:
        """The requests that updated an incoming phone number."""
        return [r for r in self.requests if r.method == "POST" and NUMBER_PATH.match(r.path)]

    @property
    def messages(self) -> list[RecordedRequest]:
        """The requests that created a Message."""
        return [
            r for r in self.requests if r.method == "POST" and r.path.endswith("/Messages.json")
        ]

    # -- serving --------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        request = Request(environ)
        user = password = None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        recorded = RecordedRequest(
            request.method,
            request.path,
            MultiDict(request.form),
            user,
            password,
            MultiDict(request.args),
        )
        with self._lock:
            self.requests.append(recorded)
            scripted = self._script.pop(0) if self._script else None
        answer = (
            scripted
            or (self.handler(recorded) if self.handler else None)
            or self._numbers_api(recorded)
            or Answer()
        )
        if answer.delay:
            time.sleep(answer.delay)
        body = answer.body
        if body is None:
            if request.method == "POST" and request.path.endswith("/Messages.json"):
                body = message_json(recorded)
            else:
                body = error_json(20404, 404, "The requested resource was not found")
                answer = Answer(404, body)
        text = body if isinstance(body, str) else json.dumps(body)
        response = Response(text, status=answer.status, mimetype="application/json")
        return response(environ, start_response)


    def _numbers_api(self, request: RecordedRequest) -> Answer | None:
        """Twilio's IncomingPhoneNumbers list and update, and its credentials check."""
        if self.auth_token is not None and request.password != self.auth_token:
            return Answer(401, error_json(20003, 401, "Authenticate"))
        listing = NUMBERS_PATH.match(request.path)
        if listing and request.method == "GET":
            wanted = request.query.get("PhoneNumber", "").lstrip("+")
            with self._lock:
                # Twilio matches parts of numbers too.
                found = [
                    dict(n, account_sid=listing.group(1))
                    for n in self.numbers.values()
                    if wanted in n["phone_number"]
                ]
            return Answer(200, numbers_page(request, found))
        one = NUMBER_PATH.match(request.path)
        if one and request.method == "POST":
            with self._lock:
                data = self.numbers.get(one.group(2))
                if data is not None:
                    for field, key in NUMBER_UPDATE_FIELDS.items():
                        if field in request.form:
                            data[key] = request.form[field]
                    data["date_updated"] = email.utils.formatdate(usegmt=True)
                    data = dict(data, account_sid=one.group(1))
            if data is None:
                message = f"The requested resource {request.path} was not found"
                return Answer(404, error_json(20404, 404, message))
            return Answer(200, data)
        return None


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: t.Any, **kwargs: t.Any) -> None:
        pass


def new_sid(prefix: str = "SM") -> str:
    """A sid in Twilio's shape: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


def error_json(code: int, status: int, message: str) -> dict[str, t.Any]:
    """Twilio's error body."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def message_json(request: RecordedRequest, **overrides: t.Any) -> dict[str, t.Any]:
    """The JSON of a Message created from ``request``, as Twilio answers it."""
    account_sid = request.account_sid or new_sid("AC")
    sid = new_sid("MM" if request.form.getlist("MediaUrl") else "SM")
    body = request.form.get("Body", "")
    now = email.utils.formatdate(usegmt=True)
    data = {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": request.form.get("From"),
        "messaging_service_sid": request.form.get("MessagingServiceSid"),
        "num_media": str(len(request.form.getlist("MediaUrl"))),
        # WhatsApp has no segments: Twilio answers 1
        "num_segments": (
            "1" if request.form.get("To", "").startswith("whatsapp:")
            else str(count_segments(body).segments)
        ),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {
            "media": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media.json"
        },
        "to": request.form.get("To"),
        "uri": f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json",
    }
    data.update(overrides)
    return data


def number_json(phone_number: str, **overrides: t.Any) -> dict[str, t.Any]:
    """An IncomingPhoneNumber as Twilio's API answers it (no SMS URLs set)."""
    sid = overrides.pop("sid", None) or new_sid("PN")
    account_sid = overrides.get("account_sid") or "AC" + "0" * 32
    now = email.utils.formatdate(usegmt=True)
    data = {
        "account_sid": account_sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": "2010-04-01",
        "beta": False,
        "bundle_sid": None,
        "capabilities": {"fax": False, "mms": True, "sms": True, "voice": True},
        "date_created": now,
        "date_updated": now,
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "emergency_status": "Inactive",
        "friendly_name": phone_number,
        "identity_sid": None,
        "origin": "twilio",
        "phone_number": phone_number,
        "sid": sid,
        "sms_application_sid": "",
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": "POST",
        "sms_url": "",
        "status": "in-use",
        "status_callback": "",
        "status_callback_method": "POST",
        "subresource_uris": {
            "assigned_add_ons": (
                f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}/AssignedAddOns.json"
            )
        },
        "trunk_sid": None,
        "type": "local",
        "uri": f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{sid}.json",
        "voice_application_sid": "",
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_receive_mode": "voice",
        "voice_url": None,
    }
    data.update(overrides)
    return data


def numbers_page(request: RecordedRequest, numbers: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    """A page of IncomingPhoneNumbers, the only page, as Twilio answers a list request."""
    page_size = int(request.query.get("PageSize", "50"))
    query = "&".join(f"{k}={v}" for k, v in request.query.items(multi=True))
    uri = request.path + (f"?{query}" if query else "")
    return {
        "end": max(len(numbers) - 1, 0),
        "first_page_uri": uri,
        "incoming_phone_numbers": numbers[:page_size],
        "next_page_uri": None,
        "page": 0,
        "page_size": page_size,
        "previous_page_uri": None,
        "start": 0,
        "uri": uri,
    }


@pytest.fixture
def twilio_api() -> t.Iterator[TwilioStandIn]:
    """A running :class:`TwilioStandIn`, stopped after the test."""
    server = TwilioStandIn().start()
    try:
        yield server
    finally:
        server.stop()
