"""Real brokers and real ``celery`` processes for the Celery tests."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
BROKERS = {
    "redis": "redis://127.0.0.1:6379/7",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//",
}


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> str:
    """A reachable broker; skipped locally without one, required in CI."""
    return require_broker(request.param, BROKERS[request.param])


def require_broker(name: str, url: str) -> str:
    """``url`` if its broker answers; else skip the test locally, fail it in CI."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as e:
        reason = f"{name} broker at {url} is not reachable ({type(e).__name__})"
        if IN_CI:
            pytest.fail(reason + " (required when CI=true)")
        pytest.skip(reason)
    return url


class Workers:
    """Celery worker (and beat) processes on one queue, stopped at the end of the test."""

    def __init__(
        self, broker: str, database_url: str, api_url: str, log: Path, **env: str
    ) -> None:
        self.log = log.open("ab")
        self.queue = "xsms-test-" + secrets.token_hex(4)
        self.env = {
            **os.environ,
            "XSMS_CELERY_BROKER": broker,
            "XSMS_CELERY_DATABASE": database_url,
            "XSMS_CELERY_API": api_url,
            "XSMS_CELERY_QUEUE": self.queue,
            **env,
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *pool: str) -> subprocess.Popen[bytes]:
        """A worker; ``pool``: its pool options (default ``--pool solo``)."""
        name = f"w{len(self.processes)}-{self.queue}@%h"
        return self._spawn(
            "worker", *(pool or ("--pool", "solo")), "-Q", self.queue, "-n", name,
            "-l", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat",
        )

    def start_beat(self, schedule: Path) -> subprocess.Popen[bytes]:
        """``celery beat`` with the schedule of ``XSMS_CELERY_BEAT_EVERY``."""
        return self._spawn("beat", "-s", str(schedule), "-l", "warning")

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.celery_host:celery", *args],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        # The queue is this test's alone: no need for a warm shutdown (slow on RabbitMQ).
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        for process in self.processes:
            process.wait(10)
        self.log.close()
