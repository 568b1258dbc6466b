"""The example app as the load benchmark serves it, on a database the benchmark seeded.

gunicorn loads ``bench_app:create("sqlite")``, ``create("postgresql")`` … : each name is a
database prepared by ``seed.py`` (its URL in the environment variable
``BENCH_DB_<NAME>``). The Twilio credentials are the ones the harness signs with.

``create(NAME, via="celery")`` is the same app with :data:`XSMS_CHATBOT_VIA` ``"celery"``:
the Request URL stores the message and enqueues ``xsms.answer`` on the broker
``BENCH_CELERY_BROKER`` (default Redis database 13), queue ``BENCH_CELERY_QUEUE``
(default ``xsms-bench``), so that ``purge_queue()`` can empty it without touching
anybody else's. Give it a database of its own: a process-mode app on the same one would
answer the turns the Celery run left waiting.

Replies that would go through Twilio's REST API go to a closed local port unless
``XSMS_TWILIO_API_BASE_URL`` is given: nothing reaches the internet.
"""
from __future__ import annotations

import hashlib
import os
import typing as t

import sqlalchemy as sa
from flask import Flask

from example_app import create_app

AUTH_TOKEN = os.environ.get("BENCH_AUTH_TOKEN", "bench-token")
#: The AccountSid the harness puts in every body.
ACCOUNT_SID = "AC" + hashlib.md5(b"bench-account").hexdigest()
#: The webhook id seed.py gives the benchmark's domain, so the path is known in advance.
WEBHOOK_ID = "b" * 32
WEBHOOK_PATH = f"/xsms/hooks/{WEBHOOK_ID}/sms"
CELERY_BROKER = os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/13")
CELERY_QUEUE = os.environ.get("BENCH_CELERY_QUEUE", "xsms-bench")


def database_url(name: str) -> str:
    return os.environ[f"BENCH_DB_{name.upper().replace('-', '_')}"]


def create(name: str, via: str = "process", **config: t.Any) -> Flask:
    """The example app on database ``name``; chatbots run ``via`` "process" or "celery";
    ``config`` overrides the rest."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url(name),
            "XSMS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "XSMS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "XSMS_CHATBOT_VIA": via,
            "CELERY_BROKER_URL": CELERY_BROKER,
            "XSMS_TWILIO_API_BASE_URL": "http://127.0.0.1:9",
            **config,
        }
    )
    if via == "celery":
        _use_celery(app)
    synchronous = os.environ.get("BENCH_SQLITE_SYNCHRONOUS", "")
    if database_url(name).startswith("sqlite"):
        with app.app_context():
            engine = app.extensions["sqlalchemy"].engine

            @sa.event.listens_for(engine, "connect")
            def _pragmas(connection: object, record: object) -> None:
                cursor = connection.cursor()  # type: ignore[attr-defined]
                cursor.execute("PRAGMA journal_mode=WAL")
                if synchronous:
                    cursor.execute(f"PRAGMA synchronous={synchronous}")
                cursor.close()

    return app


def _use_celery(app: Flask) -> None:
    """Route ``app``'s Celery tasks to the benchmark's broker and queue (the example app
    builds its Celery app itself when it knows how; otherwise it is built here)."""
    tasks = app.extensions.get("xsms_celery")
    if tasks is None:
        from celery import Celery

        from flask_xsms.celery_tasks import init_celery

        celery = Celery("xsms-bench", broker=CELERY_BROKER)
        celery.conf.update(broker_connection_retry_on_startup=True, worker_prefetch_multiplier=1)
        tasks = init_celery(celery, app)
    celery = tasks.answer.app
    celery.conf.update(broker_url=CELERY_BROKER, task_default_queue=CELERY_QUEUE)
    app.extensions["celery"] = celery


def purge_queue() -> int:
    """Drop the tasks waiting in the benchmark's queue; returns how many there were."""
    import redis

    client = redis.Redis.from_url(CELERY_BROKER)
    try:
        waiting = int(client.llen(CELERY_QUEUE))
        client.delete(CELERY_QUEUE, "unacked", "unacked_index")
        return waiting
    finally:
        client.close()
