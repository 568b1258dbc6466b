"""Inbound media (MMS, WhatsApp) downloaded from Twilio with the account's credentials.

Twilio's media URLs are on its REST API host; an account can require HTTP Basic auth on
them, and Twilio answers with a redirect to its media CDN. The credentials go to Twilio's
API origin only, under the account's own path: never to a redirect target, nor to a host
that a forged ``MediaUrlN`` names.
"""
from __future__ import annotations

__all__ = [
    "fetch",
    "MediaContent",
    "MAX_REDIRECTS",
]

import dataclasses
import time
import typing as t
import urllib.parse

import requests
import urllib3
from requests.auth import AuthBase
from requests.auth import HTTPBasicAuth

from . import _twilio_api as twilio_api
from ._config import config_value
from .errors import MediaCredentialsMissing
from .errors import MediaError
from ._state import get_state
from ._values import Credentials
from ._values import Media

#: Redirects followed at most (Twilio's media URL answers with one).
MAX_REDIRECTS = 5

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CHUNK_SIZE = 64 * 1024


@dataclasses.dataclass(frozen=True)
class MediaContent:
    """A downloaded media item.

    :param content: the bytes.
    :param content_type: the ``Content-Type`` of the answer, else the one Twilio posted
        (``MediaContentTypeN``), or ``None``.
    :param url: the media URL that was asked for.
    """

    content: bytes = dataclasses.field(repr=False)
    content_type: str | None
    url: str

    @property
    def size(self) -> int:
        """The number of bytes."""
        return len(self.content)


def fetch(
    media: Media,
    *,
    account_id: str | None = None,
    max_bytes: int | None = None,
    timeout: float | None = None,
) -> MediaContent:
    """Download one media item of an inbound message from Twilio.

    The first request goes to Twilio's API with the account's credentials (HTTP Basic);
    up to :data:`MAX_REDIRECTS` redirects are followed, each without any
    ``Authorization`` header. A URL that is not a media URL of the account on Twilio's
    API is refused before any request.

    :param media: an item of :attr:`InboundMessage.media <flask_xsms.InboundMessage>`.
    :param account_id: the X-Platform account whose Twilio credentials apply (default:
        the item's ``account_id``, set on the media of messages given to chatbots).
    :param max_bytes: the size limit (default :data:`XSMS_MEDIA_MAX_BYTES`).
    :param timeout: seconds for each connection and read, and for the whole download
        (default :data:`XSMS_MEDIA_TIMEOUT`).
    :raises MediaCredentialsMissing: no account, or no credentials for it.
    :raises MediaError: for anything else that went wrong; its ``reason`` says what.
    """
    url = media.url
    if account_id is None:
        account_id = media.account_id
    limit = config_value("MEDIA_MAX_BYTES") if max_bytes is None else max_bytes
    seconds = config_value("MEDIA_TIMEOUT") if timeout is None else timeout
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"max_bytes must be a whole number of at least 1, not {limit!r}.")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {seconds!r}.")
    credentials = _credentials(account_id, url)
    target = _checked_url(url, credentials, str(account_id))
    deadline = time.monotonic() + seconds
    auth: AuthBase = HTTPBasicAuth(credentials.account_sid, credentials.auth_token)
    for hop in range(MAX_REDIRECTS + 1):
        with _get(target, auth, seconds, deadline, url) as response:
            status = response.status_code
            if status in _REDIRECT_STATUSES:
                target = _redirect_target(response, target, url)
                auth = _NoAuthorization()
                continue
            if not 200 <= status < 300:
                raise _status_error(status, url, first=hop == 0, account_id=str(account_id))
            content = _read(response, limit, seconds, deadline, url)
            content_type = response.headers.get("Content-Type") or media.content_type
            return MediaContent(content=content, content_type=content_type, url=url)
    raise MediaError(
        f"The media {_short(url)} was not fetched: more than {MAX_REDIRECTS} redirects.",
        reason="redirect",
        url=url,
    )


class _NoAuthorization(AuthBase):
    """No ``Authorization`` header at all, not even one from a ``.netrc`` file."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


def _credentials(account_id: str | None, url: str) -> Credentials:
    if account_id is None:
        raise MediaCredentialsMissing(
            f"The media {_short(url)} was not fetched: it names no X-Platform account to"
            " take Twilio credentials from. Pass account_id= to flask_xsms.media.fetch().",
            reason="credentials",
            url=url,
        )
    credentials = get_state().credentials(str(account_id))
    if credentials is None:
        raise MediaCredentialsMissing(
            f"The media {_short(url)} was not fetched: no Twilio credentials for X-Platform"
            f" account {str(account_id)!r}. Register a credentials loader"
            " (@xsms.credentials_loader) or set XSMS_TWILIO_ACCOUNT_SID and"
            " XSMS_TWILIO_AUTH_TOKEN.",
            reason="credentials",
            url=url,
        )
    return credentials


def _checked_url(url: str, credentials: Credentials, account_id: str) -> str:
    """The URL to request: ``url`` on Twilio's API origin, under the account's path.

    The request goes to the configured origin itself, never to a host read from ``url``,
    so that no difference between two URL parsers can send the credentials elsewhere.
    """
    base = urllib.parse.urlsplit(twilio_api.api_base_url())
    api = f"{base.scheme}://{base.netloc}"
    refused = " Refused; the credentials were not sent."
    parts = _split(url)
    if parts is None or _origin(parts) != _origin(base) or "@" in parts.netloc:
        raise MediaError(
            f"Not a Twilio media URL: {_short(url)} is not on {api}.{refused}",
            reason="not_twilio",
            url=url,
        )
    prefix = f"{base.path.rstrip('/')}/2010-04-01/Accounts/{credentials.account_sid}/"
    rest = parts.path[len(prefix):].split("/")
    if (
        not parts.path.startswith(prefix)
        or "%" in parts.path
        or any(segment in ("", ".", "..") for segment in rest)
    ):
        raise MediaError(
            f"Not a Twilio media URL of account {credentials.account_sid} (the credentials"
            f" of X-Platform account {account_id!r}): {_short(url)}.{refused}",
            reason="not_twilio",
            url=url,
        )
    return urllib.parse.urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))


def _split(url: t.Any) -> urllib.parse.SplitResult | None:
    """``url`` split, or ``None`` when it is not a plain ASCII URL."""
    if not isinstance(url, str) or not url.isascii():
        return None
    # Control characters, spaces and backslashes are read differently by URL parsers.
    if any(c <= " " or c in "\\\x7f" for c in url):
        return None
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return None
    return parts


def _origin(parts: urllib.parse.SplitResult) -> tuple[str, str, int | None]:
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), parts.port or _DEFAULT_PORTS.get(scheme)


def _get(
    target: str, auth: AuthBase, seconds: float, deadline: float, url: str
) -> requests.Response:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _timeout(url, seconds)
    wait = min(seconds, remaining)
    try:
        return requests.get(
            target,
            auth=auth,
            # The size limit counts the bytes as sent.
            headers={"Accept-Encoding": "identity"},
            allow_redirects=False,
            stream=True,
            timeout=(wait, wait),
        )
    except requests.RequestException as e:
        raise _network_error(e, url, seconds) from e


def _redirect_target(response: requests.Response, current: str, url: str) -> str:
    location = response.headers.get("Location")
    if not location:
        raise MediaError(
            f"The media {_short(url)} was not fetched: a redirect (HTTP"
            f" {response.status_code}) without a Location.",
            reason="redirect",
            url=url,
            status=response.status_code,
        )
    target = urllib.parse.urljoin(current, location)
    if urllib.parse.urlsplit(target).scheme not in ("http", "https"):
        raise MediaError(
            f"The media {_short(url)} was not fetched: a redirect to a URL that is not"
            " http or https.",
            reason="redirect",
            url=url,
            status=response.status_code,
        )
    return target


def _status_error(status: int, url: str, *, first: bool, account_id: str) -> MediaError:
    if status in (401, 403) and first:
        return MediaError(
            f"Twilio refused the credentials of X-Platform account {account_id!r} for the"
            f" media {_short(url)} (HTTP {status}).",
            reason="unauthorized",
            url=url,
            status=status,
        )
    if status == 404:
        return MediaError(
            f"The media {_short(url)} does not exist (HTTP 404): it was deleted (Twilio"
            " deletes a message's media with the message) or never existed.",
            reason="not_found",
            url=url,
            status=status,
        )
    where = "Twilio" if first else "Twilio's media host"
    return MediaError(
        f"The media {_short(url)} was not fetched: {where} answered HTTP {status}.",
        reason="unavailable" if status == 429 or status >= 500 else "error",
        url=url,
        status=status,
    )


def _read(
    response: requests.Response, limit: int, seconds: float, deadline: float, url: str
) -> bytes:
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(url, limit)
    body = bytearray()
    try:
        for chunk in response.iter_content(_CHUNK_SIZE):
            body += chunk
            if len(body) > limit:
                raise _too_large(url, limit)
            if time.monotonic() > deadline:
                raise _timeout(url, seconds)
    except requests.RequestException as e:
        raise _network_error(e, url, seconds) from e
    return bytes(body)


def _too_large(url: str, limit: int) -> MediaError:
    return MediaError(
        f"The media {_short(url)} is larger than {limit} bytes (XSMS_MEDIA_MAX_BYTES, or"
        " max_bytes); it was not downloaded.",
        reason="too_large",
        url=url,
    )


def _network_error(e: requests.RequestException, url: str, seconds: float) -> MediaError:
    # requests reports a read time-out while streaming as a ConnectionError.
    timed_out = isinstance(e.__context__, urllib3.exceptions.TimeoutError)
    if isinstance(e, requests.Timeout) or timed_out:
        return _timeout(url, seconds)
    return MediaError(
        f"The media {_short(url)} was not fetched: {type(e).__name__} (network error).",
        reason="unavailable",
        url=url,
    )


def _timeout(url: str, seconds: float) -> MediaError:
    return MediaError(
        f"The media {_short(url)} was not fetched within {seconds} s (XSMS_MEDIA_TIMEOUT,"
        " or timeout).",
        reason="timeout",
        url=url,
    )


def _short(url: t.Any) -> str:
    """``url`` for a message: quoted, and cut when a forged one is long."""
    text = str(url)
    return repr(text if len(text) <= 200 else text[:200] + "…")
