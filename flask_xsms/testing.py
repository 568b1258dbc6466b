"""Test helpers for chatbot authors: text a bound number in a test, read the replies.

::

    def test_greeting(sms):
        replies = sms.send("+14155550100", "hi")
        assert replies[0].body == "Hello!"

Each message is signed with the account's Twilio credentials and posted through the app
to the domain's real Request URL, exactly as Twilio would post it; the answer is read
back from the TwiML. Enable the ``sms`` fixture with ``xsms_fixtures = true`` in the
pytest ini file (or ``pytest_plugins = ["flask_xsms.testing"]`` in a ``conftest.py``);
it needs the host's ``app`` fixture, as pytest-flask does.
"""
from __future__ import annotations

import collections.abc as c
import typing as t

import pytest
from flask import Flask

from . import simulator
from .errors import SimulationError
from .state import get_state
from .inbound import wait_for_chatbots
from .models import Message
from .simulator import SimulatedReply
from .simulator import Simulation

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
    ) -> list[SimulatedReply]:
        """Text ``body`` to the bound number ``to``; return the replies of the TwiML answer.

        :raises SimulationError: when ``to`` is bound nowhere or the webhook refused the
            request (the error names the status).
        """
        with self.app.app_context():
            binding = simulator.find_number(to, domain_id=domain_id)
            result = simulator.simulate_inbound(
                binding, from_=from_ or self.customer, body=body, media_urls=media_urls
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
    ) -> list[SimulatedReply]:
        """Post a message to the Fallback URL, as Twilio does when the Request URL failed."""
        with self.app.app_context():
            binding = simulator.find_number(to, domain_id=domain_id)
            result = simulator.simulate_fallback(
                binding, from_=from_ or self.customer, body=body, error_code=error_code
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
