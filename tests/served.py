"""The test host as gunicorn serves it (``tests.served:create_app()``), for tests that
need a real multi-process server.

``XSMS_SERVED_DATABASE_URL`` names the database, ``XSMS_SERVED_CONFIG`` (JSON) adds
configuration. Each chatbot call appends a line to ``XSMS_SERVED_CALLS``: by default the
chatbot replies ``once: <body>``; with ``XSMS_SERVED_BOT_SLEEP`` set it is
:func:`answering_bot`. With ``XSMS_CELERY_BROKER`` set the app is the one of
:mod:`tests.celery_host` (chatbots run in the Celery workers, not here).
"""

from __future__ import annotations

import json
import os
import re
import time
import typing as t

from flask import Flask

from flask_xsms import signals

from .hostapp import create_host_app

_SLEEP = re.compile(r"\bsleep=(\d+(?:\.\d+)?)")


def create_app() -> Flask:
    if os.environ.get("XSMS_CELERY_BROKER"):
        from . import celery_host

        return celery_host.flask_app
    config = json.loads(os.environ.get("XSMS_SERVED_CONFIG") or "{}")
    app = create_host_app(os.environ["XSMS_SERVED_DATABASE_URL"], **config)
    calls = os.environ["XSMS_SERVED_CALLS"]
    sleep = os.environ.get("XSMS_SERVED_BOT_SLEEP")
    if sleep is not None:
        signals.message_received.connect(answering_bot(calls, float(sleep)), weak=False)
        return app

    def counting_bot(sender: str, *, message: t.Any, **kw: t.Any) -> str:
        with open(calls, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {message.sid}\n")
        return f"once: {message.body}"

    signals.message_received.connect(counting_bot, weak=False)
    return app


def answering_bot(calls: str, sleep: float) -> t.Callable[..., str]:
    """A chatbot that sleeps ``sleep`` seconds (``sleep=N`` in the body: N) and replies
    ``answer: <body>``; it appends ``call <pid> <sid>`` to ``calls`` when it starts and
    ``done <pid> <sid>`` when it returns."""

    def bot(sender: str, *, message: t.Any, **kw: t.Any) -> str:
        note(calls, "call", message.sid)
        found = _SLEEP.search(message.body)
        time.sleep(float(found.group(1)) if found else sleep)
        note(calls, "done", message.sid)
        return f"answer: {message.body}"

    return bot


def note(calls: str, event: str, sid: str) -> None:
    # One short write to a file opened for appending: lines of processes don't mix.
    with open(calls, "a", encoding="utf-8") as f:
        f.write(f"{event} {os.getpid()} {sid}\n")
