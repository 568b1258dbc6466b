"""The example host on Celery: chatbots and sending on Celery workers.

Run the web app, a worker and beat with the same settings::

    export FLASK_XSMS_CHATBOT_VIA=celery FLASK_XSMS_SEND_VIA=celery
    flask --app example_app run
    celery -A example_app.tasks worker -l info
    celery -A example_app.tasks beat -l info

The broker is ``FLASK_CELERY_BROKER_URL`` (default ``redis://127.0.0.1:6379/0``). The web
app builds the same Celery app (:func:`make_celery`) when either setting is ``celery``, so
that its webhooks can hand turns and messages to the workers.
"""
from __future__ import annotations

from celery import Celery
from flask import Flask

from flask_xsms.celery_tasks import init_celery

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"

#: The one beat entry flask-xsms needs: turns and messages of dead workers handed over
#: again, the outbox drained.
BEAT_SCHEDULE = {"xsms-sweep": {"task": "xsms.send_pending", "schedule": 10.0}}


def make_celery(app: Flask) -> Celery:
    """The Celery app of ``app``, with flask-xsms's tasks; kept in ``app.extensions``."""
    celery = Celery(app.import_name, broker=app.config.get("CELERY_BROKER_URL", DEFAULT_BROKER_URL))
    celery.conf.update(
        beat_schedule=BEAT_SCHEDULE,
        broker_connection_retry_on_startup=True,
        # one task at a time per worker process: a slow chatbot doesn't hold others back
        worker_prefetch_multiplier=1,
    )
    init_celery(celery, app)
    app.extensions["celery"] = celery
    return celery


def _worker_app() -> Celery:
    from . import create_app

    app = create_app()
    return app.extensions.get("celery") or make_celery(app)


#: What ``celery -A example_app.tasks`` runs: the example host's Celery app.
celery = _worker_app()
