"""Test helpers for chatbot authors: text a bound number in a test, read the replies.

::

    def test_greeting(sms):
        replies = sms.send("+14155550100", "hi")
        assert replies[0].body == "Hello!"

Each message is signed with the account's Twilio credentials and posted through the app
to the domain's real Request URL, exactly as Twilio would post it (as an SMS, or as a
WhatsApp message to a ``whatsapp:`` sender); the answer is read back from the TwiML.
Enable the ``sms`` fixture with ``xsms_fixtures = true`` in the pytest ini file (or
``pytest_plugins = ["flask_xsms.testing"]`` in a ``conftest.py``); it needs the host's
``app`` fixture, as pytest-flask does.
"""
from __future__ import annotations

__all__ = [
    "SMSClient",
    "sms",
    "CUSTOMER",
    "Simulation",
    "SimulatedReply",
]

import collections.abc as c
import typing as t

import pytest
from flask import Flask

from . import _simulator as simulator
from .errors import SimulationError
from ._state import get_state
from ._inbound import wait_for_chatbots
from .models import Message
from ._simulator import SimulatedReply
from ._simulator import Simulation

#: The customer number messages come from unless a test says otherwise.
CUSTOMER = "+14155559999"


class SMSClient:
    """Plays Twilio's part against ``app``: inbound messages, fallbacks, status callbacks.

    :param app: the host's Flask app, with its extension tables and bindings in place.
    :param customer: the default ``from_`` number.
    """

    def __init__(self, app: Flask, *, customer: str = CUSTOMER) -> None:
        self.app = app
        self.customer = customer
        #: Every simulated request and its answer, in order.
        self.history: list[Simulation] = []

    def send(
        self,
        to: str,
        body: str,
        *,
        from_: str | None = None,
        media_urls: c.Sequence[str] = (),
        domain_id: str | None = None,
        channel: str | None = None,
        profile_name: str | None = None,
    ) -> list[SimulatedReply]:
        """Text ``body`` to the bound number ``to``; return the replies of the TwiML answer.

        :param to: the bound number, in any way the number rules accept; a WhatsApp
            sender (``whatsapp:+14155238886``) gets a WhatsApp message, as Twilio posts it
            (``From`` and ``To`` prefixed, ``WaId``, ``ProfileName``, ``NumSegments`` 1).
        :param body: the text; it may be empty when ``media_urls`` are given.
        :param from_: the customer's number (default :attr:`customer`); on WhatsApp with
            or without ``whatsapp:``.
        :param media_urls: public ``http`` or ``https`` URLs, at most 10, posted as
            ``MediaUrlN`` with a content type guessed from each URL; the chatbot finds
            them in ``message.media``.
        :param domain_id: the IA Domain, when several accounts bind ``to``.
        :param channel: ``"sms"`` or ``"whatsapp"``: ``"whatsapp"`` with a bare number
            means the WhatsApp sender ``whatsapp:<to>``. Default: the channel of ``to``.
        :param profile_name: WhatsApp only: the customer's profile name
            (``message.profile_name``).
        :raises SimulationError: when ``to`` is bound nowhere (on ``channel``), a media URL
            or a profile name is refused, or the webhook refused the request (the error
            names the status).
        :raises NumberError: when ``to`` or ``from_`` is not a valid number (a WhatsApp
            customer writing to an SMS number included).
        """
        with self.app.app_context():
            binding = simulator.find_number(to, domain_id=domain_id, channel=channel)
            result = simulator.simulate_inbound(
                binding,
                from_=from_ or self.customer,
                body=body,
                media_urls=media_urls,
                profile_name=profile_name,
            )
        return self._replies(result)

    def fallback(
        self,
        to: str,
        body: str,
        *,
        from_: str | None = None,
        error_code: str = simulator.FALLBACK_ERROR_CODE,
        domain_id: str | None = None,
        channel: str | None = None,
        profile_name: str | None = None,
    ) -> list[SimulatedReply]:
        """Post a message to the Fallback URL, as Twilio does when the Request URL failed.

        The parameters are those of :meth:`send`, and ``error_code``, Twilio's
        ``ErrorCode``.
        """
        with self.app.app_context():
            binding = simulator.find_number(to, domain_id=domain_id, channel=channel)
            result = simulator.simulate_fallback(
                binding,
                from_=from_ or self.customer,
                body=body,
                error_code=error_code,
                profile_name=profile_name,
            )
        return self._replies(result)

    def status(self, message_id: int, status: str, *, error_code: str | None = None) -> int:
        """Report a delivery ``status`` of the sent message ``message_id``; the HTTP status."""
        with self.app.app_context():
            message = get_state().session.get(Message, message_id)
            if message is None:
                raise SimulationError(f"There is no stored message {message_id}.")
            result = simulator.simulate_status(message, status, error_code=error_code)
        self.history.append(result)
        return result.status_code

    def wait(self, timeout: float = 10) -> bool:
        """Wait for chatbots that answer late (through the REST API) to finish."""
        return wait_for_chatbots(timeout)

    def _replies(self, result: Simulation) -> list[SimulatedReply]:
        self.history.append(result)
        if not result.ok:
            raise SimulationError(
                f"The webhook at {result.url} answered HTTP {result.status_code}."
            )
        return list(result.replies)


@pytest.fixture
def sms(app: Flask) -> t.Iterator[SMSClient]:
    """An :class:`SMSClient` for the host's ``app`` fixture."""
    client = SMSClient(app)
    yield client
    client.wait()
