"""The demo chatbot: answers a greeting, HELP, and echoes anything else.

It subscribes to :data:`flask_xsms.signals.message_received` for every application. A
real chatbot would subscribe to its own application only::

    signals.message_received.connect(my_bot, sender="42")
"""

from __future__ import annotations

import typing as t

from flask import current_app

from flask_xsms import InboundMessage
from flask_xsms import signals

from .models import Application
from .models import db

GREETINGS = frozenset({"hi", "hello", "hey", "hallo", "hola", "bonjour", "good morning"})

HELP_TEXT = (
    "This is the X-Platform demo assistant. Say hello, or send any text and I will send it"
    " back. Reply STOP to stop getting messages, START to get them again."
)


def demo_bot(
    sender: str, *, message: InboundMessage, keyword: str | None = None, **extra: t.Any
) -> str | None:
    """Reply to one inbound message; ``sender`` is the application's id."""
    if current_app.import_name != __package__:
        return None  # another host app in the same process: not ours to answer
    if keyword == "stop":
        return None  # Twilio confirms STOP itself
    text = message.body.strip()
    if keyword == "help":
        return HELP_TEXT
    if text.lower().strip("!.? ") in GREETINGS:
        application = db.session.get(Application, int(sender)) if sender.isdigit() else None
        name = application.name if application is not None else "the demo assistant"
        return f"Hello! This is {name}. How can I help you today?"
    if not text and message.media:
        return f"Thanks for the {len(message.media)} attachment(s)."
    return f"You said: {message.body}"


def connect() -> None:
    """Subscribe the demo bot (once, however many apps are created)."""
    signals.message_received.connect(demo_bot, weak=False)
