"""Small value objects through which the host and the extension talk."""
from __future__ import annotations

import dataclasses
import typing as t

if t.TYPE_CHECKING:
    from .media import MediaContent

#: Channel types whose applications can be bound to a phone number.
BINDABLE_CHANNEL_TYPES: tuple[str, ...] = ("Customer Assistant", "Agent Assistant")


@dataclasses.dataclass(frozen=True)
class Domain:
    """An IA Domain of the host.

    :param id: the host's id of the domain, as a string.
    :param name: the name operators know it by.
    :param account_id: id of the X-Platform account that owns it, as a string.
    :param environment: name of its environment, e.g. ``"production"``.
    """

    id: str
    name: str
    account_id: str
    environment: str

    def __post_init__(self) -> None:
        for field in ("id", "account_id", "environment"):
            if not isinstance(getattr(self, field), str):
                raise TypeError(f"Domain.{field} must be a string; use str() on the host's id.")

    @property
    def label(self) -> str:
        """The domain as error messages name it: ``Sales (production)``."""
        return f"{self.name} ({self.environment})"


@dataclasses.dataclass(frozen=True)
class Application:
    """An X-Platform application of a domain.

    :param id: the host's id of the application, as a string.
    :param name: its display name.
    :param channel_type: e.g. ``"Customer Assistant"``, ``"Agent Assistant"``.
    """

    id: str
    name: str
    channel_type: str

    def __post_init__(self) -> None:
        if not isinstance(self.id, str):
            raise TypeError("Application.id must be a string; use str() on the host's id.")

    @property
    def bindable(self) -> bool:
        """Whether this application can be bound to a phone number."""
        return self.channel_type in BINDABLE_CHANNEL_TYPES


@dataclasses.dataclass(frozen=True)
class Credentials:
    """Twilio credentials of one X-Platform account."""

    account_sid: str
    auth_token: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class Pair:
    """One (phone number, application) row as an operator typed it."""

    phone_number: str
    application_id: str


class DomainLoader(t.Protocol):
    def __call__(self, domain_id: str, /) -> Domain | None: ...


class ApplicationsLoader(t.Protocol):
    def __call__(self, domain: Domain, /) -> t.Iterable[Application]: ...


class PermissionCallback(t.Protocol):
    def __call__(self, domain: Domain, /) -> bool: ...


class CredentialsLoader(t.Protocol):
    def __call__(self, account_id: str, /) -> Credentials | None: ...


@dataclasses.dataclass(frozen=True)
class Reply:
    """A chatbot's reply: text, media URLs, or both.

    A receiver of :data:`~flask_xsms.signals.message_received` may return one, a list of
    them, a string or a list of strings. Long text is split under Twilio's limit and media
    are sent at most 10 per message, so a reply may become several messages.

    :param body: the text.
    :param media_urls: public URLs of images or other media to attach.
    """

    body: str = ""
    media_urls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.body, str):
            raise TypeError("Reply.body must be a string.")
        if isinstance(self.media_urls, str):
            raise TypeError("Reply.media_urls must be a list of URLs, not one string.")
        object.__setattr__(self, "media_urls", tuple(self.media_urls))


@dataclasses.dataclass(frozen=True)
class Handoff:
    """A chatbot's request for a person to take the conversation over.

    A receiver of :data:`~flask_xsms.signals.message_received` returns it, alone or among
    its replies: ``message`` (if any) goes to the customer, the conversation then waits
    for an operator ("needs an agent") and the chatbot is not called for it until an
    operator hands it back (or :data:`XSMS_HANDOFF_TIMEOUT` passes);
    :data:`~flask_xsms.signals.handoff_requested` lets the host page its agents.

    :param reason: why, for the operators.
    :param message: what to tell the customer meanwhile, e.g. "Connecting you to a person…".
    """

    reason: str = ""
    message: str | None = None


@dataclasses.dataclass(frozen=True)
class Operator:
    """A person who answers conversations: the host's user id and a name to show."""

    id: str
    name: str


@dataclasses.dataclass(frozen=True)
class Media:
    """One media item of an inbound message: its URL at Twilio and its content type.

    In a :data:`~flask_xsms.signals.message_received` receiver, :meth:`download` fetches
    it with the account's Twilio credentials (see :doc:`media`).
    """

    url: str
    content_type: str | None = None
    #: The X-Platform account whose Twilio credentials open it (set for chatbots).
    account_id: str | None = dataclasses.field(default=None, compare=False, repr=False)

    def download(self, **kwargs: t.Any) -> MediaContent:
        """:func:`flask_xsms.media.fetch` this item; keyword arguments are passed on."""
        from .media import fetch

        return fetch(self, **kwargs)


@dataclasses.dataclass(frozen=True)
class Location:
    """A location a customer shared on WhatsApp."""

    latitude: float
    longitude: float
    #: The place's address and name, when the customer picked a place.
    address: str | None = None
    label: str | None = None


@dataclasses.dataclass(frozen=True)
class InboundMessage:
    """An inbound message as Twilio posted it, parsed once.

    :param sid: Twilio's ``MessageSid``.
    :param account_sid: the Twilio account (``AccountSid``).
    :param from_: the customer's number (``From``).
    :param to: the Twilio number that received it (``To``).
    :param body: the text (``Body``); may be empty for MMS.
    :param media: the media items (``MediaUrlN``, ``MediaContentTypeN``).
    :param num_segments: ``NumSegments``, when Twilio sent it.
    :param opt_out_type: ``OptOutType`` (``STOP``, ``START``, ``HELP``), when sent.
    :param messaging_service_sid: ``MessagingServiceSid``, when sent.
    :param params: every parameter as received, read-only.
    :param channel: ``"sms"`` (SMS and MMS) or ``"whatsapp"`` (``From`` is
        ``whatsapp:+…``).
    :param profile_name: WhatsApp: the customer's profile name (``ProfileName``).
    :param wa_id: WhatsApp: the customer's WhatsApp id (``WaId``).
    :param button_text: WhatsApp: the quick-reply button the customer tapped
        (``ButtonText``), and its ``button_payload`` (``ButtonPayload``).
    :param original_replied_message_sid: WhatsApp: the message the customer replied to
        (``OriginalRepliedMessageSid``).
    :param location: WhatsApp: a shared :class:`Location` (``Latitude``, ``Longitude``,
        ``Address``, ``Label``).
    """

    sid: str
    account_sid: str | None
    from_: str
    to: str
    body: str = ""
    media: tuple[Media, ...] = ()
    num_segments: int | None = None
    opt_out_type: str | None = None
    messaging_service_sid: str | None = None
    params: t.Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)
    channel: str = "sms"
    profile_name: str | None = None
    wa_id: str | None = None
    button_text: str | None = None
    button_payload: str | None = None
    original_replied_message_sid: str | None = None
    location: Location | None = None
