"""The SMS simulator: play Twilio's part for a bound number, without Twilio.

A simulated message takes the same road as a real one. It gets the parameters Twilio
sends (for SMS, or for WhatsApp when the bound address is a ``whatsapp:`` sender), is
signed with the account's Auth Token the way Twilio signs
(:meth:`twilio.request_validator.RequestValidator.compute_signature`), and is posted
through the app's own WSGI pipeline to the domain's exact Request URL, Fallback URL or
status-callback URL. Nothing goes over the network, and what works here works with
Twilio. The TwiML answer is read back as XML.

The simulator is on when ``app.debug`` or :data:`XSMS_SIMULATOR` is true.
"""
from __future__ import annotations

import collections.abc as c
import dataclasses
import mimetypes
import re
import secrets
import typing as t
import urllib.parse
import xml.etree.ElementTree as ET

import phonenumbers
import sqlalchemy as sa
from flask import current_app
from flask import Flask
from werkzeug.test import Client

from . import _channels as channels
from . import _optouts as optouts
from .errors import NumberError
from .errors import SimulationError
from ._state import get_state
from .integrations import WEBHOOK_ENDPOINTS
from .integrations import webhook_urls
from .models import Integration
from .models import Message
from .models import NumberBinding
from .numbers import describe
from .numbers import is_messaging_service_sid
from .numbers import normalize_number
from .segments import count_segments
from . import _twilio_api as twilio_api
from ._twilio_api import SIGNATURE_HEADER
from ._values import Credentials
from ._values import Domain

#: Twilio's error code sent to the Fallback URL when the Request URL could not be used.
FALLBACK_ERROR_CODE = "11200"
#: The delivery statuses the simulator can report for a sent message.
DELIVERY_STATUSES = ("queued", "sent", "delivered", "undelivered", "failed")

#: What the simulator says under a customer's STOP-family keyword.
OPTED_OUT_NOTE = (
    "Opted out: Twilio confirms STOP to the customer itself and blocks every message to"
    " them until they text START. The chatbot's replies are not sent."
)
#: ...under any other message of a customer who opted out.
BLOCKED_NOTE = (
    "Not answered: this customer opted out with STOP. Twilio blocks messages to them until"
    " they text START; the chatbot's replies are not sent."
)
#: ...under a START-family keyword.
OPTED_IN_NOTE = (
    "Opted in: Twilio confirms START to the customer itself, and replies reach them again."
)
#: ...under a HELP-family keyword.
HELP_NOTE = (
    "Help: the chatbot's answer goes out, even to a customer who opted out, or"
    " XSMS_HELP_MESSAGE when it gives none. Twilio may send its own help text too."
)
#: What the simulator says under a STOP-family keyword on WhatsApp.
WHATSAPP_OPTED_OUT_NOTE = (
    "Opted out: Twilio neither blocks nor answers STOP on WhatsApp. flask-xsms records the"
    " opt-out, answers with XSMS_WHATSAPP_OPT_OUT_MESSAGE and sends nothing else to this"
    " customer until they send START. The chatbot's replies are not sent."
)
#: ...under any other WhatsApp message of a customer who opted out.
WHATSAPP_BLOCKED_NOTE = (
    "Not answered: this customer opted out with STOP. flask-xsms sends them nothing on"
    " WhatsApp until they send START; the chatbot's replies are not sent."
)
#: ...under a START-family keyword on WhatsApp.
WHATSAPP_OPTED_IN_NOTE = (
    "Opted in: replies reach this customer again. Twilio sends no confirmation on"
    " WhatsApp: only the chatbot's answer goes out."
)
#: ...under a HELP-family keyword on WhatsApp.
WHATSAPP_HELP_NOTE = (
    "Help: the chatbot's answer goes out, even to a customer who opted out, or"
    " XSMS_HELP_MESSAGE when it gives none. Twilio sends no help text of its own on"
    " WhatsApp."
)
#: Media URLs a simulated message carries at most, as Twilio posts them.
MAX_MEDIA = 10
#: The longest media URL the simulator posts.
MAX_MEDIA_URL_LENGTH = 2000
# Where a relative webhook URL (no request, no XSMS_PUBLIC_BASE_URL) is posted.
_LOCAL_BASE = "http://localhost"
# Whitespace and control characters, which no URL Twilio posts holds.
_NOT_IN_URL = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclasses.dataclass(frozen=True)
class SimulatorNumber:
    """A bound number the current user may try in the simulator."""

    domain: Domain
    phone_number: str
    application_id: str
    application_name: str

    @property
    def channel(self) -> str:
        """``"whatsapp"`` for a WhatsApp sender (``whatsapp:+…``), else ``"sms"``."""
        return channels.channel_of(self.phone_number)

    @property
    def label(self) -> str:
        """The number as the page names it: ``+14155550100``, or ``WhatsApp +14155238886``
        for a WhatsApp sender."""
        if self.channel != channels.WHATSAPP:
            return self.phone_number
        number, name = channels.display(self.phone_number)
        return f"{name} {number}"


@dataclasses.dataclass(frozen=True)
class SimulatedReply:
    """One ``<Message>`` of a TwiML answer: its text and media URLs."""

    body: str
    media: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Simulation:
    """What one simulated webhook request got back.

    :param url: the exact URL that was signed and posted to.
    :param params: the form parameters that were posted.
    :param status_code: the HTTP status of the answer.
    :param body: the answer's body (the TwiML, for the Request and Fallback URLs).
    :param replies: the ``<Message>`` verbs of a TwiML answer, in order.
    :param message_id: the stored message the request was about, when there is one.
    """

    url: str
    params: dict[str, str]
    status_code: int
    body: str
    replies: tuple[SimulatedReply, ...] = ()
    message_id: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the webhook accepted the request (HTTP 2xx)."""
        return 200 <= self.status_code < 300


def enabled(app: Flask | None = None) -> bool:
    """Whether the simulator is on: ``app.debug`` or :data:`XSMS_SIMULATOR`."""
    app = app or t.cast(Flask, current_app)
    return bool(app.debug or app.config["XSMS_SIMULATOR"])


def available_numbers() -> list[SimulatorNumber]:
    """The bound numbers of every IA Domain the current user may manage.

    Asks the host's permission callback once per domain that has bound numbers.
    """
    state = get_state()
    bindings = state.session.scalars(
        sa.select(NumberBinding).order_by(
            NumberBinding.account_id,
            NumberBinding.domain_id,
            NumberBinding.position,
            NumberBinding.id,
        )
    ).all()
    result: list[SimulatorNumber] = []
    allowed: dict[str, tuple[Domain, dict[str, str]] | None] = {}
    for binding in bindings:
        if binding.domain_id not in allowed:
            domain = state.load_domain(binding.domain_id)
            if domain is not None and state.may_manage(domain):
                names = {a.id: a.name for a in state.applications(domain)}
                allowed[binding.domain_id] = (domain, names)
            else:
                allowed[binding.domain_id] = None
        entry = allowed[binding.domain_id]
        if entry is None:
            continue
        domain, names = entry
        result.append(
            SimulatorNumber(
                domain=domain,
                phone_number=binding.phone_number,
                application_id=binding.application_id,
                application_name=names.get(
                    binding.application_id, f"Application {binding.application_id}"
                ),
            )
        )
    return result


def any_bound_number() -> bool:
    """Whether any number is bound at all, whoever may manage it."""
    return get_state().session.scalar(sa.select(NumberBinding.id).limit(1)) is not None


def find_number(
    to: str, *, domain_id: str | None = None, channel: str | None = None
) -> NumberBinding:
    """The binding of the Twilio number ``to`` (in ``domain_id``, when given).

    :param channel: ``"sms"`` or ``"whatsapp"``, when the caller says which:
        ``"whatsapp"`` with a bare number ``to`` means the WhatsApp sender
        ``whatsapp:<to>``.
    :raises NumberError: when ``to`` is not a valid number.
    :raises SimulationError: when no binding (or more than one, in several accounts)
        matches, or ``to`` is not on ``channel``.
    """
    number = normalize_number(to)
    if channel is not None:
        check_channel_name(channel)
        if channel == channels.WHATSAPP and channels.channel_of(number) == channels.SMS:
            if is_messaging_service_sid(number):
                raise SimulationError(_not_on_channel(number, channel))
            number = channels.on_channel(channels.WHATSAPP, number)
        check_channel(number, channel)
    query = sa.select(NumberBinding).filter_by(phone_number=number)
    if domain_id is not None:
        query = query.filter_by(domain_id=str(domain_id))
    found = get_state().session.scalars(query.order_by(NumberBinding.id)).all()
    if not found:
        where = f" in IA Domain {domain_id!r}" if domain_id is not None else ""
        raise SimulationError(f"{number} is not bound to an application{where}.")
    if len(found) > 1:
        raise SimulationError(
            f"{number} is bound in several accounts; say which IA Domain with its id."
        )
    return found[0]


def inbound_params(
    *,
    account_sid: str,
    to: str,
    from_: str,
    body: str,
    media_urls: c.Sequence[str] = (),
    profile_name: str | None = None,
) -> dict[str, str]:
    """The form parameters Twilio posts to the Request URL for an inbound message.

    When ``to`` is a WhatsApp sender (``whatsapp:+…``) they are WhatsApp's: ``From`` is
    ``whatsapp:+…`` too (the prefix is added when ``from_`` has none), ``WaId`` is the
    customer's number without ``+``, ``ProfileName`` is ``profile_name`` (when given)
    and ``NumSegments`` is always 1. ``FromCountry`` and ``ToCountry`` come from the
    numbers either way.
    """
    whatsapp = channels.is_whatsapp(to)
    customer = channels.split_address(from_)[1]
    if whatsapp:
        from_ = channels.on_channel(channels.WHATSAPP, customer)
    sid = new_sid("MM" if media_urls else "SM")
    params = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": account_sid,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": str(len(media_urls)),
        # WhatsApp has no segments: Twilio sends 1 outside SMS and MMS.
        "NumSegments": "1" if whatsapp else str(count_segments(body).segments),
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        "FromCountry": _country(customer),
        "ToCountry": _country(channels.split_address(to)[1]),
    }
    if whatsapp:
        params["WaId"] = customer.lstrip("+")
        if profile_name:
            params["ProfileName"] = profile_name
    for i, url in enumerate(media_urls):
        params[f"MediaUrl{i}"] = url
        params[f"MediaContentType{i}"] = mimetypes.guess_type(url)[0] or "application/octet-stream"
    return params


def simulate_inbound(
    binding: NumberBinding,
    *,
    from_: str,
    body: str,
    media_urls: c.Sequence[str] = (),
    profile_name: str | None = None,
) -> Simulation:
    """A customer at ``from_`` texts ``body`` to the bound number: post it to the
    domain's Request URL, signed, and return the TwiML answer.

    For a WhatsApp sender the customer writes on WhatsApp: ``from_`` may be given with
    or without ``whatsapp:``, and ``profile_name`` is their WhatsApp profile name.

    :param media_urls: public ``http`` or ``https`` URLs, at most :data:`MAX_MEDIA`,
        posted as ``MediaUrlN`` as they are.
    :raises NumberError: when ``from_`` is not a valid number, or is a WhatsApp address
        while the bound number takes SMS.
    :raises SimulationError: when a media URL is refused, a profile name is given for
        SMS, or the account has no Twilio credentials.
    """
    integration, credentials = _integration_and_credentials(binding)
    params = _message_params(
        binding,
        credentials,
        from_=from_,
        body=body,
        media_urls=media_urls,
        profile_name=profile_name,
    )
    url = webhook_urls(integration, relative_if_unknown=True).request_url
    return _post("request_url", integration, url, params, credentials.auth_token)


def simulate_fallback(
    binding: NumberBinding,
    *,
    from_: str,
    body: str,
    error_code: str = FALLBACK_ERROR_CODE,
    media_urls: c.Sequence[str] = (),
    profile_name: str | None = None,
) -> Simulation:
    """As Twilio does when the Request URL failed: post the message to the domain's
    Fallback URL, with ``ErrorCode`` and ``ErrorUrl``, and return the TwiML answer.

    The other parameters are those of :func:`simulate_inbound`.

    :raises NumberError: when ``from_`` is not a valid number (for this number's channel).
    :raises SimulationError: as :func:`simulate_inbound`.
    """
    integration, credentials = _integration_and_credentials(binding)
    urls = webhook_urls(integration, relative_if_unknown=True)
    params = _message_params(
        binding,
        credentials,
        from_=from_,
        body=body,
        media_urls=media_urls,
        profile_name=profile_name,
    )
    params.update(ErrorCode=str(error_code), ErrorUrl=_absolute(urls.request_url))
    return _post("fallback_url", integration, urls.fallback_url, params, credentials.auth_token)


def customer_address(number: str, customer: str) -> str:
    """The address a customer writes to the bound ``number`` from: their number in
    E.164 for SMS; ``whatsapp:+…`` for a WhatsApp sender, whether ``customer`` was typed
    with ``whatsapp:`` or without.

    :raises NumberError: when ``customer`` is not a valid phone number, or is a WhatsApp
        address while ``number`` takes SMS.
    """
    address = normalize_number(customer)
    if is_messaging_service_sid(address):
        raise NumberError("A customer writes from a phone number, not from a Messaging Service.")
    if channels.channel_of(number) == channels.WHATSAPP:
        return channels.on_channel(channels.WHATSAPP, channels.split_address(address)[1])
    if channels.is_whatsapp(address):
        raise NumberError(
            f"{describe(number)} is not a WhatsApp sender: a customer on WhatsApp ({address})"
            " cannot write to it. Give the customer's number without whatsapp:, or choose a"
            " WhatsApp sender (whatsapp:+…)."
        )
    return address


def check_channel(number: str, channel: str) -> None:
    """Refuse ``channel`` (``"sms"`` or ``"whatsapp"``) for the bound ``number`` when it is
    not the number's own: a WhatsApp sender is reached on WhatsApp only, a number or
    Messaging Service on SMS only.

    :raises SimulationError: saying which channel the number takes.
    """
    check_channel_name(channel)
    if channels.channel_of(number) != channel:
        raise SimulationError(_not_on_channel(number, channel))


def check_channel_name(channel: str) -> None:
    """:raises SimulationError: when ``channel`` is neither ``"sms"`` nor ``"whatsapp"``."""
    if channel not in (channels.SMS, channels.WHATSAPP):
        raise SimulationError(f"The channel is sms or whatsapp, not {channel!r}.")


def check_media_urls(urls: c.Sequence[str]) -> tuple[str, ...]:
    """The media URLs of a simulated message, checked: each an ``http`` or ``https`` URL
    with a host, no spaces and at most :data:`MAX_MEDIA_URL_LENGTH` characters, and at
    most :data:`MAX_MEDIA` of them.

    :raises TypeError: when ``urls`` is one string instead of a list.
    :raises SimulationError: naming the URL refused.
    """
    if isinstance(urls, str):
        raise TypeError("media_urls must be a list of URLs, not one string.")
    checked = tuple(url.strip() if isinstance(url, str) else url for url in urls)
    if len(checked) > MAX_MEDIA:
        raise SimulationError(
            f"A message carries at most {MAX_MEDIA} media URLs, as Twilio posts them;"
            f" {len(checked)} were given."
        )
    for url in checked:
        if not isinstance(url, str) or not _is_web_url(url):
            shown = url if isinstance(url, str) and len(url) <= 80 else f"{str(url)[:79]}…"
            raise SimulationError(
                f"{shown!r} is not a media URL: give a public http:// or https:// URL"
                f" of at most {MAX_MEDIA_URL_LENGTH} characters."
            )
    return checked


def simulate_status(
    message: Message, status: str, *, error_code: str | None = None
) -> Simulation:
    """Report a delivery status of a sent message, as Twilio's status callback does.

    :param message: a stored outbound message that Twilio accepted (it has a ``sid``).
    :param status: one of :data:`DELIVERY_STATUSES`.
    :raises SimulationError: when the message was never sent through Twilio, the status
        is unknown, or the account has no Twilio credentials.
    """
    if status not in DELIVERY_STATUSES:
        raise SimulationError(f"Choose a status among {', '.join(DELIVERY_STATUSES)}.")
    if message.direction != "outbound" or not message.sid or message.integration_id is None:
        raise SimulationError("Only a message sent through Twilio's API gets status callbacks.")
    integration = get_state().session.get(Integration, message.integration_id)
    if integration is None:
        raise SimulationError("The message's IA Domain integration no longer exists.")
    credentials = _credentials(integration)
    params = {
        "MessageSid": message.sid,
        "SmsSid": message.sid,
        "AccountSid": credentials.account_sid,
        "From": message.from_number,
        "To": message.to_number,
        "MessageStatus": status,
        "SmsStatus": status,
        "ApiVersion": "2010-04-01",
    }
    if status in ("undelivered", "failed"):
        params["ErrorCode"] = str(error_code or "30003")
    url = webhook_urls(integration, relative_if_unknown=True).status_callback_url
    return _post("status_callback_url", integration, url, params, credentials.auth_token)


def conversation(
    domain: Domain, number: str, customer: str, *, after: int = 0, limit: int = 200
) -> list[Message]:
    """The stored messages between the bound ``number`` and ``customer`` in ``domain``,
    oldest first, with an id above ``after``: what the simulator's chat shows.

    Replies that went out after the webhook had answered (through the REST API) are
    found here, whether or not Twilio could be reached.
    """
    state = get_state()
    integration = state.session.scalar(sa.select(Integration).filter_by(domain_id=domain.id))
    if integration is None:
        return []
    return list(
        state.session.scalars(
            sa.select(Message)
            .where(
                Message.integration_id == integration.id,
                Message.id > after,
                sa.or_(
                    sa.and_(
                        Message.direction == "inbound",
                        Message.from_number == customer,
                        Message.to_number == number,
                    ),
                    sa.and_(
                        Message.direction == "outbound",
                        Message.from_number == number,
                        Message.to_number == customer,
                    ),
                ),
            )
            .order_by(Message.id)
            .limit(limit)
        )
    )


def note_for(keyword: str | None, opted_out: bool, channel: str = channels.SMS) -> str | None:
    """What the simulator says about a customer's message: the keyword it is
    (:func:`flask_xsms._optouts.keyword_of`), whether the customer is opted out after it,
    and its channel (``"sms"`` or ``"whatsapp"``, where Twilio leaves the keywords to
    flask-xsms). ``None`` for an ordinary message that the chatbot answers."""
    whatsapp = channel == channels.WHATSAPP
    if keyword == "stop":
        return WHATSAPP_OPTED_OUT_NOTE if whatsapp else OPTED_OUT_NOTE
    if keyword == "start":
        return WHATSAPP_OPTED_IN_NOTE if whatsapp else OPTED_IN_NOTE
    if keyword == "help":
        return WHATSAPP_HELP_NOTE if whatsapp else HELP_NOTE
    if not opted_out:
        return None
    return WHATSAPP_BLOCKED_NOTE if whatsapp else BLOCKED_NOTE


def conversation_notes(messages: c.Sequence[Message]) -> dict[int, str]:
    """The notes (:func:`note_for`) of the customer's messages among ``messages``, a
    stretch of one conversation oldest first, by message id.

    Whether the customer is opted out follows their STOP and START keywords, from the
    last one before the stretch.
    """
    inbound = [m for m in messages if m.direction == "inbound"]
    if not inbound:
        return {}
    first = inbound[0]
    earlier = get_state().session.scalars(
        sa.select(Message.body)
        .where(
            Message.integration_id == first.integration_id,
            Message.direction == "inbound",
            Message.from_number == first.from_number,
            Message.to_number == first.to_number,
            Message.id < first.id,
        )
        .order_by(Message.id.desc())
    )
    opted_out = False
    for body in earlier:
        keyword = optouts.keyword_of(body)
        if keyword in ("stop", "start"):
            opted_out = keyword == "stop"
            break
    notes = {}
    for message in inbound:
        keyword = optouts.keyword_of(message.body)
        if keyword in ("stop", "start"):
            opted_out = keyword == "stop"
        note = note_for(keyword, opted_out, channels.channel_of(message.from_number))
        if note is not None:
            notes[message.id] = note
    return notes


def parse_twiml(text: str) -> tuple[SimulatedReply, ...]:
    """The ``<Message>`` verbs of a TwiML answer, read with :mod:`xml.etree`.

    :raises SimulationError: when ``text`` is not TwiML with a ``<Response>`` root.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise SimulationError(f"The answer is not valid TwiML ({e}).") from None
    if root.tag != "Response":
        raise SimulationError(f"The TwiML root is <{root.tag}>, not <Response>.")
    replies = []
    for verb in root.iter("Message"):
        body_node = verb.find("Body")
        body = body_node.text if body_node is not None else verb.text
        media = tuple((m.text or "").strip() for m in verb.findall("Media"))
        replies.append(SimulatedReply(body or "", media))
    return tuple(replies)


def new_sid(prefix: str = "SM") -> str:
    """A sid in Twilio's shape: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


# -- internals ----------------------------------------------------------------------


def _integration_and_credentials(binding: NumberBinding) -> tuple[Integration, Credentials]:
    integration = get_state().session.get(Integration, binding.integration_id)
    if integration is None:  # pragma: no cover - a binding always has one
        raise SimulationError("The number's IA Domain integration no longer exists.")
    return integration, _credentials(integration)


def _message_params(
    binding: NumberBinding,
    credentials: Credentials,
    *,
    from_: str,
    body: str,
    media_urls: c.Sequence[str],
    profile_name: str | None,
) -> dict[str, str]:
    """:func:`inbound_params` of a customer's message to ``binding``, checked."""
    customer = customer_address(binding.phone_number, from_)
    if profile_name and not channels.is_whatsapp(binding.phone_number):
        raise SimulationError(
            f"A profile name is WhatsApp's, and {describe(binding.phone_number)} takes SMS:"
            " leave the profile name out, or choose a WhatsApp sender."
        )
    return inbound_params(
        account_sid=credentials.account_sid,
        to=binding.phone_number,
        from_=customer,
        body=body,
        media_urls=check_media_urls(media_urls),
        profile_name=profile_name,
    )


def _not_on_channel(number: str, channel: str) -> str:
    if channels.channel_of(number) == channels.WHATSAPP:
        return f"{describe(number)} is reached on WhatsApp only, not on {channel.upper()}."
    if is_messaging_service_sid(number):
        return f"{describe(number)} is reached on SMS only, not on WhatsApp."
    return (
        f"{number} is reached on SMS only, not on WhatsApp: bind whatsapp:{number} to try"
        " it on WhatsApp."
    )


def _is_web_url(url: str) -> bool:
    if not url or len(url) > MAX_MEDIA_URL_LENGTH or _NOT_IN_URL.search(url):
        return False
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # e.g. a malformed [IPv6] host
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _credentials(integration: Integration) -> Credentials:
    credentials = get_state().credentials(integration.account_id)
    if credentials is None:
        raise SimulationError(
            f"No Twilio credentials for account {integration.account_id!r}: set"
            " XSMS_TWILIO_ACCOUNT_SID and XSMS_TWILIO_AUTH_TOKEN (any demo values will do"
            " for the simulator), or register @xsms.credentials_loader."
        )
    return credentials


def _absolute(url: str) -> str:
    return url if "://" in url else _LOCAL_BASE + url


def _post(
    which: str, integration: Integration, url: str, params: dict[str, str], auth_token: str
) -> Simulation:
    """Sign ``params`` for ``url`` and post them to it through the app itself."""
    url = _absolute(url)
    route = current_app.url_map.bind("localhost").build(
        WEBHOOK_ENDPOINTS[which], {"webhook_id": integration.webhook_id}
    )
    if not url.endswith(route):  # pragma: no cover - webhook_urls builds it so
        raise SimulationError(f"Cannot post to {url}: it does not end with {route}.")
    base_url = url[: len(url) - len(route)] or _LOCAL_BASE
    signature = twilio_api.sign(auth_token, url, params)
    # The open transaction ends here: the webhook runs in a session of its own, as
    # Twilio's request would, and must not wait for locks this one holds.
    get_state().session.commit()
    app = t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    with app.app_context():
        response = Client(app).post(
            route,
            base_url=base_url,
            data=params,
            headers={SIGNATURE_HEADER: signature},
        )
        text = response.get_data(as_text=True)
        response.close()
    replies: tuple[SimulatedReply, ...] = ()
    if response.status_code == 200 and response.mimetype in ("text/xml", "application/xml"):
        replies = parse_twiml(text)
    message_id = None
    sid = params.get("MessageSid")
    if sid:
        message_id = get_state().session.scalar(sa.select(Message.id).filter_by(sid=sid))
    return Simulation(url, params, response.status_code, text, replies, message_id)


def _country(number: str) -> str:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or ""
    except phonenumbers.NumberParseException:
        return ""
