"""Twilio in one place: the REST client, what its errors mean, and request signatures.

Every call to Twilio's REST API goes through :func:`client`; every error it (or the
network) gives is read by :func:`failure_of` into a :class:`Failure` of one
:attr:`~Failure.kind`, which the outbox and the Twilio setup turn into their own
errors; every request signed as Twilio signs webhooks goes through :func:`sign`, and every
signature is checked by :func:`signature_is_valid`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import typing as t

import requests
from flask import current_app
from twilio.base.exceptions import TwilioException
from twilio.base.exceptions import TwilioRestException
from twilio.base.exceptions import TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from ._values import Credentials

#: The header that carries Twilio's signature of a webhook.
SIGNATURE_HEADER = "X-Twilio-Signature"

#: Twilio's own API, when :data:`XSMS_TWILIO_API_BASE_URL` does not name another.
DEFAULT_API_BASE_URL = "https://api.twilio.com"

#: Kinds of :class:`Failure`.
CREDENTIALS = "credentials"
RATE_LIMITED = "rate_limited"
UNAVAILABLE = "unavailable"
NOT_FOUND = "not_found"
REFUSED = "refused"

_CREDENTIALS_CODES = frozenset({20003})
_RATE_LIMIT_CODES = frozenset({20429})


@contextlib.contextmanager
def client(credentials: Credentials) -> t.Iterator[Client]:
    """A Twilio REST client for one account, closed afterwards.

    It waits at most :data:`XSMS_TWILIO_TIMEOUT` seconds for Twilio, ignores the
    ``TWILIO_*`` environment variables, and talks to :data:`XSMS_TWILIO_API_BASE_URL`
    when that is set.
    """
    config = current_app.config
    http_client = TwilioHttpClient(timeout=config["XSMS_TWILIO_TIMEOUT"])
    rest = Client(
        credentials.account_sid,
        credentials.auth_token,
        http_client=http_client,
        environment={},
    )
    rest.api.base_url = api_base_url()
    try:
        yield rest
    finally:
        if http_client.session is not None:
            http_client.session.close()


def api_base_url() -> str:
    """The base URL of Twilio's REST API this app talks to (no trailing slash)."""
    return (current_app.config["XSMS_TWILIO_API_BASE_URL"] or DEFAULT_API_BASE_URL).rstrip("/")


@dataclasses.dataclass(frozen=True)
class Failure:
    """What went wrong in one request to Twilio.

    :param kind: :data:`CREDENTIALS` (20003 or HTTP 401/403), :data:`RATE_LIMITED`
        (20429 or 429), :data:`UNAVAILABLE` (5xx, timeouts, network), :data:`NOT_FOUND`
        (404) or :data:`REFUSED` (anything else Twilio refused).
    :param text: Twilio's message, or what happened on the network.
    :param nothing_sent: the request never left (no connection was made), so it can be
        repeated safely.
    :param timed_out: Twilio did not answer in time.
    """

    kind: str
    status: int | None = None
    code: int | None = None
    text: str = ""
    nothing_sent: bool = False
    timed_out: bool = False

    @property
    def said(self) -> str:
        """`` (HTTP 400, error 21211)``, for messages that quote Twilio's answer."""
        if self.status is None:
            return ""
        if self.code and self.code != self.status:
            return f" (HTTP {self.status}, error {self.code})"
        return f" (HTTP {self.status})"


def failure_of(e: TwilioException | requests.RequestException) -> Failure:
    """Read an error of the REST client, or of the network under it."""
    if isinstance(e, requests.RequestException):
        return Failure(
            UNAVAILABLE,
            text=type(e).__name__,
            nothing_sent=isinstance(e, requests.ConnectTimeout) or _never_connected(e),
            timed_out=isinstance(e, requests.Timeout),
        )
    if isinstance(e, TwilioRestException):
        status, code, text = e.status, e.code, e.msg
    elif isinstance(e, TwilioServiceException):
        status, code, text = e.status, e.code, e.detail or e.title
    else:
        # A failed list request raises a bare TwilioException("Unable to fetch page",
        # response): read the status and Twilio's error body from the response.
        status, code, text = _from_page_error(e)
    text = str(text or "")
    if code in _CREDENTIALS_CODES or status in (401, 403):
        kind = CREDENTIALS
    elif code in _RATE_LIMIT_CODES or status == 429:
        kind = RATE_LIMITED
    elif status is not None and status >= 500:
        kind = UNAVAILABLE
    elif status == 404:
        kind = NOT_FOUND
    else:
        kind = REFUSED
    return Failure(kind, status, code, text)


def redact(text: str, credentials: Credentials) -> str:
    """``text`` without the account's SID and auth token, safe to show."""
    for secret in (credentials.auth_token, credentials.account_sid):
        if secret:
            text = text.replace(secret, "…")
    return text


def sign(auth_token: str, url: str, params: t.Mapping[str, str]) -> str:
    """The ``X-Twilio-Signature`` Twilio would send with ``params`` posted to ``url``."""
    return str(RequestValidator(auth_token).compute_signature(url, params))


def signature_is_valid(
    auth_token: str, url: str, params: t.Mapping[str, t.Any], signature: str | None
) -> bool:
    """Whether ``signature`` is Twilio's signature of ``url`` and ``params``.

    Uses twilio's :class:`~twilio.request_validator.RequestValidator`, which also accepts
    the URL with or without the default port.
    """
    if not signature or not auth_token:
        return False
    if not all(isinstance(name, str) for name in params):
        # A multipart part without a readable name: Twilio never sends one, and
        # RequestValidator can't sort it.
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


def validation_url(
    *,
    public_base_url: str | None,
    scheme: str,
    host: str,
    script_root: str,
    path: str,
    query_string: str,
) -> str:
    """The URL Twilio signed, from the parts of the request it made.

    :param public_base_url: ``XSMS_PUBLIC_BASE_URL``; when set, it replaces scheme, host
        and script root, as it does for the URLs shown on the settings page.
    :param path: the path within the app (``request.path``).
    :param query_string: the raw query string, still percent-encoded.
    """
    if public_base_url:
        url = public_base_url.rstrip("/") + path
    else:
        url = f"{scheme}://{host}{script_root}{path}"
    if query_string:
        url += "?" + query_string
    return url


def _from_page_error(e: TwilioException) -> tuple[int | None, int | None, str]:
    response = next((a for a in e.args if isinstance(a, Response)), None)
    if response is None:
        return None, None, str(e.args[0]) if e.args else type(e).__name__
    status = response.status_code
    try:
        body = json.loads(response.text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return status, status, ""
    code = body.get("code")
    return status, code if isinstance(code, int) else status, str(body.get("message") or "")


def _never_connected(e: BaseException) -> bool:
    """Whether the error happened before a connection existed (nothing was sent)."""
    seen: set[int] = set()
    stack: list[t.Any] = [e]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError):
            return True
        stack.extend([getattr(item, "reason", None), item.__cause__, item.__context__])
        stack.extend(a for a in getattr(item, "args", ()) if isinstance(a, BaseException))
    return False
