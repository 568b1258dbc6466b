"""Inbound messages: the pipeline behind the Request URL and the Fallback URL.

* :mod:`~flask_xsms._inbound.parse`: Twilio's parameters into an
  :class:`~flask_xsms.InboundMessage`;
* :mod:`~flask_xsms._inbound.store`: stored once per ``MessageSid``, in its conversation,
  before any chatbot code runs;
* :mod:`~flask_xsms._inbound.turns`: the turn, the chatbot run that answers a message,
  claimed in the database so that crashes and deploys lose nothing;
* :mod:`~flask_xsms._inbound.runner`: where turns run (chatbot threads, Celery);
* :mod:`~flask_xsms._inbound.receive` and :mod:`~flask_xsms._inbound.fallback`: what the
  two webhooks do.
"""
from __future__ import annotations

from ..statuses import FAILED
from ..statuses import FALLBACK
from ..statuses import HANDLED
from ..statuses import PROCESSING
from ..statuses import RECEIVED
from ..statuses import REPLIED
from ..statuses import UNROUTED
from .chatbots import call_chatbots
from .chatbots import final_messages
from .fallback import fallback_twiml
from .fallback import handle_fallback
from .parse import clean_parameters
from .parse import parse_inbound
from .receive import handle_inbound
from .receive import InboundResult
from .runner import wait_for_chatbots
from .store import reply_service

__all__ = [
    "call_chatbots",
    "clean_parameters",
    "FAILED",
    "FALLBACK",
    "fallback_twiml",
    "final_messages",
    "HANDLED",
    "handle_fallback",
    "handle_inbound",
    "InboundResult",
    "parse_inbound",
    "PROCESSING",
    "RECEIVED",
    "REPLIED",
    "reply_service",
    "UNROUTED",
    "wait_for_chatbots",
]
