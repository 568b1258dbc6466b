"""Sending through Celery (the ``celery`` extra): the outbox drained by the host's workers.

With :data:`XSMS_SEND_VIA` ``"celery"``, a stored outbound message is handed to the task
``xsms.deliver`` instead of being sent by the process that stored it. The database stays
the arbiter: a worker sends a message only after claiming it (``pending`` → ``sending``,
one conditional ``UPDATE``), so two workers never send the same one. Tasks are
acknowledged late and given back when their worker dies; ``xsms.send_pending`` (run it
from celery beat) puts back in the outbox what a dead worker had claimed, after
:data:`XSMS_SEND_CLAIM_TIMEOUT`, and hands every pending message to ``xsms.deliver``.
"""
from __future__ import annotations

import dataclasses
import logging
import random
import typing as t

from flask import Flask

from . import outbound
from .errors import SendError

if t.TYPE_CHECKING:
    from celery import Celery
    from celery import Task

logger = logging.getLogger("flask_xsms")

#: Longest wait between two attempts of one delivery, in seconds.
MAX_RETRY_DELAY = 600.0


@dataclasses.dataclass(frozen=True)
class CeleryDelivery:
    """The extension's tasks in the host's Celery app."""

    deliver: Task
    send_pending: Task

    def enqueue(self, message_ids: list[int]) -> None:
        """Hand stored messages (the parts of one text, in order) to ``xsms.deliver``.

        When the broker can't be reached the messages stay ``pending`` in the outbox,
        where the next ``xsms.send_pending`` finds them: nothing is lost.
        """
        try:
            self.deliver.apply_async(args=[message_ids])
        except Exception:
            logger.exception(
                "Could not hand outbound message(s) %s to Celery; they stay pending for"
                " the next xsms.send_pending.",
                message_ids,
            )


def init_celery(celery: Celery, app: Flask) -> CeleryDelivery:
    """Define the tasks ``xsms.deliver`` and ``xsms.send_pending`` in ``celery`` for
    ``app``; each runs inside ``app``'s app context. Call it where the host builds its
    Celery app, in the web processes and in the workers alike."""

    @celery.task(
        name="xsms.deliver",
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=None,  # XSMS_SEND_MAX_ATTEMPTS bounds them, in the database
    )
    def deliver(self: Task, message_ids: list[int]) -> str:
        """Send stored messages in order; retry with backoff while they stay pending."""
        with app.app_context():
            try:
                outbound.deliver_in_order(message_ids)
            except SendError as error:
                message = error.sent_message
                if message is not None and message.status == "pending":
                    delay = retry_delay(self.request.retries, app.config["XSMS_SEND_RETRY_DELAY"])
                    raise self.retry(countdown=delay, exc=error) from None
                return "failed"
            return "done"

    @celery.task(name="xsms.send_pending")
    def send_pending(limit: int = 100) -> int:
        """Put back what dead workers claimed, then hand every pending message to
        ``xsms.deliver``; returns how many were handed."""
        with app.app_context():
            outbound.release_stale_claims(float(app.config["XSMS_SEND_CLAIM_TIMEOUT"]))
            ids = outbound.pending_ids(limit)
        for message_id in ids:
            deliver.apply_async(args=[[message_id]])
        return len(ids)

    tasks = CeleryDelivery(deliver, send_pending)
    app.extensions["xsms_celery"] = tasks
    return tasks


def retry_delay(retries: int, first: float) -> float:
    """Seconds before the next attempt: ``first`` doubled per retry (at most
    :data:`MAX_RETRY_DELAY`), less a random part of up to a half, so that messages failed
    together are not all tried again at the same moment."""
    base = min(MAX_RETRY_DELAY, first * 2**retries)
    return base / 2 + random.uniform(0, base / 2)
