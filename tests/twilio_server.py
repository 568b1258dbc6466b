"""A local stand-in for Twilio's REST API, for tests. Nothing reaches the internet.

A real HTTP server (Werkzeug's) runs in a thread on 127.0.0.1. It records every request
and answers like Twilio: by default a created Message (HTTP 201), or what a test scripts
with :meth:`TwilioStandIn.answer` / :meth:`TwilioStandIn.fail`.

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
            request.method, request.path, MultiDict(request.form), user, password
        )
        with self._lock:
            self.requests.append(recorded)
            scripted = self._script.pop(0) if self._script else None
        answer = scripted or (self.handler(recorded) if self.handler else None) or Answer()
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
        "num_segments": str(count_segments(body).segments),
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


@pytest.fixture
def twilio_api() -> t.Iterator[TwilioStandIn]:
    """A running :class:`TwilioStandIn`, stopped after the test."""
    server = TwilioStandIn().start()
    try:
        yield server
    finally:
        server.stop()
