"""The benchmark app with a slow chatbot, for ``slow_chatbot.py``.

gunicorn serves ``slow_app:create()``; ``celery -A slow_app:celery worker`` runs its
turns. Both read the environment ``slow_chatbot.py`` sets: ``BENCH_DB_SLOW`` (the seeded
database), ``BENCH_SLOW_VIA`` ("process" or "celery"), ``BENCH_SLOW_SECONDS`` (how long
the chatbot thinks, 2 s), ``BENCH_SLOW_API`` (the stand-in for Twilio's REST API),
``BENCH_SLOW_PUBLIC`` (the app's public base URL, which the requests are signed for) and
``BENCH_SLOW_POOL`` (database connections per process).

The example app's demo bot is disconnected: the one chatbot answers every message with
``"answer to <MessageSid>"`` after sleeping, as a call to an LLM would.
"""
from __future__ import annotations

import os
import time
import typing as t

from flask import Flask

from bench_app import create as create_bench_app
from example_app import bot
from flask_xsms import InboundMessage
from flask_xsms import signals


def slow_bot(sender: str, *, message: InboundMessage, **extra: t.Any) -> str:
    """Think for BENCH_SLOW_SECONDS, then answer."""
    time.sleep(float(os.environ.get("BENCH_SLOW_SECONDS", "2")))
    return f"answer to {message.sid}"


def create() -> Flask:
    pool = int(os.environ.get("BENCH_SLOW_POOL", "20"))
    app = create_bench_app(
        "slow",
        via=os.environ.get("BENCH_SLOW_VIA", "process"),
        XSMS_TWILIO_API_BASE_URL=os.environ["BENCH_SLOW_API"],
        XSMS_PUBLIC_BASE_URL=os.environ["BENCH_SLOW_PUBLIC"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": pool, "max_overflow": 5},
    )
    signals.message_received.disconnect(bot.demo_bot)
    signals.message_received.connect(slow_bot, weak=False)
    return app


def __getattr__(name: str) -> t.Any:
    """``slow_app.celery``, built on first use: what the Celery worker runs."""
    if name == "celery":
        global celery
        celery = create().extensions["celery"]
        return celery
    raise AttributeError(name)
