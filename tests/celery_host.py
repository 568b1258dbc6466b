"""The test host with Celery, as the worker processes of tests/test_celery.py build it.

``celery -A tests.celery_host:celery worker`` reads its settings from ``XSMS_CELERY_*``
environment variables; the tests build the same pair in their own process with
:func:`make`. ``XSMS_CELERY_CONFIG`` (JSON) adds configuration, ``XSMS_CELERY_CALLS``
connects the sleeping chatbot of :func:`tests.served.answering_bot` (sleeping
``XSMS_CELERY_BOT_SLEEP`` seconds), and ``XSMS_CELERY_BEAT_EVERY`` schedules the
documented beat entry ``xsms.send_pending``.
"""
from __future__ import annotations

import json
import os
import typing as t

from celery import Celery
from flask import Flask

from flask_xsms import signals
from flask_xsms.celery_tasks import CeleryDelivery
from flask_xsms.celery_tasks import init_celery

from .hostapp import create_host_app
from .served import answering_bot


def make(
    broker: str, database_url: str, api_url: str, queue: str, **config: t.Any
) -> tuple[Flask, Celery, CeleryDelivery]:
    settings: dict[str, t.Any] = {
        "XSMS_SEND_VIA": "celery",
        "XSMS_TWILIO_API_BASE_URL": api_url,
        "XSMS_PUBLIC_BASE_URL": "https://sms.example.com",
        "XSMS_SEND_RETRY_DELAY": 0.2,
        **config,
    }
    app = create_host_app(database_url, **settings)
    celery = Celery("xsms-test", broker=broker)
    celery.conf.update(
        task_default_queue=queue,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # Redis gives an unacknowledged task back after this many seconds.
        broker_transport_options={"visibility_timeout": 3},
        worker_hijack_root_logger=False,
    )
    return app, celery, init_celery(celery, app)


if os.environ.get("XSMS_CELERY_BROKER"):
    flask_app, celery, tasks = make(
        os.environ["XSMS_CELERY_BROKER"],
        os.environ["XSMS_CELERY_DATABASE"],
        os.environ["XSMS_CELERY_API"],
        os.environ["XSMS_CELERY_QUEUE"],
        XSMS_TWILIO_TIMEOUT=float(os.environ.get("XSMS_CELERY_TWILIO_TIMEOUT", "10")),
        XSMS_SEND_CLAIM_TIMEOUT=float(os.environ.get("XSMS_CELERY_CLAIM_TIMEOUT", "300")),
        **json.loads(os.environ.get("XSMS_CELERY_CONFIG") or "{}"),
    )
    if os.environ.get("XSMS_CELERY_CALLS"):
        bot = answering_bot(
            os.environ["XSMS_CELERY_CALLS"], float(os.environ.get("XSMS_CELERY_BOT_SLEEP", "0"))
        )
        signals.message_received.connect(bot, weak=False)
    if os.environ.get("XSMS_CELERY_BEAT_EVERY"):
        celery.conf.beat_schedule = {
            "xsms-send-pending": {
                "task": "xsms.send_pending",
                "schedule": float(os.environ["XSMS_CELERY_BEAT_EVERY"]),
            }
        }
