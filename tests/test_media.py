"""Inbound media: downloaded from Twilio with the account's credentials, sent nowhere else.

Two real HTTP servers stand in for Twilio: its API on ``127.0.0.1``, which demands the
account's Basic auth and redirects, and its media CDN on ``localhost`` (another host name
and port), which serves the bytes. Both record every request they get.
"""
from __future__ import annotations

import base64
import collections.abc as c
import contextlib
import dataclasses
import re
import socket
import threading
import time
import typing as t

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler
from werkzeug.utils import redirect
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask_xsms import Credentials
from flask_xsms import CredentialsMissing
from flask_xsms import InboundMessage
from flask_xsms import Media
from flask_xsms.errors import MediaCredentialsMissing
from flask_xsms.errors import MediaError
from flask_xsms._extension import get_state
from flask_xsms.media import fetch
from flask_xsms.media import MAX_REDIRECTS
from flask_xsms.media import MediaContent

from .hostapp import create_host_app
from .signing import ACCOUNT_SID
from .signing import AUTH_TOKEN
from .signing import inbound_params
from .signing import new_sid
from .signing import Sent
from .signing import signed_post
from .signing import twiml_messages
from .webhooks_support import Bound
from .webhooks_support import CARE_APP
from .webhooks_support import Subscribe

MEDIA_PATH = re.compile(r"/2010-04-01/Accounts/(AC\w+)/Messages/(MM\w+)/Media/(ME\w+)")
OTHER_ACCOUNT_SID = "AC" + "2" * 32
#: The X-Platform account of the test host's domains "Customer Care" and "Sales".
ACME = "acme"
PICTURE = bytes(range(256)) * 300  # 76,800 bytes, every byte value


@dataclasses.dataclass(frozen=True)
class Seen:
    """One request a server got."""

    method: str
    path: str
    headers: dict[str, str]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: t.Any, **kwargs: t.Any) -> None:
        pass


Handler = c.Callable[[Request], Response]


class Server:
    """A real HTTP server on 127.0.0.1 that records each request and answers with
    :attr:`handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def url(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    def _wsgi(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Any:
        request = Request(environ)
        self.seen.append(Seen(request.method, request.path, dict(request.headers)))
        return self.handler(request)(environ, start_response)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@dataclasses.dataclass
class Body:
    """A body sent in chunks, counting what was sent; ``done`` once the server stopped."""

    chunks: int
    chunk: bytes = b"x" * 65536
    pause: float = 0.0
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    sent: int = 0
    done: threading.Event = dataclasses.field(default_factory=threading.Event)

    @property
    def total(self) -> int:
        return self.chunks * len(self.chunk)

    def __iter__(self) -> c.Iterator[bytes]:
        try:
            for _ in range(self.chunks):
                if self.stop.is_set():
                    return
                self.sent += len(self.chunk)
                yield self.chunk
                if self.pause:
                    time.sleep(self.pause)
        finally:
            self.done.set()


class TwilioMedia:
    """Twilio's media API (``127.0.0.1``) and media CDN (``localhost``), running."""

    def __init__(self) -> None:
        #: The media the CDN holds, by ``ME…`` sid: (bytes, content type).
        self.files: dict[str, tuple[bytes, str | None]] = {}
        #: Set when the test ends: slow answers stop waiting.
        self.release = threading.Event()
        self.api = Server(self._api)
        self.cdn = Server(self._cdn)
        self.api_url = self.api.url("127.0.0.1")
        self.cdn_url = self.cdn.url("localhost")

    def media_url(self, media_sid: str, account_sid: str = ACCOUNT_SID) -> str:
        path = f"/2010-04-01/Accounts/{account_sid}/Messages/{new_sid('MM')}/Media/{media_sid}"
        return self.api_url + path

    def add(self, content: bytes = PICTURE, content_type: str | None = "image/png") -> Media:
        """Store a file on the CDN; its Twilio media URL, as a webhook would post it."""
        sid = new_sid("ME")
        self.files[sid] = (content, content_type)
        return Media(self.media_url(sid), content_type)

    def serve(self, body: t.Iterable[bytes], **headers: str) -> Media:
        """The next media item is ``body``, served by the CDN with ``headers``."""
        self.cdn.handler = lambda request: Response(
            body, headers={"Content-Type": "video/mp4", **headers}
        )
        return self.add(b"unused", "video/mp4")

    def _api(self, request: Request) -> Response:
        match = MEDIA_PATH.fullmatch(request.path)
        if match is None or match.group(1) != ACCOUNT_SID:
            return _twilio_error(404, 20404)
        auth = request.authorization
        if auth is None or (auth.type, auth.username, auth.password) != (
            "basic",
            ACCOUNT_SID,
            AUTH_TOKEN,
        ):
            return _twilio_error(401, 20003)
        if match.group(3) not in self.files:
            return _twilio_error(404, 20404)
        return redirect(f"{self.cdn_url}/v1/{match.group(3)}", 302)

    def _cdn(self, request: Request) -> Response:
        content, content_type = self.files.get(request.path.rpartition("/")[2], (b"", None))
        response = Response(content, status=200 if content else 404)
        if content_type is None:
            del response.headers["Content-Type"]
        else:
            response.headers["Content-Type"] = content_type
        return response

    def nothing_reached_a_server(self) -> bool:
        return not self.api.seen and not self.cdn.seen

    def stop(self) -> None:
        self.release.set()
        self.api.stop()
        self.cdn.stop()


def _twilio_error(status: int, code: int) -> Response:
    body = f'{{"code": {code}, "message": "Error", "status": {status}}}'
    return Response(body, status=status, content_type="application/json")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def twilio() -> c.Iterator[TwilioMedia]:
    servers = TwilioMedia()
    try:
        yield servers
    finally:
        servers.stop()


HostFactory = c.Callable[..., Flask]


@pytest.fixture
def host(twilio: TwilioMedia) -> c.Iterator[HostFactory]:
    """Make the test host (no database needed), pointed at the Twilio stand-in, with its
    app context pushed; the host's credentials are ACCOUNT_SID / AUTH_TOKEN for every
    account."""
    with contextlib.ExitStack() as stack:

        def make(**config: t.Any) -> Flask:
            config.setdefault("XSMS_TWILIO_API_BASE_URL", twilio.api_url)
            app = create_host_app("sqlite://", **config)
            stack.enter_context(app.app_context())
            return app

        yield make


@pytest.fixture
def app_context(host: HostFactory) -> Flask:
    return host()


def refused(excinfo: pytest.ExceptionInfo[MediaError], reason: str) -> MediaError:
    error = excinfo.value
    assert error.reason == reason, error.message
    assert AUTH_TOKEN not in str(error)
    return error


# -- the download --------------------------------------------------------------------


def test_the_bytes_arrive_through_the_redirect_and_only_twilio_gets_the_credentials(
    twilio: TwilioMedia, app_context: Flask
) -> None:
    item = twilio.add(PICTURE, "image/png")

    got = fetch(item, account_id=ACME)

    assert got == MediaContent(content=PICTURE, content_type="image/png", url=item.url)
    assert got.size == len(PICTURE)
    assert PICTURE.hex()[:20] not in repr(got)  # a repr never dumps the bytes
    (asked,) = twilio.api.seen
    assert asked.headers["Authorization"] == _basic(ACCOUNT_SID, AUTH_TOKEN)
    (downloaded,) = twilio.cdn.seen
    assert downloaded.headers["Host"] == f"localhost:{twilio.cdn.port}"
    assert "Authorization" not in downloaded.headers
    assert not any(AUTH_TOKEN in value for value in downloaded.headers.values())


def test_the_content_type_falls_back_to_the_one_twilio_posted(
    twilio: TwilioMedia, app_context: Flask
) -> None:
    item = twilio.add(b"BEGIN:VCARD", content_type=None)
    got = fetch(Media(item.url, "text/vcard"), account_id=ACME)
    assert (got.content, got.content_type) == (b"BEGIN:VCARD", "text/vcard")


def test_the_account_comes_from_the_media_item(twilio: TwilioMedia, app_context: Flask) -> None:
    posted = twilio.add(b"GIF89a", "image/gif")
    item = Media(posted.url, posted.content_type, account_id=ACME)
    assert fetch(item).content == b"GIF89a"
    assert item.download(max_bytes=6).content == b"GIF89a"
    with pytest.raises(MediaError) as excinfo:
        item.download(max_bytes=5)
    refused(excinfo, "too_large")


def test_account_id_wins_over_the_media_item_s(twilio: TwilioMedia, host: HostFactory) -> None:
    app = host()
    tokens = {"acme": AUTH_TOKEN, "globex": "globex-auth-token"}
    get_state(app).xsms.credentials_loader(
        lambda account_id: Credentials(ACCOUNT_SID, tokens[account_id])
    )
    posted = twilio.add(b"GIF89a", "image/gif")
    item = Media(posted.url, posted.content_type, account_id="globex")
    assert fetch(item, account_id=ACME).content == b"GIF89a"
    with pytest.raises(MediaError) as excinfo:
        fetch(item)
    assert "X-Platform account 'globex'" in refused(excinfo, "unauthorized").message


# -- credentials ----------------------------------------------------------------------


def test_wrong_credentials_are_refused(twilio: TwilioMedia, host: HostFactory) -> None:
    host(XSMS_TWILIO_AUTH_TOKEN="an-old-auth-token")
    item = twilio.add()
    with pytest.raises(MediaError) as excinfo:
        fetch(item, account_id=ACME)
    error = refused(excinfo, "unauthorized")
    assert error.status == 401
    assert "refused the credentials of X-Platform account 'acme'" in error.message
    assert "an-old-auth-token" not in error.message
    assert error.url == item.url
    assert not twilio.cdn.seen


def test_no_credentials_no_request(twilio: TwilioMedia, host: HostFactory) -> None:
    host(XSMS_TWILIO_ACCOUNT_SID=None, XSMS_TWILIO_AUTH_TOKEN=None)
    with pytest.raises(MediaCredentialsMissing) as excinfo:
        fetch(twilio.add(), account_id=ACME)
    error = refused(excinfo, "credentials")
    assert isinstance(error, CredentialsMissing)
    assert "no Twilio credentials for X-Platform account 'acme'" in error.message
    assert twilio.nothing_reached_a_server()


def test_no_account_no_request(twilio: TwilioMedia, app_context: Flask) -> None:
    with pytest.raises(MediaCredentialsMissing) as excinfo:
        fetch(twilio.add())
    assert "names no X-Platform account" in refused(excinfo, "credentials").message
    assert twilio.nothing_reached_a_server()


# -- URLs that never get the credentials ----------------------------------------------

FORGED: dict[str, c.Callable[[TwilioMedia], str]] = {
    "the CDN itself": lambda s: s.media_url("ME1").replace(s.api_url, s.cdn_url),
    "another port of Twilio's host": lambda s: s.media_url("ME1").replace(
        s.api_url, f"http://127.0.0.1:{s.cdn.port}"
    ),
    "another name of Twilio's host": lambda s: s.media_url("ME1").replace(
        s.api_url, f"http://localhost:{s.api.port}"
    ),
    "another scheme": lambda s: s.media_url("ME1").replace("http://", "https://"),
    "an outside host": lambda s: s.media_url("ME1").replace(s.api_url, "https://evil.example"),
    "a user part naming Twilio's host": lambda s: s.media_url("ME1").replace(
        "http://", f"http://127.0.0.1:{s.api.port}@localhost:{s.cdn.port}/x?"
    ),
    "a user part before Twilio's host": lambda s: s.media_url("ME1").replace(
        "http://", "http://user:secret@"
    ),
    "a backslash": lambda s: s.media_url("ME1").replace(
        s.api_url, f"{s.api_url}\\@evil.example"
    ),
    "a line break": lambda s: s.media_url("ME1") + "\r\nHost: evil.example",
    "a relative URL": lambda s: "/2010-04-01/Accounts/" + ACCOUNT_SID + "/Messages/MM1/Media/ME1",
    "no URL": lambda s: "",
}

OTHER_ACCOUNTS: dict[str, c.Callable[[TwilioMedia], str]] = {
    "another account": lambda s: s.media_url("ME1", OTHER_ACCOUNT_SID),
    "a longer account sid": lambda s: s.media_url("ME1", ACCOUNT_SID + "1"),
    "a dot-dot segment": lambda s: s.media_url("ME1", f"{ACCOUNT_SID}/../{OTHER_ACCOUNT_SID}"),
    "an escaped dot-dot": lambda s: s.media_url("ME1", f"{ACCOUNT_SID}/%2e%2e/{OTHER_ACCOUNT_SID}"),
    "an empty segment": lambda s: s.media_url("ME1", f"{ACCOUNT_SID}/"),
    "outside the accounts": lambda s: s.api_url + "/2010-04-01/Messages.json",
}


@pytest.fixture
def no_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Host names looked up from now on; a look-up also fails the test at once."""
    looked_up: list[str] = []

    def refuse(host: t.Any, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        looked_up.append(str(host))
        raise AssertionError(f"{host} was looked up")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return looked_up


#: Each forged URL, and the words its refusal starts with or contains.
REFUSALS = {
    **{name: (forge, "Not a Twilio media URL:") for name, forge in FORGED.items()},
    **{
        f"other-account-{name}": (forge, f"Not a Twilio media URL of account {ACCOUNT_SID}")
        for name, forge in OTHER_ACCOUNTS.items()
    },
}


@pytest.mark.parametrize(("forge", "words"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_url_elsewhere_or_of_another_account_is_refused_before_any_request(
    forge: c.Callable[[TwilioMedia], str],
    words: str,
    twilio: TwilioMedia,
    app_context: Flask,
    no_lookups: list[str],
) -> None:
    with pytest.raises(MediaError) as excinfo:
        fetch(Media(forge(twilio), "image/jpeg"), account_id=ACME)
    error = refused(excinfo, "not_twilio")
    assert error.message.startswith(words)
    assert "the credentials were not sent" in error.message
    assert twilio.nothing_reached_a_server()
    assert no_lookups == []


def test_twilio_s_real_api_is_the_default_origin(twilio: TwilioMedia, host: HostFactory) -> None:
    host(XSMS_TWILIO_API_BASE_URL=None)
    with pytest.raises(MediaError) as excinfo:
        fetch(twilio.add(), account_id=ACME)
    assert "is not on https://api.twilio.com" in refused(excinfo, "not_twilio").message
    assert twilio.nothing_reached_a_server()


# -- Twilio's answers ------------------------------------------------------------------


def test_unknown_media_is_not_found(twilio: TwilioMedia, app_context: Flask) -> None:
    url = twilio.media_url(new_sid("ME"))
    with pytest.raises(MediaError) as excinfo:
        fetch(Media(url, "image/png"), account_id=ACME)
    error = refused(excinfo, "not_found")
    assert error.status == 404
    assert "deleted" in error.message
    assert not twilio.cdn.seen


def test_a_server_error_says_twilio_is_unavailable(
    twilio: TwilioMedia, app_context: Flask
) -> None:
    twilio.api.handler = lambda request: _twilio_error(503, 20500)
    with pytest.raises(MediaError) as excinfo:
        fetch(twilio.add(), account_id=ACME)
    assert refused(excinfo, "unavailable").status == 503


def test_no_connection_is_a_network_error(twilio: TwilioMedia, host: HostFactory) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # a port that nobody listens on
    try:
        port = closed.getsockname()[1]
        host(XSMS_TWILIO_API_BASE_URL=f"http://127.0.0.1:{port}")
        url = twilio.add().url.replace(twilio.api_url, f"http://127.0.0.1:{port}")
        with pytest.raises(MediaError) as excinfo:
            fetch(Media(url), account_id=ACME)
    finally:
        closed.close()
    assert "network error" in refused(excinfo, "unavailable").message


def test_too_large_by_content_length_is_refused_before_the_body(
    twilio: TwilioMedia, app_context: Flask
) -> None:
    sent: list[bytes] = []

    def held_body() -> c.Iterator[bytes]:
        yield b""  # the headers go out; the body waits until the test ends
        twilio.release.wait(10)
        sent.append(b"x" * 65536)
        yield sent[-1]

    item = twilio.serve(held_body(), **{"Content-Length": str(64 * 1024 * 1024)})
    with pytest.raises(MediaError) as excinfo:
        fetch(item, account_id=ACME, max_bytes=1000, timeout=5)
    error = refused(excinfo, "too_large")
    assert "larger than 1000 bytes" in error.message
    assert "XSMS_MEDIA_MAX_BYTES" in error.message
    assert sent == []


def test_too_large_while_streaming_stops_the_download(
    twilio: TwilioMedia, app_context: Flask
) -> None:
    body = Body(chunks=1024)  # 64 MiB, no Content-Length
    item = twilio.serve(body)
    with pytest.raises(MediaError) as excinfo:
        fetch(item, account_id=ACME, max_bytes=100_000)
    assert "larger than 100000 bytes" in refused(excinfo, "too_large").message
    assert body.done.wait(10)
    assert body.sent < body.total


def test_a_body_without_content_length_comes_chunked(twilio: TwilioMedia) -> None:
    """What the streaming test above relies on."""
    twilio.cdn.handler = lambda request: Response(Body(chunks=2))
    with requests.get(twilio.cdn_url, stream=True, timeout=5) as response:
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in response.headers


def test_the_default_limit_is_config(twilio: TwilioMedia, host: HostFactory) -> None:
    host(XSMS_MEDIA_MAX_BYTES=10)
    with pytest.raises(MediaError) as excinfo:
        fetch(twilio.add(b"x" * 11), account_id=ACME)
    assert "larger than 10 bytes" in refused(excinfo, "too_large").message
    assert fetch(twilio.add(b"x" * 10), account_id=ACME).size == 10


def test_redirect_loops_end_after_five(twilio: TwilioMedia, app_context: Flask) -> None:
    def loop(request: Request) -> Response:
        hop = int(request.path.rpartition("/")[2] or 0) if "/loop/" in request.path else 0
        return redirect(f"/loop/{hop + 1}", 307)

    twilio.cdn.handler = loop
    with pytest.raises(MediaError) as excinfo:
        fetch(twilio.add(), account_id=ACME)
    assert "more than 5 redirects" in refused(excinfo, "redirect").message
    assert len(twilio.api.seen) == 1
    assert len(twilio.cdn.seen) == MAX_REDIRECTS == 5
    assert all("Authorization" not in seen.headers for seen in twilio.cdn.seen)


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://localhost/media", ""])
def test_a_redirect_goes_only_to_http_or_https(
    location: str, twilio: TwilioMedia, app_context: Flask
) -> None:
    twilio.cdn.handler = lambda request: Response(status=302, headers={"Location": location})
    with pytest.raises(MediaError) as excinfo:
        fetch(twilio.add(), account_id=ACME)
    assert refused(excinfo, "redirect").status == 302


def test_a_slow_answer_times_out(twilio: TwilioMedia, app_context: Flask) -> None:
    def slow(request: Request) -> Response:
        twilio.release.wait(10)
        return Response(b"late")

    twilio.cdn.handler = slow
    with pytest.raises(MediaError) as excinfo:
        fetch(twilio.add(), account_id=ACME, timeout=0.2)
    assert "XSMS_MEDIA_TIMEOUT" in refused(excinfo, "timeout").message


def test_a_trickling_download_stops_at_the_deadline(
    twilio: TwilioMedia, app_context: Flask
) -> None:
    body = Body(chunks=200, chunk=b"x", pause=0.02, stop=twilio.release)
    item = twilio.serve(body)
    with pytest.raises(MediaError) as excinfo:
        fetch(item, account_id=ACME, timeout=0.2)
    refused(excinfo, "timeout")
    assert body.sent < body.total


def test_a_stalled_stream_times_out(twilio: TwilioMedia, app_context: Flask) -> None:
    def stalled() -> c.Iterator[bytes]:
        yield b"first bytes"
        twilio.release.wait(10)

    item = twilio.serve(stalled())
    with pytest.raises(MediaError) as excinfo:
        fetch(item, account_id=ACME, timeout=0.2)
    refused(excinfo, "timeout")


def test_bad_limits_are_refused(twilio: TwilioMedia, app_context: Flask) -> None:
    item = twilio.add()
    with pytest.raises(ValueError, match="max_bytes"):
        fetch(item, account_id=ACME, max_bytes=0)
    with pytest.raises(ValueError, match="timeout"):
        fetch(item, account_id=ACME, timeout=0)
    assert twilio.nothing_reached_a_server()


# -- a chatbot reads the picture of a signed inbound MMS ----------------------------------


DOWNLOADS: dict[str, c.Callable[[Media], MediaContent]] = {
    "fetch": fetch,
    "fetch with account_id": lambda item: fetch(item, account_id=ACME),
    "Media.download": lambda item: item.download(),
}


@pytest.mark.parametrize("download", DOWNLOADS.values(), ids=DOWNLOADS.keys())
def test_a_chatbot_fetches_the_media_of_an_inbound_mms(
    download: c.Callable[[Media], MediaContent],
    client: FlaskClient,
    bound: Bound,
    subscribe: Subscribe,
    twilio: TwilioMedia,
) -> None:
    bound.app.config["XSMS_TWILIO_API_BASE_URL"] = twilio.api_url
    item = twilio.add(PICTURE, "image/png")
    fetched: list[MediaContent] = []

    def picture_bot(sender: str, *, message: InboundMessage, **extra: t.Any) -> str:
        # the media of a message given to a chatbot know their account (Customer Care's)
        assert message.media[0].account_id == ACME
        got = download(message.media[0])
        fetched.append(got)
        return f"Thanks for the {got.content_type} of {got.size} bytes."

    subscribe(picture_bot, sender=CARE_APP)
    params = inbound_params(
        Body="", NumMedia="1", MediaUrl0=item.url, MediaContentType0="image/png"
    )
    response = signed_post(client, bound.urls.request_url, params)

    assert twiml_messages(response) == [Sent(f"Thanks for the image/png of {len(PICTURE)} bytes.")]
    assert fetched[0].content == PICTURE
    assert twilio.api.seen[0].headers["Authorization"] == _basic(ACCOUNT_SID, AUTH_TOKEN)
    assert all("Authorization" not in seen.headers for seen in twilio.cdn.seen)
