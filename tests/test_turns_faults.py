"""Turns survive real faults: a web worker or a Celery worker killed with SIGKILL in the
middle of turns, and a graceful reload of gunicorn while chatbots run.

Real processes on one PostgreSQL database: gunicorn serving tests/served.py, ``celery
worker`` and ``celery beat`` on Redis or RabbitMQ, the REST stand-in of
tests/twilio_server.py. A "Twilio" here posts each customer's message, signed, to the
Request URL and, when that fails (15 s, a dropped connection, 5xx), to the Fallback URL,
as Twilio does. Every customer must get exactly one chatbot answer, as TwiML or through
the REST API (the Fallback URL's polite answer is no chatbot answer).
"""
from __future__ import annotations

import dataclasses
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import typing as t
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from flask_xsms import statuses
from flask_xsms._extension import get_state
from flask_xsms.models import Message

from .celery_support import broker  # noqa: F401 (fixture)
from .celery_support import Workers
from .signing import inbound_params
from .signing import sign
from .twilio_server import TwilioStandIn
from .webhooks_support import Bound
from .webhooks_support import CARE_NUMBER

pytestmark = [
    pytest.mark.postgresql,
    # processes share a PostgreSQL database: no SQLite variant
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

ROOT = Path(__file__).resolve().parent.parent
ANSWER = "answer:"
#: The documented beat entry's schedule.
BEAT_EVERY = "10.0"
_m = Message.__table__


# -- gunicorn ----------------------------------------------------------------------------


class Gunicorn:
    """A gunicorn master serving tests/served.py, and its worker processes."""

    def __init__(
        self, tmp_path: Path, env: dict[str, str], workers: int, threads: int, port: int
    ) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = tmp_path / f"gunicorn-{port}.log"
        self._log = self.log_path.open("ab")
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                *("-k", "gthread", "-w", str(workers), "--threads", str(threads)),
                *("-b", f"127.0.0.1:{port}", "--log-level", "info", "--no-control-socket"),
                "tests.served:create_app()",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=self._log,
        )
        self.workers = workers
        self.checks = threading.Event()

    def wait_ready(self, timeout: float = 30) -> None:
        """Until the app answers and every worker runs."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, self.log()
            try:
                urllib.request.urlopen(self.base + "/nowhere", timeout=1).close()
            except urllib.error.HTTPError as e:
                e.close()
                if len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start:\n" + self.log()
            time.sleep(0.2)

    def worker_pids(self) -> set[int]:
        """The master's child processes now."""
        pids: set[int] = set()
        for children in Path(f"/proc/{self.process.pid}/task").glob("*/children"):
            try:
                pids.update(int(p) for p in children.read_text().split())
            except OSError:
                pass
        return pids

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def health_checks(self, every: float = 1.0) -> None:
        """GET the app every ``every`` seconds, as a load balancer does, until stopped."""
        stop = self.checks

        def check() -> None:
            while not stop.wait(every):
                try:
                    urllib.request.urlopen(self.base + "/health", timeout=5).close()
                except urllib.error.HTTPError as e:
                    e.close()
                except OSError:
                    pass

        threading.Thread(target=check, daemon=True).start()

    def stop(self) -> None:
        self.checks.set()
        # The test is over: no graceful exit (its workers would wait for chatbots).
        for pid in self.worker_pids():
            _kill(pid)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self._log.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# -- the Twilio that posts the customers' messages ---------------------------------------


@dataclasses.dataclass
class Delivery:
    """One customer's message, as Twilio delivered it."""

    customer: str
    params: dict[str, str]
    #: The ``<Message>`` bodies of the TwiML answers that arrived.
    answers: list[str] = dataclasses.field(default_factory=list)
    #: Seconds the Request URL took, when its answer arrived.
    request_seconds: float | None = None
    #: Why the Fallback URL was called, if it was.
    fallback: str | None = None
    errors: list[str] = dataclasses.field(default_factory=list)
    started: bool = False
    done: bool = False


class Twilio:
    """Posts messages to a domain's webhooks the way Twilio does."""

    def __init__(self, base: str, bound: Bound) -> None:
        self.request_url = base + urllib.parse.urlsplit(bound.urls.request_url).path
        self.fallback_url = base + urllib.parse.urlsplit(bound.urls.fallback_url).path
        self.deliveries: list[Delivery] = []
        #: How many deliveries have started.
        self.started = 0
        self._threads: list[threading.Thread] = []

    def send(self, customers: t.Sequence[str], *, spread: float = 0.0, body: str = "") -> None:
        """Deliver one message from each customer, their starts spread over ``spread`` s."""
        batch = [
            Delivery(c, inbound_params(To=CARE_NUMBER, From=c, Body=f"{body}hi from {c}"))
            for c in customers
        ]
        self.deliveries.extend(batch)
        start = time.monotonic()
        for i, delivery in enumerate(batch):
            time.sleep(max(0.0, start + spread * i / len(batch) - time.monotonic()))
            thread = threading.Thread(target=self._deliver, args=(delivery,), daemon=True)
            thread.start()
            self._threads.append(thread)
            self.started += 1

    def send_in_background(self, customers: t.Sequence[str], *, spread: float) -> None:
        thread = threading.Thread(
            target=self.send, args=(customers,), kwargs={"spread": spread}, daemon=True
        )
        thread.start()
        self._threads.append(thread)

    def in_flight(self) -> int:
        return sum(d.started and not d.done for d in self.deliveries)

    def finished(self) -> bool:
        return all(not thread.is_alive() for thread in list(self._threads))

    def _deliver(self, delivery: Delivery) -> None:
        delivery.started = True
        try:
            started = time.monotonic()
            try:
                status, body = _post(self.request_url, delivery.params)
            except (OSError, http.client.HTTPException) as e:
                delivery.fallback = f"{type(e).__name__}: {e}"
            else:
                if status == 200:
                    delivery.request_seconds = time.monotonic() - started
                    delivery.answers += _twiml_bodies(body)
                    return
                if status < 500:
                    delivery.errors.append(f"Request URL: HTTP {status} {body[:200]!r}")
                    return
                delivery.fallback = f"HTTP {status}"
            params = {**delivery.params, "ErrorCode": "11200", "ErrorUrl": self.request_url}
            try:
                status, body = _post(self.fallback_url, params)
            except (OSError, http.client.HTTPException) as e:
                delivery.errors.append(f"Fallback URL: {type(e).__name__}: {e}")
                return
            if status != 200:
                delivery.errors.append(f"Fallback URL: HTTP {status} {body[:200]!r}")
                return
            delivery.answers += _twiml_bodies(body)
        finally:
            delivery.done = True


def _post(url: str, params: dict[str, str]) -> tuple[int, bytes]:
    """POST signed for ``url``, waiting 15 s as Twilio does; HTTP errors are returned."""
    data = urllib.parse.urlencode(params).encode()
    headers = {"X-Twilio-Signature": sign(url, params)}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read()


def _twiml_bodies(body: bytes) -> list[str]:
    root = ET.fromstring(body)
    assert root.tag == "Response", body
    return [
        (m.findtext("Body") if m.find("Body") is not None else m.text) or "" for m in root
    ]


# -- what the customers got --------------------------------------------------------------


def answers_per_customer(twilio: Twilio, api: TwilioStandIn) -> dict[str, int]:
    """Chatbot answers per customer: TwiML bodies received plus REST sends to them."""
    counts = {d.customer: 0 for d in twilio.deliveries}
    for delivery in twilio.deliveries:
        counts[delivery.customer] += sum(b.startswith(ANSWER) for b in delivery.answers)
    for sent in api.messages:
        to = sent.form.get("To", "")
        if to in counts and sent.form.get("Body", "").startswith(ANSWER):
            counts[to] += 1
    return counts


def _all_quiet(engine: sa.Engine) -> bool:
    """No turn open and nothing in the outbox or being sent."""
    busy = sa.or_(
        sa.and_(_m.c.direction == "inbound", _m.c.status.in_(statuses.OPEN_TURN)),
        sa.and_(
            _m.c.direction == "outbound",
            _m.c.status.in_([statuses.PENDING, statuses.SENDING]),
        ),
    )
    with engine.connect() as connection:
        return not connection.scalar(sa.select(sa.func.count()).select_from(_m).where(busy))


def wait_until_answered(
    twilio: Twilio, api: TwilioStandIn, app: Flask, within: float
) -> dict[str, int]:
    """Wait until every customer has an answer and nothing is left to do (at most
    ``within`` seconds); then a moment more, for late duplicates to show."""
    engine = get_state(app).db.engine
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        counts = answers_per_customer(twilio, api)
        if twilio.finished() and min(counts.values()) >= 1 and _all_quiet(engine):
            time.sleep(1.5)
            break
        time.sleep(0.25)
    return answers_per_customer(twilio, api)


def explain(twilio: Twilio, app: Flask, counts: dict[str, int], *logs: Path) -> str:
    """What went wrong for the customers without exactly one answer."""
    wrong = {c for c, n in counts.items() if n != 1}
    lines = [f"{len(wrong)} of {len(counts)} customers without exactly one answer"]
    with get_state(app).db.engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                _m.c.from_number, _m.c.status, _m.c.turn_attempts, _m.c.claimed_by,
                _m.c.claimed_at, _m.c.error_message,
            ).where(_m.c.direction == "inbound", _m.c.from_number.in_(wrong))
        ).all()
    lines += [repr(tuple(row)) for row in rows]
    lines += [repr(d) for d in twilio.deliveries if d.customer in wrong][:10]
    for log in logs:
        lines.append(f"--- {log.name}:\n" + log.read_text(errors="replace")[-4000:])
    return "\n".join(lines)


# -- chatbot calls -----------------------------------------------------------------------


def chatbot_calls(calls: Path) -> list[tuple[str, int, str]]:
    """``(event, pid, MessageSid)`` of the chatbot's calls (``call``) and returns (``done``)."""
    events = []
    for line in calls.read_text().splitlines():
        event, pid, sid = line.split()
        events.append((event, int(pid), sid))
    return events


def running_chatbots(calls: Path) -> dict[int, set[str]]:
    """The chatbot calls that have not returned, per process."""
    running: dict[int, set[str]] = {}
    for event, pid, sid in chatbot_calls(calls):
        if event == "call":
            running.setdefault(pid, set()).add(sid)
        else:
            running.get(pid, set()).discard(sid)
    return running


def wait_for(condition: t.Callable[[], t.Any], timeout: float, what: str) -> t.Any:
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
    return found


def customers(count: int, first: int = 0) -> list[str]:
    return [f"+1415556{first + i:04d}" for i in range(count)]


# -- fixtures ----------------------------------------------------------------------------


@dataclasses.dataclass
class Lab:
    """Starts the processes of a test and kills them at its end."""

    tmp_path: Path
    database_url: str
    api: TwilioStandIn
    calls: Path
    servers: list[Gunicorn] = dataclasses.field(default_factory=list)
    workers: Workers | None = None
    #: gunicorn's port, known before anything starts: it is in XSMS_PUBLIC_BASE_URL.
    port: int = dataclasses.field(default_factory=lambda: _free_port())

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def gunicorn(
        self, *, workers: int = 2, threads: int = 8, sleep: float = 2.0, **config: t.Any
    ) -> Gunicorn:
        """gunicorn in process mode: chatbots in its workers' threads."""
        env = {
            "XSMS_SERVED_DATABASE_URL": self.database_url,
            "XSMS_SERVED_CALLS": str(self.calls),
            "XSMS_SERVED_BOT_SLEEP": str(sleep),
            "XSMS_SERVED_CONFIG": json.dumps(
                {
                    "XSMS_TWILIO_API_BASE_URL": self.api.url,
                    "XSMS_PUBLIC_BASE_URL": self.base,
                    **config,
                }
            ),
        }
        return self._serve(env, workers, threads)

    def celery(self, broker: str, *, sleep: float, **config: t.Any) -> Workers:
        """Celery workers (not started) that run the chatbots, on their own queue."""
        self.workers = Workers(
            broker,
            self.database_url,
            self.api.url,
            self.tmp_path / "celery.log",
            XSMS_CELERY_CONFIG=json.dumps(
                {"XSMS_CHATBOT_VIA": "celery", "XSMS_PUBLIC_BASE_URL": self.base, **config}
            ),
            XSMS_CELERY_CALLS=str(self.calls),
            XSMS_CELERY_BOT_SLEEP=str(sleep),
            XSMS_CELERY_BEAT_EVERY=BEAT_EVERY,
        )
        return self.workers

    def celery_gunicorn(self, *, workers: int = 2, threads: int = 8) -> Gunicorn:
        """gunicorn in Celery mode, on the queue of :meth:`celery`'s workers; no chatbot
        is connected in its processes."""
        assert self.workers is not None
        env = {k: v for k, v in self.workers.env.items() if k.startswith("XSMS_CELERY_")}
        del env["XSMS_CELERY_CALLS"]
        return self._serve(env, workers, threads)

    def _serve(self, env: dict[str, str], workers: int, threads: int) -> Gunicorn:
        server = Gunicorn(self.tmp_path, env, workers, threads, self.port)
        self.servers.append(server)
        server.wait_ready()
        return server

    def logs(self) -> list[Path]:
        found = [s.log_path for s in self.servers]
        return found + ([self.tmp_path / "celery.log"] if self.workers else [])

    def stop(self) -> None:
        try:
            for server in self.servers:
                server.stop()
        finally:
            if self.workers is not None:
                self.workers.stop()


@pytest.fixture
def lab(
    app: Flask, bound: Bound, database_url: str, twilio_api: TwilioStandIn, tmp_path: Path
) -> t.Iterator[Lab]:
    calls = tmp_path / "calls.txt"
    calls.touch()
    lab = Lab(tmp_path, database_url, twilio_api, calls)
    try:
        yield lab
    finally:
        lab.stop()


def assert_each_answered_once(
    lab: Lab, twilio: Twilio, app: Flask, bound: Bound, within: float
) -> None:
    counts = wait_until_answered(twilio, lab.api, app, within)
    assert all(not d.errors for d in twilio.deliveries), [d for d in twilio.deliveries if d.errors]
    assert counts == {c: 1 for c in counts}, explain(twilio, app, counts, *lab.logs())
    # replies sent later still tell Twilio where to report their delivery
    callback = lab.base + urllib.parse.urlsplit(bound.urls.status_callback_url).path
    assert {m.form.get("StatusCallback") for m in lab.api.messages} <= {callback}


# -- the tests ---------------------------------------------------------------------------


def test_process_mode_web_worker_killed_mid_turns_each_customer_answered_once(
    app: Flask, bound: Bound, lab: Lab
) -> None:
    web = lab.gunicorn(
        sleep=2.0,
        XSMS_TURN_CLAIM_TIMEOUT=12,
        XSMS_TURN_SWEEP_INTERVAL=3,
        XSMS_REPLY_TIMEOUT=5,
    )
    twilio = Twilio(web.base, bound)
    twilio.send_in_background(customers(36), spread=4.0)

    def victim() -> int | None:
        workers = web.worker_pids()
        busy = [p for p, sids in running_chatbots(lab.calls).items() if len(sids) >= 3]
        return next((p for p in busy if p in workers), None)

    pid = wait_for(victim, 10, "a web worker running three chatbots")
    os.kill(pid, signal.SIGKILL)
    assert_each_answered_once(lab, twilio, app, bound, within=120)
    # the kill cut Request URLs off: Twilio called the Fallback URL for them
    assert any(d.fallback for d in twilio.deliveries)


@pytest.mark.parametrize("broker", ["redis"], indirect=True)
def test_celery_mode_web_worker_killed_mid_load_each_customer_answered_once(
    app: Flask, bound: Bound, lab: Lab, broker: str
) -> None:
    workers = lab.celery(broker, sleep=2.0)
    for _ in range(2):
        workers.start("--pool", "threads", "--concurrency", "8")
    workers.start_beat(lab.tmp_path / "beat-schedule")
    web = lab.celery_gunicorn()
    twilio = Twilio(web.base, bound)
    twilio.send(customers(15), spread=1.5)
    # a burst: both web workers have Request URLs under way when one is killed
    twilio.send_in_background(customers(24, first=100), spread=0.0)
    wait_for(lambda: twilio.in_flight() >= 8, 5, "a burst of Request URLs under way")
    os.kill(sorted(web.worker_pids())[0], signal.SIGKILL)
    twilio.send(customers(8, first=200), spread=1.0)
    assert_each_answered_once(lab, twilio, app, bound, within=120)
    assert any(d.fallback for d in twilio.deliveries)  # the kill cut Request URLs off
    # the Request URL answers at once: the chatbots run in the workers
    assert max(d.request_seconds or 0.0 for d in twilio.deliveries) < 2
    assert all(ANSWER not in "".join(d.answers) for d in twilio.deliveries)


def test_celery_worker_killed_mid_turns_each_customer_answered_once(
    app: Flask, bound: Bound, lab: Lab, broker: str
) -> None:
    """Default claim timeout and sweep interval; one chatbot runs longer than the claim
    timeout on a worker that lives, and keeps its claim."""
    timeout = float(app.config["XSMS_TURN_CLAIM_TIMEOUT"])
    workers = lab.celery(broker, sleep=3.0)
    first, second = (workers.start("--pool", "threads", "--concurrency", "4") for _ in range(2))
    workers.start_beat(lab.tmp_path / "beat-schedule")
    web = lab.celery_gunicorn(workers=1)
    twilio = Twilio(web.base, bound)
    twilio.send(customers(1, first=900), body=f"sleep={timeout + 10:g} ")
    [(_, slow_pid, slow_sid)] = wait_for(
        lambda: chatbot_calls(lab.calls), 30, "the slow chatbot to start"
    )
    victim = first if slow_pid == second.pid else second
    assert slow_pid in {first.pid, second.pid}
    twilio.send_in_background(customers(12), spread=0.5)
    wait_for(
        lambda: len(running_chatbots(lab.calls).get(victim.pid, ())) >= 3,
        20,
        "the worker to be killed running three chatbots",
    )
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    workers.start("--pool", "threads", "--concurrency", "4")
    assert_each_answered_once(lab, twilio, app, bound, within=120)
    assert [e for e in chatbot_calls(lab.calls) if e[::2] == ("call", slow_sid)] == [
        ("call", slow_pid, slow_sid)
    ]


@pytest.mark.parametrize("messages", [8, 24], ids=["all-running", "some-waiting"])
def test_graceful_reload_while_chatbots_run_each_customer_answered_once(
    app: Flask, bound: Bound, lab: Lab, messages: int
) -> None:
    """gunicorn -HUP while slow chatbots run, behind a load balancer's health checks (the
    new workers sweep from their first request). Eight messages all find a chatbot thread
    (eight per worker); with 24, some turns wait in the database for a free thread when
    the deploy comes: the exiting workers answer them in their first seconds of exit, or
    the new workers do."""
    web = lab.gunicorn(sleep=5.0, XSMS_REPLY_TIMEOUT=3)
    web.health_checks()
    old = web.worker_pids()
    twilio = Twilio(web.base, bound)
    twilio.send_in_background(customers(messages), spread=0.5)
    # the Request URL gave up waiting for the first chatbots, which still run
    wait_for(
        lambda: any(d.request_seconds for d in twilio.deliveries), 10, "a Request URL answer"
    )
    assert sum(map(len, running_chatbots(lab.calls).values())) >= 8
    os.kill(web.process.pid, signal.SIGHUP)
    assert_each_answered_once(lab, twilio, app, bound, within=60)
    assert all(ANSWER not in "".join(d.answers) for d in twilio.deliveries)  # all via REST
    wait_for(lambda: not old & web.worker_pids(), 20, "the old workers to exit")
    calls = [(pid, sid) for event, pid, sid in chatbot_calls(lab.calls) if event == "call"]
    sids = sorted(d.params["MessageSid"] for d in twilio.deliveries)
    assert sorted(sid for _, sid in calls) == sids  # each chatbot called once
    if messages <= 16:  # all ran on the old workers' threads before the deploy
        assert {pid for pid, _ in calls} <= old
