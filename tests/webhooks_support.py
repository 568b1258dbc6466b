"""Fixtures of the webhook tests: a domain with bound numbers, and signal subscriptions."""

from __future__ import annotations

import collections.abc as c
import dataclasses
import typing as t

import pytest
import sqlalchemy as sa
from blinker import ANY
from blinker import NamedSignal
from flask import Flask

from flask_xsms import Pair
from flask_xsms import signals
from flask_xsms._extension import get_state
from flask_xsms._inbound import wait_for_chatbots
from flask_xsms.integrations import create_integration
from flask_xsms.integrations import webhook_urls
from flask_xsms.integrations import WebhookURLs
from flask_xsms.models import Conversation
from flask_xsms.models import Message
from flask_xsms.numbers import replace_bindings

from .hostapp import Directory

#: Bound in Customer Care (production): to the Customer Assistant and the Agent Assistant.
CARE_NUMBER = "+14155550100"
AGENT_NUMBER = "+14155550101"
#: Bound in Sales (production), same account.
SALES_NUMBER = "+14155550200"
#: Bound nowhere.
UNKNOWN_NUMBER = "+14155550999"

CARE_APP, AGENT_APP, SALES_APP = "11", "12", "21"


@dataclasses.dataclass
class Bound:
    """Customer Care with two bound numbers, and its webhook URLs."""

    app: Flask
    integration_id: int
    webhook_id: str
    urls: WebhookURLs

    def messages(self, **filters: t.Any) -> list[Message]:
        session = get_state(self.app).session
        session.commit()  # see what other threads committed
        return list(session.scalars(sa.select(Message).filter_by(**filters).order_by(Message.id)))

    def inbound(self, sid: str) -> Message:
        (row,) = self.messages(sid=sid)
        return row

    def replies_to(self, row: Message) -> list[Message]:
        return self.messages(in_reply_to_id=row.id)

    def conversations(self) -> list[Conversation]:
        session = get_state(self.app).session
        session.commit()
        return list(session.scalars(sa.select(Conversation).order_by(Conversation.id)))


@pytest.fixture
def bound(app: Flask, directory: Directory) -> c.Iterator[Bound]:
    care, sales = directory.domains["1"], directory.domains["2"]
    replace_bindings(care, [Pair(CARE_NUMBER, CARE_APP), Pair(AGENT_NUMBER, AGENT_APP)])
    replace_bindings(sales, [Pair(SALES_NUMBER, SALES_APP)])
    integration = create_integration(care)
    assert integration is not None
    result = Bound(app, integration.id, integration.webhook_id, webhook_urls(integration))
    get_state(app).session.commit()
    yield result
    # chatbots that outlived their webhook finish before the tables are dropped
    assert wait_for_chatbots(timeout=10)


Subscribe = t.Callable[..., t.Callable[..., t.Any]]


@pytest.fixture
def subscribe() -> c.Iterator[Subscribe]:
    """Connect receivers for the test only (strong references, disconnected afterwards)."""
    connected: list[tuple[NamedSignal, t.Callable[..., t.Any]]] = []

    def connect(
        receiver: t.Callable[..., t.Any],
        sender: t.Any = ANY,
        signal: NamedSignal = signals.message_received,
    ) -> t.Callable[..., t.Any]:
        signal.connect(receiver, sender=sender, weak=False)
        connected.append((signal, receiver))
        return receiver

    yield connect
    for signal, receiver in connected:
        signal.disconnect(receiver)
