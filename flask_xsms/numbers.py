"""The number rules: one service that the settings page, the JSON API and the CLI call.

* numbers are normalised to E.164 with :mod:`phonenumbers`, and must start with ``+``;
  a Messaging Service is bound by its SID (``MG`` + 32 hexadecimal digits) instead;
* a WhatsApp sender is bound as Twilio writes it, ``whatsapp:+14155238886``: an address of
  its own, apart from the same number for SMS;
* only ``Customer Assistant`` and ``Agent Assistant`` applications of the domain are bound;
* a number is used once per account (the database enforces it too);
* a save replaces all of a domain's pairs at once, or nothing when any row is wrong.
"""
from __future__ import annotations

__all__ = [
    "normalize_number",
    "check_pairs",
    "replace_bindings",
    "bindable_applications",
    "bindings_of",
    "find_binding",
    "describe",
    "all_bindings",
    "BindingRow",
    "PLUS_SIGN_REQUIRED",
]

import collections.abc as c
import dataclasses
import re

import phonenumbers
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from . import _channels as channels
from .errors import BindingError
from .errors import NumberError
from .errors import RowError
from ._state import get_state
from .integrations import create_integration
from .integrations import webhook_urls
from .models import is_messaging_service_sid
from .models import NumberBinding
from .signals import notify
from .signals import numbers_saved
from ._values import Application
from ._values import Domain
from ._values import Pair

#: The original product's words for a number without ``+``.
PLUS_SIGN_REQUIRED = "Phone numbers need to start with a + sign."
NUMBER_REQUIRED = "Enter a phone number."
APPLICATION_REQUIRED = "Choose an application."
WRONG_CHANNEL_TYPE = (
    "Only Customer Assistant and Agent Assistant applications can be bound to a phone number."
)
#: A WhatsApp prefix with nothing after it.
WHATSAPP_NUMBER_REQUIRED = "Enter the phone number after whatsapp:, e.g. whatsapp:+14155238886."
#: What can be bound, named when another channel's prefix is refused.
ACCEPTED_ADDRESSES = (
    "a phone number (+14155550100), a WhatsApp sender (whatsapp:+14155550100)"
    " or a Messaging Service SID (MG and 32 characters)"
)

_CHUNK = 500

_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9A-F]{32}$", re.IGNORECASE)

# What people type around the digits: spaces, dashes, dots and parentheses.
_PRETTY_NUMBER = re.compile(r"^\+[0-9 ().\-\u00a0]{1,40}$")


def normalize_number(raw: str | None) -> str:
    """Return ``raw`` in E.164 (``+1 (415) 555-0100`` → ``+14155550100``), a WhatsApp
    sender as ``whatsapp:`` and E.164 (``WhatsApp: +1 415 523 8886`` →
    ``whatsapp:+14155238886``), or a Messaging Service SID as Twilio writes it (``MG`` and
    32 lower-case hexadecimal digits).

    :raises NumberError: with a message to show, when the number is empty, has no
        leading ``+`` (after ``whatsapp:``), is not a valid phone number or not a valid
        Messaging Service SID, or has another channel's prefix (``messenger:``).
    """
    text = (raw or "").strip()
    if not text:
        raise NumberError(NUMBER_REQUIRED)
    if text[:2].upper() == "MG":
        if not _MESSAGING_SERVICE_SID.match(text):
            raise NumberError(
                f"{text} is not a Messaging Service SID: it is MG followed by 32"
                " hexadecimal digits."
            )
        return "MG" + text[2:].lower()
    channel, rest = channels.split_address(text)
    if channel == channels.WHATSAPP:
        number = rest.strip()
        if not number:
            raise NumberError(WHATSAPP_NUMBER_REQUIRED)
        return channels.on_channel(channel, _e164(number, shown=text))
    if rest != text:  # another channel's prefix
        prefix = channel if len(channel) <= 20 else channel[:19] + "…"
        raise NumberError(f"{prefix}: addresses are not supported. Use {ACCEPTED_ADDRESSES}.")
    return _e164(text, shown=text)


def _e164(text: str, *, shown: str) -> str:
    """``text`` (a number as typed, stripped) in E.164; errors name it as ``shown``."""
    if not text.startswith("+"):
        raise NumberError(PLUS_SIGN_REQUIRED)
    invalid = NumberError(f"{shown} is not a valid phone number.")
    if not _PRETTY_NUMBER.match(text):
        raise invalid
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise invalid from None
    if not phonenumbers.is_valid_number(parsed):
        raise invalid
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def bindable_applications(domain: Domain) -> list[Application]:
    """The domain's applications that can be bound: Customer and Agent Assistants."""
    return [a for a in get_state().applications(domain) if a.bindable]


def bindings_of(domain: Domain) -> list[NumberBinding]:
    """The domain's number bindings, in the order they were saved."""
    return list(
        get_state().session.scalars(
            sa.select(NumberBinding)
            .filter_by(domain_id=domain.id)
            .order_by(NumberBinding.position, NumberBinding.id)
        )
    )


def describe(number: str) -> str:
    """A bound number, Messaging Service or WhatsApp sender, as the product's messages
    name it: ``+14155550100``, ``Messaging Service MG…``, ``WhatsApp sender whatsapp:+1…``."""
    if is_messaging_service_sid(number):
        return f"Messaging Service {number}"
    if channels.is_whatsapp(number):
        return f"WhatsApp sender {number}"
    return number


def find_binding(account_id: str, phone_number: str) -> NumberBinding | None:
    """The binding of a normalised number (E.164, Messaging Service SID or WhatsApp sender)
    in an account, or ``None``."""
    return get_state().session.scalar(
        sa.select(NumberBinding).filter_by(account_id=account_id, phone_number=phone_number)
    )


@dataclasses.dataclass(frozen=True)
class BindingRow:
    """A bound number as listings show it."""

    phone_number: str
    domain_id: str
    domain_label: str
    application_id: str
    application_name: str
    request_url: str


def all_bindings(domain_id: str | None = None) -> list[BindingRow]:
    """Every bound number (or those of one domain) with names and Request URL.

    Outside a request the URL needs ``XSMS_PUBLIC_BASE_URL`` (or ``SERVER_NAME``);
    without either it is the path alone.
    """
    state = get_state()
    query = sa.select(NumberBinding).join(NumberBinding.integration)
    if domain_id is not None:
        query = query.where(NumberBinding.domain_id == str(domain_id))
    query = query.order_by(NumberBinding.account_id, NumberBinding.domain_id, NumberBinding.position)
    rows = []
    domains: dict[str, Domain | None] = {}
    names: dict[str, dict[str, str]] = {}
    for binding in state.session.scalars(query):
        if binding.domain_id not in domains:
            domain = domains[binding.domain_id] = state.load_domain(binding.domain_id)
            names[binding.domain_id] = (
                {a.id: a.name for a in state.applications(domain)} if domain else {}
            )
        domain = domains[binding.domain_id]
        rows.append(
            BindingRow(
                phone_number=binding.phone_number,
                domain_id=binding.domain_id,
                domain_label=domain.label if domain else f"(unknown {binding.domain_id})",
                application_id=binding.application_id,
                application_name=names[binding.domain_id].get(
                    binding.application_id, f"(unknown {binding.application_id})"
                ),
                request_url=webhook_urls(binding.integration, relative_if_unknown=True).request_url,
            )
        )
    return rows


def check_pairs(domain: Domain, pairs: c.Sequence[Pair]) -> tuple[list[str | None], list[RowError]]:
    """Check every row against the rules without saving anything.

    Returns the normalised number of each row (``None`` where it is wrong) and the
    errors, one per problem, in row order.
    """
    applications = {a.id: a for a in get_state().applications(domain)}
    errors: list[RowError] = []
    numbers: list[str | None] = []
    first_row: dict[str, int] = {}

    for row, pair in enumerate(pairs):
        number: str | None = None
        try:
            number = normalize_number(pair.phone_number)
        except NumberError as e:
            errors.append(RowError(row, "phone_number", str(e)))
        else:
            if number in first_row:
                errors.append(
                    RowError(
                        row,
                        "phone_number",
                        f"{describe(number)} is already used in this IA Domain.",
                    )
                )
                number = None
            else:
                first_row[number] = row
        numbers.append(number)

        application_id = str(pair.application_id or "").strip()
        application = applications.get(application_id)
        if not application_id:
            errors.append(RowError(row, "application", APPLICATION_REQUIRED))
        elif application is None:
            errors.append(
                RowError(
                    row,
                    "application",
                    f"This application is not in the IA Domain {domain.label}.",
                )
            )
        elif not application.bindable:
            errors.append(RowError(row, "application", WRONG_CHANNEL_TYPE))

    errors.extend(_used_elsewhere(domain, first_row))
    errors.sort(key=lambda e: (e.row, e.field != "phone_number"))
    return numbers, errors


def replace_bindings(domain: Domain, pairs: c.Iterable[Pair]) -> list[NumberBinding]:
    """Make ``pairs`` the domain's bindings, all at once, and commit.

    :raises BindingError: when any row breaks a rule; nothing is changed then.
    """
    pairs = list(pairs)
    numbers, errors = check_pairs(domain, pairs)
    if errors:
        raise BindingError(errors)

    state = get_state()
    session = state.session
    integration = create_integration(domain)
    existing = {b.phone_number: b for b in bindings_of(domain)}
    saved: list[NumberBinding] = []
    for position, (number, pair) in enumerate(zip(numbers, pairs)):
        assert number is not None
        binding = existing.pop(number, None)
        if binding is None:
            binding = NumberBinding(
                integration_id=integration.id,
                account_id=domain.account_id,
                environment=domain.environment,
                domain_id=domain.id,
                phone_number=number,
            )
            session.add(binding)
        binding.application_id = str(pair.application_id).strip()
        binding.position = position
        saved.append(binding)
    for binding in existing.values():
        session.delete(binding)

    try:
        session.commit()
    except IntegrityError:
        # Another save took one of these numbers between our check and our commit.
        session.rollback()
        taken = {n: row for row, n in enumerate(numbers) if n is not None}
        raise BindingError(_used_elsewhere(domain, taken) or [_conflict_without_owner()]) from None

    notify(numbers_saved, current_app._get_current_object(), domain=domain, bindings=saved)
    return saved


def _used_elsewhere(domain: Domain, rows: dict[str, int]) -> list[RowError]:
    """Errors for numbers of ``rows`` bound in another domain of the same account."""
    state = get_state()
    numbers = list(rows)
    others: list[NumberBinding] = []
    # in chunks: databases cap the parameters of one statement (SQLite: 32,766)
    for start in range(0, len(numbers), _CHUNK):
        others.extend(
            state.session.scalars(
                sa.select(NumberBinding).where(
                    NumberBinding.account_id == domain.account_id,
                    NumberBinding.phone_number.in_(numbers[start : start + _CHUNK]),
                    NumberBinding.domain_id != domain.id,
                )
            )
        )
    errors = []
    owners: dict[str, Domain | None] = {}
    for binding in others:
        if binding.domain_id not in owners:
            owners[binding.domain_id] = state.load_domain(binding.domain_id)
        owner = owners[binding.domain_id]
        where = (
            f"the IA Domain {owner.label}"
            if owner is not None
            else f"another IA Domain ({binding.environment})"
        )
        errors.append(
            RowError(
                rows[binding.phone_number],
                "phone_number",
                f"{describe(binding.phone_number)} is already used in {where}.",
            )
        )
    return errors


def _conflict_without_owner() -> RowError:
    return RowError(0, "phone_number", "Another save changed these numbers at the same time. Try again.")
