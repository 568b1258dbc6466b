"""Small value objects through which the host and the extension talk."""
from __future__ import annotations

import dataclasses
import typing as t

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
