"""Celery (the ``celery`` extra): chatbots and sending on the host's Celery workers.

:func:`init_celery` defines three tasks in the host's Celery app:

* ``xsms.answer`` runs the turn of one inbound message (:data:`XSMS_CHATBOT_VIA`
  ``"celery"``): the Request URL stores the message and answers Twilio at once; a worker
  claims the turn, runs the application's chatbot receivers (connected in the worker
  process) and sends the replies through the outbox. A running chatbot's claim is
  renewed, so a slow one keeps it.
* ``xsms.deliver`` sends stored outbound messages (:data:`XSMS_SEND_VIA` ``"celery"``).
  A worker sends a message only after claiming it (``pending`` → ``sending``, one
  conditional ``UPDATE``), so two workers never send the same one.
* ``xsms.send_pending``, for celery beat: hands over again the turns whose worker died
  (after :data:`XSMS_TURN_CLAIM_TIMEOUT`) and the outbound messages a dead worker had
  claimed (after :data:`XSMS_SEND_CLAIM_TIMEOUT`), and hands every pending message to
  ``xsms.deliver``. It is the one beat entry a host needs.

Tasks are acknowledged late and given back when their worker dies; the database stays
the arbiter of who answers and who sends, so a task delivered twice does nothing twice.
"""
from __future__ import annotations

__all__ = [
    "init_celery",
    "CeleryDelivery",
]

import dataclasses
import logging
import random
import typing as t

from flask import Flask

from . import outbound
from . import statuses
from ._inbound import turns
from ._inbound.runner import runner_for
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
    answer: Task

    def enqueue_turn(self, message_id: int) -> None:
        """Hand the turn of a stored inbound message to ``xsms.answer``.

        When the broker can't be reached the turn stays ``received``, and the next
        ``xsms.send_pending`` hands it over again: nothing is lost.
        """
        _apply(self.answer, message_id, what=f"the turn of message {message_id}")

    def enqueue(self, message_ids: list[int]) -> None:
        """Hand stored messages (the parts of one text, in order) to ``xsms.deliver``.

        When the broker can't be reached the messages stay ``pending`` in the outbox,
        where the next ``xsms.send_pending`` finds them: nothing is lost.
        """
        _apply(self.deliver, message_ids, what=f"outbound message(s) {message_ids}")


def _apply(task: Task, argument: t.Any, *, what: str) -> None:
    try:
        task.apply_async(args=[argument])
    except Exception:
        logger.exception(
            "Could not hand %s to Celery; the next xsms.send_pending hands it over.", what
        )


def init_celery(celery: Celery, app: Flask) -> CeleryDelivery:
    """Define the tasks ``xsms.answer``, ``xsms.deliver`` and ``xsms.send_pending`` in
    ``celery`` for ``app``; each runs inside ``app``'s app context. Call it where the host
    builds its Celery app, in the web processes and in the workers alike."""

    # shared=False: tasks of this Celery app only, bound to this Flask app
    @celery.task(
        name="xsms.answer",
        shared=False,
        acks_late=True,
        reject_on_worker_lost=True,
    )
    def answer(message_id: int) -> str:
        """Run the turn of one inbound message: ``"answered"``, or ``"busy"`` when
        another runner holds it (or it is over)."""
        with app.app_context():
            return runner_for(app).answer(message_id)

    @celery.task(
        name="xsms.deliver",
        shared=False,
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
                if message is not None and message.status == statuses.PENDING:
                    delay = retry_delay(self.request.retries, app.config["XSMS_SEND_RETRY_DELAY"])
                    raise self.retry(countdown=delay, exc=error) from None
                return "failed"
            return "done"

    @celery.task(name="xsms.send_pending", shared=False)
    def send_pending(limit: int = 100) -> int:
        """Hand over the turns and the outbound messages of dead workers, then every
        pending message to ``xsms.deliver``; returns how many were handed."""
        with app.app_context():
            stale_turns = turns.hand_over_stale(limit)
            outbound.release_stale_claims(float(app.config["XSMS_SEND_CLAIM_TIMEOUT"]))
            ids = outbound.pending_ids(limit)
        for message_id in stale_turns:
            answer.apply_async(args=[message_id])
        for message_id in ids:
            deliver.apply_async(args=[[message_id]])
        return len(stale_turns) + len(ids)

    tasks = CeleryDelivery(deliver, send_pending, answer)
    app.extensions["xsms_celery"] = tasks
    return tasks


def retry_delay(retries: int, first: float) -> float:
    """Seconds before the next attempt: ``first`` doubled per retry (at most
    :data:`MAX_RETRY_DELAY`), less a random part of up to a half, so that messages failed
    together are not all tried again at the same moment."""
    base = min(MAX_RETRY_DELAY, first * 2**retries)
    return base / 2 + random.uniform(0, base / 2)
