"""Check and set the SMS URLs of bound numbers through Twilio's REST API.

For each bound number, :func:`check` looks the number up in the account's incoming phone
numbers and tells whether Twilio sends its messages to the domain's Request URL and
Fallback URL (:data:`CONFIGURED`), somewhere else (:data:`NOT_CONFIGURED`), or whether the
account has no such number (:data:`NOT_IN_ACCOUNT`). :func:`configure` sets the number's
SMS URL, SMS method, fallback URL and fallback method to ours. Twilio's errors never
escape: they become a :data:`UNKNOWN` status holding a
:class:`~flask_xsms.errors.TwilioSetupError` with a message safe to show.
"""
from __future__ import annotations

__all__ = [
    "check",
    "configure",
    "NumberStatus",
    "TwilioNumber",
    "CONFIGURED",
    "NOT_CONFIGURED",
    "NOT_IN_ACCOUNT",
    "UNKNOWN",
    "WHATSAPP",
]

import collections.abc as c
import dataclasses
import logging
import typing as t

import requests
import sqlalchemy as sa
from flask import current_app
from twilio.base.exceptions import TwilioException

from . import _channels as channels
from . import _twilio_api as twilio_api
from .errors import NumberNotBound
from .errors import TwilioSetupError
from ._state import get_state
from .integrations import integration_for
from .integrations import webhook_urls
from .models import NumberBinding
from .numbers import bindings_of
from .numbers import normalize_number
from ._values import Credentials
from ._values import Domain

logger = logging.getLogger("flask_xsms")

#: The number's SMS URL and fallback URL are the domain's, both with POST.
CONFIGURED = "configured"
#: The number is in the account, but Twilio sends its messages elsewhere.
NOT_CONFIGURED = "not_configured"
#: The account's incoming phone numbers have no such number.
NOT_IN_ACCOUNT = "not_in_account"
#: The number could not be checked; :attr:`NumberStatus.error` says why.
UNKNOWN = "unknown"
#: The :attr:`~flask_xsms.errors.TwilioSetupError.reason` of a WhatsApp sender's
#: :data:`UNKNOWN` status: it is configured in the Twilio console, not here.
WHATSAPP = "whatsapp"

#: The method Twilio must use for both URLs.
METHOD = "POST"

# After these, asking Twilio about the account's next number would fail the same way.
_ACCOUNT_WIDE = frozenset({"credentials", "rate_limited", "unavailable"})


@dataclasses.dataclass(frozen=True)
class TwilioNumber:
    """What Twilio says about one of the account's incoming phone numbers."""

    sid: str
    phone_number: str
    sms_url: str | None = None
    sms_method: str | None = None
    sms_fallback_url: str | None = None
    sms_fallback_method: str | None = None
    sms_application_sid: str | None = None

    @classmethod
    def from_instance(cls, instance: t.Any) -> TwilioNumber:
        """Copy the SMS fields of a twilio-python ``IncomingPhoneNumberInstance``."""
        return cls(
            sid=instance.sid or "",
            phone_number=instance.phone_number or "",
            sms_url=instance.sms_url or None,
            sms_method=instance.sms_method or None,
            sms_fallback_url=instance.sms_fallback_url or None,
            sms_fallback_method=instance.sms_fallback_method or None,
            sms_application_sid=instance.sms_application_sid or None,
        )


@dataclasses.dataclass(frozen=True)
class NumberStatus:
    """The Twilio side of one bound number.

    :param phone_number: the bound number, in E.164 (a WhatsApp sender with its
        ``whatsapp:`` prefix, a Messaging Service by its SID).
    :param domain_id: the IA Domain it is bound in.
    :param domain_label: the domain as people name it, ``Sales (production)``.
    :param state: :data:`CONFIGURED`, :data:`NOT_CONFIGURED`, :data:`NOT_IN_ACCOUNT` or
        :data:`UNKNOWN`.
    :param request_url: the domain's Request URL (``None`` when it could not be built).
    :param fallback_url: the domain's Fallback URL.
    :param twilio: the number as Twilio has it, when it was found.
    :param error: why the number could not be checked or configured.
    :param changed: whether this call set the number's URLs in Twilio.
    """

    phone_number: str
    domain_id: str
    domain_label: str
    state: str
    request_url: str | None = None
    fallback_url: str | None = None
    twilio: TwilioNumber | None = None
    error: TwilioSetupError | None = None
    changed: bool = False

    @property
    def ok(self) -> bool:
        """Whether Twilio sends the number's messages to this domain."""
        return self.state == CONFIGURED

    @property
    def in_console(self) -> bool:
        """Whether this is a WhatsApp sender, whose URLs are set in the Twilio console
        (:attr:`error` says where, with the URLs): neither checked nor configured here."""
        return self.error is not None and self.error.reason == WHATSAPP

    @property
    def differences(self) -> list[str]:
        """What Twilio has that differs from ours, one sentence each."""
        if self.twilio is None:
            return []
        number = self.twilio
        found = []
        if number.sms_url != self.request_url:
            found.append(_points("its SMS URL", number.sms_url))
        elif (number.sms_method or "").upper() != METHOD:
            found.append(f"its SMS URL is called with {number.sms_method or 'no method'}")
        if number.sms_fallback_url != self.fallback_url:
            found.append(_points("its fallback URL", number.sms_fallback_url))
        elif (number.sms_fallback_method or "").upper() != METHOD:
            found.append(
                f"its fallback URL is called with {number.sms_fallback_method or 'no method'}"
            )
        if number.sms_application_sid:
            found.append(
                f"the SMS application {number.sms_application_sid} overrides its URLs"
            )
        return found

    @property
    def summary(self) -> str:
        """One sentence for the settings page and the CLI."""
        if self.state == CONFIGURED:
            return "Configured: Twilio sends its messages to this IA Domain."
        if self.state == NOT_CONFIGURED:
            return "Not configured: " + "; ".join(self.differences) + "."
        if self.state == NOT_IN_ACCOUNT:
            return "Not in this Twilio account."
        if self.in_console:
            return (
                "Set in the Twilio console, not from here: in Messaging → Senders → WhatsApp"
                " senders, paste this page's Request URL and Fallback URL into the sender's"
                " webhook fields (HTTP POST)."
            )
        reason = self.error.message if self.error is not None else "unknown error."
        return f"Couldn't check: {reason}"

    @property
    def overwrites(self) -> str:
        """What :func:`configure` would replace, for a confirmation."""
        if self.in_console:
            return "nothing: a WhatsApp sender is configured in the Twilio console"
        if self.twilio is None:
            return "its current SMS settings in Twilio (they could not be read)"
        number = self.twilio
        parts = [
            f"SMS URL {_or_nothing(number.sms_url)}",
            f"fallback URL {_or_nothing(number.sms_fallback_url)}",
        ]
        if number.sms_application_sid:
            parts.append(f"SMS application {number.sms_application_sid}")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, t.Any]:
        """The status as JSON-ready values."""
        number = self.twilio
        return {
            "phone_number": self.phone_number,
            "domain_id": self.domain_id,
            "state": self.state,
            "ok": self.ok,
            "summary": self.summary,
            "overwrites": self.overwrites,
            "changed": self.changed,
            "request_url": self.request_url,
            "fallback_url": self.fallback_url,
            "twilio": dataclasses.asdict(number) if number is not None else None,
            "error": (
                {
                    "message": self.error.message,
                    "reason": self.error.reason,
                    "code": self.error.code,
                    "status": self.error.status,
                }
                if self.error is not None
                else None
            ),
        }


def check(domain: Domain | str | None = None) -> list[NumberStatus]:
    """Look up each bound number of ``domain`` (all domains when ``None``) in Twilio.

    Uses the Twilio REST client of each number's account (with
    :data:`XSMS_TWILIO_TIMEOUT` and :data:`XSMS_TWILIO_API_BASE_URL`) and compares with :func:`flask_xsms.integrations.webhook_urls`. Outside a request the
    URLs need :data:`XSMS_PUBLIC_BASE_URL` (or ``SERVER_NAME``); without either every
    number is :data:`UNKNOWN`. Never raises for Twilio's errors.

    :param domain: an IA Domain, its id, or ``None`` for every domain.
    :raises DomainNotFound: when the domain id is unknown to the host.
    """
    return _run(_targets(domain), configure=False)


def configure(
    domain: Domain | str | None = None, *, numbers: c.Iterable[str] | None = None
) -> list[NumberStatus]:
    """Point the SMS URL and fallback URL of bound numbers at ours, with POST.

    Each number is looked up first; one already configured is left alone, one not in the
    account is reported as such. A number whose SMS application
    (``sms_application_sid``) would override the URLs is detached from it. Returns the
    status of each number after the change (``changed`` tells which were updated).

    :param domain: an IA Domain, its id, or ``None`` for every domain.
    :param numbers: only these numbers of the domain (as typed; they are normalised).
    :raises NumberNotBound: when one of ``numbers`` is not bound in the domain.
    :raises DomainNotFound: when the domain id is unknown to the host.
    """
    targets = _targets(domain)
    if numbers is not None:
        wanted = [normalize_number(n) for n in numbers]
        bound = {target.binding.phone_number for target in targets}
        for number in wanted:
            if number not in bound:
                raise NumberNotBound(f"{number} is not bound in this IA Domain.")
        targets = [target for target in targets if target.binding.phone_number in wanted]
    return _run(targets, configure=True)


# -- internals ----------------------------------------------------------------------


@dataclasses.dataclass
class _Target:
    binding: NumberBinding
    domain_label: str


def _targets(domain: Domain | str | None) -> list[_Target]:
    state = get_state()
    if domain is not None:
        domain = state.require_domain(domain)
        if integration_for(domain) is None:
            return []
        return [_Target(b, domain.label) for b in bindings_of(domain)]
    query = (
        sa.select(NumberBinding)
        .join(NumberBinding.integration)
        .order_by(NumberBinding.account_id, NumberBinding.domain_id, NumberBinding.position)
    )
    labels: dict[str, str] = {}
    targets = []
    for binding in state.session.scalars(query):
        if binding.domain_id not in labels:
            loaded = state.load_domain(binding.domain_id)
            labels[binding.domain_id] = (
                loaded.label if loaded is not None else f"(unknown {binding.domain_id})"
            )
        targets.append(_Target(binding, labels[binding.domain_id]))
    return targets


def _run(targets: list[_Target], *, configure: bool) -> list[NumberStatus]:
    results: dict[int, NumberStatus] = {}
    by_account: dict[str, list[_Target]] = {}
    for target in targets:
        by_account.setdefault(target.binding.account_id, []).append(target)
    for account_id, account_targets in by_account.items():
        statuses = _run_account(account_id, account_targets, configure)
        for target, status in zip(account_targets, statuses):
            results[id(target)] = status
    return [results[id(target)] for target in targets]


def _run_account(
    account_id: str, targets: list[_Target], configure: bool
) -> list[NumberStatus]:
    credentials = get_state().credentials(account_id)
    if credentials is None:
        error = TwilioSetupError(
            "no Twilio credentials are configured for this account. Set"
            " XSMS_TWILIO_ACCOUNT_SID and XSMS_TWILIO_AUTH_TOKEN, or register"
            " @xsms.credentials_loader.",
            reason="credentials",
        )
        return [_unknown(target, error) for target in targets]
    statuses: list[NumberStatus] = []
    with twilio_api.client(credentials) as client:
        stop: TwilioSetupError | None = None
        for target in targets:
            if stop is not None:
                statuses.append(_unknown(target, stop))
                continue
            status = _run_one(client, credentials, target, configure)
            if status.error is not None and status.error.reason in _ACCOUNT_WIDE:
                stop = status.error
            statuses.append(status)
    return statuses


def _run_one(
    client: t.Any, credentials: Credentials, target: _Target, configure: bool
) -> NumberStatus:
    binding = target.binding
    if binding.is_messaging_service:
        return _unknown(
            target,
            TwilioSetupError(
                "not supported for Messaging Services: in the Twilio console, set the"
                " service's Integration to send incoming messages to this IA Domain's"
                " Request URL, with its Fallback URL.",
                reason="messaging_service",
            ),
        )
    try:
        urls = webhook_urls(binding.integration)
    except RuntimeError as e:
        return _unknown(target, TwilioSetupError(str(e), reason="url"))
    status = _status_maker(target, urls.request_url, urls.fallback_url)
    # Bindings are stored normalised: a WhatsApp sender starts with "whatsapp:". Its
    # webhooks are not an incoming phone number's: Twilio is not asked about it.
    if channels.is_whatsapp(binding.phone_number):
        return status(
            UNKNOWN,
            error=TwilioSetupError(
                "a WhatsApp sender is configured in the Twilio console (Messaging → Senders"
                " → WhatsApp senders, or on its Messaging Service): set its webhook for"
                f" incoming messages to the Request URL {urls.request_url} and its fallback"
                f" URL to the Fallback URL {urls.fallback_url}, both HTTP POST.",
                reason=WHATSAPP,
            ),
        )
    try:
        found = _lookup(client, binding.phone_number)
        if found is None:
            return status(NOT_IN_ACCOUNT)
        current = status(_state_of(found, urls.request_url, urls.fallback_url), found)
        if not configure or current.ok:
            return current
        changes: dict[str, str] = {
            "sms_url": urls.request_url,
            "sms_method": METHOD,
            "sms_fallback_url": urls.fallback_url,
            "sms_fallback_method": METHOD,
        }
        if found.sms_application_sid:
            # An SMS application wins over the number's own URLs: detach it.
            changes["sms_application_sid"] = ""
        instance = client.incoming_phone_numbers(found.sid).update(**changes)
        updated = TwilioNumber.from_instance(instance)
        logger.info(
            "Configured %s in Twilio for IA Domain %s.", binding.phone_number, target.domain_label
        )
        return dataclasses.replace(
            status(_state_of(updated, urls.request_url, urls.fallback_url), updated), changed=True
        )
    except (TwilioException, requests.RequestException) as e:
        return status(UNKNOWN, error=_error_from_twilio(e, credentials))
    except Exception as e:  # an unreadable answer must not become a 500
        logger.exception("Unexpected error while asking Twilio about %s.", binding.phone_number)
        return status(
            UNKNOWN,
            error=TwilioSetupError(f"Twilio's answer could not be read ({type(e).__name__})."),
        )


def _status_maker(
    target: _Target, request_url: str | None, fallback_url: str | None
) -> t.Callable[..., NumberStatus]:
    def status(
        state: str, twilio: TwilioNumber | None = None, error: TwilioSetupError | None = None
    ) -> NumberStatus:
        return NumberStatus(
            phone_number=target.binding.phone_number,
            domain_id=target.binding.domain_id,
            domain_label=target.domain_label,
            state=state,
            request_url=request_url,
            fallback_url=fallback_url,
            twilio=twilio,
            error=error,
        )

    return status


def _unknown(target: _Target, error: TwilioSetupError) -> NumberStatus:
    return _status_maker(target, None, None)(UNKNOWN, error=error)


def _lookup(client: t.Any, phone_number: str) -> TwilioNumber | None:
    # PhoneNumber also matches parts of numbers: keep the exact match only.
    for instance in client.incoming_phone_numbers.list(phone_number=phone_number, limit=50):
        if instance.phone_number == phone_number:
            return TwilioNumber.from_instance(instance)
    return None


def _state_of(number: TwilioNumber, request_url: str, fallback_url: str) -> str:
    configured = (
        number.sms_url == request_url
        and (number.sms_method or "").upper() == METHOD
        and number.sms_fallback_url == fallback_url
        and (number.sms_fallback_method or "").upper() == METHOD
        and not number.sms_application_sid
    )
    return CONFIGURED if configured else NOT_CONFIGURED


def _or_nothing(url: str | None) -> str:
    return url if url else "(empty)"


def _points(name: str, url: str | None) -> str:
    return f"{name} points to {url}" if url else f"{name} is empty"


def _error_from_twilio(
    e: TwilioException | requests.RequestException, credentials: Credentials
) -> TwilioSetupError:
    failure = twilio_api.failure_of(e)
    if isinstance(e, requests.RequestException):
        if failure.timed_out:
            timeout = current_app.config["XSMS_TWILIO_TIMEOUT"]
            return TwilioSetupError(
                f"Twilio did not answer within {timeout} s. Try again later.", reason="unavailable"
            )
        return TwilioSetupError(
            f"Twilio could not be reached ({failure.text}). Check the network and try again.",
            reason="unavailable",
        )
    kwargs: dict[str, t.Any] = {"code": failure.code, "status": failure.status}
    said = failure.said
    if failure.kind == twilio_api.CREDENTIALS:
        text = (
            "Twilio refused the account's credentials" + said + ". Check the account SID"
            " and auth token."
        )
    elif failure.kind == twilio_api.RATE_LIMITED:
        text = "Twilio is limiting the rate of requests" + said + ". Try again in a minute."
    elif failure.kind == twilio_api.UNAVAILABLE:
        text = "Twilio answered with a server error" + said + ". Try again later."
    elif failure.kind == twilio_api.NOT_FOUND:
        text = "Twilio does not know this number in the account" + said + "."
    else:
        detail = twilio_api.redact(failure.text, credentials)
        return TwilioSetupError(
            f"Twilio refused the request{said}" + (f": {detail}" if detail else "."), **kwargs
        )
    return TwilioSetupError(text, reason=failure.kind, **kwargs)
