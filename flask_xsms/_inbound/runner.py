"""Where turns run: chatbot threads in this process, or the Celery task ``xsms.answer``.

Per app, each process has a :class:`TurnRunner`: a bounded pool of
:data:`XSMS_CHATBOT_THREADS` chatbot threads, and one background thread that renews the
claims of the turns this process runs. With :data:`XSMS_CHATBOT_VIA` ``"process"`` the
background thread also sweeps every :data:`XSMS_TURN_SWEEP_INTERVAL` seconds: under a
lease in the database (so that the sweeps of several processes don't collide) it hands
over the turns whose runner died, and it starts waiting turns on free threads. A turn
that finds no free thread waits in the database; a thread that finishes a turn takes the
oldest waiting one. Nothing a process must be told to do: the first webhook request
starts it, and an exiting process lets its running chatbots finish.
"""
from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import secrets
import threading
import time
import typing as t
import weakref

from flask import current_app
from flask import Flask

from .. import _leases as leases
from .._state import get_state
from . import turns

logger = logging.getLogger("flask_xsms")

#: Outcomes of :meth:`TurnRunner.answer`.
ANSWERED, BUSY = "answered", "busy"

_LEASE = "xsms.turn-sweep"
# Seconds between two looks of a process's threads for turns waiting in the database,
# when none were stored here.
_LOOK_EVERY = 1.0
# Seconds an exiting process waits for its running chatbots (gunicorn's graceful
# timeout is 30 s); a turn cut off later is answered again by another process's sweep.
_EXIT_WAIT = 25.0
# Of those, the first seconds in which its threads still take turns that wait for one
# (a deploy's new processes start sweeping only with their first request).
_EXIT_KEEP_TAKING = 15.0

_runners: weakref.WeakSet[TurnRunner] = weakref.WeakSet()


class Pending:
    """A turn whose TwiML answer the Request URL waits for."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.twiml: str | None = None


class TurnRunner:
    """The chatbot threads of one app in this process, and the claims they hold."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        self.pid = os.getpid()
        self.holder = secrets.token_hex(8)
        self.sweeps = config["XSMS_CHATBOT_VIA"] == "process"
        threads = int(config["XSMS_CHATBOT_THREADS"])
        self._app = weakref.ref(app)
        self._slots = threading.BoundedSemaphore(threads)
        self._threads = threads
        self._queue: queue.SimpleQueue[tuple[turns.Turn, Pending | None] | None] = (
            queue.SimpleQueue()
        )
        self._workers: list[threading.Thread] = []
        self._sweep_every = float(config["XSMS_TURN_SWEEP_INTERVAL"])
        self._tick = min(self._sweep_every, float(config["XSMS_TURN_CLAIM_TIMEOUT"]) / 3)
        self._lock = threading.Condition()
        self._held: set[str] = set()
        self._busy = 0
        self._stopping = False
        self._stopped = False
        # Whether turns may wait in the database for a thread: set when one is stored
        # without a free thread here (or the sweep finds some). A thread that finishes a
        # turn looks for them then, and at least every second for those of other
        # processes: a free thread must not answer new messages while old ones wait.
        self._maybe_waiting = False
        self._last_look = 0.0
        self._thread: threading.Thread | None = None
        _runners.add(self)

    # -- chatbot threads ---------------------------------------------------------------

    def reserve(self) -> bool:
        """Reserve a free chatbot thread, if there is one (for :meth:`start`)."""
        return not self._stopping and self._slots.acquire(blocking=False)

    def release(self) -> None:
        """Give back a thread reserved and not used."""
        self._slots.release()

    def start(self, turn: turns.Turn, pending: Pending | None = None) -> None:
        """Run a claimed turn on the thread reserved for it."""
        self.ensure_started()
        with self._lock:
            self._busy += 1
            self._held.add(turn.token)
        self._submit(turn, pending)

    def offer(self, message_id: int) -> bool:
        """Start the waiting turn of ``message_id`` if a thread is free; otherwise it
        waits in the database for the next free one."""
        self.ensure_started()
        if not self.reserve():
            self._maybe_waiting = True
            return False
        token = turns.new_token()
        turn = turns.load(message_id, token) if turns.claim(message_id, token) else None
        if turn is None:
            self.release()
            return False
        self.start(turn)
        return True

    def answer(self, message_id: int) -> str:
        """Claim and answer the turn of ``message_id`` in the calling thread (the Celery
        task, ``flask xsms retry``): :data:`ANSWERED`, or :data:`BUSY` when another
        runner holds it or it is over."""
        token = turns.new_token()
        if not turns.claim(message_id, token):
            return BUSY
        turn = turns.load(message_id, token)
        if turn is not None:
            with self.holding(token):
                turns.run(turn)
        return ANSWERED

    @contextlib.contextmanager
    def holding(self, token: str) -> t.Iterator[None]:
        """Renew the claim ``token`` while the block runs."""
        self.ensure_started()
        with self._lock:
            self._held.add(token)
        try:
            yield
        finally:
            with self._lock:
                self._held.discard(token)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no chatbot of this runner is running; whether it happened in time."""
        with self._lock:
            return self._lock.wait_for(lambda: self._busy == 0, timeout)

    def stop(self) -> None:
        """Start no more turns (the process is exiting); running ones finish."""
        self._stopping = True

    def shutdown(self, timeout: float | None = None) -> bool:
        """Stop, wait for running chatbots, end the background thread (an app that is
        being torn down); returns whether the chatbots finished in time."""
        self.stop()
        self._stopped = True
        finished = self.wait(timeout)
        for _ in self._workers:
            self._queue.put(None)
        return finished

    def _submit(self, turn: turns.Turn, pending: Pending | None) -> None:
        self._queue.put((turn, pending))
        with self._lock:
            # A thread per reserved slot at most, started when first needed. Daemon
            # threads: an exiting process waits for them a bounded time (``_drain``).
            if len(self._workers) < min(self._busy, self._threads):
                worker = threading.Thread(
                    target=_chatbot_thread,
                    args=(weakref.ref(self), self._queue),
                    name=f"xsms-chatbot-{len(self._workers)}",
                    daemon=True,
                )
                self._workers.append(worker)
                worker.start()

    def _work(self, turn: turns.Turn, pending: Pending | None) -> None:
        app = self._app()
        twiml = None
        try:
            if app is not None:
                with app.app_context():
                    twiml = turns.run(turn)
        except Exception:
            logger.exception("The turn of message %s failed.", turn.message.sid)
        finally:
            self._done_with(turn, pending, twiml)
        if app is None or not self._take_waiting(app):
            self._free()

    def _done_with(self, turn: turns.Turn, pending: Pending | None, twiml: str | None) -> None:
        with self._lock:
            self._held.discard(turn.token)
        if pending is not None:
            pending.twiml = twiml
            pending.done.set()

    def _free(self) -> None:
        with self._lock:
            self._busy -= 1
            self._lock.notify_all()
        self._slots.release()

    def _take_waiting(self, app: Flask) -> bool:
        """Keep the thread busy with the oldest turn waiting for one, if any."""
        if not self.sweeps or self._stopping:
            return False
        now = time.monotonic()
        if not self._maybe_waiting and now - self._last_look < _LOOK_EVERY:
            return False
        self._maybe_waiting = False  # before looking: a turn stored meanwhile sets it again
        self._last_look = now
        try:
            with app.app_context():
                turn = _claim_waiting()
        except Exception:
            logger.exception("Could not look for turns waiting for a chatbot thread.")
            return False
        if turn is None:
            return False
        self._maybe_waiting = True  # there may be more
        with self._lock:
            self._held.add(turn.token)
        self._submit(turn, None)
        return True

    # -- the background thread ---------------------------------------------------------

    def ensure_started(self) -> None:
        """Start the background thread (claims, sweeps) if it is not running."""
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=_background, args=(weakref.ref(self),), name="xsms-turns", daemon=True
                )
                self._thread.start()

    def _tick_once(self, app: Flask, sweep: bool) -> None:
        with self._lock:
            held = list(self._held)
        turns.renew(app, held)
        if not self.sweeps or self._stopping:
            return
        if sweep and leases.acquire(
            get_state(app).db.engine, _LEASE, self.holder, self._sweep_every * 0.9
        ):
            turns.hand_over_stale()
        while True:
            if not self.reserve():
                self._maybe_waiting = True  # the threads look when they are free
                break
            turn = _claim_waiting()
            if turn is None:
                self.release()
                break
            self.start(turn)


def _chatbot_thread(
    ref: weakref.ref[TurnRunner],
    work: queue.SimpleQueue[tuple[turns.Turn, Pending | None] | None],
) -> None:
    """One chatbot thread: runs the turns its runner hands it, until told to end."""
    while True:
        item = work.get()
        runner = ref()
        if item is None or runner is None:
            return
        runner._work(*item)
        del runner, item


def _background(ref: weakref.ref[TurnRunner]) -> None:
    """Renew claims every tick; sweep every sweep interval. Ends with its runner."""
    last_sweep = 0.0
    while True:
        runner = ref()
        if runner is None:
            return
        tick = runner._tick
        del runner
        time.sleep(tick)
        runner = ref()
        app = runner._app() if runner is not None else None
        if runner is None or app is None or runner._stopped:
            return
        sweep = time.monotonic() - last_sweep >= runner._sweep_every
        if sweep:
            last_sweep = time.monotonic()
        try:
            with app.app_context():
                runner._tick_once(app, sweep)
        except Exception:
            logger.exception("The turn sweep failed; it runs again in %s s.", tick)
        del runner, app


def _claim_waiting() -> turns.Turn | None:
    """Claim the oldest turn that waits for a runner."""
    for message_id in turns.waiting(limit=5):
        token = turns.new_token()
        if turns.claim(message_id, token):
            turn = turns.load(message_id, token)
            if turn is not None:
                return turn
    return None


def runner_for(app: Flask | None = None) -> TurnRunner:
    """The :class:`TurnRunner` of ``app`` (default: the current app) in this process."""
    app = app or t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    state = get_state(app)
    runner = state.turn_runner
    if runner is None or runner.pid != os.getpid():  # none yet, or inherited by fork
        with state.lock:
            runner = state.turn_runner
            if runner is None or runner.pid != os.getpid():
                runner = state.turn_runner = TurnRunner(app)
    return t.cast(TurnRunner, runner)


def dispatch(message_id: int) -> None:
    """Hand a waiting turn to a runner: a free chatbot thread of this process, or the
    Celery task ``xsms.answer``. When neither takes it now, it waits in the database
    for a free thread or the next sweep: it is never lost."""
    app = t.cast(Flask, current_app._get_current_object())  # type: ignore[attr-defined]
    if app.config["XSMS_CHATBOT_VIA"] != "celery":
        runner_for(app).offer(message_id)
        return
    tasks = app.extensions.get("xsms_celery")
    if tasks is None:
        logger.error(
            "XSMS_CHATBOT_VIA is 'celery' but this process set up no Celery app: call"
            " flask_xsms.celery_tasks.init_celery(celery_app, flask_app). Message %s waits"
            " for the next xsms.send_pending.",
            message_id,
        )
        return
    tasks.enqueue_turn(message_id)


def wait_for_chatbots(timeout: float | None = None) -> bool:
    """Wait until no chatbot runs in this process's threads any more.

    A process that exits does this itself (for up to 25 s); tests call it to see the
    replies of turns answered in the background. Returns whether all finished within
    ``timeout`` seconds.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    for runner in list(_runners):
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not runner.wait(left):
            return False
    return True


@atexit.register
def _drain() -> None:
    """An exiting process lets its running chatbots finish, for a while, and at first
    still answers the turns waiting for a thread; a turn cut off after that is answered
    again by another process."""
    deadline = time.monotonic() + _EXIT_WAIT
    wait_for_chatbots(_EXIT_KEEP_TAKING)
    for runner in list(_runners):
        runner.stop()
    wait_for_chatbots(max(0.0, deadline - time.monotonic()))
