"""The test host as gunicorn serves it (``tests.served:create_app()``), for tests that
need a real multi-process server. ``XSMS_SERVED_DATABASE_URL`` names the database;
each chatbot call appends the MessageSid to ``XSMS_SERVED_CALLS``."""

from __future__ import annotations

import os
import typing as t

from flask import Flask

from flask_xsms import signals

from .hostapp import create_host_app


def create_app() -> Flask:
    app = create_host_app(os.environ["XSMS_SERVED_DATABASE_URL"])
    calls = os.environ["XSMS_SERVED_CALLS"]

    def counting_bot(sender: str, *, message: t.Any, **kw: t.Any) -> str:
        with open(calls, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {message.sid}\n")
        return f"once: {message.body}"

    signals.message_received.connect(counting_bot, weak=False)
    return app
